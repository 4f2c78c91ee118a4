"""Post-loan monitoring (贷后管理): five-category classification, inspections, early-warning
signals and actions (domain reference §4 and §5). Every threshold is policy data."""
from apps.monitoring.inspection_models import *  # noqa: F401,F403
