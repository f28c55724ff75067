"""Issued and paid statements and their drill-down lines are frozen in the database too:
on PostgreSQL triggers refuse, from any client and raw SQL included, any change to an
issued or paid statement but its payment (issued → paid, with who and when), any DELETE of
one, and any INSERT, UPDATE or DELETE of its lines. SQLite (the embedded demo) relies on
the model layer.

The lines' trigger runs once per statement with the affected rows as a transition table:
approving a statement inserts its lines (a year's can be a million) in one statement, and
a row-by-row check would cost a lookup per line. TRUNCATE stays with the table owner, as
for the ledger (0003): test databases are emptied with it.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION subsidies_statement_issued_frozen() RETURNS trigger AS $$
BEGIN
    IF OLD.status NOT IN ('issued', 'paid') THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'statement % is %: it cannot be deleted', OLD.id, OLD.status;
    END IF;
    -- Every column but the payment's is as it was; the payment's change only with issued → paid.
    IF (to_jsonb(NEW) - 'status' - 'paid_at' - 'paid_by_id')
            IS DISTINCT FROM (to_jsonb(OLD) - 'status' - 'paid_at' - 'paid_by_id')
        OR (ROW(NEW.status, NEW.paid_at, NEW.paid_by_id)
                IS DISTINCT FROM ROW(OLD.status, OLD.paid_at, OLD.paid_by_id)
            AND NOT (OLD.status = 'issued' AND NEW.status = 'paid')) THEN
        RAISE EXCEPTION 'statement % is %: only its payment may be recorded (UPDATE refused)',
            OLD.id, OLD.status;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER subsidies_statement_issued_frozen
    BEFORE UPDATE OR DELETE ON subsidies_statement
    FOR EACH ROW EXECUTE FUNCTION subsidies_statement_issued_frozen();

CREATE OR REPLACE FUNCTION subsidies_line_issued_frozen() RETURNS trigger AS $$
DECLARE
    frozen bigint;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT s.id INTO frozen FROM old_lines l JOIN subsidies_statement s ON s.id = l.statement_id
            WHERE s.status IN ('issued', 'paid') LIMIT 1;
    END IF;
    IF frozen IS NULL AND TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT s.id INTO frozen FROM new_lines l JOIN subsidies_statement s ON s.id = l.statement_id
            WHERE s.status IN ('issued', 'paid') LIMIT 1;
    END IF;
    IF frozen IS NOT NULL THEN
        RAISE EXCEPTION 'statement % is issued: its lines are frozen (% refused)', frozen, TG_OP;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER subsidies_line_insert_issued_frozen
    AFTER INSERT ON subsidies_statementline REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION subsidies_line_issued_frozen();
CREATE TRIGGER subsidies_line_update_issued_frozen
    AFTER UPDATE ON subsidies_statementline
    REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION subsidies_line_issued_frozen();
CREATE TRIGGER subsidies_line_delete_issued_frozen
    AFTER DELETE ON subsidies_statementline REFERENCING OLD TABLE AS old_lines
    FOR EACH STATEMENT EXECUTE FUNCTION subsidies_line_issued_frozen();
"""

DROP = """
DROP TRIGGER IF EXISTS subsidies_line_insert_issued_frozen ON subsidies_statementline;
DROP TRIGGER IF EXISTS subsidies_line_update_issued_frozen ON subsidies_statementline;
DROP TRIGGER IF EXISTS subsidies_line_delete_issued_frozen ON subsidies_statementline;
DROP FUNCTION IF EXISTS subsidies_line_issued_frozen();
DROP TRIGGER IF EXISTS subsidies_statement_issued_frozen ON subsidies_statement;
DROP FUNCTION IF EXISTS subsidies_statement_issued_frozen();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)  # the % in RAISE are not placeholders


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0005_draft_lines_read_live")]

    operations = [migrations.RunPython(create, drop)]
