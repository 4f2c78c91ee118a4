from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.accounts.roles import Role

# (label, url name, roles that see it; empty = everyone signed in, permission needed or None)
_NAV = [
    (_("Home"), "web:home", (), None),
    (_("System status"), "web:system-status", (Role.ADMIN,), None),
    (_("API documentation"), "api-docs", (), None),
    (_("Administration"), "admin:index", (Role.ADMIN,), None),
]


def navigation(request) -> dict:
    """The menu for the signed-in user's roles; the views check permissions again."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, url_name, roles, _perm in _NAV:
        if roles and not (user.is_superuser or user.has_role(*roles)):
            continue
        url = reverse(url_name)
        # Exact match only: every URL starts with the home page's "/".
        items.append({"label": label, "url": url, "current": request.path == url})
    return {"nav_items": items}
