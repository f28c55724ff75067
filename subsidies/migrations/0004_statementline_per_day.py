"""Statement lines per trip and local day, written by one INSERT … SELECT without row-by-row
foreign-key checks (a million deferred checks dominated the computation).

Lines are snapshots the next computation rewrites for open statements; a per-month line
cannot become per-day lines, so this refuses to run if an issued statement has lines.
"""

import datetime as dt

import django.db.models.deletion
from django.db import migrations, models


def clear_lines(apps, schema_editor):
    StatementLine = apps.get_model("subsidies", "StatementLine")
    if StatementLine.objects.filter(statement__status__in=["issued", "paid"]).exists():
        raise RuntimeError("issued statements have per-month lines; convert them by hand")
    StatementLine.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("subsidies", "0003_ledger_append_only"),
        ("trips", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(clear_lines, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="statementline", name="statement_line_unique"),
        migrations.RemoveConstraint(
            model_name="statementline", name="statement_line_month_valid"
        ),
        migrations.RemoveField(model_name="statementline", name="vehicle"),
        migrations.RemoveField(model_name="statementline", name="month"),
        migrations.AddField(
            model_name="statementline",
            name="day",
            field=models.DateField(default=dt.date(2000, 1, 1), verbose_name="day (Asia/Shanghai)"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="statementline",
            name="statement",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lines",
                to="subsidies.statement",
                verbose_name="statement",
            ),
        ),
        migrations.AlterField(
            model_name="statementline",
            name="trip",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="trips.trip",
                verbose_name="trip",
            ),
        ),
        migrations.AlterModelOptions(
            name="statementline",
            options={
                "ordering": ["statement", "day", "trip"],
                "verbose_name": "statement line",
                "verbose_name_plural": "statement lines",
            },
        ),
        migrations.AddConstraint(
            model_name="statementline",
            constraint=models.UniqueConstraint(
                fields=("statement", "trip", "day"), name="statement_line_per_trip_day"
            ),
        ),
    ]
