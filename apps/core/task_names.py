"""Registered Celery task names, so earlier apps can send work to later ones by name.

Names are part of the message format: queued messages outlive deployments, so a name never
changes once released. `tests/test_architecture.py` checks each one is registered by a task.
"""

from enum import StrEnum


class TaskName(StrEnum):
    CORE_PING = "core.ping"
    AUDIT_CHAIN_VERIFY = "audit.audit_chain_verify"
    CORE_IDEMPOTENCY_PURGE = "core.idempotency_purge"
    CORE_OUTBOX_RELAY = "core.outbox_relay"
    DOCUMENT_CHECK = "documents.document_check"
    DOCUMENT_CHECK_SWEEP = "documents.document_check_sweep"
    DOCUMENT_EXPIRY_REMIND = "documents.document_expiry_remind"
    DOCUMENT_ORPHANS_SWEEP = "documents.document_orphans_sweep"
    APPROVALS_STEP_NOTIFY = "approvals.approval_step_notify"
    APPROVALS_DEADLINES_SWEEP = "approvals.approval_deadlines_sweep"
    APPLICATION_SCORE = "scoring.application_score"
    SCORING_SWEEP = "scoring.score_sweep"
    SCORING_DRIFT_CHECK = "scoring.drift_check"
    SCORING_RESCORE = "scoring.rescoring_run"
    SCORING_TRAIN = "scoring.training_job_run"
    OVERSIGHT_EXPORT_JOB_RUN = "oversight.export_job_run"
    OVERSIGHT_EXPORT_JOBS_SWEEP = "oversight.export_jobs_sweep"
    LOANS_ACTIVATE_SWEEP = "loans.loans_activate_due"
    MONITORING_CLASSIFICATION_SWEEP = "monitoring.classification_run_start"
    MONITORING_CLASSIFY_CHUNK = "monitoring.classification_chunk_run"
    MONITORING_CHUNKS_RECONCILE = "monitoring.classification_chunks_reconcile"
    MONITORING_ACTIONS_OVERDUE = "monitoring.actions_overdue_sweep"
    MONITORING_INSPECTION_SWEEP = "monitoring.inspection_sweep"
    MONITORING_INSPECTION_SCHEDULE = "monitoring.inspection_schedule_generate"
    MONITORING_INSPECTION_SCHEDULE_CHUNK = "monitoring.inspection_schedule_chunk"
    MONITORING_INSPECTION_OVERDUE_CHUNK = "monitoring.inspections_overdue_mark"
    MONITORING_COVENANT_SWEEP = "monitoring.covenant_sweep"
    MONITORING_COVENANT_CHUNK = "monitoring.covenant_sweep_chunk"
    MONITORING_RESTRUCTURINGS_RECORD = "monitoring.loan_restructurings_record"
    MONITORING_COVENANT_SCHEDULE = "monitoring.covenant_schedule_generate"
    OVERSIGHT_EXEMPTION_CASES_SWEEP = "oversight.exemption_cases_sweep"
    LOANS_DPD_RECOMPUTE_SWEEP = "loans.dpd_recompute_sweep"
    LOANS_DPD_RECOMPUTE_CHUNK = "loans.dpd_recompute_chunk"
    DATAHUB_PULL_RUN = "datahub.pull_run"
    DATAHUB_REFRESH_SWEEP = "datahub.refresh_sweep"
    DATAHUB_REFRESH_PULL_RUN = "datahub.refresh_pull_run"
    DATAHUB_CACHE_HITS_AUDIT = "datahub.cache_hits_audit"
    DATAHUB_PULL_SWEEP = "datahub.pull_sweep"
    INSIGHT_SUMMARIES_REFRESH = "insight.summaries_refresh"
