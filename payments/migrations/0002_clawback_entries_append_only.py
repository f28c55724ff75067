"""Clawback entries are append-only in the database too, as the subsidies ledger is (its
0003): on PostgreSQL a trigger refuses UPDATE and DELETE from any client, raw SQL included.
A payment's bank reference, once recorded, cannot be changed or the payment deleted either.
SQLite (the embedded demo) relies on the model layer.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION payments_clawbackentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'payments_clawbackentry is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER payments_clawbackentry_append_only
    BEFORE UPDATE OR DELETE ON payments_clawbackentry
    FOR EACH ROW EXECUTE FUNCTION payments_clawbackentry_append_only();

CREATE OR REPLACE FUNCTION payments_payment_settled() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.bank_reference <> '' THEN
            RAISE EXCEPTION 'payment % is paid: it cannot be deleted', OLD.id;
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.bank_reference <> '' AND to_jsonb(NEW) IS DISTINCT FROM to_jsonb(OLD) THEN
        RAISE EXCEPTION 'payment % is paid: it cannot change', OLD.id;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER payments_payment_settled
    BEFORE UPDATE OR DELETE ON payments_payment
    FOR EACH ROW EXECUTE FUNCTION payments_payment_settled();
"""

DROP = """
DROP TRIGGER IF EXISTS payments_clawbackentry_append_only ON payments_clawbackentry;
DROP FUNCTION IF EXISTS payments_clawbackentry_append_only();
DROP TRIGGER IF EXISTS payments_payment_settled ON payments_payment;
DROP FUNCTION IF EXISTS payments_payment_settled();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)  # the % in RAISE is not a placeholder


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_after_the_statement")]

    operations = [migrations.RunPython(create, drop)]
