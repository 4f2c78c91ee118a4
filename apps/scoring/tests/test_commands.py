import csv
import json

import pytest
from django.core.management import CommandError, call_command

from apps.audit.models import AuditEvent
from apps.scoring.features.spec import FEATURE_NAMES
from apps.scoring.models import ModelVersion
from apps.scoring.states import ModelVersionState

pytestmark = pytest.mark.django_db


@pytest.fixture
def loans(tmp_path):
    path = tmp_path / "loans.csv"
    call_command("generate_sme_data", rows=1500, out=str(path), seed=5)
    return path


def _train(capsys, loans, **extra):
    call_command("train_model", csv=str(loans), target="default", seed=3, **extra)
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_train_then_score_end_to_end(loans, tmp_path, capsys):
    metrics = _train(capsys, loans, label="sme-demo-1")
    assert set(metrics) >= {"auc", "ks", "gini", "n_train", "n_holdout", "version"}
    assert metrics["version"] == "sme-demo-1"
    assert metrics["n_train"] + metrics["n_holdout"] == 1500 and metrics["auc"] > 0.6
    assert metrics["gini"] == pytest.approx(2 * metrics["auc"] - 1, abs=1e-5)

    version = ModelVersion.objects.get(version="sme-demo-1")
    assert version.state == ModelVersionState.DRAFT and version.kind == "scorecard"
    assert version.metrics["auc"] == metrics["auc"]
    assert len(version.training_data_sha256) == 64 and version.features
    report = version.metrics["report"]
    assert sum(b["n"] for b in report["calibration"]) == metrics["n_holdout"]
    assert [g["grade"] for g in report["grades"]] == ["A", "B", "C", "D", "E"]
    assert report["benchmark_onehot_lr"]["auc"] == metrics["benchmark_onehot_lr_auc"] > 0.6
    assert report["iv"]["debt_to_assets"] > 0.1 and set(report["iv"]) == set(FEATURE_NAMES)
    [event] = AuditEvent.objects.filter(action="model.trained")
    assert event.subject_id == str(version.pk)
    assert event.payload["artefact_sha256"] == version.artefact_sha256

    out = tmp_path / "scores.csv"
    call_command("score_csv", model="sme-demo-1", csv=str(loans), out=str(out))
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1500
    assert list(rows[0]) == ["row", "probability", "score", "grade",
                             "reason_1", "reason_2", "reason_3"]
    assert all(0 < float(r["probability"]) < 1 and r["grade"] in "ABCDE" for r in rows)
    assert {r["reason_1"] for r in rows} <= set(version.features) | {""}


def test_same_data_and_seed_train_the_same_artefact(loans, capsys):
    _train(capsys, loans, label="a")
    _train(capsys, loans, label="b")
    a, b = ModelVersion.objects.get(version="a"), ModelVersion.objects.get(version="b")
    assert a.artefact_sha256 == b.artefact_sha256
    assert a.training_data_sha256 == b.training_data_sha256


def test_a_text_target_and_excluded_columns(tmp_path, loans, capsys):
    with loans.open() as handle:
        rows = list(csv.DictReader(handle))
    path = tmp_path / "words.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["loan_id", *rows[0]])
        writer.writeheader()
        for i, row in enumerate(rows):
            writer.writerow({"loan_id": f"L{i}", **row,
                             "default": "bad" if row["default"] == "1" else "good"})
    _train(capsys, path, label="words", exclude="loan_id,debt_to_assets")
    version = ModelVersion.objects.get(version="words")
    assert "loan_id" not in version.features and "debt_to_assets" not in version.features
    out = tmp_path / "s.csv"
    call_command("score_csv", model="words", csv=str(path), out=str(out), id_column="loan_id")
    assert out.read_text().splitlines()[1].startswith("1,L0,")


@pytest.mark.parametrize(("make", "options", "message"), [
    (None, {"target": "default"}, "does not exist"),
    ("", {"target": "default"}, "is empty"),
    ("a,default\n", {"target": "default"}, "no data rows"),
    ("a,default\n1,0\n2,1\n", {"target": "outcome"}, "column 'outcome' is not in the CSV"),
    ("a,default\n1,0\n2,1\n3,2\n", {"target": "default"}, "exactly two distinct values"),
    ("a,default\n1,x\n2,y\n", {"target": "default"}, "--bad-value"),
    ("a,default\n1,0\n2,\n", {"target": "default"}, "is empty in 1 rows"),
    ("a,default\n1,0\n2,1\n", {"target": "default"}, "too few rows"),
    ("a,default\n1,0\n2,1\n", {"target": "default", "kind": "gbm"}, "too few rows"),
])
def test_training_errors_are_clear(tmp_path, make, options, message):
    path = tmp_path / "bad.csv"
    if make is not None:
        path.write_text(make)
    with pytest.raises(CommandError, match=message):
        call_command("train_model", csv=str(path), **options)
    assert not ModelVersion.objects.exists()


def test_scoring_errors_are_clear(loans, tmp_path, capsys):
    with pytest.raises(CommandError, match="not registered"):
        call_command("score_csv", model="nope", csv=str(loans), out=str(tmp_path / "o.csv"))
    _train(capsys, loans, label="m")
    thin = tmp_path / "thin.csv"
    thin.write_text("debt_to_assets\n0.5\n")
    with pytest.raises(CommandError, match="columns missing for scoring"):
        call_command("score_csv", model="m", csv=str(thin), out=str(tmp_path / "o.csv"))
    with pytest.raises(CommandError, match="already exists"):
        _train(capsys, loans, label="m")


def test_scaling_and_grade_cut_offs_are_options(loans, tmp_path, capsys):
    _train(capsys, loans, label="scaled", base_score=500, base_odds=50, pdo=20,
           grades='[["good", 520], ["watch", null]]')
    version = ModelVersion.objects.get(version="scaled")
    assert version.parameters["scaling"]["pdo"] == 20.0
    assert version.parameters["grades"] == [["good", 520], ["watch", None]]
    out = tmp_path / "o.csv"
    call_command("score_csv", model="scaled", csv=str(loans), out=str(out))
    assert {r["grade"] for r in csv.DictReader(out.open())} == {"good", "watch"}
    call_command("score_csv", model="scaled", csv=str(loans), out=str(out),
                 grades='[["all", null]]')
    assert {r["grade"] for r in csv.DictReader(out.open())} == {"all"}
    with pytest.raises(CommandError, match="grade cut-offs"):
        call_command("score_csv", model="scaled", csv=str(loans), out=str(out), grades="[1]")
    with pytest.raises(CommandError, match="pdo > 0"):
        call_command("train_model", csv=str(loans), target="default", pdo=0)


def test_text_in_a_numeric_model_column_is_named(loans, tmp_path, capsys):
    _train(capsys, loans, label="n")
    text = loans.read_text().splitlines()
    header = text[0].split(",")
    row = text[1].split(",")
    row[header.index("debt_to_assets")] = "high"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([text[0], ",".join(row)]) + "\n")
    with pytest.raises(CommandError, match="column 'debt_to_assets', data row 1: 'high'"):
        call_command("score_csv", model="n", csv=str(bad), out=str(tmp_path / "o.csv"))


def test_the_gbm_challenger_trains_registers_and_scores(tmp_path, capsys):
    # Fewer rows than the scorecard tests: 150 boosting rounds over 29 features is the slowest
    # step of this suite, and 800 rows still exercise every path.
    loans = tmp_path / "small.csv"
    call_command("generate_sme_data", rows=800, out=str(loans), seed=5)
    metrics = _train(capsys, loans, label="gbm-1", kind="gbm")
    assert metrics["auc"] > 0.6
    version = ModelVersion.objects.get(version="gbm-1")
    assert version.kind == "gbm" and version.parameters["learning_rate"] == 0.1
    out = tmp_path / "g.csv"
    call_command("score_csv", model="gbm-1", csv=str(loans), out=str(out))
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 800 and rows[0]["reason_1"] in version.features
