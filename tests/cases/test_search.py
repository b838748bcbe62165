"""Free-text case search: the bigram index narrows, the substring test decides (both databases)."""

from __future__ import annotations

import pytest
from django.db import connection

from civicgrid.cases import search
from civicgrid.cases.models import Case, CaseClass
from civicgrid.cases.selectors import CaseFilter, case_count, case_list
from civicgrid.cases.taxonomy import major_class_moved

from .conftest import actor, report

pytestmark = pytest.mark.django_db


def _found(text: str) -> set[str]:
    return set(
        case_list(scope=actor("operator").scope, filters=CaseFilter(text=text)).values_list(
            "title", flat=True
        )
    )


def test_bigrams_are_runs_of_letters_and_digits_lower_cased():
    assert search.bigrams("垃圾暴露", "PM2.5 超标") == sorted({"垃圾", "圾暴", "暴露", "pm", "m2", "超标"})
    assert search.bigrams("路", "a b", "") == []


@pytest.fixture
def cases(cases_demo):
    report("operator", channel="phone", title="小区门口垃圾暴露", description="塑料袋堆在路边")
    report("operator", channel="phone", title="路灯不亮", description="LED 灯杆倾斜", address="龙蟠路 12 号")
    report("operator", channel="phone", title="噪音扰民", description="夜间施工")


def test_two_characters_three_and_more_ascii_and_address(cases):
    assert _found("暴露") == {"小区门口垃圾暴露"}
    assert _found("垃圾暴露") == {"小区门口垃圾暴露"}
    assert _found("led") == {"路灯不亮"}  # case-insensitive
    assert _found("龙蟠路") == {"路灯不亮"}  # the address
    assert _found("塑料袋") == {"小区门口垃圾暴露"}  # the description


def test_bigrams_present_but_not_adjacent_do_not_match(cases):
    # 门口 and 垃圾 are both in the first title, but not "口垃圾门" as a substring.
    assert _found("垃圾门口") == set()
    assert _found("没有这个词") == set()


def test_one_character_falls_back_to_the_substring_scan(cases):
    assert _found("灯") == {"路灯不亮"}
    assert _found("路") == {"路灯不亮", "小区门口垃圾暴露"}


def test_a_number_finds_only_that_case(cases):
    case = Case.objects.get(title="噪音扰民")
    assert _found(case.number) == {"噪音扰民"}


def test_changed_text_is_found_by_its_new_words(cases):
    Case.objects.filter(title="噪音扰民").update(title="广场舞噪音")
    assert _found("广场舞") == {"广场舞噪音"}
    assert _found("扰民") == set()


def test_the_index_is_what_the_database_uses(cases):
    query = case_list(scope=actor("operator").scope, filters=CaseFilter(text="暴露"))
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET enable_seqscan = off")  # three rows: force the planner to show its hand
            cursor.execute("EXPLAIN " + sql, params)
            plan = " ".join(r[0] for r in cursor.fetchall())
            assert "case_text" in plan
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(r[-1]) for r in cursor.fetchall())
            assert "cases_case_text" in plan and "VIRTUAL TABLE" in plan


def test_major_class_follows_the_case_class_and_a_moved_minor(cases_demo):
    minor = CaseClass.objects.get(code="E0101")
    case = report("operator", channel="phone", title="暴露垃圾", case_class="E0101")
    assert case.major_class_id == minor.parent_id
    found = case_list(scope=actor("operator").scope, filters=CaseFilter(case_class=minor.parent.code))
    assert case in found
    other = CaseClass.objects.filter(parent__isnull=True).exclude(pk=minor.parent_id).first()
    minor.parent = other
    minor.save()
    major_class_moved(minor)
    case.refresh_from_db()
    assert case.major_class_id == other.pk
    assert case in case_list(scope=actor("operator").scope, filters=CaseFilter(case_class=other.code))


def test_a_common_word_pages_newest_first_without_the_index_and_counts_with_it(cases, monkeypatch):
    monkeypatch.setattr(search, "COMMON", 0)  # every word counts as common
    scope = actor("operator").scope
    assert _found("暴露") == {"小区门口垃圾暴露"}
    page_sql = str(case_list(scope=scope, filters=CaseFilter(text="暴露")).query)
    count_sql = str(case_list(scope=scope, filters=CaseFilter(text="暴露"), counting=True).query)
    assert not _uses_index(page_sql) and _uses_index(count_sql)
    assert case_count(scope=scope, filters=CaseFilter(text="暴露")) == 1


def _uses_index(sql: str) -> bool:
    return "cg_bigrams" in sql or search.SQLITE_TABLE in sql
