"""The ledger is append-only in the database too: on PostgreSQL a trigger refuses UPDATE
and DELETE from any client. SQLite (the embedded demo) relies on the model layer.

TRUNCATE is left to the table owner (test databases are emptied with it between tests).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION subsidies_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'subsidies_ledgerentry is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER subsidies_ledger_append_only
    BEFORE UPDATE OR DELETE ON subsidies_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION subsidies_ledger_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS subsidies_ledger_append_only ON subsidies_ledgerentry;
DROP FUNCTION IF EXISTS subsidies_ledger_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)  # the % in RAISE is not a placeholder


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0002_seed_policy")]

    operations = [migrations.RunPython(create, drop)]
