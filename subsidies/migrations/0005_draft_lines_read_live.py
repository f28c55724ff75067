"""Drafts no longer store their drill-down (it is read live from the trip days; approval
freezes it): the lines the computation used to snapshot for draft and void statements go.
Approved, issued and paid statements keep theirs."""

from django.db import migrations


def drop_draft_lines(apps, schema_editor):
    StatementLine = apps.get_model("subsidies", "StatementLine")
    StatementLine.objects.filter(statement__status__in=["draft", "void"]).delete()


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0004_statementline_per_day")]

    operations = [migrations.RunPython(drop_draft_lines, migrations.RunPython.noop)]
