"""Historical models (migrations) add no django-fsm transition collectors (core.fsm_history)."""

import weakref

from django.apps import apps
from django.db.migrations.state import ProjectState
from django.db.models.signals import class_prepared


def _historical_collectors() -> int:
    """Live `class_prepared` receivers bound to a state field of a historical model."""
    count = 0
    for _key, receiver, *_rest in class_prepared.receivers:
        target = receiver() if isinstance(receiver, weakref.ref) else receiver
        owner = getattr(target, "__self__", None)
        base = getattr(owner, "base_cls", None)
        if base is not None and base.__module__ == "__fake__":
            count += 1
    return count


def test_rendering_every_historical_model_connects_no_collector():
    state = ProjectState.from_apps(apps)
    rendered = state.apps  # every model rendered as migrations render them
    assert rendered.get_model("applications", "Application")._meta.get_field("state")
    assert _historical_collectors() == 0


def test_the_real_models_still_collect_their_transitions():
    from apps.applications.models import Application

    names = {t.name for t in Application().get_all_state_transitions()}
    assert "submit" in names, names
