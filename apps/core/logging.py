import logging

from apps.core.request_context import current_request_id


class RequestIdFilter(logging.Filter):
    """Stamp every record with the current request id ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id()
        record.request_id = str(request_id) if request_id else "-"
        return True
