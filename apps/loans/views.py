"""Pages of the loan book (filled in below)."""


def register_sections() -> None:
    """Sections this app adds to the application page."""
