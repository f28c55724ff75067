from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class YangquanAvConfig(AppConfig):
    name = "yangquan_av"
    verbose_name = _("Audit trail")
