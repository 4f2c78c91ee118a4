import datetime as dt

import pytest

from apps.audit.models import AuditEvent
from apps.scoring import services
from apps.scoring.features.spec import KINDS
from apps.scoring.models import DriftReport, FeatureSnapshot, RescoringJob, ScoreResult
from apps.scoring.policy import DEFAULT_POLICY
from apps.scoring.states import RescoringJobState
from apps.scoring.synthetic import generate_rows

pytestmark = pytest.mark.django_db


def _portfolio(world, n: int) -> list[int]:
    """n applications, each with a stored feature snapshot (as if scored before)."""
    enterprise = world.enterprise()
    ids = []
    for i, row in enumerate(generate_rows(n, seed=5)):
        application = world.draft(enterprise=enterprise)
        values = {k: (None if row[k] == "" else float(row[k]) if KINDS[k] == "numeric"
                      else row[k]) for k in KINDS}
        FeatureSnapshot.objects.create(application=application, input_hash=f"{i:064d}",
                                       spec_version="t", values=values,
                                       red_flag_codes=["DISHONEST_DEBTOR"] if i == 0 else [])
        ids.append(application.pk)
    return ids


def test_one_job_scores_the_portfolio_in_chunks_with_progress_and_chunk_audit(world):
    ids = _portfolio(world, 5)
    job = services.rescoring_start(actor=world.user("reviewer.north"), chunk_size=2)
    assert job.state == RescoringJobState.QUEUED
    job = services.rescoring_run(job_id=job.pk)
    assert job.state == RescoringJobState.COMPLETED
    assert (job.total, job.done, job.created) == (5, 5, 5)
    chunks = list(AuditEvent.objects.filter(action="score.rescored_chunk").order_by("seq"))
    assert [e.payload["count"] for e in chunks] == [2, 2, 1]
    assert sorted(i for e in chunks for i in e.payload["application_ids"]) == sorted(ids)
    results = ScoreResult.objects.filter(job=job)
    assert results.count() == 5
    first = results.get(application_id=ids[0])
    assert first.recommendation == "decline"  # the enforcement-record knock-out
    assert first.knockouts == [{"code": "ENFORCEMENT_RECORD"}]
    # The bulk path agrees with single-row scoring on the same inputs.
    model = services.model_of(first.model_version)
    from apps.scoring.features.assemble import records_to_columns

    other = results.get(application_id=ids[1])
    single = model.predict(records_to_columns([other.snapshot.values], model.feature_kinds),
                           grades=DEFAULT_POLICY["grades"])[0]
    assert other.score == pytest.approx(single["score"]) and other.grade == single["grade"]
    assert [r["feature"] for r in other.reasons] == [r["feature"] for r in single["reasons"]]

    again = services.rescoring_run(job_id=services.rescoring_start(
        actor=world.user("reviewer.north"), chunk_size=10).pk)
    assert (again.done, again.created) == (5, 0)  # idempotent: nothing new to write
    assert ScoreResult.objects.count() == 5


def test_drift_on_recent_scores_alerts_above_the_policy_threshold(world):
    _portfolio(world, 8)
    services.rescoring_run(job_id=services.rescoring_start(
        actor=world.user("reviewer.north")).pk)
    document = {**DEFAULT_POLICY, "psi_min_scores": 5}
    draft = services.decision_policy_create(document=document, actor=world.user("admin.north"),
                                            effective_from=dt.date.today() - dt.timedelta(days=1))
    services.decision_policy_publish(policy_id=draft.pk, actor=world.user("reviewer.north"))
    report = services.drift_check()
    assert report.n_scores == 8 and report.policy_version == 2
    # Eight rows cannot fill ten deciles: empty bands make a large PSI, which is the alert.
    assert report.alert and report.score_psi > 0.25
    event = AuditEvent.objects.get(action="model.drift_alert")
    assert event.payload["report"] == report.pk
    assert DriftReport.objects.count() == 1
    assert RescoringJob.objects.count() == 1
