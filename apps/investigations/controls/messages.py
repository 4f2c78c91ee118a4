"""Control findings are stored in both languages, like template rule messages, so a finding
reads the same to every later reader whatever the language of the request that computed it."""

from __future__ import annotations

from typing import Any

from django.utils import translation

from apps.investigations.rules import Finding


def control_finding(*, code: str, severity: str, message, explanation, item: str | None = None,
                    inputs: dict[str, Any] | None = None,
                    policies: dict[str, Any] | None = None, **params) -> Finding:
    """A `Finding` of kind "control"; `message`/`explanation` are lazy translatable texts with
    named placeholders, rendered once in English and once in Chinese."""
    def render(text, language: str) -> str:
        with translation.override(language):
            return str(text) % params if params else str(text)

    en, zh = render(message, "en"), render(message, "zh-hans")
    return Finding(kind="control", code=code, item=item, severity=severity, message_en=en,
                   message_zh=zh, explanation=render(explanation, "en"),
                   explanation_zh=render(explanation, "zh-hans"),
                   inputs=inputs or {}, policies=policies or {})


class joined:
    """A list of (lazy) texts that joins itself when rendered, so each part is translated in
    the language the finding is being rendered in."""

    def __init__(self, parts, separator: str = ", "):
        self.parts, self.separator = list(parts), separator

    def __str__(self) -> str:
        return self.separator.join(str(part) for part in self.parts)
