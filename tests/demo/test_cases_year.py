"""The demo year: the bulk path gives exactly what the services give for the same plans, it is
deterministic and idempotent, and its mix looks like a district's year."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from civicgrid.cases import limits, numbering, services
from civicgrid.cases.models import Case, CaseCounter, CaseEvent, CaseState
from civicgrid.cases.replay import case_replay_differences
from civicgrid.cases.workflow import Action
from civicgrid.demo import cases_plan, cases_year
from civicgrid.demo.cases_plan import REPORTER

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
SEED = 7


@pytest.fixture
def year_demo(demo_staff):
    limits.forget()
    yield demo_staff
    limits.forget()


def _quiet(_line: str) -> None:
    pass


def _load(cases: int, *, seed: int = SEED) -> cases_year.YearResult:
    return cases_year.load_year(cases=cases, seed=seed, now=NOW, progress=_quiet, workers=1)


def _snapshot(*, with_codes: bool = False) -> list[dict]:
    """Every case with its events and units as plain values (no ids; tracking codes on request)."""
    skip = {"id"} if with_codes else {"id", "tracking_code"}
    rows = []
    for case in Case.objects.order_by("number"):
        row = {
            f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields if f.attname not in skip
        }
        row["reporter_name"] = case.reporter_name and case.reporter_name.reveal()
        row["reporter_phone"] = case.reporter_phone and case.reporter_phone.reveal()
        row["events"] = list(
            case.events.order_by("seq").values(
                "seq",
                "action",
                "from_state",
                "to_state",
                "actor_id",
                "actor_role",
                "at",
                "note",
                "lon",
                "lat",
                "data",
            )
        )
        row["units"] = sorted(case.units.values_list("department_id", "lead"))
        rows.append(row)
    return rows


def _snapshot_and_roll_back(load) -> list[dict]:
    with transaction.atomic():
        load()
        rows = _snapshot(with_codes=True)
        transaction.set_rollback(True)
    assert not Case.objects.exists() and not CaseCounter.objects.exists()
    return rows


def _through_services(n: int, monkeypatch) -> None:
    """The same plans, step by step through the services, the clock frozen at each step's time."""
    ctx = cases_year.Context(now=NOW, seed=SEED)
    ctx.preload()  # the actors' scopes are today's, not those of the frozen days
    clock = {"at": NOW}
    monkeypatch.setattr(timezone, "now", lambda: clock["at"])
    for plan in cases_plan.plan_year(ctx.world, n=n, seed=SEED):
        clock["at"] = plan.created_at
        created = services.case_create(
            actor=ctx.cast.reporter(plan, ctx.region_ids[plan.grid]),
            data=ctx.intake(plan),
            idempotency_key=f"{cases_year.KEY_PREFIX}{plan.index:07d}",
            submitted_by=cases_year.SUBMITTER,
        )
        for step in plan.steps:
            clock["at"] = step.at
            case = Case.objects.get(pk=created.case.pk)
            actor = ctx.cast.by(step.by, case, plan)
            services.case_move(
                actor=actor,
                number=case.number,
                action=step.action,
                version=case.version,
                note=step.note,
                data=dict(step.data) if step.data else None,
                # A resident rating by the tracking link sees no case list; the page hands it over.
                case=case if step.by == REPORTER and actor.user_id is None else None,
            )


@pytest.fixture
def eventful(monkeypatch):
    """Make the rare paths common, so a few dozen cases take every kind of step."""
    for name, value in {
        "P_VOID_VERIFY": 0.1,
        "P_VOID_REGISTER": 0.06,
        "P_RETURN": 0.2,
        "P_CO_DEPARTMENT": 0.2,
        "P_SUSPEND": 0.12,
        "P_PAUSE": 0.15,
        "P_EXTEND": 0.25,
        "P_EXTEND_APPROVED": 0.6,
        "P_REWORK": 0.2,
        "P_RATED": 0.8,
    }.items():
        monkeypatch.setattr(cases_plan, name, value)
    monkeypatch.setattr(cases_plan, "P_LATE", dict.fromkeys(cases_plan.P_LATE, 0.12))


def test_the_bulk_path_writes_what_the_services_write(year_demo, eventful, monkeypatch):
    n = 60
    bulk = _snapshot_and_roll_back(lambda: _load(n))
    assert len(bulk) == n
    actions = {e["action"] for row in bulk for e in row["events"]}
    rare = {Action.VOID, Action.RETURN, Action.CHECK_FAIL, Action.SUSPEND, Action.RESUME, Action.PAUSE}
    rare |= {Action.UNPAUSE, Action.EXTEND_APPROVE, Action.EXTEND_REJECT, Action.RATE, Action.VERIFY}
    assert rare <= actions, f"the plans did not exercise {rare - actions}"
    assert any(row["late_stages"] for row in bulk) and any(len(row["units"]) > 1 for row in bulk)

    _through_services(n, monkeypatch)
    served = _snapshot()
    assert [r["number"] for r in served] == [r["number"] for r in bulk]
    for mine, theirs in zip(bulk, served, strict=True):
        mine = {k: v for k, v in mine.items() if k != "tracking_code"}
        assert mine == theirs, f"case {mine['number']} differs: {_difference(mine, theirs)}"


def _difference(bulk: dict, served: dict) -> list:
    found = [(k, bulk[k], served[k]) for k in bulk if k != "events" and bulk[k] != served[k]]
    for mine, theirs in zip(bulk["events"], served["events"], strict=False):
        found += [(mine["seq"], k, mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]]
    return found


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows(year_demo):
    first = _snapshot_and_roll_back(lambda: _load(40))
    again = _snapshot_and_roll_back(lambda: _load(40))
    other = _snapshot_and_roll_back(lambda: _load(40, seed=SEED + 1))
    assert first == again
    assert [r["title"] for r in first] != [r["title"] for r in other]
    codes = [r["tracking_code"] for r in first]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == 10 and set(c) <= set(numbering.CODE_ALPHABET) for c in codes)


def test_numbers_follow_the_day_counter_and_the_services_continue_it(year_demo):
    _load(40)
    numbers = list(Case.objects.order_by("created_at", "id").values_list("number", "created_at"))
    for number, created in numbers:
        assert number.startswith(f"320102-{timezone.localtime(created):%Y%m%d}-")
    last = numbers[-1][0]
    day = timezone.localtime(numbers[-1][1]).date()
    assert CaseCounter.objects.get(day=day).last == int(last[-6:])
    assert numbering.next_number("320102", day) == f"{last[:-6]}{int(last[-6:]) + 1:06d}"


def test_the_command_adds_a_year_once_and_none_with_cases_0(year_demo):
    out = StringIO()
    call_command("demo", "--cases", "0", stdout=out)
    assert not Case.objects.exists()
    call_command("demo", "--cases", "25", stdout=out)
    assert "25 demo cases added" in out.getvalue() and "cases 25 / 25 (100%)" in out.getvalue()
    first = _snapshot(with_codes=True)
    out = StringIO()
    call_command("demo", "--cases", "25", stdout=out)
    assert "Demo cases already loaded" in out.getvalue()
    assert _snapshot(with_codes=True) == first


def test_a_year_of_2000_cases_looks_like_a_district_year(year_demo):
    n = 2000
    result = _load(n)
    assert result.added == n
    cases = list(Case.objects.all())
    state = Counter(c.state for c in cases)
    closed = [c for c in cases if c.state == CaseState.CLOSED]

    def share(items, test) -> float:
        return sum(1 for c in items if test(c)) / len(items)

    assert 0.85 < state[CaseState.CLOSED] / n < 0.95
    assert 0.03 < state[CaseState.VOIDED] / n < 0.09
    assert 0.015 < share(cases, lambda c: c.return_count) < 0.05
    assert 0.02 < share(cases, lambda c: c.rework_count) < 0.07
    assert 0.015 < share(cases, lambda c: c.extension_count) < 0.05
    assert 0.04 < share(cases, lambda c: c.late_stages) < 0.14  # most on time, some late
    rated = [c for c in closed if c.satisfaction]
    assert 0.52 < len(rated) / len(closed) < 0.68
    satisfaction = Counter(c.satisfaction for c in rated)
    assert 0.7 < satisfaction["satisfied"] / len(rated) < 0.9
    assert 0.01 < satisfaction["dissatisfied"] / len(rated) < 0.1
    channels = Counter(c.channel for c in cases)
    assert channels.most_common(1)[0][0] == "grid_worker"
    assert {"phone", "resident", "walk_in", "leader"} <= set(channels)
    classes = Counter(c.case_class.code for c in cases if c.case_class_id)
    assert classes.most_common(1)[0][0] in {"E0102", "E0502", "E0201"}  # refuse, vending, flyers
    # Weekdays busier than weekends; the newest cases still open, some of them overdue now.
    local = [timezone.localtime(c.created_at) for c in cases]
    per_day = Counter(d.weekday() < 5 for d in local)
    assert per_day[True] / 5 > 1.3 * per_day[False] / 2
    still_open = [c for c in cases if c.is_open]
    assert sum(NOW - c.created_at < timedelta(days=30) for c in still_open) > len(still_open) / 2
    assert any(c.stage_deadline and c.stage_deadline < NOW and c.paused_at is None for c in still_open)
    assert max(c.created_at for c in cases) < NOW
    # Every event is before "now", and the rules replay every case from its events alone.
    assert not CaseEvent.objects.filter(at__gt=NOW).exists()
    for case in Case.objects.select_related("case_class").order_by("id")[:300]:
        assert case_replay_differences(case) == {}, case.number
