"""Opinion monitoring: words kept whole, boilerplate and numbers dropped, negation, the weeks' top
terms and rising topics on a hand fixture, and the watch-list's alerts (once per day, term and
street, and idempotent)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from civicgrid.cases.models import Case
from civicgrid.insight import opinion
from civicgrid.insight.models import Alert, AlertStatus, OpinionWeek, WatchTerm
from civicgrid.insight.opinion_read import parse_week, rising_terms
from civicgrid.regions.models import Region

from ..cases.conftest import report
from ..cases.steps import GRID_A, GRID_B, GW_A, point_in

WEEK = date(2026, 3, 30)  # a Monday; the four weeks before it are the baseline
STREET_A, STREET_B = "320102002000", "320102010000"


@pytest.fixture(autouse=True)
def _fresh_vocabulary():
    opinion.forget()  # the place names learnt from another test's database
    yield
    opinion.forget()


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def said(text: str, day: date, *, grid: str = GRID_A, channel: str = "resident", who: str = "") -> Case:
    """A case whose title is ``text``, reported on ``day``."""
    case = report(who, channel=channel, point=point_in(grid), title=text, description="")
    Case.objects.filter(pk=case.pk).update(created_at=at(day))
    return case


# -- reading a text ------------------------------------------------------------------------------


def test_it_keeps_domain_words_whole():
    tokens = opinion.tokenize("楼下违章搭建，路口占道经营，还有油烟扰民")
    assert {"违章搭建", "占道经营", "油烟扰民"} <= set(tokens)


def test_it_learns_the_class_names_and_drops_places_numbers_and_boilerplate(idemo):
    opinion.vocabulary_load()
    assert "电动车违规充电" in opinion.tokenize("三号楼电动车违规充电")
    reading = opinion.read("市民来电反映梅园新村街道3号楼楼下电动车违规充电，请尽快处理。12345")
    assert reading.terms == {"电动车违规充电"}
    assert opinion.read("巷子里消防通道堵塞").terms == {"消防通道堵塞"}


@pytest.mark.parametrize(
    "text, negative",
    [
        ("不满意", True),
        ("满意", False),
        ("很满意", False),
        ("不是很满意", True),
        ("处理及时，谢谢！", False),
        ("等了太久", True),
        ("反映多次了一直没人管", True),
        ("没有及时处理", True),
        ("现在不脏了", False),
        ("没问题，满意", False),
        ("路口油烟扰民", False),  # the topic (a class name), not a tone
        ("油烟太呛了，严重扰民", True),
        ("处理不彻底", True),
        ("问题反复出现", True),
        ("彻底解决了", False),
        ("不用担心", False),
    ],
)
def test_the_lexicon_reads_negation(text, negative):
    assert opinion.is_negative(opinion.tokenize(text)) is negative


def test_rising_terms_use_smoothed_shares_and_a_minimum_count():
    rising = rising_terms({"新词": 10, "常客": 5, "少见": 4}, 100, {"新词": 5, "常客": 20}, 400)
    assert [r.term for r in rising] == ["新词"]
    assert rising[0].ratio == pytest.approx((11 / 101) / (6 / 401))
    assert (rising[0].base_texts, rising[0].share, rising[0].base_share) == (5, 0.1, 5 / 400)
    assert rising_terms({"新词": 10}, 100, {}, 0) == []  # no history: nothing rises


def test_a_week_is_any_of_its_days_or_an_iso_week():
    assert parse_week("2026-04-02") == WEEK == parse_week("2026-W14")
    assert parse_week("") == opinion.week_of(timezone.localdate())


# -- the weeks -----------------------------------------------------------------------------------


@pytest.fixture
def weeks(idemo):
    """Four baseline weeks of 占道经营 in street A; then a week of 违章搭建 in A and B, a grid
    worker's own report (not counted), a complaint and a dissatisfied comment."""
    for i in range(1, 5):
        for _ in range(2):
            rated = said("楼下占道经营", WEEK - timedelta(weeks=i))
    for _ in range(5):
        said("巷子里违章搭建", WEEK + timedelta(days=1))
    said("占道经营，没人管", WEEK + timedelta(days=2))
    said("违章搭建", WEEK + timedelta(days=3), grid=GRID_B)
    said("违章搭建违章搭建", WEEK + timedelta(days=3), channel="grid_worker", who=GW_A)
    Case.objects.filter(pk=rated.pk).update(rating_comment="不满意", rated_at=at(WEEK + timedelta(days=4)))
    return opinion.opinion_weeks_compute(start=WEEK - timedelta(weeks=4), end=WEEK + timedelta(days=6))


def _row(week: date, street: str | None) -> OpinionWeek:
    street_id = Region.objects.get(code=street).pk if street else 0
    return OpinionWeek.objects.get(week=week, street_id=street_id)


def test_the_week_counts_residents_texts_by_street_and_for_the_district(weeks):
    a, b, district = _row(WEEK, STREET_A), _row(WEEK, STREET_B), _row(WEEK, None)
    # 5 + 1 reports and the comment in A (by its rating time), 1 report in B; not the grid worker's.
    assert (a.texts, a.negative, a.terms) == (7, 2, {"违章搭建": 5})
    assert (b.texts, b.negative, b.terms) == (1, 0, {})  # a term of one text is not kept
    assert (district.texts, district.negative, district.terms) == (8, 2, {"违章搭建": 6})
    assert _row(WEEK - timedelta(weeks=1), STREET_A).terms == {"占道经营": 2}
    assert (weeks.weeks, weeks.texts) == (5, 16)


def test_a_recompute_equals_the_first_run(weeks):
    before = sorted(OpinionWeek.objects.values_list("week", "street_id", "texts", "negative", "terms"))
    again = opinion.opinion_weeks_compute(start=WEEK - timedelta(weeks=4), end=WEEK)
    assert (
        sorted(OpinionWeek.objects.values_list("week", "street_id", "texts", "negative", "terms")) == before
    )
    assert again.texts == weeks.texts


# -- the watch-list ------------------------------------------------------------------------------


def test_a_watched_term_raises_one_alert_per_day_and_street_idempotently(idemo):
    day = timezone.localdate() - timedelta(days=1)
    WatchTerm.objects.create(term="群租房", severity=3)
    WatchTerm.objects.create(term="不再看", active=False)
    for grid in (GRID_A, GRID_A, GRID_B):
        said("楼上群租房不再看管", day, grid=grid)
    said("群租房", day - timedelta(days=3))  # outside the days scanned

    first = opinion.watch_scan(start=day)
    alerts = {a.street.code: a for a in Alert.objects.filter(kind="keyword")}
    assert (first.alerts, first.created, set(alerts)) == (2, 2, {STREET_A, STREET_B})
    street_a = alerts[STREET_A]
    assert street_a.key == f"keyword:{day.isoformat()}:群租房:{street_a.street_id}"
    assert (street_a.observed, street_a.severity, street_a.term, street_a.day) == (2, 3, "群租房", day)
    assert street_a.link == (
        f"/cases/list/?q=%E7%BE%A4%E7%A7%9F%E6%88%BF&date_from={day}&date_to={day}&region={STREET_A}"
    )

    # Handled, then one more text the same day: the count changes, the handling stays.
    Alert.objects.filter(pk=street_a.pk).update(status=AlertStatus.ACKNOWLEDGED)
    said("群租房", day)
    again = opinion.watch_scan(start=day)
    assert (again.alerts, again.created, Alert.objects.count()) == (2, 0, 2)
    street_a.refresh_from_db()
    assert (street_a.observed, street_a.status) == (3, AlertStatus.ACKNOWLEDGED)
    assert opinion.watch_scan(start=day).created == 0 and Alert.objects.count() == 2


def _order(content: str, day: date, *, case: Case | None = None) -> None:
    from civicgrid.accounts.models import User
    from civicgrid.hotline.models import BatchFormat, BatchStatus, HotlineBatch, HotlineOrder, LimitKind

    batch = HotlineBatch.objects.create(
        file_name="orders.json",
        format=BatchFormat.JSON,
        sha256="0" * 64,
        created_by=User.objects.get(username="operator"),
        created_at=at(day),
        status=BatchStatus.DONE,
    )
    HotlineOrder.objects.create(
        external_number=f"T{HotlineOrder.objects.count() + 1:06d}",
        batch=batch,
        received_at=at(day),
        content=content,
        urgency="normal",
        limit_kind=LimitKind.ORDINARY,
        feedback_deadline=at(day + timedelta(days=7)),
        fingerprint="0" * 64,
        state="placed" if case else "triaged",
        case=case,
        created_at=at(day),
        updated_at=at(day),
    )


def test_hotline_orders_count_once_and_unplaced_ones_for_the_district(idemo):
    day = WEEK + timedelta(days=1)
    placed = said("楼下群租房", day, channel="hotline", who="operator")
    _order("楼下群租房", day, case=placed)  # its words are its case's: not counted again
    _order("群租房，没人管", day)  # waiting in triage: no street yet
    WatchTerm.objects.create(term="群租房")
    opinion.opinion_weeks_compute(start=WEEK)
    opinion.watch_scan(start=day)
    district, street = _row(WEEK, None), _row(WEEK, STREET_A)
    assert (district.texts, district.negative, district.terms) == (2, 1, {"群租房": 2})
    assert (street.texts, street.negative) == (1, 0)
    unplaced = Alert.objects.get(street=None)
    assert (unplaced.key, unplaced.observed) == (f"keyword:{day}:群租房:0", 1)
    assert "region" not in unplaced.link
    assert Alert.objects.get(street__code=STREET_A).observed == 1


def test_the_hourly_task_counts_this_week_and_watches_today(idemo):
    from civicgrid.insight import tasks

    today = timezone.localdate()
    WatchTerm.objects.create(term="群租房", severity=2)
    case = report("", channel="resident", point=point_in(GRID_A), title="群租房，太吵了", description="")
    Case.objects.filter(pk=case.pk).update(created_at=timezone.now())
    done = tasks.opinion_every_hour.call_local()
    assert (done["texts"], done["alerts"], done["new_alerts"]) == (1, 1, 1)
    row = OpinionWeek.objects.get(week=opinion.week_of(today), street_id=0)
    assert (row.texts, row.negative) == (1, 1)
    assert Alert.objects.get(kind="keyword").key.startswith(f"keyword:{today}:群租房:")
    assert tasks.opinion_every_hour.call_local()["new_alerts"] == 0
