from django.apps import AppConfig


class TestAppConfig(AppConfig):
    name = "tests.testapp"
    label = "testapp"

    def ready(self) -> None:
        from apps.audit.registry import register_actions

        register_actions({"testapp.document_published": "Document published"})
