"""Simplified Chinese formats for a bank: Django's own, except that amounts keep a thousands
separator in groups of three (1,234,567.89), as bank statements, contracts and the PBoC's
forms print them. Django's zh_Hans groups by nothing, so 450000.00 was unreadable beside the
English 450,000.00 (issue #18)."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403 (the rest stays Django's)

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
