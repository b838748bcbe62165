"""The bigram text index of ``civicgrid.cases.search``: FTS5 with triggers on SQLite, a GIN
expression index on PostgreSQL. Existing cases are indexed here.

``cg_bigrams`` keeps repeated bigrams: GIN drops duplicate keys itself, and sorting them out in
the function doubled its cost (28 → 14 µs a case; the index build of a million cases is mostly
this function).
"""

from django.db import migrations

PG_FUNCTION = """
CREATE FUNCTION cg_bigrams(t text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT ARRAY(SELECT substr(t, i, 2) FROM generate_series(1, length(t) - 1) AS i)
$$
"""
PG_INDEX = (
    "CREATE INDEX case_text ON cases_case USING gin "
    "((cg_bigrams(lower(title || ' ' || description || ' ' || address))))"
)
TERMS = "cg_bigrams({0}.title, {0}.description, {0}.address)"
SQLITE = [
    "CREATE VIRTUAL TABLE cases_case_text USING fts5(terms, content='', tokenize='ascii', detail='none')",
    "CREATE TRIGGER case_text_insert AFTER INSERT ON cases_case BEGIN "
    f"INSERT INTO cases_case_text(rowid, terms) VALUES (new.id, {TERMS.format('new')}); END",
    "CREATE TRIGGER case_text_update AFTER UPDATE OF title, description, address ON cases_case BEGIN "
    "INSERT INTO cases_case_text(cases_case_text, rowid, terms) "
    f"VALUES ('delete', old.id, {TERMS.format('old')}); "
    f"INSERT INTO cases_case_text(rowid, terms) VALUES (new.id, {TERMS.format('new')}); END",
    "CREATE TRIGGER case_text_delete AFTER DELETE ON cases_case BEGIN "
    "INSERT INTO cases_case_text(cases_case_text, rowid, terms) "
    f"VALUES ('delete', old.id, {TERMS.format('old')}); END",
    f"INSERT INTO cases_case_text(rowid, terms) SELECT id, {TERMS.format('cases_case')} FROM cases_case",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION)
        schema_editor.execute(PG_INDEX)
    elif vendor == "sqlite":
        for sql in SQLITE:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS case_text")
        schema_editor.execute("DROP FUNCTION IF EXISTS cg_bigrams(text)")
    elif vendor == "sqlite":
        for name in ("case_text_insert", "case_text_update", "case_text_delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        schema_editor.execute("DROP TABLE IF EXISTS cases_case_text")


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_list_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
