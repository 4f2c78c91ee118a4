"""The loan table carries no redundant index (migration 0008_loan_lean_indexes): every DPD
recomputation and feed balance updates loan rows, and each update adds an entry to every index.
What the dropped indexes served stays served: loan numbers unique, lookups by branch, borrower,
officer or state indexed."""

import pytest
from django.db import connection

from apps.loans.models import Loan

pytestmark = pytest.mark.django_db


def _index_columns() -> dict[str, str]:
    """{index name: its definition} of loans_loan."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'loans_loan'")
        return dict(cursor.fetchall())


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_no_pattern_or_single_column_twin_indexes():
    definitions = _index_columns().values()
    assert not [d for d in definitions if "pattern_ops" in d]
    single = {d.split("(")[-1].rstrip(")") for d in definitions if "," not in d}
    assert not single & {"branch_id", "enterprise_id", "officer_id"}
    # The composite indexes lead with them, and state keeps a plain index.
    for leading in ("branch_id, state", "enterprise_id, state", "officer_id, state"):
        assert any(f"({leading})" in d for d in definitions), leading
    assert "state" in single


def test_loan_numbers_stay_unique():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Loan._meta.db_table)
    assert any(c["unique"] and c["columns"] == ["loan_number"] for c in constraints.values())
