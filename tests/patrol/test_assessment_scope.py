"""Who sees whose assessment (page, Excel export, API) — and who must not: a grid chief their
community's workers, a street its street, the district everyone, a grid worker only themselves,
a resident or a department nobody."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from civicgrid.accounts.models import GridPost, GridStaffing
from civicgrid.accounts.tokens import api_token_create
from civicgrid.audit.models import AuditRecord
from civicgrid.errors import DomainError
from civicgrid.patrol.assessment import Month, assessment
from civicgrid.patrol.models import Patrol, PatrolState
from civicgrid.regions.models import Region

from ..cases.conftest import actor, local
from ..cases.steps import CHIEF_A, GRID_A, GW_A, GW_A2, GW_B, PT_A, STAFF_A, STREET_A, error_of, signed_in
from .conftest import CHIEF_B, user

API = "/api/v1/assessment"
PAGE = "/patrol/assessment/"
MONTH = "2026-03"
COMMUNITY_A, STREET_A_CODE = "320102002001", "320102002000"


def _assessed(prefix: str = "") -> set[str]:
    """Usernames of the assessed posts in grids whose code starts with ``prefix``."""
    return set(
        GridStaffing.objects.filter(
            post__in=(GridPost.FULL_TIME, GridPost.PART_TIME), grid__code__startswith=prefix
        ).values_list("user__username", flat=True)
    )


@pytest.fixture
def month(pdemo):
    grid = Region.objects.get(code=GRID_A)
    Patrol.objects.create(
        worker=user(GW_A),
        grid=grid,
        state=PatrolState.ENDED,
        started_at=local(2026, 3, 2, 9, 0),
        ended_at=local(2026, 3, 2, 10, 30),
        duration_s=5400,
    )
    return pdemo


def _seen(username: str, **kwargs) -> set[str]:
    return {r.username for r in assessment(scope=actor(username).scope, month=Month(2026, 3), **kwargs).rows}


def test_a_grid_chief_sees_the_workers_of_their_community_only(month):
    seen = _seen(CHIEF_A)
    assert seen == _assessed(COMMUNITY_A) and {GW_A, PT_A, GW_A2} <= seen
    assert GW_B not in seen and not seen & _seen(CHIEF_B)
    assert _seen(STAFF_A) == seen


def test_a_street_sees_its_street_and_the_district_everyone(month):
    assert _seen(STREET_A) == _assessed(STREET_A_CODE[:9]) and GW_B not in _seen(STREET_A)
    everyone = _seen("operator")
    assert everyone == _assessed() and len(everyone) > 600


def test_a_grid_worker_sees_only_themselves(month):
    assert _seen(GW_A) == {GW_A}
    assert _seen(PT_A) == {PT_A}


@pytest.mark.parametrize("who", ["resident1", "dept-d01", "auditor"])
def test_residents_departments_and_auditors_see_nothing(month, who):
    with pytest.raises(DomainError) as refused:
        _seen(who)
    assert (refused.value.code, refused.value.status) == ("assessment_forbidden", 403)


def test_a_region_narrows_within_the_scope_only(month):
    assert _seen("operator", region=COMMUNITY_A) == _assessed(COMMUNITY_A)
    assert _seen(CHIEF_A, region="320102010000") == set()  # another street: nothing of it
    with pytest.raises(DomainError) as unknown:
        _seen("operator", region="999")
    assert unknown.value.code == "unknown_region"


def test_the_api_lists_the_readers_workers(client, month):
    response = signed_in(client, CHIEF_A).get(API, {"month": MONTH})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["month"] == MONTH and body["weights"] == {
        "valid_reports": 40.0,
        "patrol": 20.0,
        "verify_on_time": 20.0,
        "check_on_time": 20.0,
    }
    rows = {r["username"]: r for r in body["rows"]}
    assert set(rows) == _assessed(COMMUNITY_A)
    assert rows[GW_A]["patrols"] == 1 and rows[GW_A]["patrol_hours"] == 1.5
    assert rows[GW_A]["posts"] == [
        {"grid": GRID_A, "grid_name": rows[GW_A]["posts"][0]["grid_name"], "post": "full_time"}
    ]
    assert rows[GW_A]["rounds"] == {"done": 1, "due": 25, "rate": 0.04}


def test_the_api_gives_one_worker_item_by_item(client, month):
    response = signed_in(client, GW_A).get(f"{API}/{GW_A}", {"month": MONTH})
    assert response.status_code == 200, response.content
    body = response.json()
    items = {i["key"]: i for i in body["items"]}
    assert items["patrols"]["value"] == 1 and items["rounds"]["numerator"] == 1
    assert items["rounds"]["denominator"] == 25
    assert items["valid_reports"]["weight"] == 40.0 and items["valid_reports"]["value"] is None
    assert all(i["formula"] for i in body["items"])


@pytest.mark.parametrize(
    ("who", "whom", "status", "code"),
    [
        (GW_A, PT_A, 404, "worker_not_found"),  # a colleague of the same grid
        (CHIEF_A, GW_B, 404, "worker_not_found"),  # another street's worker
        (CHIEF_A, "nobody-at-all", 404, "worker_not_found"),
        ("resident1", GW_A, 403, "assessment_forbidden"),
    ],
)
def test_the_api_refuses_workers_outside_the_scope(client, month, who, whom, status, code):
    error_of(signed_in(client, who).get(f"{API}/{whom}", {"month": MONTH}), status, code)


def test_an_attempt_on_a_worker_outside_the_scope_is_audited(client, month):
    signed_in(client, GW_A).get(f"{API}/{PT_A}", {"month": MONTH})
    assert AuditRecord.objects.filter(action="access.denied", object_id=PT_A).exists()


def test_the_api_refuses_bad_input_and_strangers(client, month):
    c = signed_in(client, CHIEF_A)
    error_of(c.get(API, {"month": "2026-13"}), 400, "bad_month")
    error_of(c.get(API, {"month": MONTH, "region": "nowhere"}), 404, "unknown_region")
    error_of(signed_in(client, "resident1").get(API, {"month": MONTH}), 403, "assessment_forbidden")
    error_of(signed_in(client, None).get(API, {"month": MONTH}), 401, "unauthenticated")


def test_a_token_needs_the_patrol_read_scope(client, month):
    _row, good = api_token_create(user=user(CHIEF_A), name="dashboard", scopes=["patrol:read"])
    _row, other = api_token_create(user=user(CHIEF_A), name="cases", scopes=["cases:read"])
    client.logout()
    ok = client.get(API, {"month": MONTH}, headers={"Authorization": f"Bearer {good}"})
    assert ok.status_code == 200 and {r["username"] for r in ok.json()["rows"]} == _assessed(COMMUNITY_A)
    refused = client.get(API, {"month": MONTH}, headers={"Authorization": f"Bearer {other}"})
    assert refused.status_code in (401, 403)


def test_the_page_shows_the_chief_their_workers(client, month):
    response = signed_in(client, CHIEF_A).get(PAGE, {"month": MONTH})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-worker="{GW_A}"' in html and f'data-worker="{PT_A}"' in html
    assert f'data-worker="{GW_B}"' not in html
    assert 'data-month="2026-03"' in html


def test_the_page_shows_a_worker_only_their_row(client, month):
    html = signed_in(client, GW_A).get(PAGE, {"month": MONTH}).content.decode()
    assert f'data-worker="{GW_A}"' in html and f'data-worker="{PT_A}"' not in html


def test_the_page_refuses_a_resident_and_sends_strangers_to_log_in(client, month):
    response = signed_in(client, "resident1").get(PAGE, {"month": MONTH})
    assert response.status_code == 403 and b'data-code="assessment_forbidden"' in response.content
    assert b"data-worker" not in response.content
    assert signed_in(client, None).get(PAGE).status_code == 302
    assert signed_in(client, "resident1").get(f"{PAGE}export/", {"month": MONTH}).status_code == 403


def test_the_page_says_what_is_wrong_with_a_month(client, month):
    response = signed_in(client, CHIEF_A).get(PAGE, {"month": "March"})
    assert response.status_code == 400 and b'data-code="bad_month"' in response.content


def test_the_excel_export_holds_the_same_rows_and_is_audited(client, month):
    response = signed_in(client, CHIEF_A).get(f"{PAGE}export/", {"month": MONTH})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="assessment-2026-03.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    lines = list(sheet.iter_rows(values_only=True))
    body = {line[0]: line for line in lines[1:]}
    assert set(body) == _assessed(COMMUNITY_A)
    gw = body[GW_A]
    assert (gw[2], gw[5], gw[6], gw[7], gw[8]) == (GRID_A, 1, 1.5, 1, 25)  # grid, patrols, hours, rounds
    assert len(lines[0]) == len(gw)
    record = AuditRecord.objects.get(action="export.xlsx", object_type="patrol.assessment")
    assert record.object_id == MONTH and record.detail["rows"] == len(body)
