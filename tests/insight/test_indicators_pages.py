"""The indicator pages, their Excel export and API, and the back office of the score sets: what each
reader gets, the error codes for bad input, and the audit trail of exports and edits."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from civicgrid.accounts.models import User
from civicgrid.accounts.tokens import api_token_create
from civicgrid.audit.models import AuditRecord
from civicgrid.insight import rollups
from civicgrid.insight.indicator_tables import indicator_table, period_parse
from civicgrid.insight.indicator_views import export_headers
from civicgrid.insight.indicators import INDICATORS
from civicgrid.insight.models import InsightSettings, ScoreItem, ScoreKind, ScoreSet

from ..cases.conftest import actor, local
from ..cases.steps import GRID_A, GRID_A2, GRID_B, STREET_A, Frozen, S, error_of, signed_in, walk

PAGE, API = "/command/indicators/", "/api/v1/insight/indicators"


@pytest.fixture
def month(idemo, monkeypatch):
    """Four cases of March 2026: closed and registered in GRID_A, reported in GRID_A2,
    dispatched in GRID_B."""
    Frozen(monkeypatch, local(2026, 3, 9, 9, 0))
    walk(S.CLOSED, grid=GRID_A)
    walk(S.REGISTERED, grid=GRID_A)
    walk(S.REPORTED, grid=GRID_A2)
    walk(S.DISPATCHED, grid=GRID_B, case_class="E0101")
    rollups.rebuild()


def test_the_page_lists_the_units_with_rates_fractions_and_links(client, month):
    page = signed_in(client, "operator").get(PAGE, {"unit": "grid", "month": "2026-03"})
    assert page.status_code == 200
    html = page.content.decode()
    for code in (GRID_A, GRID_A2, GRID_B):
        assert f'data-unit="{code}"' in html
        assert f"/cases/list/?region={code}&amp;date_from=2026-03-01&amp;date_to=2026-03-31" in html
        assert f"/command/grids/{code}/index/?month=2026-03" in html
    assert 'data-rate="closure"' in html and 'title="1/2"' in html  # GRID_A: 1 closed of 2 registered
    assert 'class="no-data"' in html and "—" in html  # no follow-ups anywhere: no 12345 rates
    assert 'data-period="2026-03"' in html and "?unit=grid&amp;month=2026-02" in html


@pytest.mark.parametrize(
    "query",
    [
        {"unit": "person", "quarter": "2026-Q1"},
        {"unit": "department", "date_from": "2026-03-01", "date_to": "2026-03-15"},
    ],
)
def test_the_page_takes_every_unit_and_period(client, month, query):
    page = signed_in(client, "operator").get(PAGE, query)
    assert page.status_code == 200 and b'data-rank="1"' in page.content


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"unit": "building"}, "bad_unit"),
        ({"month": "2026-13"}, "bad_month"),
        ({"quarter": "Q9"}, "bad_quarter"),
    ],
)
def test_bad_input_is_a_400_with_its_code_on_the_page_and_the_api(client, month, query, code):
    page = signed_in(client, "operator").get(PAGE, query)
    assert page.status_code == 400 and f'data-code="{code}"'.encode() in page.content
    error_of(client.get(API + "/", query), 400, code)


def test_a_resident_is_refused_and_the_refusal_audited(client, month):
    reader = signed_in(client, "resident1")
    assert reader.get(PAGE).status_code == 403
    error_of(reader.get(API + "/"), 403, "indicators_forbidden")
    assert AuditRecord.objects.filter(action="access.denied", object_type="insight.indicators").count() == 2
    assert signed_in(client, None).get(PAGE).status_code == 302  # to the login


def test_a_street_sees_its_grids_only_on_the_page_and_the_api(client, month):
    reader = signed_in(client, STREET_A)
    html = reader.get(PAGE, {"unit": "grid", "month": "2026-03"}).content.decode()
    assert f'data-unit="{GRID_A}"' in html and f'data-unit="{GRID_B}"' not in html
    rows = reader.get(API + "/", {"unit": "grid", "month": "2026-03"}).json()["rows"]
    assert {r["code"] for r in rows} == {GRID_A, GRID_A2}
    assert reader.get(f"/command/grids/{GRID_B}/index/", {"month": "2026-03"}).status_code == 404
    error_of(reader.get(f"{API}/grids/{GRID_B}", {"month": "2026-03"}), 404, "unknown_grid")
    denied = AuditRecord.objects.filter(action="access.denied", object_id__contains=GRID_B)
    assert denied.count() == 2  # the page's and the API's attempt


def test_the_api_gives_rates_with_numerator_and_denominator(client, month):
    _row, secret = api_token_create(
        user=User.objects.get(username="operator"), name="dash", scopes=["insight:read"]
    )
    body = client.get(
        API + "/", {"unit": "grid", "month": "2026-03"}, headers={"Authorization": f"Bearer {secret}"}
    ).json()
    assert body["unit"] == "grid" and body["period"] == {
        "kind": "month",
        "label": "2026-03",
        "start": "2026-03-01",
        "end": "2026-03-31",
    }
    rows = {r["code"]: r for r in body["rows"]}
    assert rows[GRID_A]["rates"]["closure"] == {"value": 0.5, "numerator": 1.0, "denominator": 2}
    assert rows[GRID_B]["rates"]["response"] == {"value": None, "numerator": 0.0, "denominator": 0}
    assert rows[GRID_A]["grid_index"]["value"] is not None
    assert body["weights"]["composite"]["handling"] == 30
    explained = client.get(
        f"{API}/grids/{GRID_A}", {"month": "2026-03"}, headers={"Authorization": f"Bearer {secret}"}
    ).json()
    assert explained["code"] == GRID_A and explained["value"] == rows[GRID_A]["grid_index"]["value"]
    closure = next(i for i in explained["items"] if i["indicator"] == "closure")
    assert (closure["numerator"], closure["denominator"], closure["value"]) == (1, 2, 0.5)


def test_the_grid_index_page_explains_each_item(client, month):
    page = signed_in(client, "operator").get(f"/command/grids/{GRID_A}/index/", {"month": "2026-03"})
    assert page.status_code == 200
    html = page.content.decode()
    for code in ("on_time_registration", "closure", "patrol_coverage", "satisfaction"):
        assert f'data-indicator="{code}"' in html
    assert (
        f"/cases/list/?region={GRID_A}&amp;date_from=2026-03-01&amp;date_to=2026-03-31&amp;state=closed"
        in html
    )
    assert 'id="index-total"' in html and 'data-grade="' in html


def test_the_excel_export_holds_the_table_and_is_audited(client, month):
    reply = signed_in(client, "operator").get(PAGE + "export/", {"unit": "grid", "month": "2026-03"})
    assert reply.status_code == 200
    sheet = load_workbook(io.BytesIO(reply.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    table = indicator_table(scope=actor("operator").scope, unit="grid", period=period_parse(month="2026-03"))
    assert list(rows[0]) == export_headers(table)
    assert [r[1] for r in rows[1:]] == [line.code for line in table.lines]
    assert {r[1] for r in rows[1:]} == {GRID_A, GRID_A2, GRID_B}
    closure = rows[0].index(f"{INDICATORS['closure'].name} (%)")
    by_code = {r[1]: r for r in rows[1:]}
    assert (by_code[GRID_A][closure], by_code[GRID_A2][closure]) == (50.0, None)  # 1 of 2; no data
    record = AuditRecord.objects.get(action="export.xlsx", object_type="insight.indicators")
    assert record.object_id == "grid:2026-03" and record.detail["rows"] == 3


# -- the back office -------------------------------------------------------------------------------


def _set_post(score_set: ScoreSet, items: list[tuple[str, float]], **fields) -> dict:
    existing = list(score_set.items.all()) if score_set.pk else []
    data = {
        "code": score_set.code,
        "name": score_set.name,
        "kind": score_set.kind,
        "description": score_set.description,
        "active": "on" if score_set.active else "",
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": str(len(existing)),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    } | fields
    for n, (indicator, weight) in enumerate(items):
        data |= {
            f"items-{n}-indicator": indicator,
            f"items-{n}-weight": str(weight),
            f"items-{n}-position": str(n),
        }
        if n < len(existing):
            data |= {f"items-{n}-id": str(existing[n].pk), f"items-{n}-score_set": str(score_set.pk)}
            if weight < 0:  # marks the row for deletion
                data |= {f"items-{n}-DELETE": "on", f"items-{n}-weight": "1"}
    return data


def test_an_administrator_edits_a_score_set_and_the_edit_is_audited(client, idemo):
    admin = signed_in(client, "admin")
    hotline = ScoreSet.objects.get(code="hotline-12345")
    url = f"/admin/insight/scoreset/{hotline.pk}/change/"
    assert admin.get(url).status_code == 200
    # Weights 30/35/35 (准格尔旗), and "response" replaced by nothing: deleted.
    reply = admin.post(url, _set_post(hotline, [("response", -1), ("resolution", 35), ("satisfaction", 35)]))
    assert reply.status_code == 302, reply.content.decode()[:3000]
    assert dict(hotline.items.values_list("indicator", "weight")) == {"resolution": 35, "satisfaction": 35}
    record = AuditRecord.objects.get(action="admin.change", object_type="insight.scoreitem")
    assert record.detail["deleted"] == ["response"]
    assert {"indicator": "resolution", "weight": 35.0} in record.detail["items"]


@pytest.mark.parametrize(
    ("items", "fields"),
    [
        ([("response", 10), ("resolution", 50), ("satisfaction", 40), ("no_such_rate", 5)], {}),
        ([("response", 10), ("resolution", 50), ("satisfaction", 40), ("patrol_coverage", 5)], {}),
        ([("response", 0), ("resolution", 0), ("satisfaction", 0)], {}),
        ([("response", 10), ("resolution", 50), ("satisfaction", 40)], {"kind": ScoreKind.COMPOSITE}),
    ],
    ids=["unknown indicator", "grid-only item in a unit score", "no weight", "two active sets of a kind"],
)
def test_the_back_office_refuses_a_score_set_that_would_not_count(client, idemo, items, fields):
    admin = signed_in(client, "admin")
    hotline = ScoreSet.objects.get(code="hotline-12345")
    before = dict(hotline.items.values_list("indicator", "weight"))
    reply = admin.post(f"/admin/insight/scoreset/{hotline.pk}/change/", _set_post(hotline, items, **fields))
    assert reply.status_code == 200  # the form again, with its errors
    assert dict(hotline.items.values_list("indicator", "weight")) == before
    assert not AuditRecord.objects.filter(object_type__startswith="insight.score").exists()


def test_an_administrator_changes_the_basic_weight_and_it_is_audited(client, idemo):
    admin = signed_in(client, "admin")
    settings = InsightSettings.current()
    url = "/admin/insight/insightsettings/1/change/"
    assert admin.get(url).status_code == 200
    fields = {f.name: getattr(settings, f.name) for f in InsightSettings._meta.fields if f.name != "id"} | {
        "basic_weight": "0.8"
    }
    assert admin.post(url, fields).status_code == 302
    assert InsightSettings.current().basic_weight == 0.8
    record = AuditRecord.objects.get(action="admin.change", object_type="insight.insightsettings")
    assert record.detail["fields"] == ["basic_weight"]
    assert admin.get("/admin/insight/insightsettings/add/").status_code == 403
    assert admin.post(url.replace("change", "delete"), {"post": "yes"}).status_code == 403
    error = admin.post(url, fields | {"basic_weight": "1.5"})
    assert error.status_code == 200 and InsightSettings.current().basic_weight == 0.8


def test_others_may_not_open_the_back_office_of_scores(client, idemo):
    hotline = ScoreSet.objects.get(code="hotline-12345")
    reply = signed_in(client, "operator").post(
        f"/admin/insight/scoreset/{hotline.pk}/change/", _set_post(hotline, [("response", 90)])
    )
    assert reply.status_code in (302, 403)
    assert ScoreItem.objects.get(score_set=hotline, indicator="response").weight == 10


def test_an_administrator_adds_a_score_set_with_its_items(client, idemo):
    admin = signed_in(client, "admin")
    assert admin.get("/admin/insight/scoreset/").status_code == 200
    assert admin.get("/admin/insight/scoreset/add/").status_code == 200
    draft = ScoreSet(code="zhungeer", name="准格尔旗三率", kind=ScoreKind.HOTLINE, active=False)
    data = _set_post(draft, [("response", 30), ("resolution", 35), ("satisfaction", 35)])
    reply = admin.post("/admin/insight/scoreset/add/", data)
    assert reply.status_code == 302, reply.content.decode()[:2000]
    made = ScoreSet.objects.get(code="zhungeer")
    assert dict(made.items.values_list("indicator", "weight")) == {
        "resolution": 35,
        "response": 30,
        "satisfaction": 35,
    }
    assert AuditRecord.objects.filter(action="admin.create", object_type="insight.scoreset").exists()
    assert AuditRecord.objects.get(object_type="insight.scoreitem").detail["items"][0]["weight"] == 30
