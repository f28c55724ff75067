from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    # The audit trail's tables were created under the project package's label: keeping the
    # label keeps the table names and the migration history, so no data moves.
    label = "yangquan_av"
    verbose_name = _("Audit trail")
