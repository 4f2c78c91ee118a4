"""The re-score reads a chunk's model columns out of the snapshots in SQL on PostgreSQL
(`_read_chunk_columns`); they must be the very columns the portable path builds by decoding
the JSON in Python (`records_to_columns` on `_read_chunk`), or the chunk takes the portable
path."""

import numpy as np
import pytest

from apps.scoring import services
from apps.scoring.features.assemble import records_to_columns
from apps.scoring.features.spec import KINDS
from apps.scoring.models import FeatureSnapshot
from apps.scoring.services.rescoring import _read_chunk, _read_chunk_columns
from apps.scoring.synthetic import generate_rows

pytestmark = pytest.mark.django_db


def _snapshots(world, values: list[dict]) -> list[int]:
    enterprise = world.enterprise()
    return [FeatureSnapshot.objects.create(application=world.draft(enterprise=enterprise),
                                           input_hash=f"{i:064d}", spec_version="t",
                                           values=v, red_flag_codes=["X"] if i == 1 else []).pk
            for i, v in enumerate(values)]


def _same(ids, kinds):
    rows = _read_chunk(ids)
    expected = records_to_columns([r[3] for r in rows], kinds)
    typed = _read_chunk_columns(ids, kinds)
    if typed is None:
        return None
    got_rows, got = typed
    assert [r[:3] + r[4:] for r in got_rows] == [r[:3] + r[4:] for r in rows]
    assert list(got) == list(expected)
    for name, column in expected.items():
        if isinstance(column, np.ndarray):
            assert got[name].dtype == column.dtype
            assert np.array_equal(got[name], column, equal_nan=True), name
        else:
            assert got[name] == column, name
    return True


def test_sql_columns_equal_the_decoded_json(on_postgresql, world):
    values = [{k: (None if row[k] == "" else float(row[k]) if KINDS[k] == "numeric"
                   else row[k]) for k in KINDS} for row in generate_rows(40, seed=3)]
    numeric = [k for k in KINDS if KINDS[k] == "numeric"]
    categorical = [k for k in KINDS if KINDS[k] != "numeric"]
    values[0][numeric[0]] = 0.1 + 0.2            # shortest repr round trip
    values[1][numeric[1]] = 12345678901234567890  # an integer beyond 2**53
    values[2][numeric[2]] = "1.5"                 # a number held as a string
    values[3][categorical[0]] = ""                # empty → missing
    del values[4][numeric[3]], values[4][categorical[1]]  # absent → missing
    values[5][numeric[4]] = 1e-300
    ids = _snapshots(world, values)
    model = services.model_of(services.champion_ensure())
    assert _same(ids, model.feature_kinds)
    assert _same(ids, KINDS)


@pytest.mark.parametrize("odd", ["numeric boolean", "categorical number", "categorical bool"])
def test_unusual_json_types_take_the_portable_path(on_postgresql, world, odd):
    values = [{k: (None if row[k] == "" else float(row[k]) if KINDS[k] == "numeric"
                   else row[k]) for k in KINDS} for row in generate_rows(3, seed=4)]
    numeric = next(k for k in KINDS if KINDS[k] == "numeric")
    categorical = next(k for k in KINDS if KINDS[k] != "numeric")
    if odd == "numeric boolean":
        # Python's path reads 1.0; the text is "true", which float8 refuses inside the test's
        # transaction (the savepoint keeps it usable for the text read), and so does numpy
        values[1][numeric] = True
    elif odd == "categorical number":
        values[1][categorical] = 1e5    # str() gives "100000.0"; jsonb's text "100000"
    else:
        values[1][categorical] = False  # str() gives "False"; jsonb's text "false"
    assert _same(_snapshots(world, values), KINDS) is None
