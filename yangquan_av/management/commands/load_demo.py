"""`manage.py load_demo`: a small, realistic Yangquan data set for trying the app."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from operators import demo as operators_demo
from operators.models import User
from routes import demo as routes_demo
from trips import demo as trips_demo


class Command(BaseCommand):
    help = "Load demo companies, vehicles and one account per role (once), then list the accounts."

    def handle(self, *args: Any, **options: Any) -> None:
        if User.objects.filter(username="bureau").exists():
            self.stdout.write("Demo data already loaded.")
        else:
            with transaction.atomic():
                operators_demo.load()
                routes_demo.load()
                trips_demo.load()
        self.stdout.write(f"Demo accounts (password for all: {operators_demo.DEMO_PASSWORD}):")
        for user in User.objects.select_related("operator").order_by("id"):
            company = f" · {user.operator.name}" if user.operator else ""
            self.stdout.write(f"  {user.username:<10} {user.role}{company}")
