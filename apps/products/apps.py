from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductsConfig(AppConfig):
    name = "apps.products"
    verbose_name = _("Credit products")

    def ready(self) -> None:
        from apps.audit.registry import register_actions

        register_actions({
            "product.created": _("Credit product created"),
            "product_version.created": _("Product version drafted"),
            "product_version.published": _("Product version published"),
            "product_version.retired": _("Product version retired"),
            "product_version.copied": _("Product version drafted from the previous one"),
            "product_version.changed": _("Product version draft changed"),
            "entry_condition.changed": _("Entry condition changed"),
            "entry_condition.added": _("Entry condition added"),
            "entry_condition.removed": _("Entry condition removed"),
        })
