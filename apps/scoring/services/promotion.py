"""Model lifecycle moves: validate, request promotion, approve (four-eyes) or reject, retire.

Promotion replaces the champion in one transaction: the old champion is retired first (one
champion at a time, enforced by the database too), then the new one is promoted; both moves
are audited. The approver is neither the trainer nor the requester (`independent_of_model`).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.core.fsm import transition_check
from apps.scoring.models import ModelVersion
from apps.scoring.services.scoring import _check_features
from apps.scoring.states import ModelVersionState


def _lock(version_id: int) -> ModelVersion:
    return ModelVersion.objects.select_for_update(no_key=True).get(pk=version_id)


def _audit(action: str, version: ModelVersion, actor, source: str, **extra) -> None:
    audit_record(action=action, actor=actor, subject=version,
                 payload={"version": version.version, "from": source, "to": version.state,
                          **extra})


@transaction.atomic
def model_version_validate(*, version_id: int, actor) -> ModelVersion:
    """A validator has read the validation report and accepts the version as sound."""
    version = _lock(version_id)
    transition_check(version.validate, actor=actor)
    source = version.state
    version.validate()
    version.save()
    _audit("model.validated", version, actor, source)
    return version


@transaction.atomic
def model_version_request_promotion(*, version_id: int, actor, reason: str) -> ModelVersion:
    """Ask for a validated version to become champion; the reason is kept for the approver."""
    version = _lock(version_id)
    transition_check(version.request_promotion, actor=actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why this version should become champion.")})
    _check_features(version)  # a champion must be able to score applications
    source = version.state
    version.request_promotion(by=actor, reason=reason)
    version.save()
    _audit("model.promotion_requested", version, actor, source, reason=reason)
    return version


@transaction.atomic
def model_version_approve_promotion(*, version_id: int, actor) -> ModelVersion:
    """Four-eyes approval: the old champion is retired and this version becomes champion."""
    version = _lock(version_id)
    transition_check(version.approve_promotion, actor=actor)
    now = timezone.now()
    retired = None
    old = (ModelVersion.objects.select_for_update(no_key=True)
           .filter(state=ModelVersionState.CHAMPION).exclude(pk=version.pk).first())
    if old is not None:
        old.retire(at=now)  # a system consequence of the approval, not a separate permission
        old.save()
        retired = old.version
        _audit("model.retired", old, actor, ModelVersionState.CHAMPION, replaced_by=version.version)
    source = version.state
    version.approve_promotion(by=actor, at=now)
    version.save()
    _audit("model.promoted", version, actor, source, replaces=retired,
           requested_by=version.promotion_requested_by_id)
    return version


@transaction.atomic
def model_version_reject_promotion(*, version_id: int, actor, reason: str) -> ModelVersion:
    version = _lock(version_id)
    transition_check(version.reject_promotion, actor=actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the promotion is refused.")})
    source = version.state
    version.reject_promotion()
    version.save()
    _audit("model.promotion_rejected", version, actor, source, reason=reason)
    return version
