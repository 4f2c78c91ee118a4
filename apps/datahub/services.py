"""Writes of the data hub: record a consent, request a pull, run it, import an export file.

Every pull request, in one transaction: permission (403) → the enterprise in the viewer's
branches (404) → a consent in force for the source and purpose (409 `consent_required`) →
a fresh answer in the cache (a cache pull, nothing paid; tried first without any lock,
apps/datahub/cache.py) → a paid pull already in flight (that
pull again: idempotent per subject, source and freshness window) → the branch's monthly
budget (409 `budget_exhausted` at the hard stop, a warning past the warning share) → a new
pull, its audit event and its task in the outbox, committed together.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.selectors import visible_branch_ids
from apps.audit.services import audit_record
from apps.core.exceptions import DomainError
from apps.core.queue import enqueue_on_commit
from apps.core.task_names import TaskName
from apps.datahub import hooks
from apps.datahub.breaker import circuit_open_until, circuit_record
from apps.datahub.cache import cache_answer
from apps.datahub.changes import changes_between
from apps.datahub.connectors import PERSON_SOURCES, connector_for
from apps.datahub.connectors.base import (
    ConnectorError,
    HttpTransport,
    SourceUnavailable,
    Subject,
    TransportLimits,
)
from apps.datahub.models import Consent, Pull, Record
from apps.datahub.policy import HubPolicy
from apps.datahub.sources import source_url
from apps.datahub.states import Channel, PullState, Purpose, Source
from apps.org.models import Branch
from apps.parties.models import Enterprise, Person, RelationshipKind

log = logging.getLogger(__name__)


class ConsentRequired(DomainError):
    code = "consent_required"
    status_code = 409


class BudgetExhausted(DomainError):
    code = "budget_exhausted"
    status_code = 409


def _enterprise_in_scope(actor, enterprise_id: int, *, lock: bool = False) -> Enterprise:
    """The enterprise if the actor's branches include it; 404 otherwise (not revealed)."""
    from django.http import Http404

    rows = Enterprise.objects.all()
    if lock:
        rows = rows.select_for_update(of=("self",), no_key=True)
    enterprise = rows.filter(pk=enterprise_id).first()
    branches = visible_branch_ids(viewer=actor)
    if enterprise is None or (branches is not None and enterprise.branch_id not in branches):
        raise Http404
    return enterprise


PERSON_KINDS = (RelationshipKind.LEGAL_REPRESENTATIVE, RelationshipKind.GUARANTOR,
                RelationshipKind.ACTUAL_CONTROLLER, RelationshipKind.SHAREHOLDER)


def person_of(enterprise: Enterprise, person_id: int) -> Person:
    """A person the enterprise's file links to it (legal representative, guarantor, actual
    controller or shareholder): only they may be asked about for its sake."""
    person = Person.objects.filter(
        pk=person_id, relationships_out__to_enterprise=enterprise,
        relationships_out__kind__in=PERSON_KINDS).first()
    if person is None:
        raise ValidationError({"person": [_("This person is not a legal representative, "
                                            "guarantor, controller or shareholder of the "
                                            "enterprise.")]})
    return person


def consent_record(*, enterprise_id: int, signed_by: str, sources: list[str], purpose: str,
                   valid_from: dt.date, valid_until: dt.date, document_reference: str,
                   actor, person_id: int | None = None) -> Consent:
    """The enterprise's consent, or with `person_id` a person's own (a guarantor's, the legal
    representative's …) for the sources that answer about persons."""
    if not actor.has_perm("datahub.add_consent"):
        raise PermissionDenied(_("You may not record data-pull consents."))
    with transaction.atomic():
        enterprise = _enterprise_in_scope(actor, enterprise_id)
        person = person_of(enterprise, person_id) if person_id is not None else None
        unknown = sorted(set(sources) - set(Source.values))
        errors = {}
        if not sources or unknown:
            errors["sources"] = [_("Name at least one known source.") if not unknown else
                                 _("Unknown sources: %(s)s.") % {"s": ", ".join(unknown)}]
        elif person is not None and set(sources) - PERSON_SOURCES:
            errors["sources"] = [_("Only these sources answer about a person: %(s)s.")
                                 % {"s": ", ".join(sorted(PERSON_SOURCES))}]
        if purpose not in Purpose.values:
            errors["purpose"] = [_("Unknown purpose.")]
        if valid_until < valid_from:
            errors["valid_until"] = [_("The consent must end after it starts.")]
        if not signed_by.strip():
            errors["signed_by"] = [_("Say who signed the authorisation.")]
        if not document_reference.strip():
            errors["document_reference"] = [_("Reference the signed authorisation.")]
        if errors:
            raise ValidationError(errors)
        consent = Consent.objects.create(
            enterprise=enterprise, person=person, signed_by=signed_by.strip(),
            sources=sorted(set(sources)),
            purpose=purpose, valid_from=valid_from, valid_until=valid_until,
            document_reference=document_reference.strip(), recorded_by=actor)
        audit_record(action="datahub.consent_recorded", actor=actor, subject=consent,
                     branch_id=enterprise.branch_id, enterprise_id=enterprise.pk,
                     payload={"sources": consent.sources, "purpose": purpose,
                              "person": person.pk if person else None,
                              "valid_until": valid_until.isoformat(),
                              "document": consent.document_reference})
    return consent


def consent_in_force(*, enterprise_id: int, source: str, purpose: str,
                     on: dt.date, person_id: int | None = None) -> Consent | None:
    """The longest-running consent in force on `on` covering the source and purpose: the
    person's own when the query is about a person, else the enterprise's."""
    consents = Consent.objects.filter(enterprise_id=enterprise_id, purpose=purpose,
                                      person_id=person_id,
                                      valid_from__lte=on, valid_until__gte=on,
                                      revoked_at__isnull=True).order_by("-valid_until", "-id")
    if connection.features.supports_json_field_contains:
        return consents.filter(sources__contains=[source]).first()
    return next((c for c in consents if source in c.sources), None)   # SQLite


def month_start(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def branch_spent(*, branch_id: int, now: dt.datetime) -> Decimal:
    """This month's spending of a branch: paid pulls done, plus the price of those in flight
    (reserved, so two requests cannot both spend the last of the budget)."""
    rows = Pull.objects.filter(branch_id=branch_id, created_at__gte=month_start(now),
                               channel=Channel.HTTP)
    done = rows.filter(state=PullState.SUCCEEDED).aggregate(s=Sum("cost"))["s"] or Decimal(0)
    held = (rows.filter(state__in=[PullState.REQUESTED, PullState.RUNNING])
            .aggregate(s=Sum("price"))["s"] or Decimal(0))
    return done + held


def fresh_answer(*, enterprise_id: int, source: str, freshness: dt.timedelta,
                 now: dt.datetime, person_id: int | None = None) -> Pull | None:
    """The newest paid pull of this source about this subject inside its freshness window."""
    return (Pull.objects.filter(enterprise_id=enterprise_id, source=source, person_id=person_id,
                                channel__in=[Channel.HTTP, Channel.FILE],
                                state=PullState.SUCCEEDED, fetched_at__gte=now - freshness)
            .order_by("-fetched_at").first())


def pull_request(*, enterprise_id: int, source: str, purpose: str, actor,
                 application_id: int | None = None, person_id: int | None = None) -> Pull:
    """Ask for a source's data about an enterprise, or with `person_id` about a person around
    it (see the module docstring for the order)."""
    if not actor.has_perm("datahub.add_pull"):
        raise PermissionDenied(_("You may not request external data."))
    if source not in Source.values:
        raise ValidationError({"source": [_("Unknown source.")]})
    if purpose not in Purpose.values:
        raise ValidationError({"purpose": [_("Unknown purpose.")]})
    if person_id is not None and source not in PERSON_SOURCES:
        raise ValidationError({"person": [_("This source does not answer about persons.")]})
    # A repeat question inside the freshness window: answered read-only (apps/datahub/cache.py).
    cached = cache_answer(enterprise_id=enterprise_id, source=source, purpose=purpose,
                          actor=actor, application_id=application_id, person_id=person_id)
    if cached is not None:
        return cached
    with transaction.atomic():
        # The enterprise row is the lock that serialises decisions about one subject.
        enterprise = _enterprise_in_scope(actor, enterprise_id, lock=True)
        person = person_of(enterprise, person_id) if person_id is not None else None
        branch_id = enterprise.branch_id
        if application_id is not None:
            from apps.applications.models import Application

            application = Application.objects.filter(pk=application_id,
                                                     enterprise_id=enterprise.pk).first()
            if application is None:
                raise ValidationError({"application": [
                    _("The application is not this enterprise's.")]})
            branch_id = application.branch_id
        now = timezone.now()
        consent = consent_in_force(enterprise_id=enterprise.pk, source=source, purpose=purpose,
                                   on=timezone.localdate(now), person_id=person_id)
        if consent is None:
            raise ConsentRequired(
                (_("No consent of %(person)s in force covers %(source)s for this purpose: "
                   "record the person's signed authorisation first.")
                 % {"person": person.name, "source": Source(source).label}) if person else
                (_("No consent in force covers %(source)s for this purpose: record the signed "
                   "authorisation first.") % {"source": Source(source).label}),
                fields={"consent": [_("missing or expired")]})
        pull = pull_open(enterprise=enterprise, source=source, purpose=purpose,
                         consent=consent, branch_id=branch_id, application_id=application_id,
                         actor=actor, now=now, person=person)
    return pull


def pull_open(*, enterprise: Enterprise, source: str, purpose: str, consent: Consent,
              branch_id: int, application_id: int | None, actor, now: dt.datetime,
              task: TaskName = TaskName.DATAHUB_PULL_RUN, person: Person | None = None) -> Pull:
    """Cache → in flight → budget → a new paid pull with its task in the outbox. Inside the
    caller's transaction, the enterprise row locked; `actor` None for the scheduled refresh."""
    policy = HubPolicy()
    limits = policy.source(source)
    common = {"enterprise": enterprise, "application_id": application_id,
              "branch_id": branch_id, "source": source, "purpose": purpose,
              "consent": consent, "requested_by": actor, "price": limits.price,
              "person": person}
    person_id = person.pk if person is not None else None
    paid = fresh_answer(enterprise_id=enterprise.pk, source=source,
                        freshness=limits.freshness, now=now, person_id=person_id)
    if paid is not None:
        # Audited by the sweep with every other cache answer (apps/datahub/cache.py).
        pull = Pull(channel=Channel.CACHE, audit_pending=True, **common)
        pull.answer_from_cache(paid=paid, at=now)
        pull.save()
        return pull
    running = Pull.objects.filter(enterprise=enterprise, source=source, channel=Channel.HTTP,
                                  person_id=person_id,
                                  state__in=[PullState.REQUESTED, PullState.RUNNING]).first()
    if running is not None:
        return running
    # The branch row serialises budget decisions: two requests cannot both spend the last of it.
    branch = Branch.objects.select_for_update(no_key=True).get(pk=branch_id)
    budget = policy.monthly_budget(branch.code)
    spent = branch_spent(branch_id=branch_id, now=now)
    if spent + limits.price > budget:
        raise BudgetExhausted(
            _("This month's external-data budget of %(branch)s is spent (%(spent)s of "
              "%(budget)s); the query would cost %(price)s.")
            % {"branch": branch.name, "spent": spent, "budget": budget,
               "price": limits.price}, fields={"budget": [str(budget)]})
    warning = spent + limits.price >= budget * policy.need("datahub.budget.warning_share")
    pull = Pull.objects.create(channel=Channel.HTTP, budget_warning=warning, **common)
    _audit(pull, "datahub.pull_requested", actor,
           {"price": str(pull.price), "budget_warning": warning,
            "spent_before": str(spent), "budget": str(budget), "policy": policy.used})
    enqueue_on_commit(task, pull_id=pull.pk)
    return pull


def _audit(pull: Pull, action: str, actor, payload: dict) -> None:
    audit_record(action=action, actor=actor, subject=pull, branch_id=pull.branch_id,
                 enterprise_id=pull.enterprise_id, application_id=pull.application_id,
                 payload={"source": pull.source, "query_id": str(pull.query_id),
                          **({"person": pull.person_id} if pull.person_id else {}), **payload})


def _claim(pull_id: int, now: dt.datetime, policy: HubPolicy):
    """Take the pull for this worker, or None when it is done or another worker holds it.
    A claim lasts as long as every attempt could take; a killed worker's claim runs out
    and the redelivered task takes the pull over (acks_late)."""
    with transaction.atomic():
        pull = Pull.objects.select_for_update(of=("self",)).select_related(
            "enterprise", "person").filter(pk=pull_id).first()
        if pull is None or pull.state in (PullState.SUCCEEDED, PullState.FAILED):
            return None
        if pull.state == PullState.RUNNING and pull.claimed_until and pull.claimed_until > now:
            return None
        limits = policy.source(pull.source)
        closed_at = circuit_open_until(pull.source, now=now)
        if closed_at is not None:
            pull.fail(at=now, code="circuit_open",
                      detail=_("The source is failing; queries are paused until %(t)s.")
                      % {"t": timezone.localtime(closed_at).strftime("%H:%M:%S")})
            pull.save()
            _audit(pull, "datahub.pull_failed", None, {"error": "circuit_open"})
            return None
        worst = (limits.timeout + limits.backoff_max) * limits.max_attempts + 30
        until = now + dt.timedelta(seconds=worst)
        (pull.start if pull.state == PullState.REQUESTED else pull.reclaim)(until=until)
        pull.save()
        return pull, limits


def claim_wait(*, pull_id: int, now: dt.datetime | None = None) -> float | None:
    """Seconds until another worker's claim on a running pull runs out (None when the pull is
    not running, i.e. finished or never claimed)."""
    row = (Pull.objects.filter(pk=pull_id, state=PullState.RUNNING)
           .values_list("claimed_until", flat=True).first())
    if row is None:
        return None
    return max(1.0, (row - (now or timezone.now())).total_seconds() + 1)


def pull_run(*, pull_id: int) -> str:
    """The worker's side: query the source outside any transaction, then record the outcome
    (records and success, or the failure with its field) in one. Idempotent: a finished pull,
    or one another worker holds, is left alone. Returns the pull's state."""
    policy = HubPolicy()
    claimed = _claim(pull_id, timezone.now(), policy)
    if claimed is None:
        return Pull.objects.filter(pk=pull_id).values_list("state", flat=True).first() or ""
    pull, limits = claimed
    answer, error = None, None
    try:
        answer = _query(pull, limits)
    except ConnectorError as exc:
        error = exc
    with transaction.atomic():
        pull = Pull.objects.select_for_update(of=("self",)).get(pk=pull_id)
        if pull.state != PullState.RUNNING:
            return pull.state
        now = timezone.now()
        if error is None:
            pull.attempts = answer.attempts
            pull.succeed(at=now, format_version=answer.format_version,
                         content_type=answer.content_type, body=answer.body)
            pull.save()
            # The breaker's row before the records: announcing a change may raise a signal,
            # which takes the audit chain's lock, and the audit lock is always taken last.
            circuit_record(pull.source, ok=True, now=now, policy=policy)
            records_found(pull, store_records(pull, answer.records))
            _audit(pull, "datahub.pull_succeeded", None,
                   {"records": len(answer.records), "cost": str(pull.cost),
                    "format_version": pull.format_version, "attempts": pull.attempts})
        else:
            pull.attempts = error.attempts
            pull.fail(at=now, code=error.code, detail=error.detail, field=error.field,
                      body=error.body)
            pull.save()
            circuit_record(pull.source, ok=not isinstance(error, SourceUnavailable), now=now,
                           policy=policy)
            _audit(pull, "datahub.pull_failed", None,
                   {"error": error.code, "field": error.field, "detail": error.detail,
                    "attempts": error.attempts})
            log.warning("datahub pull %s (%s) failed: %s %s", pull.pk, pull.source,
                        error.code, error.detail)
    return pull.state


class SourceNotConfigured(ConnectorError):
    code = "source_not_configured"


def _query(pull: Pull, limits):
    try:
        url = source_url(pull.source)
    except ImproperlyConfigured as exc:
        raise SourceNotConfigured(str(exc)) from exc
    transport = HttpTransport(url, TransportLimits(
        timeout=limits.timeout, max_attempts=limits.max_attempts, backoff=limits.backoff,
        backoff_max=limits.backoff_max))
    try:
        return connector_for(pull.source).query(
            Subject(uscc=pull.enterprise.uscc, name=pull.enterprise.name,
                    person_name=pull.person.name if pull.person_id else "",
                    person_id_number=pull.person.resident_id if pull.person_id else ""),
            query_id=str(pull.query_id), transport=transport)
    finally:
        transport.session.close()


def records_found(pull: Pull, records: list[Record]) -> list[dict]:
    """Compare a new paid answer with the previous one, keep the changes on the pull and
    announce them for each loan the book still carries for the enterprise (monitoring's
    signal inputs, through `apps.datahub.hooks`). In the pull's transaction."""
    from apps.loans.models import Loan
    from apps.loans.states import OPEN_LOAN_STATES

    previous = (Pull.objects.filter(enterprise_id=pull.enterprise_id, source=pull.source,
                                    person_id=pull.person_id,
                                    channel__in=[Channel.HTTP, Channel.FILE],
                                    state=PullState.SUCCEEDED, fetched_at__lt=pull.fetched_at)
                .exclude(pk=pull.pk).order_by("-fetched_at", "-id").first())
    before = list(previous.records.all()) if previous is not None else None
    changes = changes_between(pull.source, before, records,
                              subject=pull.person.name if pull.person_id else "")
    if not changes:
        return []
    pull.changes = changes
    pull.save(update_fields=["changes"])
    loan_ids = list(Loan.objects.filter(enterprise_id=pull.enterprise_id,
                                        state__in=OPEN_LOAN_STATES).values_list("pk", flat=True))
    if loan_ids:
        hooks.announce(loan_ids=loan_ids, changes=changes,
                       source=f"datahub {pull.source} query {pull.query_id}")
    return changes


def store_records(pull: Pull, records) -> list[Record]:
    return Record.objects.bulk_create([
        Record(pull=pull, enterprise_id=pull.enterprise_id, person_id=pull.person_id,
               source=pull.source, kind=r.kind,
               key=r.key[:120], data=r.data, query_id=pull.query_id, fetched_at=pull.fetched_at,
               format_version=pull.format_version) for r in records])

