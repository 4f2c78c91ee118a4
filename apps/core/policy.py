"""Vocabulary shared by every piece of policy data (domain reference §0.1–§0.2)."""

import datetime as dt

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Evidence(models.TextChoices):
    """How sure we are of a policy figure: kept on every threshold, rule and table row."""

    VERIFIED = "V", _("V: stated in the cited source")
    UNVERIFIED = "M", _("M: believed correct, not checked against the official text")
    DESIGN = "G", _("G: design default, not a regulatory fact")


class PolicyVersionState(models.TextChoices):
    """The life of one version of policy data (products, checklist templates, the authority
    matrix…): drafted, put in force by a second person, retired when superseded or withdrawn."""

    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


def seeded_policy_effective_from(today: dt.date | None = None) -> dt.date:
    """When policy the system seeds itself (products, the authority matrix, the decision
    policy) takes effect: 1 January of last year. This year's 1 January would leave nothing in
    force for a demo story told under a clock set a day or two back when seeding on 1 or 2
    January."""
    today = today or timezone.localdate()
    return dt.date(today.year - 1, 1, 1)
