"""The audit trail is append-only in the database too, on both vendors: triggers refuse
UPDATE and DELETE of an audit record from any client, raw SQL included, and on PostgreSQL
TRUNCATE as well (also when another table's TRUNCATE … CASCADE reaches it). INSERT is
untouched. The model layer (AppendOnlyModel) refuses the same in the application.

Only the table's owner (or a superuser) can lift them: DISABLE TRIGGER or DROP TRIGGER are
DDL, which the application never runs. The test suite's flush between transactional tests
does, on the test database only (tests/core/audit_guard.py).

SQLite drops a table's triggers with the table: a later migration that makes SQLite rebuild
this table must install them again (tests/core/test_audit_append_only.py checks they exist).
"""

from django.db import migrations

POSTGRESQL_CREATE = """
CREATE OR REPLACE FUNCTION yangquan_av_auditrecord_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'yangquan_av_auditrecord is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER yangquan_av_auditrecord_append_only
    BEFORE UPDATE OR DELETE ON yangquan_av_auditrecord
    FOR EACH ROW EXECUTE FUNCTION yangquan_av_auditrecord_append_only();
CREATE TRIGGER yangquan_av_auditrecord_no_truncate
    BEFORE TRUNCATE ON yangquan_av_auditrecord
    FOR EACH STATEMENT EXECUTE FUNCTION yangquan_av_auditrecord_append_only();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS yangquan_av_auditrecord_no_truncate ON yangquan_av_auditrecord;
DROP TRIGGER IF EXISTS yangquan_av_auditrecord_append_only ON yangquan_av_auditrecord;
DROP FUNCTION IF EXISTS yangquan_av_auditrecord_append_only();
"""

# SQLite runs one statement per execute(); it has no TRUNCATE (a DELETE without WHERE is one).
SQLITE_CREATE = [
    """
    CREATE TRIGGER yangquan_av_auditrecord_no_update
    BEFORE UPDATE ON yangquan_av_auditrecord
    BEGIN
        SELECT RAISE(ABORT, 'yangquan_av_auditrecord is append-only (UPDATE refused)');
    END
    """,
    """
    CREATE TRIGGER yangquan_av_auditrecord_no_delete
    BEFORE DELETE ON yangquan_av_auditrecord
    BEGIN
        SELECT RAISE(ABORT, 'yangquan_av_auditrecord is append-only (DELETE refused)');
    END
    """,
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS yangquan_av_auditrecord_no_update",
    "DROP TRIGGER IF EXISTS yangquan_av_auditrecord_no_delete",
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_CREATE, params=None)  # the % in RAISE is no placeholder
    elif vendor == "sqlite":
        for sql in SQLITE_CREATE:
            schema_editor.execute(sql, params=None)
    else:
        raise NotImplementedError(f"no append-only triggers for {vendor}")


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("yangquan_av", "0001_audit_record")]

    operations = [migrations.RunPython(create, drop)]
