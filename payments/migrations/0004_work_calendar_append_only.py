"""Entered holiday schedules are append-only in the database too: a notice period computed
on a schedule must compute the same way later, so on PostgreSQL a trigger refuses UPDATE
and DELETE from any client, raw SQL included. SQLite (the embedded demo) relies on the
model layer (core.models.AppendOnlyModel).
"""

from django.db import migrations

TABLES = ("payments_workcalendaryear", "payments_workcalendarday")

CREATE = """
CREATE OR REPLACE FUNCTION payments_work_calendar_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"""
CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION payments_work_calendar_append_only();
"""
    for table in TABLES
)

DROP = "".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};\n" for table in TABLES) + (
    "DROP FUNCTION IF EXISTS payments_work_calendar_append_only();\n"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)  # the % in RAISE is not a placeholder


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("payments", "0003_work_calendar")]

    operations = [migrations.RunPython(create, drop)]
