"""Model artefacts as canonical JSON: the same model, the same bytes, the same sha256.

No pickle anywhere: an artefact is data that is validated on load, so a file the system did
not write can at worst be refused, never executed.
"""

import hashlib
import json


class ArtefactError(ValueError):
    """An artefact is malformed, inconsistent or not the one registered."""


def canonical_json(value) -> str:
    """Sorted keys, compact separators, no NaN/Infinity: the same model, the same bytes
    (Python's float repr round-trips exactly, so load → dump reproduces the text)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


class JsonArtefact:
    """Serialisation shared by every model kind; subclasses provide to_dict/from_dict."""

    def to_dict(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data):
        raise NotImplementedError

    def to_json(self) -> str:
        return canonical_json(self.to_dict())

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    @classmethod
    def from_json(cls, text: str, *, expected_sha256: str | None = None):
        """Load an artefact, refusing one whose hash differs from the registered one."""
        if expected_sha256 is not None:
            actual = hashlib.sha256(text.encode()).hexdigest()
            if actual != expected_sha256:
                raise ArtefactError(f"artefact hash {actual} does not match the registered "
                                    f"{expected_sha256}: it was altered")
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise ArtefactError(f"artefact is not valid JSON: {exc}") from None
        return cls.from_dict(data)
