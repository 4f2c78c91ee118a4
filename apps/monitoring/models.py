"""Post-loan monitoring (贷后管理): five-category classification, inspections, early-warning
signals and actions (domain reference §4 and §5). Every threshold is policy data."""
