"""Signatures over decisions: HMAC-SHA256 of the canonical decision content.

The key is the bank's (`APPROVALS_SIGNING_KEY`), derived from SECRET_KEY when unset so a local
run works; a verifier recomputes the MAC from the stored content, so an edited amount or reason
no longer matches its signature. Canonical JSON as in the audit chain: sorted keys, compact
separators, Decimals and dates as strings, so the same content always gives the same bytes.
"""

import hashlib
import hmac
import json
from decimal import Decimal

from django.conf import settings


def _key() -> bytes:
    configured = getattr(settings, "APPROVALS_SIGNING_KEY", "")
    if configured:
        return configured.encode()
    # Derived, not reused: a MAC key never doubles as the session-signing secret.
    return hmac.new(settings.SECRET_KEY.encode(), b"credence.approvals.signing",
                    hashlib.sha256).digest()


def _default(value):
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def canonical(content: dict) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_default)


def sign(content: dict) -> tuple[dict, str]:
    """The content as stored (JSON-safe) and its signature."""
    text = canonical(content)
    return json.loads(text), hmac.new(_key(), text.encode(), hashlib.sha256).hexdigest()


def verify(content: dict, signature: str) -> bool:
    expected = hmac.new(_key(), canonical(content).encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)
