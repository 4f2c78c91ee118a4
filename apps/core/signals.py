"""Signals core raises for apps above it, so core never imports them (CONVENTIONS §1)."""

from django.dispatch import Signal

# Sent when an authenticated user is refused (403) by a page or the API; args: request, reason.
# The audit app records it.
permission_refused = Signal()
