from apps.audit.selectors import chain_status_latest
from apps.oversight.access import is_auditor


def integrity_alert(request) -> dict:
    """The broken-chain banner, for auditors and administrators only (one indexed query)."""
    user = getattr(request, "user", None)
    if not is_auditor(user):
        return {}
    status = chain_status_latest()
    if status is None or status.ok:
        return {}
    return {"audit_chain_alert": status}
