"""Every rate and score against figures computed by hand (cn-grid-domain §1.6 and §2): empty
denominators give "no data", weights renormalise over the items with data, lower-is-better rates
count as 1 − rate, grades break at 90/75/60/40; and the periods and units a reader may ask for."""

from __future__ import annotations

from datetime import date

import pytest

from civicgrid.errors import DomainError
from civicgrid.insight.indicator_tables import period_parse, unit_parse
from civicgrid.insight.indicators import INDICATORS, RATES, grade, rates, score
from civicgrid.insight.models import InsightSettings, ScoreItem, ScoreKind, ScoreSet

# One unit's month, made up so that every rate comes out as a short decimal.
FIGURES = {
    "cases": 20,
    "worker_reports": 10,
    "worker_valid": 8,
    "registered": 16,
    "registered_on_time": 12,
    "dispatched": 10,
    "dispatched_ok": 9,
    "handled": 8,
    "handled_on_time": 6,
    "closed": 12,
    "closed_on_time": 10,
    "reworked": 2,
    "extended": 1,
    "open": 4,
    "overdue": 2,
    "overdue_handle": 1,
    "visited": 10,
    "contacted": 9,
    "resolved": 7,
    "satisfied": 5,
    "basic": 2,
    "close_minutes": 9000,
}
BY_HAND = {
    "on_time_registration": 12 / 16,  # 按时立案数 / 立案数
    "accurate_dispatch": 9 / 10,  # 准确派遣数 / 应派遣数
    "handling": 8 / 10,  # 处置数 / 应处置数
    "on_time_handling": 6 / 10,  # 按期处置数 / 应处置数
    "closure": 12 / 16,  # 结案数 / 应结案数
    "on_time_closure": 10 / 16,  # 按期结案数 / 应结案数
    "rework": 2 / 16,  # 返工数 / 应结案数
    "overdue_pending": 1 / 10,  # 超期待处置数 / 应处置数
    "extension": 1 / 10,  # 延期数 / 应处置数
    "valid_reports": 8 / 10,  # 有效上报数 / 上报数 (by grid workers)
    "response": 9 / 10,  # 已联系 / 有效回访
    "resolution": 7 / 10,  # 已解决 / 有效回访
    "satisfaction": (5 + 0.9 * 2) / 10,  # (满意 + 0.9 × 基本满意) / 有效回访
}
JINNIU = [
    ("handling", 30),
    ("on_time_handling", 20),
    ("rework", 20),
    ("overdue_pending", 20),
    ("extension", 10),
]
HOTLINE = [("response", 10), ("resolution", 50), ("satisfaction", 40)]


def test_it_computes_every_rate_as_by_hand():
    assert set(BY_HAND) == set(RATES)
    assert rates(FIGURES, 0.9) == pytest.approx(BY_HAND)


def test_a_rate_with_an_empty_denominator_is_no_data_not_zero():
    only_reports = dict.fromkeys(FIGURES, 0) | {"cases": 3}
    assert set(rates(only_reports, 0.9).values()) == {None}
    # No follow-ups: the three 12345 rates have no data, the case rates still count.
    unvisited = FIGURES | {"visited": 0, "contacted": 0, "resolved": 0, "satisfied": 0, "basic": 0}
    found = rates(unvisited, 0.9)
    assert found["response"] is found["resolution"] is found["satisfaction"] is None
    assert found["handling"] == pytest.approx(0.8)


def test_basically_satisfied_counts_at_the_configured_weight(idemo):
    assert rates(FIGURES, 0.5)["satisfaction"] == pytest.approx((5 + 0.5 * 2) / 10)
    assert rates(FIGURES, 0.0)["satisfaction"] == pytest.approx(0.5)
    assert rates(FIGURES)["satisfaction"] == pytest.approx(0.68)  # the shipped 0.9
    InsightSettings.objects.filter(pk=1).update(basic_weight=0.5)
    assert rates(FIGURES)["satisfaction"] == pytest.approx(0.6)


def test_the_jinniu_composite_and_the_12345_composite_as_by_hand():
    values = rates(FIGURES, 0.9)
    # 30×0.8 + 20×0.6 + 20×(1−0.125) + 20×(1−0.1) + 10×(1−0.1) = 24 + 12 + 17.5 + 18 + 9
    composite = score(values, JINNIU)
    assert (composite.value, composite.grade) == (80.5, "B")
    points = {p.indicator: p.points for p in composite.parts}
    assert points == pytest.approx(
        {"handling": 24, "on_time_handling": 12, "rework": 17.5, "overdue_pending": 18, "extension": 9}
    )
    assert sum(p.share for p in composite.parts) == pytest.approx(1)
    # 10×0.9 + 50×0.7 + 40×0.68
    hotline = score(values, HOTLINE)
    assert (hotline.value, hotline.grade) == (71.2, "C")


def test_items_without_data_are_left_out_and_the_others_weights_renormalise():
    values = rates(FIGURES, 0.9) | {"handling": None}
    found = score(values, JINNIU)
    # The remaining weights 20 + 20 + 20 + 10 = 70 count in proportion.
    assert found.value == round(100 * (20 * 0.6 + 20 * 0.875 + 20 * 0.9 + 10 * 0.9) / 70, 2) == 80.71
    parts = {p.indicator: p for p in found.parts}
    assert parts["handling"].points is None and parts["handling"].share == 0
    assert parts["on_time_handling"].share == pytest.approx(20 / 70)
    assert parts["extension"].share == pytest.approx(10 / 70)


def test_a_score_with_no_item_that_has_data_is_none():
    found = score(dict.fromkeys(RATES), JINNIU)
    assert (found.value, found.grade) == (None, "")
    assert all(p.points is None for p in found.parts)
    assert score(rates(FIGURES, 0.9), []).value is None


def test_lower_is_better_rates_count_as_one_minus_the_rate():
    assert {c for c, i in INDICATORS.items() if i.lower_is_better} == {
        "rework",
        "overdue_pending",
        "extension",
    }
    assert score({"rework": 0.0}, [("rework", 1)]).value == 100
    assert score({"rework": 1.0}, [("rework", 1)]).value == 0
    assert score({"rework": 0.25}, [("rework", 1)]).value == 75
    assert score({"handling": 0.25}, [("handling", 1)]).value == 25


@pytest.mark.parametrize(
    ("value", "letter"),
    [(100, "A"), (90, "A"), (89.99, "B"), (75, "B"), (74.99, "C"), (60, "C"), (59.99, "D"), (40, "D"),
     (39.99, "E"), (0, "E"), (None, "")],
)  # fmt: skip
def test_grade_boundaries(value, letter):
    assert grade(value) == letter


def test_a_changed_weight_changes_the_score(idemo):
    composite = ScoreSet.objects.get(kind=ScoreKind.COMPOSITE, active=True)
    ScoreItem.objects.filter(score_set=composite, indicator="handling").update(weight=70)
    from civicgrid.insight.indicators import score_items

    items = score_items(ScoreKind.COMPOSITE)
    assert dict(items)["handling"] == 70
    # 70×0.8 + 20×0.6 + 20×0.875 + 20×0.9 + 10×0.9 = 112.5 of 140
    assert score(rates(FIGURES, 0.9), items).value == round(100 * 112.5 / 140, 2)


# -- what a reader may ask for ---------------------------------------------------------------------


def test_periods_default_to_the_current_month_and_take_quarters_and_ranges():
    today = date(2026, 2, 14)
    assert period_parse(today=today).label == "2026-02"
    feb = period_parse(month="2026-02")
    assert (feb.start, feb.end, feb.kind) == (date(2026, 2, 1), date(2026, 2, 28), "month")
    assert (feb.previous.label, feb.following.label) == ("2026-01", "2026-03")
    assert period_parse(month="2026-12").following.label == "2027-01"
    q4 = period_parse(quarter="2026-Q4")
    assert (q4.start, q4.end) == (date(2026, 10, 1), date(2026, 12, 31))
    assert q4.following.label == "2027-Q1" and period_parse(quarter="2026q1").previous.label == "2025-Q4"
    span = period_parse(date_from="2026-03-05", date_to="2026-03-20", month="2026-01")
    assert (span.kind, span.start, span.end, span.previous) == (
        "range",
        date(2026, 3, 5),
        date(2026, 3, 20),
        None,
    )
    assert span.params() == {"date_from": "2026-03-05", "date_to": "2026-03-20"}


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ({"month": "2026-13"}, "bad_month"),
        ({"month": "March"}, "bad_month"),
        ({"quarter": "2026-Q5"}, "bad_quarter"),
        ({"quarter": "26Q1"}, "bad_quarter"),
        ({"date_from": "2026-03-01"}, "bad_period"),
        ({"date_from": "2026-03-10", "date_to": "2026-03-01"}, "bad_period"),
        ({"date_from": "2025-01-01", "date_to": "2026-03-01"}, "bad_period"),
        ({"date_from": "2026-3-1x", "date_to": "2026-03-01"}, "bad_period"),
    ],
)
def test_bad_periods_are_refused_with_a_code(given, code):
    with pytest.raises(DomainError) as refused:
        period_parse(**given)
    assert (refused.value.code, refused.value.status) == (code, 400)


def test_units_are_named_as_readers_say_them():
    assert [unit_parse(u) for u in ("", "street", "Grid", "person", "worker", "department")] == [
        "street",
        "street",
        "grid",
        "worker",
        "worker",
        "department",
    ]
    with pytest.raises(DomainError) as refused:
        unit_parse("building")
    assert refused.value.code == "bad_unit"
