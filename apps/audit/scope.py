"""Which application, enterprise and branch an audit event belongs to, found at write time.

Audit sits below every domain app, so it cannot ask them; it reads what the subject carries
(an `application_id` or `enterprise_id` attribute, a `branch_id`) and, for what is still
unknown, asks resolvers that apps above register from their `AppConfig.ready()`. A resolver
gets the application id and answers `(enterprise_id, branch_id)`; the oversight app registers
the one for applications.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model

_application_resolvers: list[Callable[[int], tuple[int | None, int | None] | None]] = []


@dataclass(frozen=True)
class Scope:
    application_id: int | None = None
    enterprise_id: int | None = None
    branch_id: int | None = None


def register_application_resolver(fn: Callable[[int], tuple[int | None, int | None] | None]):
    """Register `fn(application_id) -> (enterprise_id, branch_id) | None`; idempotent."""
    if fn not in _application_resolvers:
        _application_resolvers.append(fn)


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _via_parent(subject: Model) -> int | None:
    """The application of a subject one foreign key away from it (an approval step through its
    route, a check through its document, a re-verification through its investigation): issue
    16 found committee votes missing from their application's trail. Generic, so audit still
    imports no app; costs at most one query, only for subjects that carry no application."""
    for field in subject._meta.concrete_fields:
        if not field.many_to_one or field.related_model is None:
            continue
        if not any(f.name == "application" and f.many_to_one
                   for f in field.related_model._meta.concrete_fields):
            continue
        parent = getattr(subject, field.name, None)
        if parent is not None and getattr(parent, "application_id", None) is not None:
            return parent.application_id
    return None


def _from_subject(subject, payload: dict) -> Scope:
    if not isinstance(subject, Model):
        return Scope(application_id=_int_or_none(payload.get("application_id")))
    label = subject._meta.label_lower
    if label == "applications.application":
        return Scope(subject.pk, getattr(subject, "enterprise_id", None),
                     getattr(subject, "branch_id", None))
    if label == "parties.enterprise":
        return Scope(None, subject.pk, getattr(subject, "branch_id", None))
    application_id = getattr(subject, "application_id", None)
    if application_id is None:
        application_id = _int_or_none(payload.get("application_id"))
    if application_id is None:
        application_id = _via_parent(subject)
    enterprise_id, branch_id = getattr(subject, "enterprise_id", None), None
    # A related application already loaded (services lock with select_related) costs nothing.
    cached = getattr(subject, "_state", None) and subject._state.fields_cache.get("application")
    if cached is not None:
        enterprise_id = enterprise_id or cached.enterprise_id
        branch_id = cached.branch_id
    return Scope(_int_or_none(application_id), _int_or_none(enterprise_id), branch_id)


def resolve_scope(*, subject, payload: dict, branch_id: int | None,
                  application_id: int | None = None,
                  enterprise_id: int | None = None) -> Scope:
    """Explicit arguments win; then the subject; then the registered resolvers."""
    found = _from_subject(subject, payload)
    application_id = application_id if application_id is not None else found.application_id
    enterprise_id = enterprise_id if enterprise_id is not None else found.enterprise_id
    if branch_id is None:
        subject_branch = getattr(subject, "branch_id", None) if isinstance(subject, Model) else None
        branch_id = subject_branch if subject_branch is not None else found.branch_id
    if application_id is not None and (enterprise_id is None or branch_id is None):
        for resolver in _application_resolvers:
            answer = resolver(application_id)
            if answer:
                enterprise_id = enterprise_id if enterprise_id is not None else answer[0]
                branch_id = branch_id if branch_id is not None else answer[1]
                break
    return Scope(application_id, enterprise_id, branch_id)
