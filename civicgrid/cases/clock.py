"""Working-time calendar: deadlines, elapsed time and warning points for case time limits.

Pure Python (no Django) so the rules can be tested exhaustively and fast. Office time is local
wall-clock time in the calendar's zone (Asia/Shanghai: no DST); natural time is real elapsed time.
Positions are integer microseconds, so add and elapsed are exact inverses and a start's seconds
carry through to its deadline.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger("civicgrid.cases.clock")

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_OFFICE_HOURS = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
_MINUTE = 60_000_000  # microseconds
_ONE_DAY = timedelta(days=1)

# Fixed-date statutory holidays (全国年节及纪念日放假办法 as revised for 2025: Labour Day is May 1–2).
# The lunar ones (Spring Festival, Qingming, Dragon Boat, Mid-Autumn) and the 调休 swaps cannot be
# derived, which is why a year without data must be entered by an admin as overrides.
_FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}
# Years for which the fallback has been used; module-level so that a calendar built per request
# still warns only once per process and year.
_warned_years: set[int] = set()


class Unit(StrEnum):
    """How a time limit is counted."""

    WORK_HOURS = "work_hours"  # 工作时: minutes of office time
    WORK_DAYS = "work_days"  # 工作日: N × a normal working day of office time
    NATURAL_HOURS = "natural_hours"  # 自然时: wall-clock hours (urgent classes)
    NATURAL_MINUTES = "natural_minutes"  # short stage limits, e.g. 30 min to report in


# unit: (Chinese label, English label, other spellings parse_limit accepts). Labels and their
# English plural are accepted too, so parse_limit(limit.label(lang)) == limit.
_UNITS = {
    Unit.WORK_DAYS: ("工作日", "working day", "个工作日 wd"),
    Unit.WORK_HOURS: ("工作时", "working hour", "个工作时 工作小时 个工作小时 wh"),
    Unit.NATURAL_HOURS: ("小时", "hour", "个小时 h hr hrs"),
    Unit.NATURAL_MINUTES: ("分钟", "minute", "min mins"),
}
# Matched after NFKC normalisation (full-width → ASCII), lower-casing and collapsing spaces.
_SPELLINGS = {w: u for u, (zh, en, more) in _UNITS.items() for w in (zh, en, en + "s", *more.split())}
_LIMIT_RE = re.compile(r"([+-]?\d+(?:\.\d+)?)\s*(.*)")


def _plain(amount: float) -> int | float:
    """5.0 -> 5, so labels and stored dicts do not show a spurious ".0"."""
    return int(amount) if amount.is_integer() else amount


@dataclass(frozen=True)
class Limit:
    """A time limit such as 5 working days; ``amount`` is positive and finite."""

    amount: float
    unit: Unit

    def __post_init__(self):
        object.__setattr__(self, "unit", Unit(self.unit))  # accepts "work_days" as well
        try:  # int, float or Decimal (from a DecimalField); not bool or str
            amount = math.nan if isinstance(self.amount, bool | str) else float(self.amount)
        except (TypeError, ValueError):
            amount = math.nan
        if not math.isfinite(amount) or amount <= 0:
            raise ValueError(f"时限必须是正数 / a time limit must be a positive number: {self.amount!r}")
        object.__setattr__(self, "amount", amount)

    @property
    def working(self) -> bool:
        return self.unit in (Unit.WORK_HOURS, Unit.WORK_DAYS)

    def minutes(self, day_minutes: int) -> int:
        """Length in minutes; a working day is ``day_minutes`` of office time."""
        factor = {Unit.WORK_DAYS: day_minutes, Unit.NATURAL_MINUTES: 1}.get(self.unit, 60)
        return round(self.amount * factor)

    def label(self, lang: str = "zh") -> str:
        """``5工作日`` / ``5 working days``; any language code starting with "en" gives English."""
        zh, en, _ = _UNITS[self.unit]
        if not lang.lower().startswith("en"):
            return f"{_plain(self.amount)}{zh}"
        return f"{_plain(self.amount)} {en}{'' if self.amount == 1 else 's'}"

    def as_dict(self) -> dict:
        return {"amount": _plain(self.amount), "unit": self.unit.value}

    @classmethod
    def from_dict(cls, d: dict) -> Limit:
        return cls(amount=d["amount"], unit=Unit(d["unit"]))


def parse_limit(text: str) -> Limit:
    """Parse a limit as an office types it: "5工作日", "4 工作小时", "2h", "30分钟", "1.5wd"...

    "天" (day) is deliberately not accepted: it is ambiguous between natural and working days.
    """
    raw = "" if text is None else str(text)
    s = unicodedata.normalize("NFKC", raw).strip().lower()
    hint = "请写成如 5工作日、4工作时、2小时、30分钟 / write e.g. 5工作日, 4工作时, 2小时, 30分钟"
    m = _LIMIT_RE.fullmatch(s)
    if not m:
        raise ValueError(f"无法识别的时限 / unrecognised time limit: {raw!r}; {hint}")
    unit = _SPELLINGS.get(re.sub(r"\s+", " ", m[2]))
    if unit is None:
        what = "缺少单位 / missing unit" if not m[2] else f"未知单位 / unknown unit {m[2]!r}"
        raise ValueError(f"{what} in {raw!r}; {hint}")
    amount = float(m[1])
    if amount <= 0:
        raise ValueError(f"时限必须大于零 / a time limit must be positive: {raw!r}")
    return Limit(amount, unit)


class WorkCalendar:
    """Office periods of a working day plus which days are workdays.

    ``overrides`` (date -> is_workday) are local days off / extra workdays entered by an admin;
    they win over chinese_calendar. They are copied, so later changes to the dict are not seen.
    """

    def __init__(
        self,
        *,
        office_hours=DEFAULT_OFFICE_HOURS,
        overrides: dict[date, bool] | None = None,
        tz: ZoneInfo = SHANGHAI,
    ):
        periods, done, prev_end = [], 0, None
        for start, end in office_hours:
            for t in (start, end):
                if not isinstance(t, time) or t.tzinfo or t.second or t.microsecond:
                    raise ValueError(f"office hours must be whole-minute naive times: {t!r}")
            s, e = _tod(start), _tod(end)
            if s >= e:
                raise ValueError(f"office period ends before it starts: {start}–{end}")
            if prev_end is not None and s < prev_end:
                raise ValueError(f"office periods overlap or are out of order at {start}")
            periods.append((s, e, done))  # done = office time of the day before this period
            done, prev_end = done + e - s, e
        if not periods:
            raise ValueError("office hours need at least one period")
        self.office_hours = tuple(office_hours)
        self.tz = tz
        self._periods = periods
        self._day_us = done
        self.day_minutes: int = done // _MINUTE
        self._known: dict[date, bool] = {}  # is_workday answers, overrides included
        for day, is_work in (overrides or {}).items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ValueError(f"override keys must be dates: {day!r}")
            self._known[day] = bool(is_work)

    def is_workday(self, day: date) -> bool:
        known = self._known.get(day)
        if known is None:
            known = _national_workday(day)
            if known is None:
                known = _fallback_is_workday(day)
            self._known[day] = known
        return known

    def add(self, start: datetime, limit: Limit) -> datetime:
        return self.add_minutes(start, limit.minutes(self.day_minutes), working=limit.working)

    def add_minutes(self, start: datetime, minutes: int, *, working: bool) -> datetime:
        """``start`` + ``minutes`` of office time (working) or of real time (natural)."""
        if minutes < 0:
            raise ValueError(f"minutes must not be negative: {minutes}")
        us = round(minutes * _MINUTE)
        if not working:
            return (_utc(start) + timedelta(microseconds=us)).astimezone(self.tz)
        return self._add_us(self._local(start), us).replace(tzinfo=self.tz)

    def elapsed(self, start: datetime, end: datetime, *, working: bool) -> int:
        """Whole minutes from start to end (0 if end <= start); working counts office time only."""
        if working:
            return self._office_us(self._local(start), self._local(end)) // _MINUTE
        return max(0, (_utc(end) - _utc(start)) // timedelta(minutes=1))

    def warn_at(self, start: datetime, deadline: datetime, share: float, *, working: bool) -> datetime:
        """When ``share`` (0–1) of the time from start to deadline is used, on the same clock."""
        if not 0 <= share <= 1:
            raise ValueError(f"share must be between 0 and 1: {share}")
        if not working:
            span = max(timedelta(0), _utc(deadline) - _utc(start))
            return (_utc(start) + span * share).astimezone(self.tz)
        local = self._local(start)
        used = round(self._office_us(local, self._local(deadline)) * share)
        return self._add_us(local, used).replace(tzinfo=self.tz)

    # -- internals: local naive datetimes, positions in microseconds --------------------------

    def _offset(self, tod: int) -> int:
        """Office time of a workday that lies before time-of-day ``tod``."""
        for s, e, done in self._periods:
            if tod <= s:
                return done
            if tod < e:
                return done + tod - s
        return self._day_us

    def _time_at(self, offset: int) -> int:
        """Time of day when ``offset`` (0 < offset <= day) of office time has been used.

        The earliest period that reaches it wins, so a deadline at a period's end stays there
        (17:30, or 12:00 before lunch) instead of moving to the next period's start.
        """
        for s, e, done in self._periods:
            if offset <= done + e - s:
                return s + offset - done
        raise AssertionError(offset)

    def _add_us(self, local: datetime, us: int) -> datetime:
        if us == 0:
            return local
        day = local.date()
        used = self._offset(_tod(local)) if self.is_workday(day) else self._day_us
        target = used + us
        if target > self._day_us:
            # Whole working days are skipped arithmetically: only the landing day's period
            # is searched; the loop below steps once per calendar day, never per minute.
            full_days, rest = divmod(target - self._day_us - 1, self._day_us)
            target = rest + 1
            for _ in range(full_days + 1):
                day += _ONE_DAY
                while not self.is_workday(day):
                    day += _ONE_DAY
        return datetime.combine(day, time()) + timedelta(microseconds=self._time_at(target))

    def _office_us(self, a: datetime, b: datetime) -> int:
        """Office time in [a, b): whole workdays from a's day to b's, minus before a and after b."""
        if b <= a:
            return 0
        total, day = 0, a.date()
        while day <= b.date():
            total += self._day_us if self.is_workday(day) else 0
            day += _ONE_DAY
        if self.is_workday(a.date()):
            total -= self._offset(_tod(a))
        if self.is_workday(b.date()):
            total -= self._day_us - self._offset(_tod(b))
        return total

    def _local(self, dt: datetime) -> datetime:
        if dt.tzinfo is self.tz:
            return dt.replace(tzinfo=None)
        return _utc(dt).astimezone(self.tz).replace(tzinfo=None)


def _tod(t: time | datetime) -> int:
    """Time of day in microseconds."""
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _utc(dt: datetime) -> datetime:
    if not isinstance(dt, datetime) or dt.utcoffset() is None:
        raise ValueError(f"需要带时区的时间 / an aware datetime is required, got {dt!r}")
    return dt.astimezone(UTC)


# Cached per process: a chinese_calendar lookup costs ~20 µs and calendars may be built per request.
@functools.lru_cache(maxsize=16384)
def _national_workday(day: date) -> bool | None:
    """chinese_calendar's answer, None for a year it has no data for."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


def _fallback_is_workday(day: date) -> bool:
    """Mon–Fri minus fixed-date holidays, for years chinese_calendar has no data for."""
    if day.year not in _warned_years:
        _warned_years.add(day.year)
        log.warning(
            "No holiday data for %s: counting Mon–Fri minus Jan 1, May 1–2 and Oct 1–3. Enter that "
            "year's State Council holiday schedule (放假安排) as workday overrides.",
            day.year,
        )
    return day.weekday() < 5 and (day.month, day.day) not in _FIXED_HOLIDAYS
