"""Reading any CSV of historical loans into typed columns, the same way for training and scoring.

Types are inferred: a column is numeric when every non-missing cell parses as a number, otherwise
categorical. Missing cells are the usual spellings of "nothing" (empty, NA, N/A, NaN, null, None,
?) — they go to the characteristic's explicit missing bin rather than being imputed.
"""

import csv
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from apps.scoring.scorecard.binning import CATEGORICAL, NUMERIC

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
# Two-valued targets other than 0/1 are accepted when one value is recognisably "bad".
BAD_WORDS = frozenset({"1", "bad", "yes", "y", "true", "default", "defaulted"})
GOOD_WORDS = frozenset({"0", "good", "no", "n", "false", "performing", "non-default"})


class DataError(ValueError):
    """The data cannot be used as given; the message says what to fix."""


@dataclass
class Table:
    """A CSV read as text: header and rows, cells stripped."""

    header: list[str]
    rows: list[list[str]]

    def column(self, name: str) -> list[str]:
        if name not in self.header:
            known = ", ".join(self.header)
            raise DataError(f"column {name!r} is not in the CSV (columns: {known})")
        i = self.header.index(name)
        return [row[i] for row in self.rows]

    def fingerprint(self) -> str:
        """sha256 of the canonical rows: columns in name order, each row as a JSON list, rows
        sorted — so re-ordering rows or columns of the same data gives the same fingerprint."""
        order = sorted(range(len(self.header)), key=lambda i: self.header[i])
        lines = sorted(json.dumps([row[i] for i in order], ensure_ascii=False,
                                  separators=(",", ":")) for row in self.rows)
        body = json.dumps([self.header[i] for i in order], separators=(",", ":"))
        return hashlib.sha256("\n".join([body, *lines]).encode()).hexdigest()


def read_table(path) -> Table:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"CSV file {str(path)!r} does not exist")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise DataError(f"CSV file {str(path)!r} is empty") from None
        if len(set(header)) != len(header) or "" in header:
            raise DataError("CSV header has empty or duplicate column names")
        rows = []
        for line, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise DataError(f"CSV line {line} has {len(row)} cells, header has {len(header)}")
            rows.append([c.strip() for c in row])
    if not rows:
        raise DataError(f"CSV file {str(path)!r} has no data rows")
    return Table(header=header, rows=rows)


def is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING_TOKENS


def _number(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def infer_kind(cells: list[str]) -> str:
    present = [c for c in cells if not is_missing(c)]
    if present and all(_number(c) is not None for c in present):
        return NUMERIC
    return CATEGORICAL


def to_column(cells: list[str], kind: str, name: str):
    """Numeric → float array with NaN for missing; categorical → list of str or None."""
    if kind == CATEGORICAL:
        return [None if is_missing(c) else c for c in cells]
    out = np.empty(len(cells), dtype=float)
    for row, cell in enumerate(cells, start=1):
        if is_missing(cell):
            out[row - 1] = np.nan
            continue
        value = _number(cell)
        if value is None:
            raise DataError(f"column {name!r}, data row {row}: {cell!r} is not a number")
        out[row - 1] = value
    return out


def parse_target(cells: list[str], name: str, bad_value: str | None = None) -> np.ndarray:
    """The target as 1 = bad, 0 = good; exactly two distinct values are required."""
    if any(is_missing(c) for c in cells):
        count = sum(is_missing(c) for c in cells)
        raise DataError(f"target column {name!r} is empty in {count} rows; remove or label them")
    values = sorted(set(cells))
    if len(values) != 2:
        shown = ", ".join(repr(v) for v in values[:5])
        raise DataError(f"target column {name!r} must have exactly two distinct values "
                        f"(bad and good), found {len(values)}: {shown}")
    if bad_value is None:
        bad = [v for v in values if v.lower() in BAD_WORDS]
        good = [v for v in values if v.lower() in GOOD_WORDS]
        numeric = [_number(v) for v in values]
        if numeric == [0.0, 1.0]:
            bad_value = values[1]
        elif len(bad) == 1 and len(good) == 1:
            bad_value = bad[0]
        else:
            raise DataError(f"target column {name!r} has values {values[0]!r} and {values[1]!r}; "
                            "say which one means default with --bad-value")
    elif bad_value not in values:
        raise DataError(f"--bad-value {bad_value!r} is not a value of target column {name!r}")
    return np.array([1 if c == bad_value else 0 for c in cells], dtype=np.int64)


@dataclass
class TrainingData:
    table: Table
    columns: dict
    kinds: dict[str, str]
    y: np.ndarray


def training_set_read(*, csv_path, target: str, bad_value: str | None = None,
                       exclude: tuple[str, ...] = ()) -> TrainingData:
    """Every column but the target (and `exclude`) is a candidate characteristic, its type
    inferred from the data; the target must have exactly two values (see data.parse_target)."""
    table = read_table(csv_path)
    y = parse_target(table.column(target), target, bad_value)
    for name in exclude:
        table.column(name)  # a clear error for a misspelt column
    names = [h for h in table.header if h != target and h not in exclude]
    if not names:
        raise DataError("the CSV has no columns besides the target to learn from")
    kinds = {n: infer_kind(table.column(n)) for n in names}
    columns = {n: to_column(table.column(n), kinds[n], n) for n in names}
    return TrainingData(table=table, columns=columns, kinds=kinds, y=y)
