"""The permission matrix of docs/roles.md, persona by persona, for every page and endpoint.

Each row: who asks, what, and the status they must get. 404 (not 403) where an object lies
outside the asker's scope, so its existence does not leak.
"""

import pytest

from civicgrid.accounts.models import User
from civicgrid.cases.models import CaseState
from tests.cases.steps import walk

pytestmark = pytest.mark.django_db
A = "32010200200101"  # a grid of 梅园新村社区, 梅园新村街道
B = "32010201000101"  # a grid of 板仓社区, 玄武湖街道
PERSONAS = [None, "resident1", f"gw-{A}", "chief-320102002001", "street-320102002", "operator", "dept-d01",
            "auditor", "secadmin", "admin"]  # fmt: skip

# path → expected status per persona, in PERSONAS order.
GETS = {
    "/map/": [200] * 10,
    f"/grids/{A}/": [200] * 10,
    "/api/v1/geo/locate?lon=118.8&lat=32.05": [200] * 10,
    f"/api/v1/regions/{A}/people": [404, 404, 200, 200, 200, 200, 404, 404, 404, 404],
    f"/api/v1/regions/{B}/people": [404, 404, 404, 404, 404, 200, 404, 404, 404, 404],
    "/api/v1/audit/records": [404, 404, 404, 404, 404, 404, 404, 200, 404, 404],
    "/admin/accounts/user/": [302, 302, 302, 302, 302, 302, 302, 403, 200, 403],
    "/admin/audit/auditrecord/": [302, 302, 302, 302, 302, 302, 302, 200, 403, 403],
    # The boundary import is configuration: the system admin's; signed-in others are refused.
    "/admin/regions/import/": [302, 403, 403, 403, 403, 403, 403, 403, 403, 200],
}
# How many departments each persona's list holds (20 in the demo: 13 district-wide, and one
# street office per street, which its street operator sees too).
DEPARTMENTS = [0, 0, 0, 0, 1, 20, 1, 0, 0, 0]
# Who may reveal a department contact's mobile (D01 serves the district).
REVEAL = [404, 404, 404, 404, 404, 200, 403, 404, 404, 404]
# A case in grid A dispatched to D01, and one in grid B not dispatched: reading each, and how
# many cases the list holds. Outside the scope a case answers 404 (docs/roles.md).
CASE_A = [401, 404, 200, 200, 200, 200, 200, 404, 404, 404]
CASE_B = [401, 404, 404, 404, 404, 200, 404, 404, 404, 404]
CASES_LISTED = [None, 0, 1, 1, 1, 2, 1, 0, 0, 0]


def _client(client, username):
    if username:
        client.force_login(User.objects.get(username=username))
    return client


@pytest.mark.parametrize("index", range(len(PERSONAS)), ids=[p or "anonymous" for p in PERSONAS])
def test_every_persona_gets_exactly_its_part(client, demo_staff, index):
    persona = PERSONAS[index]
    c = _client(client, persona)
    got = {path: c.get(path).status_code for path in GETS}
    assert got == {path: statuses[index] for path, statuses in GETS.items()}
    assert len(c.get("/api/v1/departments").json()) == DEPARTMENTS[index]
    reveal = c.post(
        "/api/v1/departments/D01/reveal",
        {"field": "contact_phone", "reason": "核实联系人"},
        content_type="application/json",
    )
    assert reveal.status_code == REVEAL[index]


@pytest.mark.parametrize("index", range(len(PERSONAS)), ids=[p or "anonymous" for p in PERSONAS])
def test_every_persona_reads_exactly_its_cases(client, demo_staff, index):
    in_a = walk(CaseState.DISPATCHED)
    in_b = walk(CaseState.REGISTERED, grid=B)
    c = _client(client, PERSONAS[index])
    assert c.get(f"/api/v1/cases/{in_a.number}").status_code == CASE_A[index]
    assert c.get(f"/api/v1/cases/{in_b.number}").status_code == CASE_B[index]
    listed = c.get("/api/v1/cases/")
    assert listed.status_code == (401 if CASES_LISTED[index] is None else 200)
    if CASES_LISTED[index] is not None:
        assert listed.json()["count"] == CASES_LISTED[index]
