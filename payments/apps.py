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

        for hooks, hook in (
            (subsidies_services.AFTER_ISSUE, notice.open_on_issue),
            (subsidies_services.BEFORE_PAYMENT, notice.payment_refusal),
        ):
            if hook not in hooks:
                hooks.append(hook)
