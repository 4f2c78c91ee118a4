"""Stop reading an upload once it passes the largest size any document type accepts.

Django's own handlers would first spool the whole body to memory or a temporary file; this one
runs first and stops the parse at the cap (OWASP File Upload Cheat Sheet, "File Size Limits":
enforce the limit before the file is stored). The per-type limit is enforced again, exactly,
by `safety.spool`.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024


def max_upload_bytes() -> int:
    return getattr(settings, "DOCUMENTS_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)


class SizeCapUploadHandler(FileUploadHandler):
    """Counts bytes per file and stops the upload past the cap, marking the request so the view
    can say why the file is missing."""

    def __init__(self, request=None):
        super().__init__(request)
        self.cap = max_upload_bytes()

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.cap:
            self.request.documents_upload_too_large = True
            # connection_reset=False: Django reads and discards the rest, so the client still
            # gets our answer instead of a reset connection.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None
