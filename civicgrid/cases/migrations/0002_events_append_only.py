"""The database itself refuses to rewrite a case's timeline (not only the model's save()).

SQLite refuses UPDATE; PostgreSQL refuses UPDATE and DELETE. (SQLite keeps DELETE open because
the test runner empties tables with DELETE; PostgreSQL's TRUNCATE does not fire row triggers.)
"""

from django.db import migrations


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            "CREATE TRIGGER case_event_append_only BEFORE UPDATE ON cases_caseevent "
            "BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END"
        )
    elif vendor == "postgresql":
        schema_editor.execute(
            "CREATE FUNCTION case_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'case events are append-only'; END $$"
        )
        schema_editor.execute(
            "CREATE TRIGGER case_event_append_only BEFORE UPDATE OR DELETE ON cases_caseevent "
            "FOR EACH ROW EXECUTE FUNCTION case_event_append_only()"
        )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS case_event_append_only")
    elif vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS case_event_append_only ON cases_caseevent")
        schema_editor.execute("DROP FUNCTION IF EXISTS case_event_append_only()")


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
