"""Issue 19: every control's policy values carry a citation and an explanation in English and
Chinese, seeded with the value."""

import pytest

from apps.documents.statements import policies as statement_policies
from apps.investigations.controls import policies as control_policies
from apps.investigations.models import PolicyValue


def _rows():
    for module in (control_policies, statement_policies):
        table = getattr(module, "CONTROL_POLICIES", None) or module.STATEMENT_POLICIES
        for key, _value, _unit, _evidence, source, description in table:
            yield module, key, source, description


def test_every_control_value_has_a_citation_and_both_explanations():
    missing = [key for module, key, source, description in _rows()
               if not (source.strip() and description.strip()
                       and module.DESCRIPTIONS_ZH.get(key, "").strip())]
    assert missing == []
    # no Chinese explanation left over for a key that is no longer seeded
    for module in (control_policies, statement_policies):
        table = getattr(module, "CONTROL_POLICIES", None) or module.STATEMENT_POLICIES
        assert set(module.DESCRIPTIONS_ZH) == {row[0] for row in table}


@pytest.mark.django_db
def test_the_seeded_rows_carry_the_chinese_explanation():
    control_policies.seed_control_policies()
    statement_policies.seed_statement_policies()
    for key in ("control.visit.min_overlap_minutes", "control.photo.fingerprint_min_pairs",
                "control.flows.declared_debt_differs.severity"):
        row = PolicyValue.objects.get(key=key, version=1)
        assert row.source_citation and row.description_en and row.description_zh, key
