"""A minimal workflow model for testing the shared FSM mechanisms in apps.core."""

from django.db import models
from django_fsm import FSMField, transition

from apps.core.models import WorkflowModel


def is_editor(document: "Document", user) -> bool:
    return getattr(user, "username", "").startswith("editor")


class Document(WorkflowModel):
    title = models.CharField(max_length=100)
    state = FSMField(default="draft", protected=True)

    @transition(field=state, source="draft", target="published", permission=is_editor)
    def publish(self) -> None:
        pass
