"""Policy keys this app reads, and a reader that records which version each result used.

Every threshold, floor, day count and level below is a `PolicyValue` row (seeded by
`apps.monitoring.seed` with evidence tag and citation), never a constant here (§0.2).
Categories stored in policy are ranks (1 正常 … 5 损失, `states.CATEGORY_RANK`).
"""

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from rest_framework import status

from apps.core.exceptions import DomainError
from apps.investigations.policy import policy_values_in_force


class K:
    """Policy key names (strings only: the values live in the database)."""

    FLOOR_SPECIAL_MENTION_DPD_GT = "classification.floor.special_mention.dpd_gt"
    FLOOR_SUBSTANDARD_DPD_GT = "classification.floor.substandard.dpd_gt"
    FLOOR_DOUBTFUL_DPD_GT = "classification.floor.doubtful.dpd_gt"
    FLOOR_LOSS_DPD_GT = "classification.floor.loss.dpd_gt"
    CROSS_DEFAULT_SHARE_GT = "classification.cross_default.npa_share_gt"
    RESTRUCTURED_MONTHS = "classification.restructured.observation_months"
    RESTRUCTURED_FLOOR = "classification.restructured.floor_rank"
    SIGNAL_FLOOR_L2 = "classification.floor.signal_l2_rank"
    SIGNAL_FLOOR_L3 = "classification.floor.signal_l3_rank"
    UPGRADE_CLEAN_MONTHS = "classification.upgrade.clean_months"
    RUN_CHUNK_SIZE = "monitoring.run.chunk_size"
    RUN_CHUNK_STUCK_MINUTES = "monitoring.run.chunk_stuck_minutes"
    W01_L1 = "signal.w01.l1.dpd_gte"
    W01_L2 = "signal.w01.l2.dpd_gte"
    W01_L3 = "signal.w01.l3.dpd_gte"
    W03_MONTHS_DOWN = "signal.w03.months_down"
    W07_WINDOW = "signal.w07.window_months"
    W07_DROP = "signal.w07.drop_ratio_gt"
    W08_WINDOW = "signal.w08.window_months"
    W08_DROP = "signal.w08.drop_ratio_gt"
    W09_WINDOW = "signal.w09.window_months"
    W09_RATIO_LT = "signal.w09.inflow_ratio_lt"
    SCORE_DROP = "signal.score.drop_points_gte"
    NPL_BANK_RATIO = "npl.bank_ratio"
    NPL_TOLERANCE_PP = "npl.tolerance_over_bank"

    @classmethod
    def deadline(cls, level: int) -> str:
        return f"monitoring.action.deadline_days.l{level}"


class MissingPolicy(LookupError):
    """A rule needs a policy value that is not in force: the run stops visibly rather than
    guessing a number."""

    def __init__(self, key: str):
        super().__init__(_("Policy value %(key)s is not in force.") % {"key": key})
        self.key = key


class PolicyNotConfigured(DomainError):
    """A page or API figure needs a policy value that is not in force (HTTP 409): the
    credit-policy team must publish it; the figure is not guessed."""

    code = "policy_not_configured"
    status_code = status.HTTP_409_CONFLICT


class Policy:
    """The values in force on a day, loaded once; `used` maps each key read to its version."""

    def __init__(self, *, on: dt.date | None = None):
        self._rows = policy_values_in_force(on=on)
        self.used: dict[str, int] = {}

    def value(self, key: str) -> Decimal:
        row = self._rows.get(key)
        if row is None:
            raise MissingPolicy(key)
        self.used[key] = row.version
        return row.value

    def integer(self, key: str) -> int:
        return int(self.value(key))

    def versions(self, *keys: str) -> dict[str, int]:
        """Read `keys` (so they are recorded) and return their versions."""
        for key in keys:
            self.value(key)
        return {key: self.used[key] for key in keys}
