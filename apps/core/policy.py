"""Vocabulary shared by every piece of policy data (domain reference §0.1–§0.2)."""

from django.db import models
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
