"""Versioned contract texts: one JSON file per version under `contract_templates/`.

A version is never edited once a contract was signed on it: a change is a new file with a new
version name, and `CURRENT_VERSION` moves to it in the same change. Each contract records the
version and the SHA-256 of the file's bytes, so its PDF re-renders word for word later and a
silently edited file is detected (`template_load` refuses a hash that does not match).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent / "contract_templates"
CURRENT_VERSION = "sme-loan-v1"


class TemplateChanged(RuntimeError):
    """The template file no longer has the content a contract was signed on."""


@dataclass(frozen=True)
class ContractTemplate:
    version: str
    sha256: str
    content: dict


def template_load(version: str = CURRENT_VERSION, *, expect_sha256: str | None = None
                  ) -> ContractTemplate:
    """The template `version` (a file name without `.json`), checked against a hash if given."""
    if "/" in version or "\\" in version or version.startswith("."):
        raise ValueError(f"bad template version {version!r}")
    raw = (TEMPLATE_DIR / f"{version}.json").read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if expect_sha256 and digest != expect_sha256:
        raise TemplateChanged(f"contract template {version} changed after signing")
    content = json.loads(raw)
    if content.get("version") != version:
        raise ValueError(f"template file {version} names version {content.get('version')!r}")
    return ContractTemplate(version=version, sha256=digest, content=content)
