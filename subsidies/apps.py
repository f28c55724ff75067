from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubsidiesConfig(AppConfig):
    name = "subsidies"
    verbose_name = _("Subsidies")

    def ready(self) -> None:
        # A trip opened from a statement leads back to it (core.web.register_origin): trips
        # may not import subsidies, so subsidies tells core how to draw its crumbs.
        from core.web import register_origin  # noqa: PLC0415 - once apps are ready

        from .views import statement_origin_crumbs  # noqa: PLC0415

        register_origin("statement", statement_origin_crumbs)
