"""Working-time calendar: pure functions, no database.

Holiday facts asserted here were checked against chinese_calendar 1.11.0 (State Council schedules
for 2026): National Day Oct 1–7 with make-up workdays Sun Sep 20 and Sat Oct 10; Mid-Autumn
Sep 25–27; Spring Festival Feb 15–23 with make-up workdays Sat Feb 14 and Sat Feb 28.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from civicgrid.cases import clock
from civicgrid.cases.clock import Limit, Unit, WorkCalendar, parse_limit

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()


def at(y, mo, d, h=0, mi=0, s=0):
    return datetime(y, mo, d, h, mi, s, tzinfo=SH)


def wh(n):
    return Limit(n, Unit.WORK_HOURS)


def wd(n):
    return Limit(n, Unit.WORK_DAYS)


# -- office hours (Mon 2026-03-02 is an ordinary working Monday) --------------------------------


def test_default_day_is_seven_and_a_half_hours():
    assert CAL.day_minutes == 450


def test_lunch_is_skipped():
    assert CAL.add(at(2026, 3, 2, 9), wh(4)) == at(2026, 3, 2, 14, 30)


def test_start_in_lunch_counts_from_afternoon():
    assert CAL.add(at(2026, 3, 2, 12, 30), wh(1)) == at(2026, 3, 2, 14, 30)


def test_start_in_evening_counts_from_next_morning():
    assert CAL.add(at(2026, 3, 2, 19), wh(1)) == at(2026, 3, 3, 9, 30)
    assert CAL.add(at(2026, 3, 3, 6), wh(1)) == at(2026, 3, 3, 9, 30)


def test_late_afternoon_rolls_into_next_workday():
    assert CAL.add(at(2026, 3, 2, 17), wh(1)) == at(2026, 3, 3, 9)


def test_deadline_exactly_at_end_of_period_stays_there():
    assert CAL.add(at(2026, 3, 2, 13, 30), wh(4)) == at(2026, 3, 2, 17, 30)
    assert CAL.add(at(2026, 3, 2, 8, 30), Limit(3.5, Unit.WORK_HOURS)) == at(2026, 3, 2, 12)
    assert CAL.add(at(2026, 3, 2, 8, 30), wd(1)) == at(2026, 3, 2, 17, 30)


def test_start_exactly_at_end_of_day():
    assert CAL.add(at(2026, 3, 2, 17, 30), wh(1)) == at(2026, 3, 3, 9, 30)


def test_seconds_of_start_are_kept_inside_office_time_only():
    assert CAL.add(at(2026, 3, 2, 9, 0, 30), wh(1)) == at(2026, 3, 2, 10, 0, 30)
    assert CAL.add(at(2026, 3, 2, 11, 30, 15), wh(1)) == at(2026, 3, 2, 14, 0, 15)
    assert CAL.add(at(2026, 3, 2, 19, 0, 45), wh(1)) == at(2026, 3, 3, 9, 30)


def test_any_timezone_in_shanghai_out():
    result = CAL.add(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), wh(4))  # 09:00 in Shanghai
    assert result == at(2026, 3, 2, 14, 30)
    assert result.tzinfo == SH and result.hour == 14


def test_custom_office_hours():
    cal = WorkCalendar(office_hours=((time(9), time(17)),))
    assert cal.day_minutes == 480
    assert cal.add(at(2026, 3, 2, 9), wd(1)) == at(2026, 3, 2, 17)
    assert cal.add(at(2026, 3, 2, 16), wh(2)) == at(2026, 3, 3, 10)


# -- days off -----------------------------------------------------------------------------------


def test_weekend_is_skipped():
    assert CAL.add(at(2026, 3, 6, 17), wh(1)) == at(2026, 3, 9, 9)  # Friday -> Monday
    assert CAL.add(at(2026, 3, 7, 10), wh(1)) == at(2026, 3, 9, 9, 30)  # from Saturday


def test_national_day_2026():
    assert [CAL.is_workday(date(2026, 10, d)) for d in range(1, 13)] == [
        *[False] * 7,  # Oct 1–7 holiday
        True,  # Thu Oct 8
        True,  # Fri Oct 9
        True,  # Sat Oct 10: 调休 make-up workday
        False,  # Sun Oct 11
        True,  # Mon Oct 12
    ]
    assert CAL.add(at(2026, 9, 30, 16), wd(1)) == at(2026, 10, 8, 16)
    # A 调休 Saturday counts: Friday afternoon + 1 working day lands on Saturday.
    assert CAL.add(at(2026, 10, 9, 16), wd(1)) == at(2026, 10, 10, 16)
    # Sunday Sep 20 is a make-up workday too.
    assert CAL.is_workday(date(2026, 9, 20))
    assert CAL.add(at(2026, 9, 18, 16), wd(1)) == at(2026, 9, 20, 16)


def test_spring_festival_2026():
    assert chinese_calendar.get_holiday_detail(date(2026, 2, 17)) == (True, "Spring Festival")
    assert not any(CAL.is_workday(date(2026, 2, d)) for d in range(15, 24))
    assert CAL.is_workday(date(2026, 2, 14)) and CAL.is_workday(date(2026, 2, 28))  # make-up Saturdays
    assert CAL.add(at(2026, 2, 13, 16), wd(1)) == at(2026, 2, 14, 16)
    assert CAL.add(at(2026, 2, 14, 16), wd(1)) == at(2026, 2, 24, 16)


def test_override_day_off_pushes_deadline():
    start = at(2026, 3, 3, 16)  # Tuesday
    assert CAL.add(start, wd(1)) == at(2026, 3, 4, 16)
    cal = WorkCalendar(overrides={date(2026, 3, 4): False})  # local day off on Wednesday
    assert not cal.is_workday(date(2026, 3, 4))
    assert cal.add(start, wd(1)) == at(2026, 3, 5, 16)


def test_override_makes_sunday_a_workday():
    start = at(2026, 3, 6, 16)  # Friday
    assert CAL.add(start, wd(1)) == at(2026, 3, 9, 16)
    cal = WorkCalendar(overrides={date(2026, 3, 8): True})
    assert cal.add(start, wd(1)) == at(2026, 3, 8, 16)


def test_override_wins_over_national_schedule():
    cal = WorkCalendar(overrides={date(2026, 10, 8): False, date(2026, 10, 7): True})
    assert cal.is_workday(date(2026, 10, 7)) and not cal.is_workday(date(2026, 10, 8))


def test_year_without_data_falls_back_and_warns_once(monkeypatch, caplog):
    monkeypatch.setattr(clock, "_warned_years", set())
    cal = WorkCalendar()
    with caplog.at_level(logging.WARNING, logger="civicgrid.cases.clock"):
        assert not cal.is_workday(date(2027, 1, 1))  # Friday, New Year's Day
        assert cal.is_workday(date(2027, 3, 1))  # Monday
        assert cal.is_workday(date(2027, 10, 4))  # Monday after Oct 1–3
        assert not cal.is_workday(date(2027, 3, 6))  # Saturday
        assert not WorkCalendar().is_workday(date(2027, 10, 1))
    warnings = [r for r in caplog.records if r.name == "civicgrid.cases.clock"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING and "2027" in warnings[0].getMessage()
    assert "overrides" in warnings[0].getMessage()


def test_override_in_unknown_year_does_not_warn(monkeypatch, caplog):
    monkeypatch.setattr(clock, "_warned_years", set())
    cal = WorkCalendar(overrides={date(2028, 1, 3): False})
    with caplog.at_level(logging.WARNING, logger="civicgrid.cases.clock"):
        assert not cal.is_workday(date(2028, 1, 3))
    assert not caplog.records


# -- natural time and working days --------------------------------------------------------------


def test_natural_hours_ignore_calendar():
    assert CAL.add(at(2026, 3, 7, 23), Limit(2, Unit.NATURAL_HOURS)) == at(2026, 3, 8, 1)
    assert CAL.add(at(2026, 10, 1, 12, 10, 5), Limit(30, Unit.NATURAL_MINUTES)) == at(2026, 10, 1, 12, 40, 5)
    result = CAL.add(datetime(2026, 3, 7, 15, tzinfo=UTC), Limit(2, Unit.NATURAL_HOURS))
    assert result == at(2026, 3, 8, 1) and result.tzinfo == SH


def test_five_working_days_is_a_week():
    assert CAL.add(at(2026, 3, 2, 10), wd(5)) == at(2026, 3, 9, 10)


def test_one_and_a_half_working_days():
    # Monday 10:00 leaves 360 min; the remaining 315 min end Tuesday at 15:15.
    assert CAL.add(at(2026, 3, 2, 10), Limit(1.5, Unit.WORK_DAYS)) == at(2026, 3, 3, 15, 15)


def test_fifteen_working_days():
    assert CAL.add(at(2026, 3, 2, 9), wd(15)) == at(2026, 3, 23, 9)


def test_add_minutes_zero_and_negative():
    start = at(2026, 3, 2, 20)
    assert CAL.add_minutes(start, 0, working=True) == start
    with pytest.raises(ValueError):
        CAL.add_minutes(start, -1, working=True)


# -- elapsed and warn_at ------------------------------------------------------------------------


def test_elapsed_across_weekend():
    start, end = at(2026, 3, 6, 16), at(2026, 3, 9, 10)
    assert CAL.elapsed(start, end, working=True) == 90 + 90
    assert CAL.elapsed(start, end, working=False) == 66 * 60


def test_elapsed_across_lunch():
    assert CAL.elapsed(at(2026, 3, 2, 11), at(2026, 3, 2, 14), working=True) == 90
    assert CAL.elapsed(at(2026, 3, 2, 12, 10), at(2026, 3, 2, 13, 0), working=True) == 0


def test_elapsed_across_holiday():
    assert CAL.elapsed(at(2026, 9, 30, 16), at(2026, 10, 8, 16), working=True) == 450


def test_elapsed_empty_and_floored():
    assert CAL.elapsed(at(2026, 3, 2, 10), at(2026, 3, 2, 9), working=True) == 0
    assert CAL.elapsed(at(2026, 3, 2, 10), at(2026, 3, 2, 9), working=False) == 0
    assert CAL.elapsed(at(2026, 3, 2, 10), at(2026, 3, 2, 10, 0, 59), working=False) == 0
    assert CAL.elapsed(at(2026, 3, 2, 10), at(2026, 3, 2, 10, 1, 59), working=True) == 1


@pytest.mark.parametrize("working", [True, False])
def test_add_and_elapsed_are_inverse(working):
    rng = random.Random(20260302)
    first = datetime(2025, 1, 1, tzinfo=SH)
    for _ in range(400):
        start = first + timedelta(seconds=rng.randrange(660 * 86400))  # up to late Oct 2026
        minutes = rng.choice([rng.randrange(1, 600), rng.randrange(1, 20000)])
        end = CAL.add_minutes(start, minutes, working=working)
        assert CAL.elapsed(start, end, working=working) == minutes, (start, minutes)
        if working:  # a working deadline always lies in office time of a workday
            local = end.astimezone(SH)
            assert CAL.is_workday(local.date())
            assert any(a < local.time() <= b for a, b in clock.DEFAULT_OFFICE_HOURS), end


def test_warn_at_eighty_percent():
    start = at(2026, 3, 2, 9)
    deadline = CAL.add(start, wd(5))
    assert deadline == at(2026, 3, 9, 9)
    assert CAL.warn_at(start, deadline, 0.8, working=True) == at(2026, 3, 6, 9)  # 4 of 5 days
    # Natural clock: 80% of 10 hours is 8 hours, weekend or not.
    assert CAL.warn_at(at(2026, 3, 7), at(2026, 3, 7, 10), 0.8, working=False) == at(2026, 3, 7, 8)
    # Across the National Day holiday: 80% of one working day from Sep 30 16:00 is Oct 8 14:30.
    assert CAL.warn_at(at(2026, 9, 30, 16), at(2026, 10, 8, 16), 0.8, working=True) == at(2026, 10, 8, 14, 30)
    with pytest.raises(ValueError):
        CAL.warn_at(start, deadline, 1.5, working=True)


# -- limits -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5工作日", wd(5)),
        ("5 工作日", wd(5)),
        ("5个工作日", wd(5)),
        ("5wd", wd(5)),
        ("1.5工作日", Limit(1.5, Unit.WORK_DAYS)),
        ("4工作时", wh(4)),
        ("4工作小时", wh(4)),
        ("4wh", wh(4)),
        ("2小时", Limit(2, Unit.NATURAL_HOURS)),
        ("2h", Limit(2, Unit.NATURAL_HOURS)),
        ("2 H", Limit(2, Unit.NATURAL_HOURS)),
        ("30分钟", Limit(30, Unit.NATURAL_MINUTES)),
        ("30min", Limit(30, Unit.NATURAL_MINUTES)),
        ("  ３０分钟 ", Limit(30, Unit.NATURAL_MINUTES)),  # full-width digits from an IME
    ],
)
def test_parse_limit_accepts(text, expected):
    assert parse_limit(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "unrecognised"),
        ("5", "missing unit"),
        ("-1工作日", "positive"),
        ("0h", "positive"),
        ("五天", "unrecognised"),
        ("5 weeks", "unknown unit"),
        ("5天", "unknown unit"),
        (None, "unrecognised"),
    ],
)
def test_parse_limit_rejects(text, message):
    with pytest.raises(ValueError, match=message) as info:
        parse_limit(text)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(info.value))  # Chinese as well as English


def test_limit_minutes_and_working():
    assert Limit(1.5, Unit.WORK_DAYS).minutes(450) == 675
    assert wh(4).minutes(450) == 240
    assert Limit(2, Unit.NATURAL_HOURS).minutes(450) == 120
    assert Limit(30, Unit.NATURAL_MINUTES).minutes(450) == 30
    assert wd(1).working and wh(1).working
    assert not Limit(1, Unit.NATURAL_HOURS).working and not Limit(1, Unit.NATURAL_MINUTES).working


def test_limit_labels():
    assert [
        lim.label() for lim in (wd(5), wh(4), Limit(2, "natural_hours"), Limit(30, "natural_minutes"))
    ] == [
        "5工作日",
        "4工作时",
        "2小时",
        "30分钟",
    ]
    assert Limit(1.5, Unit.WORK_DAYS).label() == "1.5工作日"
    assert wd(5).label("en") == "5 working days"
    assert wh(4).label("en") == "4 working hours"
    assert Limit(2, Unit.NATURAL_HOURS).label("en") == "2 hours"
    assert Limit(30, Unit.NATURAL_MINUTES).label("en") == "30 minutes"
    assert wd(1).label("en") == "1 working day"
    assert wd(5).label("zh-hans") == "5工作日"


def test_limit_dict_round_trip_and_label_parses_back():
    assert wd(5).as_dict() == {"amount": 5, "unit": "work_days"}
    assert isinstance(wd(5).as_dict()["amount"], int)
    for lim in (
        wd(5),
        Limit(1.5, Unit.WORK_DAYS),
        wh(4),
        Limit(2, Unit.NATURAL_HOURS),
        Limit(1, "natural_minutes"),
    ):
        assert Limit.from_dict(lim.as_dict()) == lim
        assert parse_limit(lim.label()) == lim and parse_limit(lim.label("en")) == lim


def test_limit_validation():
    assert Limit(Decimal("2.5"), Unit.WORK_DAYS).amount == 2.5
    for bad in (0, -1, float("nan"), float("inf"), True, "5"):
        with pytest.raises(ValueError):
            Limit(bad, Unit.WORK_DAYS)
    with pytest.raises(ValueError):
        Limit(1, "weeks")


# -- input validation ---------------------------------------------------------------------------


def test_naive_datetime_rejected():
    naive = datetime(2026, 3, 2, 9)
    with pytest.raises(ValueError, match="aware"):
        CAL.add(naive, wh(1))
    with pytest.raises(ValueError, match="aware"):
        CAL.add(naive, Limit(1, Unit.NATURAL_HOURS))
    with pytest.raises(ValueError, match="aware"):
        CAL.elapsed(at(2026, 3, 2, 9), naive, working=True)
    with pytest.raises(ValueError, match="aware"):
        CAL.warn_at(naive, at(2026, 3, 3, 9), 0.8, working=False)


@pytest.mark.parametrize(
    "hours",
    [
        ((time(8, 30), time(12, 0)), (time(11, 30), time(17, 30))),  # overlapping
        ((time(13, 30), time(17, 30)), (time(8, 30), time(12, 0))),  # out of order
        ((time(12, 0), time(8, 30)),),  # ends before it starts
        ((time(9), time(9)),),  # empty period
        ((time(9, 0, 30), time(17)),),  # not a whole minute
        (),
    ],
)
def test_bad_office_hours_rejected(hours):
    with pytest.raises(ValueError):
        WorkCalendar(office_hours=hours)


def test_bad_override_key_rejected():
    with pytest.raises(ValueError):
        WorkCalendar(overrides={datetime(2026, 3, 4, tzinfo=SH): False})
