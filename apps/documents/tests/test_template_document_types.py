"""The built-in checklists ask for evidence by document type code; an officer can only attach
what the bank can collect, so every code a template names must be a seeded document type."""

import pytest

from apps.documents.models import DocumentType
from apps.documents.seed import seed_document_types
from apps.investigations.seed import builtin_template_files, load_template_file


def _named_types(template: dict) -> set[str]:
    return {code for section in template["sections"] for item in section["items"]
            for code in (item.get("evidence") or {}).get("document_types") or []}


@pytest.mark.django_db
@pytest.mark.parametrize("path", builtin_template_files(), ids=lambda p: p.stem)
def test_every_evidence_type_of_a_builtin_template_is_collectable(path):
    seed_document_types()
    named = _named_types(load_template_file(path))
    known = set(DocumentType.objects.values_list("code", flat=True))
    assert named, "a built-in template without document evidence is suspicious"
    assert named <= known, f"{path.name} names unknown document types: {sorted(named - known)}"
