import pytest
from django.utils import translation

from apps.demo.seed import DEMO_PASSWORD, seed_demo


@pytest.fixture
def demo(db):
    """The demo branches and one user per role in each; returns the shared password."""
    # Demo names come from role labels, translated in whatever language an earlier test left on.
    with translation.override("en"):
        seed_demo()
    return DEMO_PASSWORD


@pytest.fixture
def user_named(demo, django_user_model):
    return lambda username: django_user_model.objects.get(username=username)
