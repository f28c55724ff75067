from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        # Subsidies issue and pay statements; this app, above it, opens the public notice
        # on issue and refuses a payment while it runs (subsidies never imports payments).
        # Models are loaded only once the registry is ready, hence imports here.
        from subsidies import services as subsidies_services  # noqa: PLC0415

        from . import notice  # noqa: PLC0415

        if notice.open_on_issue not in subsidies_services.AFTER_ISSUE:
            subsidies_services.AFTER_ISSUE.append(notice.open_on_issue)
        if notice.payment_refusal not in subsidies_services.BEFORE_PAYMENT:
            subsidies_services.BEFORE_PAYMENT.append(notice.payment_refusal)
