"""Free-text search over cases that stays fast at a million rows.

``LIKE '%暴露%'`` cannot use a B-tree: a word that matches nothing read the whole table (1.3–1.7 s
at 1,000,000 cases). Chinese has no spaces and most searches are two characters, which trigram
indexes (pg_trgm, FTS5's trigram tokenizer) cannot serve either. So each case is indexed by the
character **bigrams** of its title, description and address, and a search first asks the index for
the cases holding every bigram of the query, then keeps those whose text really contains it (the
same ``icontains`` test as before, so the answer is exactly the substring match):

- PostgreSQL: a GIN index on ``cg_bigrams(lower(title || ' ' || description || ' ' || address))``,
  an immutable SQL function giving the text's bigrams as an array; the query is ``@>`` (contains).
- SQLite: a contentless FTS5 table ``cases_case_text`` (rowid = case id) filled by triggers that
  call ``cg_bigrams``, a function each connection registers (``register_sqlite``).

A query with no bigram of letters or digits (one character, say) falls back to the plain scan.
Migration ``0004_case_text`` makes both.
"""

from __future__ import annotations

import json
import re

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

NUMBER = re.compile(r"\d{6}-\d{8}-\d{1,9}")
TEXT_COLUMNS = ("title", "description", "address")
SQLITE_TABLE = "cases_case_text"


def bigrams(*texts: str) -> list[str]:
    """The distinct two-character runs of letters or digits (lower-cased), sorted."""
    found = set()
    for text in texts:
        low = (text or "").lower()
        found.update(low[i : i + 2] for i in range(len(low) - 1) if low[i].isalnum() and low[i + 1].isalnum())
    return sorted(found)


def _sqlite_bigrams(*texts: str) -> str:
    return " ".join(bigrams(*texts))


def register_sqlite(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: SQLite connections get ``cg_bigrams`` for the triggers."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("cg_bigrams", -1, _sqlite_bigrams, deterministic=True)


# A word the index finds in more than this many cases is "common": the page is then quicker read
# newest-first with the substring test (50 matches come soon) than by sorting every match.
COMMON = 2_000


def text_filter(query: QuerySet, text: str, *, ordered: bool = True) -> QuerySet:
    """Cases whose number is ``text``, or whose title, description or address contains it.

    ``ordered``: for a page (newest first); otherwise for a count. A count always goes through
    the index; a page does unless the word is common (see ``COMMON``)."""
    text = text.strip()[:100]
    if NUMBER.fullmatch(text):
        return query.filter(number=text)
    contains = Q(title__icontains=text) | Q(description__icontains=text) | Q(address__icontains=text)
    terms = bigrams(text)
    indexed = _indexed(terms) if terms else None
    if indexed is None or (ordered and _matches(terms, indexed) > COMMON):
        return query.filter(contains)
    if terms == [text.lower()]:
        # The query is one bigram: holding it is containing it (bigrams never span two fields).
        return query.filter(indexed)
    return query.filter(indexed).filter(contains)


def _indexed(terms: list[str]) -> RawSQL | None:
    """The condition "holds every bigram of ``terms``", as the database's index answers it."""
    if connection.vendor == "postgresql":
        return RawSQL(
            'cg_bigrams(lower("cases_case"."title" || \' \' || "cases_case"."description" || \' \' '
            '|| "cases_case"."address")) @> %s::text[]',
            (terms,),
            output_field=BooleanField(),
        )
    if connection.vendor == "sqlite":
        return RawSQL(
            f'"cases_case"."id" IN (SELECT rowid FROM {SQLITE_TABLE} WHERE {SQLITE_TABLE} MATCH %s)',
            (_fts_match(terms),),
            output_field=BooleanField(),
        )
    return None


def _fts_match(terms: list[str]) -> str:
    return " AND ".join(f'"{t}"' for t in terms)


def _matches(terms: list[str], indexed: RawSQL) -> int:
    """How many cases the index finds (all scopes): counted up to ``COMMON + 1`` on SQLite, the
    planner's estimate on PostgreSQL (from the statistics ANALYZE keeps of the indexed bigrams;
    counting there means reading the rows, which cost a third of a common word's search)."""
    from civicgrid.cases.models import Case

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":  # straight from the FTS table, which stops at the limit
            cursor.execute(
                f"SELECT count(*) FROM (SELECT rowid FROM {SQLITE_TABLE} WHERE {SQLITE_TABLE} MATCH %s LIMIT %s)",
                [_fts_match(terms), COMMON + 1],
            )
            return cursor.fetchone()[0]
        sql, params = Case.objects.filter(indexed).order_by().values("id").query.sql_with_params()
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])
