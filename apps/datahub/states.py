from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    """The outside services the hub reaches; the code names its connector and policy keys."""

    REGISTRY = "registry", _("Business registry")
    COURT = "court", _("Court enforcement and dishonest-debtor lists")
    TAX = "tax", _("Tax bureau")
    UTILITY = "utility", _("Utilities")
    BUREAU = "bureau", _("Credit bureau report")


class PullState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Channel(models.TextChoices):
    HTTP = "http", _("Online query")
    CACHE = "cache", _("Answered from the cache")
    FILE = "file", _("Imported file")


class Purpose(models.TextChoices):
    PRE_LOAN = "pre_loan", _("Pre-loan investigation")
    POST_LOAN = "post_loan", _("Post-loan monitoring")


IN_FLIGHT = (PullState.REQUESTED, PullState.RUNNING)
