"""Limit/offset pages for plain APIViews: kept as an import path; the rule lives in
`apps.core.pagination` (one capped, strictly parsed paginator for every list)."""

from apps.core.pagination import page_parameters, paginate, paginated

PAGE_PARAMETERS = page_parameters()

__all__ = ["PAGE_PARAMETERS", "paginate", "paginated"]
