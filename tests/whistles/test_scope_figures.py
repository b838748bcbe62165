"""Who sees which whistles, and the dashboards' figures against a hand-computed fixture."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from civicgrid.accounts.models import RoleAssignment, User
from civicgrid.errors import DomainError
from civicgrid.regions.models import Region
from civicgrid.whistles import selectors, services, sweep
from civicgrid.whistles.selectors import WhistleFilter

from ..cases.steps import Frozen
from .conftest import GW_A, STAFF_A, STREET_A, STREET_B, STREET_B_CODE, actor, blow, local, report_in

T0 = local(2026, 11, 25, 9, 0)  # Wednesday


@pytest.fixture
def four(wdemo, monkeypatch):
    """W4 the week before (community A, tough, D01 never comes); then on Wednesday W1 (street A,
    routine, D01 on time, D02 never), W2 (street A, emergency, D01 ten minutes late), W3 (street B,
    tough, D03 on time, D02 never). W2 closes after 2 h, W1 after 26 h; the sweep runs Thursday."""
    clock = Frozen(monkeypatch, local(2026, 11, 20, 9, 0))
    w4 = blow(STAFF_A, kind="tough", departments=("D01",))
    clock.to(T0)
    w1 = blow(STREET_A, kind="routine", departments=("D01", "D02"))
    w2 = blow(STREET_A, kind="emergency", departments=("D01",))
    w3 = blow(STREET_B, kind="tough", departments=("D02", "D03"), lead="D03")
    clock.to(T0 + timedelta(minutes=30))
    report_in("dept-d01", w1)
    clock.to(T0 + timedelta(minutes=40))
    report_in("dept-d01", w2)
    clock.to(T0 + timedelta(hours=1))
    report_in("dept-d03", w3)
    clock.to(T0 + timedelta(hours=2))
    services.whistle_close(actor=actor(STREET_A), number=w2.number, result="已处置")
    clock.to(T0 + timedelta(hours=25))
    assert sweep.late_sweep() == 3  # W1·D02, W3·D02, W4·D01
    clock.to(T0 + timedelta(hours=26))
    services.whistle_close(actor=actor(STREET_A), number=w1.number, result="已处置")
    return w1, w2, w3, w4


def _numbers(username: str, **filters) -> set[str]:
    scope = actor(username).scope
    return set(
        selectors.whistle_list(scope=scope, filters=WhistleFilter(**filters)).values_list("number", flat=True)
    )


def test_each_persona_sees_only_their_whistles(four):
    w1, w2, w3, w4 = (w.number for w in four)
    assert _numbers("operator") == _numbers("shiftlead") == {w1, w2, w3, w4}
    assert _numbers(STREET_A) == {w1, w2, w4}  # its street and its communities
    assert _numbers(STREET_B) == {w3}
    assert _numbers(STAFF_A) == {w4}  # its own community only
    assert _numbers("dept-d01") == {w1, w2, w4}
    assert _numbers("dept-d03") == {w3}
    assert _numbers("dept-d05") == set()
    for nobody in (GW_A, "chief-320102002001", "resident1", "auditor", "secadmin", "deputy-320102002"):
        assert _numbers(nobody) == set()
        assert not selectors.may_use(actor(nobody).scope)


def test_a_whistle_outside_the_scope_is_not_found(four):
    with pytest.raises(DomainError) as caught:
        selectors.whistle_get(scope=actor(GW_A).scope, number=four[0].number)
    assert (caught.value.code, caught.value.status) == ("whistle_not_found", 404)


def test_the_list_filters(four):
    w1, w2, w3, w4 = (w.number for w in four)
    assert _numbers("operator", kind="tough") == {w3, w4}
    assert _numbers("operator", state="open") == {w3, w4}
    assert _numbers("operator", street=STREET_B_CODE) == {w3}
    assert _numbers("operator", department="D02") == {w1, w3}
    assert _numbers("operator", late=True) == {w1, w2, w3, w4}
    assert _numbers("operator", late=False) == set()
    assert _numbers("operator", date_from="2026-11-21") == {w1, w2, w3}
    assert _numbers("operator", q=w2) == {w2}
    for bad, code in (
        ({"kind": "x"}, "unknown_kind"),
        ({"street": "999"}, "unknown_region"),
        (
            {"date_from": "yesterday"},
            "bad_date",
        ),
        ({"state": "gone"}, "unknown_state"),
    ):
        with pytest.raises(DomainError) as caught:
            _numbers("operator", **bad)
        assert caught.value.code == code


def test_the_figures_match_the_hand_count(four):
    figures = selectors.whistle_figures(
        scope=actor("operator").scope, date_from="2026-11-21", date_to="2026-11-30"
    )
    assert figures["total"] == 3
    assert figures["by_kind"] == {"routine": 1, "tough": 1, "emergency": 1}
    assert figures["by_street"] == [
        {
            "street": "320102002000",
            "name": "梅园新村街道",
            "routine": 1,
            "tough": 0,
            "emergency": 1,
            "total": 2,
        },
        {
            "street": "320102010000",
            "name": "玄武湖街道",
            "routine": 0,
            "tough": 1,
            "emergency": 0,
            "total": 1,
        },
    ]
    rows = {d["department"]: d for d in figures["departments"]}
    assert {k: rows["D01"][k] for k in ("summoned", "due", "on_time", "late", "missing", "on_time_rate")} == {
        "summoned": 2, "due": 2, "on_time": 1, "late": 1, "missing": 0, "on_time_rate": 0.5,
    }  # fmt: skip
    assert (rows["D02"]["due"], rows["D02"]["missing"], rows["D02"]["on_time_rate"]) == (2, 2, 0.0)
    assert (rows["D03"]["due"], rows["D03"]["on_time"], rows["D03"]["on_time_rate"]) == (1, 1, 1.0)
    assert figures["resolution"] == {"closed": 2, "mean_hours": 14.0, "median_hours": 14.0}


def test_the_figures_follow_the_scope_and_the_period(four):
    everything = selectors.whistle_figures(scope=actor("operator").scope)
    assert everything["total"] == 4 and everything["by_kind"]["tough"] == 2
    d01 = next(d for d in everything["departments"] if d["department"] == "D01")
    assert (d01["summoned"], d01["due"], d01["missing"]) == (3, 3, 1)
    street = selectors.whistle_figures(scope=actor(STREET_A).scope, date_from="2026-11-21")
    assert street["total"] == 2 and [s["street"] for s in street["by_street"]] == ["320102002000"]
    d03 = selectors.whistle_figures(scope=actor("dept-d03").scope)
    assert d03["total"] == 1 and {d["department"] for d in d03["departments"]} == {"D02", "D03"}
    assert selectors.whistle_figures(scope=actor(GW_A).scope)["total"] == 0
    with pytest.raises(DomainError) as caught:
        selectors.whistle_figures(scope=actor("operator").scope, date_from="2026-11-30", date_to="2026-11-01")
    assert caught.value.code == "bad_period"


def test_a_role_that_has_ended_no_longer_blows(wdemo):
    user = User.objects.get(username=STREET_A)
    street = Region.objects.get(code="320102002000")
    assert services.blowing_role(user.pk, street) == "street_operator"
    RoleAssignment.objects.filter(user=user).update(valid_until=date(2026, 1, 2))
    assert services.blowing_role(user.pk, street) is None
    assert services.blowing_regions(user.pk) == []
