"""Publishing and retiring versions of policy data: the one service every kind uses.

Products, checklist templates and the authority matrix are all `PublishedVersion`s: draft →
published → retired, four-eyes publish (the drafter never publishes, domain reference §6.4),
frozen once published, every move audited. Each kind's own service wraps these with what only
it knows (its checks before publishing, its audit payload); the lock, permission, supersede and
audit sequence is written once, here.

`actor=None` is the system (seed data and management commands), never reachable from a request:
it skips the permission checks, not the state checks.
"""

import datetime as dt
from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.core.exceptions import TransitionConflict, VersionFrozen
from apps.core.fsm import transition_check
from apps.core.models import PublishedVersion
from apps.core.policy import PolicyVersionState

Check = Callable[[PublishedVersion], None]
Payload = Callable[[PublishedVersion], dict]


def version_require_draft(version: PublishedVersion) -> None:
    """Refuse (409) to change anything of a version that is no longer a draft."""
    if not version.is_editable:
        raise VersionFrozen()


def version_next_number(queryset: QuerySet, field: str = "version") -> int:
    """The number after the highest in the series (the caller holds the series lock)."""
    return (queryset.aggregate(n=Max(field))["n"] or 0) + 1


def version_series(version: PublishedVersion) -> QuerySet:
    """Every version of the same series (same product, same template code…) as `version`."""
    model = type(version)
    return model._base_manager.filter(
        **{name: getattr(version, model._meta.get_field(name).attname)
           for name in model.series_fields})


def _lock(model: type[PublishedVersion], pk: int) -> PublishedVersion:
    # of=("self",): a subclass's default manager may join (select_related) and only this row
    # is ours to lock.
    return model._base_manager.select_for_update(no_key=True, of=("self",)).get(pk=pk)


def _check_four_eyes(version: PublishedVersion, actor) -> None:
    """The drafter never publishes: said in words before the generic permission check, so the
    officer learns why, not just that they may not."""
    if actor.has_perm(version.publish_permission) and version.created_by_id == actor.pk:
        raise PermissionDenied(_("Four-eyes rule: the person who drafted a version cannot "
                                 "publish it."))


@transaction.atomic
def version_publish(*, model: type[PublishedVersion], pk: int, actor,
                    effective_from: dt.date | None = None, check: Check | None = None,
                    payload: Payload | None = None) -> PublishedVersion:
    """Put a draft in force from `effective_from` (default today); the published version of the
    same series retires that day.

    Order (CONVENTIONS §3): lock → permission (403, four-eyes first) → state (409) → the kind's
    own checks (`check`, raising ValidationError or its own error) → retire the predecessor →
    publish → audit, all in one transaction so a refusal leaves nothing behind.
    """
    # Lock the whole series, in one order for everyone, before reading any state: two drafts
    # of one series published at once must not leave two versions in force. The second
    # publisher waits here, then sees (and retires) the first one's version.
    list(version_series(model._base_manager.get(pk=pk))
         .select_for_update(no_key=True, of=("self",)).order_by("pk")
         .values_list("pk", flat=True))
    version = _lock(model, pk)
    if actor is not None:
        _check_four_eyes(version, actor)
        transition_check(version.publish, actor=actor)
    elif version.state != PolicyVersionState.DRAFT:
        raise TransitionConflict(version.publish)
    effective_from = effective_from or timezone.localdate()
    if actor is not None and effective_from < timezone.localdate():
        # Back-dating would change what past decisions were made under; the record of what
        # was in force on a day must stay true (domain reference §0.2).
        raise ValidationError({"effective_from": _(
            "A version cannot be put in force in the past; choose today or a later date.")})
    if check is not None:
        check(version)
    extra = payload(version) if payload is not None else {}

    previous = (version_series(version).filter(state=PolicyVersionState.PUBLISHED)
                .exclude(pk=version.pk).order_by("pk"))
    for old in previous:
        old.retire(effective_to=effective_from)
        old.save()
        audit_record(action=f"{model.audit_prefix}.retired", actor=actor, subject=old,
                     payload={**_identity(old), "effective_to": effective_from,
                              "superseded_by": _number(version)})
    version.publish(by=actor, at=timezone.now(), effective_from=effective_from)
    version.save()
    audit_record(action=f"{model.audit_prefix}.published", actor=actor, subject=version,
                 payload={**_identity(version), "effective_from": effective_from, **extra})
    return version


@transaction.atomic
def version_retire(*, model: type[PublishedVersion], pk: int, actor,
                   effective_to: dt.date | None = None, reason: str = "") -> PublishedVersion:
    """Withdraw a version in force without a successor (e.g. a product no longer sold) from
    `effective_to` (default today). What was decided under it keeps pointing to it."""
    version = _lock(model, pk)
    if actor is not None:
        transition_check(version.retire, actor=actor)
    elif version.state != PolicyVersionState.PUBLISHED:
        raise TransitionConflict(version.retire)
    effective_to = effective_to or timezone.localdate()
    version.retire(effective_to=effective_to)
    version.save()
    audit_record(action=f"{model.audit_prefix}.retired", actor=actor, subject=version,
                 payload={**_identity(version), "effective_to": effective_to,
                          "superseded_by": None, "reason": reason})
    return version


def version_in_force(queryset: QuerySet, *, on: dt.date) -> QuerySet:
    """The versions (of `queryset`) in force on a day: published or since retired, started on
    or before it and not ended by it (`effective_to` is exclusive)."""
    return (queryset.filter(state__in=[PolicyVersionState.PUBLISHED, PolicyVersionState.RETIRED],
                            effective_from__lte=on)
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=on)))


def _number(version: PublishedVersion):
    return getattr(version, "version", None)


def _identity(version: PublishedVersion) -> dict:
    """What names a version in its audit events: its series and number."""
    model = type(version)
    identity = {"version": _number(version)}
    for name in model.series_fields:
        related = getattr(version, name)
        identity[name] = getattr(related, "code", related) if related is not None else None
    return identity
