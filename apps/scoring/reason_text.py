"""A score's reasons as a reader sees them: the characteristic's name in the reader's language,
the band the file fell into, and how many points it lost against that characteristic's best band.

Stored reasons keep the feature's code (so a past score can be re-explained whatever the
wording becomes); pages and the dossier show these rows instead of the raw dicts."""

from apps.scoring.features.spec import BY_NAME


def reason_rows(result) -> list[dict]:
    """Rows of `label`, `attribute` and `points_lost` (rounded, or None for the challenger's
    attributions, which are not points), most adverse first as stored; the code stays as
    `feature` for those who search by it."""
    rows = []
    for reason in result.reasons or []:
        if not isinstance(reason, dict):
            continue
        feature = BY_NAME.get(reason.get("feature"))
        shortfall = reason.get("shortfall")
        rows.append({**reason,
                     "label": feature.description if feature else reason.get("feature"),
                     "points_lost": round(shortfall) if isinstance(shortfall, (int, float))
                     else None})
    return rows
