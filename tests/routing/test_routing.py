"""四级四事: level → first tier, handling at a grassroots tier, escalation (by hand and on overdue),
send down, who may do it and who may see it, and configuration taking effect."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest

from civicgrid.audit.models import AuditRecord
from civicgrid.cases import limits, selectors
from civicgrid.cases.models import Case, CaseEvent, CaseState, Tier
from civicgrid.cases.services import case_move
from civicgrid.cases.workflow import available_moves
from civicgrid.errors import DomainError, NotFound
from civicgrid.notifications.models import Notification
from civicgrid.routing import rules, services
from civicgrid.routing.models import LevelRoute, TierSetting
from civicgrid.routing.selectors import tier_case_list
from tests.cases.steps import (
    GRID_A,
    GRID_A2,
    GRID_B,
    GW_A,
    STREET_A,
    Frozen,
    do,
    everyone,
    point_in,
    snapshot,
)

from .conftest import BB_A, BL_A, OC_A, actor, family_case, local, report, tier

pytestmark = pytest.mark.usefixtures("cases_demo")
S = CaseState
ESCALATE, SEND_DOWN, RESOLVE = rules.ESCALATE, rules.SEND_DOWN, rules.RESOLVE


def refused(code: str, status: int, fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        fn(*args, **kwargs)
    assert (caught.value.code, caught.value.status) == (code, status), caught.value.message
    return caught.value


def actions(case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", flat=True))


def local_in(monkeypatch):
    return Frozen(monkeypatch, local(2026, 12, 1, 9, 0))  # a Tuesday, office hours


# --- level → first tier --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "expected", "state"),
    [
        ("family", Tier.BUILDING, S.HANDLING),
        ("neighbourhood", Tier.BUILDING, S.HANDLING),
        ("estate", Tier.ESTATE, S.HANDLING),
        ("community", Tier.COMMUNITY, S.HANDLING),
        ("street", Tier.STREET, S.REPORTED),
        ("district", Tier.STREET, S.REPORTED),
    ],
)
def test_it_routes_each_level_to_its_first_tier(level, expected, state):
    case = family_case(level=level)
    case.refresh_from_db()
    assert (case.level, case.tier, case.state) == (level, expected, state)
    first = CaseEvent.objects.get(case=case, seq=1)
    if expected == Tier.STREET:
        assert case.tier_deadline is None and "tier" not in first.data
    else:
        # The tier's clock is the case's handling clock; the report's event says where it went.
        assert case.tier_deadline == case.due_at == case.stage_deadline
        assert case.stage == "handle" and case.department_id is None
        assert first.data["tier"]["tier"] == expected


def test_it_keeps_the_ordinary_workflow_for_a_case_without_a_level():
    case = report(GW_A, point=point_in(GRID_A))
    case.refresh_from_db()
    assert (case.level, case.tier, case.state, case.tier_deadline) == ("street", "street", S.REPORTED, None)


def test_it_refuses_an_unknown_level():
    before = Case.objects.count()
    refused("unknown_level", 400, family_case, level="household")
    assert Case.objects.count() == before


def test_it_gives_the_building_tier_three_working_days(monkeypatch):
    clock = local_in(monkeypatch)
    case = family_case()
    case.refresh_from_db()
    # Tue 09:00 + 3 working days = Fri 09:00.
    assert case.tier_deadline == clock.at + timedelta(days=3)


# --- a 家庭事 handled at the building tier ---------------------------------------------------------


def test_it_lets_the_building_leader_resolve_a_family_matter_then_check_and_close():
    case = family_case()
    assert rules.available(case, actor(BL_A)) == [RESOLVE, ESCALATE]
    tier(BL_A, case, RESOLVE, reason="楼栋长上门调解,双方同意分摊维修费")
    assert (case.state, case.tier, case.tier_deadline, case.stage) == (
        S.CHECKING,
        Tier.BUILDING,
        None,
        "check",
    )
    event = CaseEvent.objects.get(case=case, action=RESOLVE)
    assert event.actor_role == "building_leader" and event.note.startswith("楼栋长上门调解")
    assert event.data["from_tier"] == event.data["to_tier"] == "building"
    assert event.data["meeting_form"] == "上门做工作" and event.data["auto"] is False
    assert event.seq == case.version
    # The check and closure follow as for any case.
    do(GW_A, case, "check_pass")
    do("shiftlead", case, "close")
    assert case.state == S.CLOSED
    assert actions(case) == ["report", RESOLVE, "check_pass", "close"]
    assert AuditRecord.objects.filter(action=f"case.{RESOLVE}", object_id=case.number).exists()
    # The grid worker who checks it was told it waits for them.
    assert Notification.objects.filter(case=case, kind="case.tier_resolved").exists()


def test_it_tells_the_building_leader_of_a_new_family_matter():
    case = family_case()
    leader = actor(BL_A).user_id
    assert Notification.objects.filter(case=case, user_id=leader, kind="case.new").exists()


def test_it_escalates_a_family_matter_on_overdue(monkeypatch):
    clock = local_in(monkeypatch)
    case = family_case()
    case.refresh_from_db()
    deadline = case.tier_deadline
    assert services.routing_sweep(now=deadline - timedelta(minutes=1)) == 0
    assert services.routing_sweep(now=deadline + timedelta(minutes=1)) == 1
    case.refresh_from_db()
    assert (case.tier, case.state) == (Tier.ESTATE, S.HANDLING)
    # The estate tier's five working days run from the escalation.
    assert case.tier_deadline == clock.at + timedelta(days=10, minutes=1)  # Fri 09:01 + 5wd: next Fri
    event = CaseEvent.objects.get(case=case, action=ESCALATE)
    assert event.data | {"clock": None, "deadline": None} == {
        "from_tier": "building",
        "to_tier": "estate",
        "reason": "deadline passed",
        "auto": True,
        "late": True,
        "clock": None,
        "deadline": None,
    }
    assert event.actor_id is None and event.seq == case.version == 2
    assert case.late_stages == 1
    # Idempotent: a second sweep finds nothing to do.
    assert services.routing_sweep(now=deadline + timedelta(minutes=2)) == 0
    assert actions(case) == ["report", ESCALATE]
    # The estate tier's owners were told and now see it; the building leader no longer does.
    assert Notification.objects.filter(
        case=case, kind="case.tier_escalated", user_id=actor(OC_A).user_id
    ).exists()
    assert case in tier_case_list(scope=actor(OC_A).scope)
    assert case not in tier_case_list(scope=actor(BL_A).scope)
    assert AuditRecord.objects.filter(action=f"case.{ESCALATE}", object_id=case.number, actor=None).exists()


def test_it_escalates_up_to_the_street_where_the_ordinary_workflow_takes_over(monkeypatch):
    local_in(monkeypatch)
    case = family_case()
    for expected in (Tier.ESTATE, Tier.COMMUNITY, Tier.STREET):
        case.refresh_from_db()
        assert services.routing_sweep(now=case.tier_deadline + timedelta(seconds=1)) == 1
        case.refresh_from_db()
        assert case.tier == expected
    assert (case.state, case.tier_deadline, case.due_at, case.stage) == (S.REPORTED, None, None, "register")
    assert services.routing_sweep(now=case.created_at + timedelta(days=365)) == 0
    do("shiftlead", case, "register", data={"case_class": "E0201"})
    do("operator", case, "dispatch")
    assert case.state == S.DISPATCHED and case.department_id is not None


def test_it_does_not_escalate_a_resolved_case(monkeypatch):
    local_in(monkeypatch)
    case = family_case()
    tier(BL_A, case, RESOLVE)
    assert services.routing_sweep(now=case.created_at + timedelta(days=60)) == 0
    assert case.tier == Tier.BUILDING


def test_a_reworked_case_runs_its_tier_clock_again(monkeypatch):
    clock = local_in(monkeypatch)
    case = family_case()
    tier(BL_A, case, RESOLVE)
    do(GW_A, case, "check_fail")
    assert (case.state, case.tier) == (S.HANDLING, Tier.BUILDING)
    assert case.tier_deadline == case.due_at == clock.at + timedelta(days=3)
    assert services.routing_sweep(now=case.tier_deadline + timedelta(seconds=1)) == 1


# --- manual moves and bad input ------------------------------------------------------------------


def test_it_escalates_by_hand_with_a_reason():
    case = family_case()
    tier(BL_A, case, ESCALATE, reason="涉及全楼公共管道,需业委会协调")
    assert (case.tier, case.state) == (Tier.ESTATE, S.HANDLING)
    event = CaseEvent.objects.get(case=case, action=ESCALATE)
    assert (
        event.data["auto"] is False and event.data["reason"] == event.note == "涉及全楼公共管道,需业委会协调"
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_it_refuses_an_escalation_without_a_reason(reason):
    case = family_case()
    before = snapshot(case)
    refused("reason_required", 400, tier, BL_A, case, ESCALATE, reason=reason)
    assert snapshot(case) == before


def test_it_refuses_a_reason_too_long():
    case = family_case()
    refused("text_too_long", 400, tier, BL_A, case, ESCALATE, reason="长" * 2001)


def test_it_refuses_to_send_down_from_the_bottom_tier():
    case = family_case()
    before = snapshot(case)
    refused("no_lower_tier", 409, tier, "operator", case, SEND_DOWN, reason="误派")
    assert snapshot(case) == before


def test_it_sends_a_misrouted_case_down_from_the_street():
    case = report(GW_A, point=point_in(GRID_A))
    tier(STREET_A, case, SEND_DOWN, reason="属家庭内部事务", to_tier="building")
    assert (case.tier, case.state, case.stage) == (Tier.BUILDING, S.HANDLING, "handle")
    assert case.tier_deadline is not None
    event = CaseEvent.objects.get(case=case, action=SEND_DOWN)
    assert (event.from_state, event.to_state, event.actor_role) == (S.REPORTED, S.HANDLING, "street_operator")
    assert event.data["from_tier"] == "street" and event.data["to_tier"] == "building"
    assert case in tier_case_list(scope=actor(BL_A).scope)


def test_it_sends_down_one_rung_when_no_tier_is_named():
    case = family_case(level="community")
    tier("party-320102002001", case, SEND_DOWN, reason="仅涉及本小区")
    assert case.tier == Tier.ESTATE


@pytest.mark.parametrize("to_tier", ["street", "community", "nowhere"])
def test_it_refuses_to_send_down_to_a_tier_that_is_not_below(to_tier):
    case = family_case(level="community")
    before = snapshot(case)
    error = refused("bad_tier", 400, tier, "operator", case, SEND_DOWN, reason="误派", to_tier=to_tier)
    assert error.detail["allowed"] == ["building", "estate"]
    assert snapshot(case) == before


def test_it_refuses_to_send_down_a_case_a_department_holds():
    case = report(GW_A, point=point_in(GRID_A), case_class="E0201")
    do("shiftlead", case, "register")
    do("operator", case, "dispatch")
    refused("illegal_move", 409, tier, "operator", case, SEND_DOWN, reason="误派", to_tier="building")


def test_it_refuses_a_stale_version():
    case = family_case()
    seen = case.version
    tier(BL_A, case, ESCALATE)
    refused(
        "stale_version",
        409,
        services.tier_move,
        actor=actor(OC_A),
        number=case.number,
        action=ESCALATE,
        version=seen,
        reason="再升级",
    )


def test_the_sweep_and_a_manual_move_escalate_once(monkeypatch):
    local_in(monkeypatch)
    case = family_case()
    case.refresh_from_db()
    seen = case.version  # the operator's page, loaded before the deadline
    assert services.routing_sweep(now=case.tier_deadline + timedelta(seconds=1)) == 1
    refused(
        "stale_version",
        409,
        services.tier_move,
        actor=actor("operator"),
        number=case.number,
        action=ESCALATE,
        version=seen,
        reason="升级",
    )
    assert actions(case) == ["report", ESCALATE]


def test_dispatch_is_not_offered_for_a_grassroots_case():
    case = family_case()
    assert "dispatch" not in [m.action for m in available_moves(case, everyone(case))]
    refused(
        "illegal_move",
        409,
        case_move,
        actor=actor("operator"),
        number=case.number,
        action="dispatch",
        version=case.version,
    )
    # Sent up to the street and registered, it is dispatched as usual.
    tier("operator", case, ESCALATE)
    tier("operator", case, ESCALATE)
    tier("operator", case, ESCALATE)
    do("shiftlead", case, "register", data={"case_class": "E0201"})
    assert "dispatch" in [m.action for m in available_moves(case, everyone(case))]


# --- who may act, who may see ----------------------------------------------------------------------


def test_owners_of_other_tiers_and_staff_without_the_tier_are_refused():
    case = family_case()
    before = snapshot(case)
    # Seen (their area), but not their tier: a grid worker, a party secretary, the operator resolving.
    refused("move_forbidden", 403, tier, GW_A, case, ESCALATE)
    refused("move_forbidden", 403, tier, "party-320102002001", case, RESOLVE)
    refused("move_forbidden", 403, tier, "operator", case, RESOLVE)
    # Not seen at all: another grid's leader, the estate tier's owners of the same grid.
    for who in (f"bl-{GRID_A2}", f"bl-{GRID_B}", OC_A, BB_A):
        refused("case_not_found", 404, tier, who, case, RESOLVE)
    assert snapshot(case) == before


def test_operators_may_reroute_but_not_resolve():
    case = family_case()
    assert rules.available(case, actor("operator")) == [ESCALATE]
    tier("operator", case, ESCALATE, reason="需上级协调")
    assert case.tier == Tier.ESTATE
    assert rules.available(case, actor("operator")) == [ESCALATE, SEND_DOWN]
    assert rules.available(case, actor(OC_A)) == [RESOLVE, ESCALATE, SEND_DOWN]


def test_a_building_leader_sees_only_building_tier_cases_of_their_grid():
    own = family_case()
    other_grid = family_case(GRID_A2)
    street = report(GW_A, point=point_in(GRID_A))
    estate = family_case(level="estate")
    scope = actor(BL_A).scope
    seen = set(selectors.case_list(scope=scope).values_list("number", flat=True))
    assert seen == {own.number}
    assert set(tier_case_list(scope=scope).values_list("number", flat=True)) == {own.number}
    for hidden in (other_grid, street, estate):
        with pytest.raises(NotFound):
            selectors.case_get(scope=scope, number=hidden.number)
    # No ordinary move on any case, not even a note.
    assert scope.region_ids == frozenset() and scope.anchors == frozenset()
    refused(
        "move_forbidden",
        403,
        case_move,
        actor=actor(BL_A),
        number=own.number,
        action="note",
        version=own.version,
        note="x",
    )


def test_a_mediator_over_the_community_sees_its_building_tier_cases():
    own, other_grid = family_case(), family_case(GRID_A2)
    elsewhere = family_case(GRID_B)
    scope = actor("med-320102002001").scope
    seen = set(tier_case_list(scope=scope).values_list("number", flat=True))
    assert seen == {own.number, other_grid.number}
    assert elsewhere.number not in seen
    tier("med-320102002001", other_grid, RESOLVE, reason="调解员调解成功")
    assert other_grid.state == S.CHECKING


# --- configuration -------------------------------------------------------------------------------


def test_the_data_migration_puts_the_default_in_the_back_office_tables():
    from django.apps import apps

    migration = importlib.import_module("civicgrid.routing.migrations.0002_default_routing")
    TierSetting.objects.all().delete()  # (other modules' teardown may have flushed them already)
    LevelRoute.objects.all().delete()
    migration.load(apps, None)
    assert dict(LevelRoute.objects.values_list("level", "first_tier"))["family"] == "building"
    assert LevelRoute.objects.count() == 6 and TierSetting.objects.count() == 4
    building = TierSetting.objects.get(tier="building")
    assert (building.limit, building.owner_roles) == ("3工作日", ["building_leader", "mediator"])
    # Edited rows survive a second run.
    TierSetting.objects.filter(tier="building").update(limit="2工作日")
    migration.load(apps, None)
    assert TierSetting.objects.get(tier="building").limit == "2工作日"


def _set_tier(tier: str, **fields) -> None:
    from civicgrid.routing.defaults import DEFAULT_TIERS

    position, roles, limit, form = DEFAULT_TIERS[tier]
    defaults = {"position": position, "owner_roles": list(roles), "limit": limit, "meeting_form": form}
    TierSetting.objects.update_or_create(tier=tier, defaults=defaults | fields)


def _route(level: str, tier: str) -> None:
    LevelRoute.objects.update_or_create(level=level, defaults={"first_tier": tier})


def test_configuration_changes_take_effect(monkeypatch):
    clock = local_in(monkeypatch)
    _route("family", "community")
    _set_tier("community", limit="1工作日")
    _set_tier("estate", active=False)
    limits.forget()
    case = family_case()
    case.refresh_from_db()
    assert case.tier == Tier.COMMUNITY and case.tier_deadline == clock.at + timedelta(days=1)
    # A level sent to an inactive tier goes to the next one up; escalation skips it.
    _route("family", "estate")
    _route("neighbourhood", "building")
    limits.forget()
    assert family_case().tier == Tier.COMMUNITY
    neighbour = family_case(level="neighbourhood")
    tier(BL_A, neighbour, ESCALATE)
    assert neighbour.tier == Tier.COMMUNITY
    # Owners as configured: the owners' committee takes over the building tier.
    _set_tier("building", owner_roles=["owners_committee"])
    limits.forget()
    fresh = family_case(level="neighbourhood")
    refused("case_not_found", 404, tier, BL_A, fresh, RESOLVE)
    tier(OC_A, fresh, RESOLVE)
    assert fresh.state == S.CHECKING


def test_the_back_office_refuses_a_bad_tier_setting():
    from django.core.exceptions import ValidationError

    bad = TierSetting(tier="building", position=1, owner_roles=["nobody"], limit="3工作日")
    with pytest.raises(ValidationError):
        bad.clean()
    with pytest.raises(ValidationError):
        TierSetting(tier="estate", position=2, owner_roles=["mediator"], limit="soon").clean()
    with pytest.raises(ValidationError):
        TierSetting(tier="street", position=4, owner_roles=["operator"], limit="3工作日").clean()


def test_a_suspended_case_waits_and_its_tier_deadline_moves_on(monkeypatch):
    clock = local_in(monkeypatch)
    case = family_case()
    case.refresh_from_db()
    deadline = case.tier_deadline
    do("shiftlead", case, "suspend")
    assert services.routing_sweep(now=deadline + timedelta(days=30)) == 0
    clock.to(clock.at + timedelta(days=1))  # Wed 09:00: one working day stood still
    do("shiftlead", case, "resume")
    assert case.tier_deadline == case.due_at == deadline + timedelta(days=3)  # Fri + 1 working day: Mon
    assert services.routing_sweep(now=deadline + timedelta(minutes=1)) == 0
    assert services.routing_sweep(now=case.tier_deadline + timedelta(minutes=1)) == 1


def test_a_resident_may_not_route_their_own_report():
    case = family_case()
    resident = actor("resident1")
    Case.objects.filter(pk=case.pk).update(reporter_id=resident.user_id)
    assert rules.available(case, resident) == []
    refused("move_forbidden", 403, tier, "resident1", case, ESCALATE)
    assert set(tier_case_list(scope=resident.scope).values_list("number", flat=True)) == {case.number}
