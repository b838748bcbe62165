"""The warnings page, the hotspot page and their API: who sees which warnings (a street operator
never another street's, on the page or through the API), filters, acknowledge and close (POST,
audited, only on warnings one may see), and bad input answered with an error code."""

from __future__ import annotations

import pytest
from django.utils import timezone

from civicgrid.accounts.models import User
from civicgrid.accounts.tokens import api_token_create
from civicgrid.audit.models import AuditRecord
from civicgrid.insight.models import Alert, AlertKind, AlertStatus
from civicgrid.regions.models import Region

from ..cases.steps import CHIEF_A, GRID_A, GRID_B, STREET_A, STREET_B, error_of, signed_in

PAGE = "/command/warnings/"
API = "/api/v1/insight/warnings/"


def _alert(grid_code: str, *, kind=AlertKind.SPIKE, severity=2, status=AlertStatus.OPEN) -> Alert:
    grid = Region.objects.select_related("parent").get(code=grid_code)
    now = timezone.now()
    return Alert.objects.create(
        kind=kind,
        key=f"{kind}:test:{grid.pk}:{severity}:{status}",
        severity=severity,
        status=status,
        day=timezone.localdate(),
        street_id=grid.parent.parent_id,
        grid=grid,
        observed=7,
        expected=0.5,
        explanation=f"{grid.name}: 7 vs 0.5",
        link=f"/cases/?region={grid.code}",
        created_at=now,
        updated_at=now,
    )


@pytest.fixture
def alerts(idemo):
    return {
        "a": _alert(GRID_A),
        "a_hot": _alert(GRID_A, kind=AlertKind.HOTSPOT, severity=1),
        "a_closed": _alert(GRID_A, status=AlertStatus.CLOSED),
        "b": _alert(GRID_B, severity=3),
    }


def _keys_on_page(response) -> set[str]:
    text = response.content.decode()
    return {a.key for a in Alert.objects.all() if f'data-key="{a.key}"' in text}


def test_the_district_operator_sees_every_open_warning(client, alerts):
    response = signed_in(client, "operator").get(PAGE)
    assert response.status_code == 200
    assert _keys_on_page(response) == {alerts[k].key for k in ("a", "a_hot", "b")}


def test_a_street_operator_sees_only_their_streets_warnings(client, alerts):
    page = signed_in(client, STREET_A).get(PAGE, {"status": "all"})
    assert _keys_on_page(page) == {alerts[k].key for k in ("a", "a_hot", "a_closed")}
    body = client.get(API, {"status": "all"}).json()
    assert body["total"] == 3 and {i["key"] for i in body["items"]} == _keys_on_page(page)
    assert {i["grid"] for i in body["items"]} == {GRID_A}
    other = signed_in(client, STREET_B).get(API).json()
    assert [i["key"] for i in other["items"]] == [alerts["b"].key]


def test_filters_by_kind_severity_and_status(client, alerts):
    signed_in(client, "operator")
    assert {i["key"] for i in client.get(API, {"kind": "hotspot"}).json()["items"]} == {alerts["a_hot"].key}
    assert {i["key"] for i in client.get(API, {"severity": 3}).json()["items"]} == {alerts["b"].key}
    closed = client.get(API, {"status": "closed"}).json()["items"]
    assert [i["key"] for i in closed] == [alerts["a_closed"].key]
    assert _keys_on_page(client.get(PAGE, {"kind": "spike", "severity": "2"})) == {
        alerts["a"].key,
        alerts["b"].key,
    }


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"kind": "nope"}, "bad_kind"),
        ({"severity": "red"}, "bad_severity"),
        ({"status": "gone"}, "bad_status"),
    ],
)
def test_bad_filters_are_refused_with_a_code(client, alerts, params, code):
    signed_in(client, "operator")
    error_of(client.get(API, params), 400, code)
    page = client.get(PAGE, params)
    assert page.status_code == 400 and f'data-code="{code}"' in page.content.decode()


def test_closing_a_warning_is_audited_and_recorded_with_who(client, alerts):
    signed_in(client, STREET_A)
    alert = alerts["a"]
    response = client.post(f"{PAGE}{alert.pk}/status/", {"action": "acknowledge", "next": PAGE})
    assert response.status_code == 302 and response["Location"] == PAGE
    client.post(f"{PAGE}{alert.pk}/status/", {"action": "close"})
    alert.refresh_from_db()
    user = User.objects.get(username=STREET_A)
    assert alert.status == AlertStatus.CLOSED and alert.handled_by == user
    trail = AuditRecord.objects.filter(object_type="insight.alert", object_id=str(alert.pk)).order_by("id")
    assert [r.action for r in trail] == ["insight.warning.acknowledge", "insight.warning.close"]
    assert all(r.actor_id == user.pk for r in trail)


def test_the_default_list_keeps_acknowledged_warnings_and_drops_closed_ones(client, alerts):
    signed_in(client, "operator")
    client.post(f"{PAGE}{alerts['a'].pk}/status/", {"action": "acknowledge"})
    client.post(f"{PAGE}{alerts['b'].pk}/status/", {"action": "close"})
    assert _keys_on_page(client.get(PAGE)) == {alerts["a"].key, alerts["a_hot"].key}
    assert [i["key"] for i in client.get(API, {"status": "open"}).json()["items"]] == [alerts["a_hot"].key]


def test_nobody_closes_another_streets_warning(client, alerts):
    signed_in(client, STREET_A)
    response = client.post(f"{PAGE}{alerts['b'].pk}/status/", {"action": "close"})
    assert response.status_code == 404
    alerts["b"].refresh_from_db()
    assert alerts["b"].status == AlertStatus.OPEN and alerts["b"].handled_by is None


def test_status_changes_need_a_post_and_a_known_action(client, alerts):
    signed_in(client, "operator")
    url = f"{PAGE}{alerts['a'].pk}/status/"
    assert client.get(url).status_code == 405
    assert client.post(url, {"action": "explode"}).status_code == 400
    alerts["a"].refresh_from_db()
    assert alerts["a"].status == AlertStatus.OPEN


def test_the_status_form_needs_the_csrf_token(alerts):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(User.objects.get(username="operator"))
    assert strict.post(f"{PAGE}{alerts['a'].pk}/status/", {"action": "close"}).status_code == 403


@pytest.mark.parametrize("username", ["resident1", "auditor", f"gw-{GRID_A}", "deputy-320102002"])
def test_people_outside_the_command_centre_are_refused(client, alerts, username):
    signed_in(client, username)
    assert client.get(PAGE).status_code == 403
    assert client.get("/command/hotspots/").status_code == 403
    assert client.get(API).json()["error"]["code"] == "forbidden"
    assert client.get(f"{API}hotspots").status_code == 403


def test_a_grid_chief_sees_the_warnings_of_their_communitys_grids(client, alerts):
    signed_in(client, CHIEF_A)  # 梅园新村社区: GRID_A is one of its grids, GRID_B another street's
    body = client.get(API).json()
    assert {item["grid"] for item in body["items"]} == {GRID_A}
    assert client.get(PAGE).status_code == 200


def test_strangers_are_asked_to_log_in(client, alerts):
    assert client.get(PAGE).status_code == 302
    assert client.get(API).status_code == 401


def test_an_insight_token_reads_the_warnings(client, alerts):
    user = User.objects.get(username="operator")
    _row, token = api_token_create(user=user, name="wall", scopes=["insight:read"])
    body = client.get(API, headers={"Authorization": f"Bearer {token}"}).json()
    assert body["total"] == 3


def test_the_hotspot_page_and_api_show_the_readers_grids(client, alerts):
    page = signed_in(client, STREET_B).get("/command/hotspots/")
    assert page.status_code == 200 and 'id="hotspot-map"' in page.content.decode()
    body = client.get(API + "hotspots").json()
    codes = {g["grid"] for g in body["grids"]}
    assert GRID_B in codes and GRID_A not in codes
    assert set(body) == {"date_from", "date_to", "grids", "repeat_places"}
