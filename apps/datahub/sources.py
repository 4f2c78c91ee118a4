"""Where each source's service is: `settings.DATAHUB_SOURCE_URLS[source]`, else the
environment variable `DATAHUB_<SOURCE>_URL` (e.g. DATAHUB_COURT_URL). Tests and the demo point
them at the local test servers (apps/datahub/testservers)."""

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def source_url(source: str) -> str:
    url = (getattr(settings, "DATAHUB_SOURCE_URLS", None) or {}).get(source) \
        or os.environ.get(f"DATAHUB_{source.upper()}_URL", "")
    if not url:
        raise ImproperlyConfigured(f"No URL for data source {source!r}: set "
                                   f"DATAHUB_{source.upper()}_URL")
    return url
