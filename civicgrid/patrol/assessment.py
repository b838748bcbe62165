"""The grid workers' monthly assessment (网格员月度考核): patrol hours and rounds, coverage, key
places visited, reports and their valid share (有效上报率), verifications and checks on time
(按期核实率, 按期核查率), the two responses (两响应), and a composite score graded A–E.

Every formula, its source and how it reads the data is in docs/assessment.md. The month's figures
come from a handful of queries (rows grouped by worker, or one row per patrol, stage or check-in
of the month), never a query per worker: the whole district in well under the 5 s the issue
allows (bench/bench_assessment.py).

Reads cases (their events are the record of who verified and checked what, and when) and
accounts (grid posts); nothing here writes.
"""

from __future__ import annotations

import logging
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import BooleanField, Case, Count, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.accounts.models import GridPost, GridStaffing, Role
from civicgrid.accounts.scopes import Scope, region_subtrees
from civicgrid.cases import limits
from civicgrid.cases.clock import Limit, parse_limit
from civicgrid.cases.models import CaseEvent, CaseState, Channel
from civicgrid.cases.workflow import Action
from civicgrid.errors import DomainError, NotFound, OutOfScope
from civicgrid.patrol import defaults
from civicgrid.patrol.models import (
    CheckIn,
    CoverageWeek,
    DutyRule,
    KeyPlace,
    Patrol,
    PatrolPlan,
    PatrolState,
    Period,
    PlaceRule,
)
from civicgrid.regions.models import Region

log = logging.getLogger(__name__)

# Who is assessed: the grid's workers, not its chief or party branch secretary.
ASSESSED_POSTS = (GridPost.FULL_TIME, GridPost.PART_TIME)
# Who reads every worker of the grids in their scope; a grid worker reads only their own row.
AREA_ROLES = (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR, Role.COMMUNITY_STAFF, Role.GRID_CHIEF)
# Residents' own channels (接诉): the second of the two responses is measured on these.
RESIDENT_CHANNELS = (Channel.RESIDENT, Channel.PHONE, Channel.WALK_IN, Channel.HOTLINE, Channel.OPEN311)
# The two stages a case puts in a grid worker's hands, by the state that runs their clock.
STAGES = {CaseState.VERIFYING: "verify", CaseState.CHECKING: "check"}
# A report is decided once it leaves these states; until then it counts in neither share.
UNDECIDED = (CaseState.VERIFYING, CaseState.REPORTED)
# Grades of the composite (cn-grid-domain.md §1.6): A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, else E.
GRADES = ((90.0, "A"), (75.0, "B"), (60.0, "C"), (40.0, "D"), (0.0, "E"))
# The items a weight may be given to (settings.ASSESSMENT_WEIGHTS), each a share from 0 to 1.
ITEMS = {
    "valid_reports": gettext_lazy("Valid reports (有效上报率)"),
    "patrol": gettext_lazy("Patrol coverage against the plan's target"),
    "verify_on_time": gettext_lazy("Verifications on time (按期核实率)"),
    "check_on_time": gettext_lazy("Checks on time (按期核查率)"),
    "rounds": gettext_lazy("Patrol rounds against the plan"),
    "places": gettext_lazy("Key-place visits against the plan"),
    "task_response": gettext_lazy("Dispatched tasks answered in time"),
    "resident_response": gettext_lazy("Residents' reports answered in time"),
}


# --- the month ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str | None, *, today: date | None = None) -> Month:
        """``YYYY-MM``; empty: the current month."""
        text = (text or "").strip()
        if not text:
            today = today or timezone.localdate()
            return cls(today.year, today.month)
        try:
            year, month = (int(part) for part in text.split("-"))
            date(year, month, 1)
        except ValueError:
            raise DomainError("bad_month", _("Give the month as YYYY-MM."), {"month": text}) from None
        return cls(year, month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def next_first(self) -> date:
        return date(self.year + self.month // 12, self.month % 12 + 1, 1)

    @property
    def previous(self) -> Month:
        day = self.first - timedelta(days=1)
        return Month(day.year, day.month)

    @property
    def following(self) -> Month:
        return Month(self.next_first.year, self.next_first.month)

    def mondays(self) -> list[date]:
        """The Mondays in the month: a week belongs to the month its Monday falls in."""
        day = self.first + timedelta(days=-self.first.weekday() % 7)
        return [day + timedelta(weeks=n) for n in range(6) if day + timedelta(weeks=n) < self.next_first]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, timezone.get_default_timezone())


def _periods(period: str, month: Month, today: date) -> list[date]:
    """The plan periods (by their first day) that belong to ``month`` and have begun by ``today``."""
    if period == Period.DAY:
        days = [month.first + timedelta(days=n) for n in range((month.next_first - month.first).days)]
    elif period == Period.MONTH:
        days = [month.first]
    else:
        days = month.mondays()
    return [d for d in days if d <= today]


def _period_of(day: date, period: str) -> date:
    if period == Period.DAY:
        return day
    if period == Period.MONTH:
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())


# --- the figures --------------------------------------------------------------------------------
@dataclass
class Share:
    """``done`` of ``due``; no rate when nothing was due."""

    done: int = 0
    due: int = 0

    @property
    def rate(self) -> float | None:
        return self.done / self.due if self.due else None


@dataclass
class Response(Share):
    """Answers within the duty rule's limit (``done``) of those due; ``minutes`` are the worker's own."""

    minutes: list[float] = field(default_factory=list)

    @property
    def median_minutes(self) -> float | None:
        return round(statistics.median(self.minutes), 1) if self.minutes else None


@dataclass
class Post:
    grid_id: int
    grid_code: str
    grid_name: str
    post: str


@dataclass
class WorkerRow:
    user_id: int
    username: str
    name: str
    posts: list[Post] = field(default_factory=list)
    patrols: int = 0
    patrol_seconds: int = 0
    rounds_made: int = 0  # rounds long enough to count, however many per period
    rounds: Share = field(default_factory=Share)  # per period at most the plan's number, of the plan's
    coverage: float | None = None  # mean weekly coverage of the worker's grids
    coverage_score: float | None = None  # mean of min(1, weekly coverage ÷ the plan's target)
    places: Share = field(default_factory=Share)
    reports: int = 0
    reports_invalid: int = 0
    valid_reports: Share = field(default_factory=Share)  # valid of decided reports
    verify: Share = field(default_factory=Share)
    check: Share = field(default_factory=Share)
    task_response: Response = field(default_factory=Response)
    resident_response: Response = field(default_factory=Response)
    score: float | None = None
    grade: str = ""

    @property
    def patrol_hours(self) -> float:
        return round(self.patrol_seconds / 3600, 1)

    @property
    def reports_pending(self) -> int:
        return self.reports - self.valid_reports.due

    def item(self, key: str) -> float | None:
        """The share (0–1) of a scored item."""
        if key == "patrol":
            return self.coverage_score
        return getattr(self, {"verify_on_time": "verify", "check_on_time": "check"}.get(key, key)).rate


@dataclass
class Assessment:
    month: Month
    rows: list[WorkerRow]
    weights: dict[str, float]
    limits: dict[str, Limit]


# --- configuration ------------------------------------------------------------------------------
def weights() -> dict[str, float]:
    """The composite's weights (settings.ASSESSMENT_WEIGHTS), checked."""
    found = dict(settings.ASSESSMENT_WEIGHTS)
    unknown = sorted(set(found) - set(ITEMS))
    if unknown or any(w < 0 for w in found.values()) or not any(found.values()):
        raise ImproperlyConfigured(
            f"CIVICGRID_ASSESSMENT_WEIGHTS: give item:weight pairs (weights ≥ 0, not all 0) for items of "
            f"{', '.join(ITEMS)}; unknown: {', '.join(unknown) or 'none'}"
        )
    return {k: w for k, w in found.items() if w > 0}


def response_limits() -> dict[str, Limit]:
    """The two responses' limits from their duty rules (八定一轮两响应), or the shipped defaults
    (patrol/defaults.py) when a rule's row is missing or its figure cannot be read as a limit."""
    shipped = {code: (value, unit) for code, _t, _x, value, unit in defaults.DUTY_RULES}
    codes = {"task": defaults.RESPONSE_TASK, "resident": defaults.RESPONSE_RESIDENT}
    rows = {r.code: (r.value, r.unit) for r in DutyRule.objects.filter(code__in=codes.values())}
    found = {}
    for key, code in codes.items():
        try:
            value, unit = rows[code]
            found[key] = parse_limit(f"{value:g}{unit}")
        except KeyError:
            found[key] = parse_limit(f"{shipped[code][0]:g}{shipped[code][1]}")
        except (TypeError, ValueError):
            log.warning("duty rule %s: %r %r is not a time limit; the default applies", code, value, unit)
            found[key] = parse_limit(f"{shipped[code][0]:g}{shipped[code][1]}")
    return found


class _Plans:
    """Each grid's patrol plan (its own, else the default row, else the shipped default) and the
    visits each key place needs per period."""

    def __init__(self, grid_ids: set[int]):
        rows = PatrolPlan.objects.filter(Q(grid__isnull=True) | Q(grid_id__in=grid_ids))
        plans = {p.grid_id: p for p in rows}
        self.default = plans.pop(None, None) or PatrolPlan(**defaults.PLAN)
        self.own = plans
        self.rules: dict[int, dict[str, int]] = defaultdict(dict)
        ids = [p.pk for p in (self.default, *plans.values()) if p.pk]
        for plan_id, kind, visits in PlaceRule.objects.filter(plan_id__in=ids).values_list(
            "plan_id", "kind", "visits_per_period"
        ):
            self.rules[plan_id][kind] = visits

    def of(self, grid_id: int) -> PatrolPlan:
        return self.own.get(grid_id, self.default)

    def visits(self, grid_id: int, kind: str, own: int | None) -> int:
        if own is not None:
            return own
        plan = self.of(grid_id)
        for rules in (self.rules.get(plan.pk), self.rules.get(self.default.pk), defaults.PLACE_RULES):
            if rules and kind in rules:
                return rules[kind]
        return 1


# --- who sees whom ------------------------------------------------------------------------------
def _visible_workers(scope: Scope, month: Month, region: str) -> list[int]:
    """The workers assessed this month whom the reader may see: those posted to an area role's
    grids (the grid chief's community, a street, the district) or to a chief post's grids; a grid
    worker sees only themselves. Anyone else is refused."""
    posts = GridStaffing.objects.filter(post__in=ASSESSED_POSTS, start__lt=month.next_first).filter(
        Q(end__isnull=True) | Q(end__gte=month.first)
    )
    if scope.user_id is None:
        raise DomainError("assessment_forbidden", _("The assessment is not part of your work."), status=403)
    today = timezone.localdate()
    chief_grids = set(
        GridStaffing.objects.filter(user_id=scope.user_id, post=GridPost.CHIEF, start__lte=today)
        .filter(Q(end__isnull=True) | Q(end__gte=today))
        .values_list("grid_id", flat=True)
    )
    area = scope.has_role(*AREA_ROLES)
    if not area and not chief_grids and not scope.has_role(Role.GRID_WORKER):
        raise DomainError("assessment_forbidden", _("The assessment is not part of your work."), status=403)
    if not (area and scope.everything):
        grids = (scope.region_ids if area else frozenset()) | chief_grids
        posts = posts.filter(Q(grid_id__in=grids) | Q(user_id=scope.user_id))
    if region:
        found = Region.objects.filter(code=region).values_list("id", flat=True).first()
        if found is None:
            raise NotFound("unknown_region", _("There is no region %(c)s.") % {"c": region})
        posts = posts.filter(grid_id__in=region_subtrees({found})[0])
    return list(posts.values_list("user_id", flat=True).distinct())


# --- the computation ----------------------------------------------------------------------------
def assessment(*, scope: Scope, month: Month, region: str = "", username: str = "", now=None) -> Assessment:
    """The month's figures for every worker the reader may see (or the one named), by grid code."""
    now = now or timezone.now()
    today = timezone.localtime(now, timezone.get_default_timezone()).date()
    workers = set(_visible_workers(scope, month, region))
    if username:
        user_id = (
            GridStaffing.objects.filter(user__username=username, user_id__in=workers)
            .values_list("user_id", flat=True)
            .first()
        )
        if user_id is None:
            missing = NotFound("worker_not_found", _("No grid worker %(u)s in your scope.") % {"u": username})
            if GridStaffing.objects.filter(user__username=username, post__in=ASSESSED_POSTS).exists():
                raise OutOfScope(
                    missing.code, missing.message, object_type="accounts.user", object_id=username
                )
            raise missing
        workers = {user_id}
    in_month = GridStaffing.objects.filter(post__in=ASSESSED_POSTS, start__lt=month.next_first).filter(
        Q(end__isnull=True) | Q(end__gte=month.first)
    )
    posts = list(
        in_month.filter(grid_id__in=in_month.filter(user_id__in=workers).values("grid_id"))
        .order_by("grid__code", "post", "user__username")
        .values_list(
            "user_id", "grid_id", "grid__code", "grid__name", "post", "user__username", "user__display_name"
        )
    )
    rows: dict[int, WorkerRow] = {}
    owners: dict[int, set[int]] = defaultdict(set)  # grid → every assessed worker posted there
    for user_id, grid_id, code, name, post, username_, display in posts:
        owners[grid_id].add(user_id)
        if user_id in workers:
            row = rows.setdefault(user_id, WorkerRow(user_id, username_, display or username_))
            if all(p.grid_id != grid_id for p in row.posts):
                row.posts.append(Post(grid_id, code, name, post))
    grids = {p.grid_id for r in rows.values() for p in r.posts}
    plans = _Plans(grids)
    found_limits = response_limits()
    window = _Window(month, today, plans, rows, grids)
    window.patrols()
    window.coverage()
    window.places()
    _reports(rows, month)
    _stages(rows, owners, month, now, found_limits)
    used = weights()
    for row in rows.values():
        row.score, row.grade = composite(row, used)
    ordered = sorted(rows.values(), key=lambda r: (r.posts[0].grid_code, r.posts[0].post, r.username))
    return Assessment(month=month, rows=ordered, weights=used, limits=found_limits)


def composite(row: WorkerRow, used: dict[str, float]) -> tuple[float | None, str]:
    """Σ weight × share ÷ Σ weight over the items that have a share this month (× 100), and its
    grade. An item with nothing due (no reports decided, no stages) is left out, not scored 0."""
    scored = [(w, row.item(k)) for k, w in used.items() if row.item(k) is not None]
    if not scored:
        return None, ""
    score = round(100 * sum(w * v for w, v in scored) / sum(w for w, _v in scored), 1)
    return score, next(g for floor, g in GRADES if score >= floor)


class _Window:
    """The patrol figures. A plan's period belongs to the month its first day falls in (a week to
    the month of its Monday), so the rows read run from the 1st to the end of the last such week."""

    def __init__(self, month: Month, today: date, plans: _Plans, rows: dict[int, WorkerRow], grids: set[int]):
        self.month, self.today, self.plans, self.rows, self.grids = month, today, plans, rows, grids
        last = max(month.next_first, month.mondays()[-1] + timedelta(days=7))
        self.start, self.end = _midnight(month.first), _midnight(last)
        self.posted = {(r.user_id, p.grid_id) for r in rows.values() for p in r.posts}
        self.periods = {g: set(_periods(plans.of(g).period, month, today)) for g in grids}
        self.tz = timezone.get_default_timezone()

    def _day(self, at: datetime) -> date:
        return timezone.localtime(at, self.tz).date()

    def patrols(self) -> None:
        query = Patrol.objects.filter(
            state=PatrolState.ENDED,
            started_at__gte=self.start,
            started_at__lt=self.end,
            grid_id__in=self.grids,
        )
        made: dict[tuple[int, int, date], int] = defaultdict(int)
        for worker_id, grid_id, started_at, seconds in query.values_list(
            "worker_id", "grid_id", "started_at", "duration_s"
        ):
            if (worker_id, grid_id) not in self.posted:
                continue
            plan = self.plans.of(grid_id)
            period = _period_of(self._day(started_at), plan.period)
            if period not in self.periods[grid_id]:
                continue
            row = self.rows[worker_id]
            row.patrols += 1
            row.patrol_seconds += seconds
            if seconds >= plan.min_minutes * 60:
                row.rounds_made += 1
                made[worker_id, grid_id, period] += 1
        for worker_id, grid_id in self.posted:
            plan = self.plans.of(grid_id)
            rounds = self.rows[worker_id].rounds
            for period in self.periods[grid_id]:
                rounds.due += plan.rounds_per_period
                rounds.done += min(made[worker_id, grid_id, period], plan.rounds_per_period)

    def coverage(self) -> None:
        weeks = [m for m in self.month.mondays() if m <= self.today]
        found = {
            (w, g, week): value
            for w, g, week, value in CoverageWeek.objects.filter(
                week__in=weeks, grid_id__in=self.grids
            ).values_list("worker_id", "grid_id", "week", "coverage")
        }
        sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
        for worker_id, grid_id in self.posted:
            target = self.plans.of(grid_id).coverage_target
            for week in weeks:
                value = found.get((worker_id, grid_id, week), 0.0)  # a week without patrols covers nothing
                acc = sums[worker_id]
                acc[0] += value
                acc[1] += min(1.0, value / target) if target > 0 else 1.0
                acc[2] += 1
        for worker_id, (total, attained, n) in sums.items():
            if n:
                self.rows[worker_id].coverage = total / n
                self.rows[worker_id].coverage_score = attained / n

    def places(self) -> None:
        places = {
            pk: (grid_id, self.plans.visits(grid_id, kind, own))
            for pk, grid_id, kind, own in KeyPlace.objects.filter(
                active=True, grid_id__in=self.grids
            ).values_list("pk", "grid_id", "kind", "visits_per_period")
        }
        visits: dict[tuple[int, int, date], int] = defaultdict(int)
        query = CheckIn.objects.filter(
            accepted=True, at__gte=self.start, at__lt=self.end, place_id__in=list(places)
        ).values_list("worker_id", "place_id", "at")
        for worker_id, place_id, at in query:
            grid_id = places[place_id][0]
            if (worker_id, grid_id) in self.posted:
                visits[worker_id, place_id, _period_of(self._day(at), self.plans.of(grid_id).period)] += 1
        by_grid: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for pk, (grid_id, required) in places.items():
            by_grid[grid_id].append((pk, required))
        for worker_id, grid_id in self.posted:
            share = self.rows[worker_id].places
            for period in self.periods[grid_id]:
                for pk, required in by_grid[grid_id]:
                    share.due += required
                    share.done += min(visits[worker_id, pk, period], required)


def _reports(rows: dict[int, WorkerRow], month: Month) -> None:
    """Cases each worker reported in the month (the report event's actor, as a grid worker)."""
    query = (
        CaseEvent.objects.filter(
            seq=1,
            at__gte=_midnight(month.first),
            at__lt=_midnight(month.next_first),
            actor_role=Role.GRID_WORKER,
            actor_id__in=list(rows),
        )
        .order_by()
        .values("actor_id")
        .annotate(
            made=Count("id"),
            valid=Count("id", filter=~Q(case__state__in=(*UNDECIDED, CaseState.VOIDED))),
            invalid=Count("id", filter=Q(case__state=CaseState.VOIDED)),
        )
    )
    for found in query:
        row = rows[found["actor_id"]]
        row.reports, row.reports_invalid = found["made"], found["invalid"]
        row.valid_reports = Share(found["valid"], found["valid"] + found["invalid"])


def _stages(rows, owners, month: Month, now: datetime, found_limits: dict[str, Limit]) -> None:
    """Verifications and checks on time, and the two responses. A stage is the worker's when its
    case lies in a grid they are posted to and it began in the month; see docs/assessment.md for
    who owns a stage that a colleague, the chief or nobody finished."""
    start, end = _midnight(month.first), _midnight(month.next_first)
    entries = (
        CaseEvent.objects.filter(
            at__gte=start, at__lt=end, to_state__in=list(STAGES), case__grid_id__in=list(owners)
        )
        .exclude(from_state=F("to_state"))
        .order_by()
    )
    entry_rows = list(
        entries.values_list(
            "case_id",
            "seq",
            "to_state",
            "at",
            "case__grid_id",
            "case__channel",
            "case__state",
            "case__stage_deadline",
        )
    )
    cases = entries.values("case_id")
    exits: dict[int, list[tuple]] = defaultdict(list)
    # The move's own verdict (data.late, set by workflow.apply_move) read in SQL: decoding each
    # event's JSON in Python was a sixth of the run (bench/bench_assessment.py).
    late = Case(When(data__late=True, then=Value(True)), default=Value(False), output_field=BooleanField())
    for case_id, seq, state, action, actor_id, at, was_late in (
        CaseEvent.objects.filter(case_id__in=cases, from_state__in=list(STAGES), at__gte=start)
        .exclude(to_state=F("from_state"))
        .order_by("case_id", "seq")
        .values_list("case_id", "seq", "from_state", "action", "actor_id", "at", late)
    ):
        exits[case_id].append((seq, state, action, actor_id, at, was_late))
    notes: dict[int, list[tuple[int, datetime]]] = defaultdict(list)  # a worker's word while verifying
    for case_id, actor_id, at in (
        CaseEvent.objects.filter(
            case_id__in=cases, action=Action.NOTE, from_state=CaseState.VERIFYING, actor_role=Role.GRID_WORKER
        )
        .order_by("case_id", "seq")
        .values_list("case_id", "actor_id", "at")
    ):
        notes[case_id].append((actor_id, at))
    cal = limits.calendar()
    for case_id, seq, state, began, grid_id, channel, case_state, deadline in entry_rows:
        staff = owners[grid_id]
        out = next((e for e in exits[case_id] if e[0] > seq and e[1] == state), None)
        voided = out is not None and out[2] in (Action.VOID, Action.MERGE)
        if state == CaseState.VERIFYING and channel in RESIDENT_CHANNELS:
            answer = _answer(staff, notes[case_id], out)
            limit_at = cal.add(began, found_limits["resident"])
            _resident(rows, staff, answer, began, limit_at, now, out[4] if voided else None)
        if voided:
            continue  # voided while waiting: nothing was left to verify or check
        if out is None and (case_state != state or deadline is None or deadline > now):
            continue  # still running and not yet late
        done_by = out[3] if out is not None and out[3] in staff else None
        respond_by = cal.add(began, found_limits["task"])
        for worker_id in [done_by] if done_by else staff:
            row = rows.get(worker_id)
            if row is None:
                continue  # a colleague outside this table
            share = row.verify if state == CaseState.VERIFYING else row.check
            share.due += 1
            row.task_response.due += 1
            if done_by:
                share.done += int(not out[5])
                row.task_response.done += int(out[4] <= respond_by)
                row.task_response.minutes.append((out[4] - began).total_seconds() / 60)


def _answer(staff: set[int], notes, out) -> tuple[datetime, int] | None:
    """The first word or move on a resident's report by a worker of its grid while it awaited
    verification: (when, who), or None."""
    answers = [(at, actor) for actor, at in notes if actor in staff]
    if out is not None and out[2] == Action.VERIFY and out[3] in staff:
        answers.append((out[4], out[3]))
    return min(answers) if answers else None


def _resident(rows, staff, answer, reported: datetime, limit_at: datetime, now: datetime, voided_at) -> None:
    """An answered report is its answerer's; an unanswered one counts against every worker of the
    grid once the limit has passed — unless the centre voided it within the limit."""
    if answer is not None:
        at, worker_id = answer
        row = rows.get(worker_id)
        if row is not None:
            row.resident_response.due += 1
            row.resident_response.done += int(at <= limit_at)
            row.resident_response.minutes.append((at - reported).total_seconds() / 60)
        return
    if now < limit_at or (voided_at is not None and voided_at <= limit_at):
        return
    for worker_id in staff:
        if worker_id in rows:
            rows[worker_id].resident_response.due += 1
