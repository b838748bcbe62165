"""The indicator table per kind of unit on cases made through the services and rolled up, and who
sees which units: a street its street, a department its own cases, a resident nothing."""

from __future__ import annotations

import pytest
from django.db.models import Count

from civicgrid.accounts.models import Department
from civicgrid.cases.models import Case
from civicgrid.errors import DomainError, NotFound
from civicgrid.insight import rollups
from civicgrid.insight.indicator_tables import grid_index, indicator_table, period_parse
from civicgrid.regions.models import Region

from ..cases.conftest import actor, local
from ..cases.steps import (
    GRID_A,
    GRID_A2,
    GRID_B,
    GW_A,
    GW_B,
    STREET_A,
    STREET_B,
    Frozen,
    S,
    do,
    doer,
    handler_of,
    walk,
)

MARCH = period_parse(month="2026-03")


@pytest.fixture
def month(idemo, monkeypatch):
    """Six cases of March 2026 in three grids of two streets, rolled up:

    GRID_A (street A): closed and rated satisfied; being handled and past its deadline; voided.
    GRID_A2 (street A): dispatched (私搭乱建). GRID_B (street B): closed (施工占道, another
    department), registered."""
    clock = Frozen(monkeypatch, local(2026, 3, 9, 9, 0))
    closed = walk(S.CLOSED, grid=GRID_A)
    do(doer("rate", closed), closed, "rate")
    late = walk(S.HANDLING, grid=GRID_A)  # 1 working day to handle
    walk(S.VOIDED, grid=GRID_A)
    walk(S.DISPATCHED, grid=GRID_A2, case_class="E0101")
    other = walk(S.HANDLING, grid=GRID_B, case_class="E0302")
    do(handler_of(other), other, "feedback")
    do(GW_B, other, "check_pass")  # the steps' doer checks as GRID_A's worker
    do(doer("close", other), other, "close")
    walk(S.REGISTERED, grid=GRID_B)
    late.refresh_from_db()
    clock.to(local(2026, 3, 12, 9, 0))
    assert late.stage_deadline < local(2026, 3, 12, 9, 0)
    rollups.rebuild()
    return {"closed": closed, "late": late, "other": other}


def _table(username: str, unit: str):
    return indicator_table(scope=actor(username).scope, unit=unit, period=MARCH)


def _by_code(table) -> dict:
    return {line.code: line for line in table.lines}


def _code(region_id: int) -> str:
    return Region.objects.get(pk=region_id).code


def test_the_street_table_counts_each_street_as_by_hand(month):
    street_a, street_b = (_code(month[k].street_id) for k in ("closed", "other"))
    lines = _by_code(_table("operator", "street"))
    assert set(lines) == {street_a, street_b}
    a, b = lines[street_a], lines[street_b]
    # Street A: 4 reports, 3 registered (the voided one is not), 3 dispatched, 1 handled and closed,
    # 2 overdue awaiting handling; one follow-up, satisfied.
    assert {m: a.figures[m] for m in ("cases", "registered", "dispatched", "handled", "closed")} == {
        "cases": 4,
        "registered": 3,
        "dispatched": 3,
        "handled": 1,
        "closed": 1,
    }
    rates = {c.code: c for c in a.cells}
    assert rates["closure"].value == pytest.approx(1 / 3)
    assert (rates["closure"].numerator, rates["closure"].denominator) == (1, 3)
    # Overdue awaiting handling: the case being handled and the one still awaiting acceptance,
    # both past their stage's deadline on the 12th.
    assert rates["overdue_pending"].value == pytest.approx(2 / 3)
    assert rates["valid_reports"].value == pytest.approx(3 / 4)
    assert rates["satisfaction"].value == 1.0 and a.hotline.value == 100
    # Street B: nobody was asked about anything, so its 12345 rates have no data.
    b_rates = {c.code: c for c in b.cells}
    assert b_rates["closure"].value == pytest.approx(1 / 2)
    assert b_rates["response"].value is None and b_rates["response"].denominator == 0
    assert b.hotline.value is None and b.hotline.grade == ""
    # Ranked by the composite score; each name opens the street's cases of the month.
    assert [line.rank for line in _table("operator", "street").lines] == [1, 2]
    assert a.link == f"/cases/list/?region={street_a}&date_from=2026-03-01&date_to=2026-03-31"


def test_every_unit_kind_sums_to_the_cases(month):
    total = Case.objects.count()
    for unit in ("district", "street", "community", "grid", "department", "person"):
        lines = _table("operator", unit).lines
        # A case counts for one unit of each kind; one not yet dispatched has no department.
        expected = Case.objects.filter(department__isnull=False).count() if unit == "department" else total
        assert sum(line.figures["cases"] for line in lines) == expected, unit
    grids = _by_code(_table("operator", "grid"))
    assert {code: line.figures["cases"] for code, line in grids.items()} == {GRID_A: 3, GRID_A2: 1, GRID_B: 2}
    assert grids[GRID_A].grid_index is not None
    assert grids[GRID_A].index_link == f"/command/grids/{GRID_A}/index/?month=2026-03"
    departments = dict(Case.objects.values_list("department__code").annotate(n=Count("id")))
    departments.pop(None, None)
    lines = _by_code(_table("operator", "department"))
    assert {code: line.figures["cases"] for code, line in lines.items()} == departments
    people = _by_code(_table("operator", "person"))
    assert people[GW_A].figures["worker_reports"] == 3 and people[GW_A].figures["worker_valid"] == 2
    assert people[GW_A].link.startswith("/cases/list/?channel=grid_worker&region=" + GRID_A)


def test_a_street_operator_sees_only_their_streets_units(month):
    street_a = _code(month["closed"].street_id)
    assert set(_by_code(_table(STREET_A, "street"))) == {street_a}
    assert set(_by_code(_table(STREET_A, "grid"))) == {GRID_A, GRID_A2}
    assert set(_by_code(_table(STREET_B, "grid"))) == {GRID_B}
    # By department too, only the street's own cases count.
    seen = _table(STREET_A, "department").lines
    assert sum(line.figures["cases"] for line in seen) == 4 - 1  # the voided one went to nobody


def test_a_department_sees_only_its_own_cases(month):
    handler = handler_of(month["other"])
    own = Department.objects.get(pk=month["other"].department_id)
    assert month["closed"].department_id != own.pk
    assert set(_by_code(_table(handler, "department"))) == {own.code}
    grids = _by_code(_table(handler, "grid"))
    assert set(grids) == {GRID_B} and grids[GRID_B].figures["cases"] == 1  # not the registered one


@pytest.mark.parametrize("who", ["resident1", GW_A, "deputy-320102002", "auditor", "admin"])
def test_residents_grid_workers_deputies_and_administrators_get_no_indicators(month, who):
    with pytest.raises(DomainError) as refused:
        _table(who, "street")
    assert (refused.value.code, refused.value.status) == ("indicators_forbidden", 403)


def test_persons_figures_are_for_those_who_manage_grid_workers(month):
    assert set(_by_code(_table(STREET_A, "person"))) == {GW_A, f"gw-{GRID_A2}"}
    assert set(_by_code(_table("chief-320102002001", "person"))) == {GW_A, f"gw-{GRID_A2}"}
    with pytest.raises(DomainError) as refused:
        _table(handler_of(month["other"]), "person")
    assert (refused.value.code, refused.value.status) == ("indicators_forbidden", 403)


def test_a_grids_index_explains_itself_item_by_item(month):
    found = grid_index(scope=actor("operator").scope, code=GRID_A, period=MARCH)
    items = {item.code: item for item in found.items}
    # Grid A: 2 registered, 1 closed, 1 overdue of 2 dispatched; no patrols, so patrol
    # coverage has no data and is left out.
    assert items["closure"].numerator == 1 and items["closure"].denominator == 2
    assert items["overdue_pending"].value == 0.5
    assert items["patrol_coverage"].value is None and items["patrol_coverage"].share == 0
    assert items["overdue_pending"].lower_is_better and items["overdue_pending"].formula.startswith("1 − ")
    with_data = [i for i in found.items if i.value is not None]
    assert sum(i.share for i in with_data) == pytest.approx(1)
    assert found.score.value == pytest.approx(sum(i.points for i in with_data), abs=0.02)
    assert found.score.grade and found.link.endswith(
        f"region={GRID_A}&date_from=2026-03-01&date_to=2026-03-31"
    )
    closed = items["closure"].numerator_parts[0]
    assert closed.measure == "closed" and "state=closed" in closed.link
    assert "overdue=1" in items["overdue_pending"].numerator_parts[0].link


def test_a_grid_outside_the_readers_street_is_not_found(month):
    with pytest.raises(NotFound) as refused:
        grid_index(scope=actor(STREET_A).scope, code=GRID_B, period=MARCH)
    assert refused.value.code == "unknown_grid"
    with pytest.raises(NotFound):
        grid_index(scope=actor("operator").scope, code="nope", period=MARCH)
    # A department reads any grid's index, counted from its own cases only.
    handler = handler_of(month["other"])
    found = grid_index(scope=actor(handler).scope, code=GRID_A, period=MARCH)
    assert all(not item.denominator for item in found.items) and found.score.value is None
