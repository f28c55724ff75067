"""Data: the first policy version, from policy article 8 (DESIGN.md §1).

The window 2022-01-01..2026-12-31 stands in for "five years from the issue date": set
the real dates (issue date + 5 years) through the admin API once they are known.
"""

import datetime as dt
from decimal import Decimal

from django.db import migrations


def seed(apps, schema_editor):
    SubsidyPolicy = apps.get_model("subsidies", "SubsidyPolicy")
    if SubsidyPolicy.objects.exists():
        return
    SubsidyPolicy.objects.create(
        version=1,
        name="阳泉市智能网联汽车示范应用资金补贴（第八条）",
        reference="政策第八条",
        valid_from=dt.date(2022, 1, 1),
        valid_to=dt.date(2026, 12, 31),
        max_rate_yuan_per_km=Decimal("3.00"),
        annual_cap_yuan=Decimal("300000.00"),
        max_paid_years=3,
        rate_a_yuan_per_km=Decimal("3.00"),
        rate_b_yuan_per_km=Decimal("2.00"),
        rate_c_yuan_per_km=Decimal("1.00"),
        rate_d_yuan_per_km=Decimal("0.00"),
    )


def unseed(apps, schema_editor):
    SubsidyPolicy = apps.get_model("subsidies", "SubsidyPolicy")
    SubsidyPolicy.objects.filter(version=1, statements__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
