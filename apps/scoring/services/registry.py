"""The champion, the decision policy in force, and the shipped defaults that make a fresh
install score out of the box.

`champion_ensure` and `decision_policy_ensure` are called by scoring inside its transaction:
when the bank has not yet installed a model or a policy, the shipped default (the model trained
on the synthetic book, apps/scoring/data/default_model.json; the policy DEFAULT_POLICY, tagged
[G]) is installed and audited, once. A bank that has its own champion never sees them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Func
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.policy import PolicyVersionState, seeded_policy_effective_from
from apps.policy.versioning import (
    version_in_force,
    version_next_number,
    version_publish,
    version_require_draft,
    version_retire,
)
from apps.scoring.models import DecisionPolicy, ModelVersion
from apps.scoring.policy import DEFAULT_POLICY, validate_policy
from apps.scoring.scorecard.artefact import ArtefactError
from apps.scoring.services.training import MODEL_CLASSES
from apps.scoring.states import ModelVersionState

logger = logging.getLogger(__name__)
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "default_model.json"


# The columns scoring does not read: the artefact (tens of kB) is read only when its model is
# not parsed in this process yet, the reports never; the database hashes the artefact instead,
# so an artefact altered after this process parsed it is still refused (`scoring_versions`).
SCORING_DEFERRED = ("artefact", "parameters", "metrics", "training_profile")
_MODELS: dict[tuple[str, str], object] = {}
_MODELS_MAX = 8


class _Sha256Hex(Func):
    """PostgreSQL's built-in sha256 of a text column's UTF-8 bytes, as lower-case hex (the
    hash `JsonArtefact.sha256` registers; Django's SHA256 function needs pgcrypto)."""

    template = "ENCODE(SHA256(CONVERT_TO(%(expressions)s, 'UTF8')), 'hex')"
    output_field = CharField()


def scoring_versions(versions):
    """A ModelVersion queryset as scoring reads it: reports deferred and, on PostgreSQL, the
    artefact too, its sha256 computed by the database instead (`artefact_digest`)."""
    if connection.vendor != "postgresql":
        return versions.defer(*(f for f in SCORING_DEFERRED if f != "artefact"))
    return versions.defer(*SCORING_DEFERRED).annotate(artefact_digest=_Sha256Hex("artefact"))


def model_of(version: ModelVersion):
    """The parsed model, once per process, keyed by kind and registered sha256. The artefact
    is parsed and its hash checked by `from_json` on first use (a version read with the
    artefact deferred fetches it then); a version read by `scoring_versions` carries the
    database's hash of the artefact as it is now, checked on every use, so an artefact edited
    after it was registered is refused even when its model is cached."""
    digest = getattr(version, "artefact_digest", None)
    if digest is None and "artefact" not in version.get_deferred_fields():
        digest = hashlib.sha256(version.artefact.encode()).hexdigest()
    if digest is not None and digest != version.artefact_sha256:
        raise ArtefactError(f"artefact hash {digest} does not match the registered "
                            f"{version.artefact_sha256}: it was altered")
    key = (version.kind, version.artefact_sha256)
    model = _MODELS.get(key)
    if model is None:
        model = MODEL_CLASSES[version.kind].from_json(version.artefact,
                                                      expected_sha256=version.artefact_sha256)
        if len(_MODELS) >= _MODELS_MAX:
            _MODELS.clear()
        _MODELS[key] = model
    return model


def champion_get(*, for_scoring: bool = False) -> ModelVersion | None:
    versions = ModelVersion.objects.filter(state=ModelVersionState.CHAMPION)
    if for_scoring:
        versions = scoring_versions(versions)
    return versions.first()


def default_model_document() -> dict:
    return json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))


def default_model_install() -> ModelVersion:
    """Register the shipped default model and make it champion (no champion exists yet).

    The system installs it, so there is no four-eyes step; the audit event says so, and a bank
    replaces it through the ordinary promotion of its own model.
    """
    document = default_model_document()
    with transaction.atomic():
        existing = ModelVersion.objects.select_for_update(no_key=True).filter(
            version=document["version"]).first()
        if existing is None:
            model = MODEL_CLASSES[document["kind"]].from_json(
                document["artefact"], expected_sha256=document["artefact_sha256"])
            existing = ModelVersion.objects.create(
                version=document["version"], kind=document["kind"],
                artefact=document["artefact"], artefact_sha256=document["artefact_sha256"],
                training_data_sha256=document["training_data_sha256"],
                target=document["target"], features=list(model.features),
                parameters=document["parameters"], metrics=document["metrics"],
                training_profile=document["training_profile"])
        if existing.state == ModelVersionState.DRAFT and champion_get() is None:
            existing.install_default(at=timezone.now())
            existing.save()
            audit_record(action="model.installed_default", actor=None, subject=existing,
                         payload={"version": existing.version,
                                  "artefact_sha256": existing.artefact_sha256,
                                  "note": "synthetic training data; replace before real use"})
    return existing


def champion_ensure(*, for_scoring: bool = False) -> ModelVersion:
    """The champion, installing the shipped default when there is none (`for_scoring`: its
    reports and artefact deferred, see `SCORING_DEFERRED`)."""
    champion = champion_get(for_scoring=for_scoring)
    if champion is not None:
        return champion
    try:
        with transaction.atomic():
            default_model_install()
    except IntegrityError:  # another worker installed it at the same moment
        logger.info("default model installed concurrently")
    champion = champion_get()
    if champion is None:
        raise RuntimeError("no champion model and the default could not be installed")
    return champion


def decision_policies_in_force(on=None):
    """The versions in force on a day (default today), the one that applies first: never a
    draft. A queryset, so the scoring worker reads the id of the first with the application
    (`decision_policy_cached`)."""
    on = on or timezone.localdate()
    return version_in_force(DecisionPolicy.objects.all(), on=on) \
        .order_by("-effective_from", "-version")


def decision_policy_in_force(on=None) -> DecisionPolicy | None:
    """The version in force on a day (default today): never a draft."""
    return decision_policies_in_force(on).first()


# Published decision policies by id: what scoring reads of one (version, document) never
# changes once it is published (a change is a new version, and only drafts are edited), so the
# worker reads only which id is in force (one subquery of a read it makes anyway) and a publish
# is seen on the next score.
_POLICIES: dict[int, DecisionPolicy] = {}
_POLICIES_MAX = 16


def decision_policy_cached(policy_id: int | None) -> DecisionPolicy:
    """The decision policy with this id (the one in force, read by the caller), from the
    process's cache of published versions; the seeding `decision_policy_ensure` when none is
    in force."""
    policy = _POLICIES.get(policy_id) if policy_id is not None else None
    if policy is None:
        policy = (DecisionPolicy.objects.get(pk=policy_id) if policy_id is not None
                  else decision_policy_ensure())
        if policy.state != PolicyVersionState.DRAFT:
            if len(_POLICIES) >= _POLICIES_MAX:
                _POLICIES.clear()
            _POLICIES[policy.pk] = policy
    return policy


def _forget_policies(**kwargs) -> None:
    """Any save or delete of a decision policy in this process empties the cache: nothing
    published is edited, but a row's id can come back with other contents after a rollback
    (SQLite reuses ids; the test suite rolls back every test)."""
    _POLICIES.clear()


post_save.connect(_forget_policies, sender=DecisionPolicy, dispatch_uid="scoring_policy_cache")
post_delete.connect(_forget_policies, sender=DecisionPolicy,
                    dispatch_uid="scoring_policy_cache_delete")


def decision_policy_ensure() -> DecisionPolicy:
    """The policy in force, seeding version 1 with the [G] defaults on a fresh install."""
    policy = decision_policy_in_force()
    if policy is not None:
        return policy
    with transaction.atomic():
        policy, created = DecisionPolicy.objects.get_or_create(
            version=1, defaults={"document": validate_policy(DEFAULT_POLICY),
                                 "effective_from": seeded_policy_effective_from(),
                                 "source_citation": "Credence design defaults (domain reference "
                                                    "§7.2, §7.3) [G]"})
        if created:
            # The system's own seed is in force as shipped (no second person exists yet):
            # the shared publish with actor None, which skips only the four-eyes check.
            audit_record(action="decision_policy.seeded", actor=None, subject=policy,
                         payload={"version": policy.version})
            policy = version_publish(model=DecisionPolicy, pk=policy.pk, actor=None,
                                     effective_from=policy.effective_from)
    return policy


def _may_draft(actor) -> bool:
    from apps.accounts.roles import Role
    from apps.scoring.permissions import may_manage_models

    return may_manage_models(actor) or bool(
        actor is not None and actor.is_authenticated and actor.has_role(Role.POLICY_OFFICER))


def decision_policy_create(*, document: dict, effective_from, actor, source_citation: str = "",
                           evidence: str = "G", approved_by: str = "") -> DecisionPolicy:
    """A draft of a new version of the decision policy (validated first; the previous ones
    stay). It is not in force until someone else publishes it (`decision_policy_publish`)."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from apps.scoring.policy import PolicyError

    if not _may_draft(actor):
        raise PermissionDenied
    try:
        validate_policy(document)
    except PolicyError as exc:
        raise ValidationError({"document": str(exc)}) from None
    with transaction.atomic():
        number = version_next_number(DecisionPolicy.objects.select_for_update(no_key=True))
        policy = DecisionPolicy.objects.create(
            version=number, document=document, effective_from=effective_from,
            source_citation=source_citation, evidence=evidence, approved_by=approved_by,
            created_by=actor)
        audit_record(action="decision_policy.created", actor=actor, subject=policy,
                     payload={"version": policy.version,
                              "effective_from": effective_from.isoformat()})
    return policy


def decision_policy_publish(*, policy_id: int, actor, effective_from=None) -> DecisionPolicy:
    """Put a drafted version in force, by someone other than its drafter holding the publish
    permission (four-eyes, §6.4); the version in force before it retires that day.

    The start is `effective_from`, else the draft's own date, moved to today when that has
    passed: a policy is never put in force in the past (what earlier scores used stays true).
    Lock, permission, state, supersede and audit: the shared `version_publish`.
    """
    if effective_from is None:
        drafted = DecisionPolicy.objects.values_list("effective_from", flat=True).get(
            pk=policy_id)
        effective_from = max(drafted, timezone.localdate())
    return version_publish(model=DecisionPolicy, pk=policy_id, actor=actor,
                           effective_from=effective_from,
                           payload=lambda p: {"drafted_by": p.created_by_id})


def decision_policy_retire(*, policy_id: int, actor, effective_to=None,
                           reason: str = "") -> DecisionPolicy:
    """Withdraw the version in force without a successor (scores keep pointing at it)."""
    return version_retire(model=DecisionPolicy, pk=policy_id, actor=actor,
                          effective_to=effective_to, reason=reason)


def decision_policy_draft_next(*, actor) -> DecisionPolicy:
    """The next version as a copy of the newest one, starting today, to be edited and
    published four-eyes (the policy workbench, issue 17)."""
    latest = DecisionPolicy.objects.order_by("-version").first() or decision_policy_ensure()
    return decision_policy_create(document=latest.document, actor=actor,
                                  effective_from=timezone.localdate(),
                                  source_citation=latest.source_citation,
                                  evidence=latest.evidence)


def decision_policy_save(*, policy_id: int, document, actor) -> DecisionPolicy:
    """Replace a draft's document, validated whole first (a refusal leaves it as it was)."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from apps.scoring.policy import PolicyError

    if not _may_draft(actor):
        raise PermissionDenied
    try:
        validate_policy(document)
    except PolicyError as exc:
        raise ValidationError({"document": str(exc)}) from None
    with transaction.atomic():
        policy = DecisionPolicy.objects.select_for_update(no_key=True).get(pk=policy_id)
        version_require_draft(policy)
        before = policy.document
        policy.document = document
        policy.save()
        audit_record(action="decision_policy.changed", actor=actor, subject=policy,
                     payload={"version": policy.version,
                              "changed": sorted(k for k in set(before) | set(document)
                                                if before.get(k) != document.get(k))})
    return policy
