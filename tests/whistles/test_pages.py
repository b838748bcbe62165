"""The whistle pages through Django's test client: list, new (standalone and from a case),
detail with report-in, meeting and close forms, figures — and who gets 403 or 404."""

from __future__ import annotations

import re

from civicgrid.cases.models import CaseEvent
from civicgrid.whistles.models import MeetingRecord, Summons, Whistle

from ..cases.steps import GRID_A, S, signed_in, walk
from .conftest import GW_A, STREET_A, STREET_B, blow


def _key(page) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page.content.decode()).group(1)


def test_a_street_blows_from_the_form(client, wdemo):
    c = signed_in(client, STREET_A)
    form = c.get("/whistles/new/")
    assert form.status_code == 200 and "D01" in form.content.decode()
    posted = {"kind": "tough", "region": "320102002000", "departments": ["D01", "D02"], "lead": "D02",
              "title": "夜间施工扰民", "place": "北京东路", "idempotency_key": _key(form)}  # fmt: skip
    done = c.post("/whistles/new/", posted)
    whistle = Whistle.objects.get()
    assert done.status_code == 303 and done["Location"] == f"/whistles/{whistle.number}/"
    assert c.post("/whistles/new/", posted).status_code == 303 and Whistle.objects.count() == 1
    page = c.get(done["Location"]).content.decode()
    assert "夜间施工扰民" in page and page.count('data-status="waiting"') == 2


def test_a_refused_form_keeps_what_was_typed(client, wdemo):
    c = signed_in(client, STREET_A)
    posted = {
        "kind": "tough",
        "departments": ["D01"],
        "lead": "D02",
        "title": "夜间施工扰民",
        "idempotency_key": "form-key-01",
    }
    page = c.post("/whistles/new/", posted)
    assert page.status_code == 400 and 'data-code="lead_not_summoned"' in page.content.decode()
    assert 'value="夜间施工扰民"' in page.content.decode() and not Whistle.objects.exists()


def test_the_case_page_offers_the_whistle_and_the_form_blows_on_the_case(client, wdemo):
    case = walk(S.REGISTERED, grid=GRID_A)
    c = signed_in(client, STREET_A)
    assert 'id="blow-whistle"' in c.get(f"/cases/{case.number}/").content.decode()
    form = c.get(f"/whistles/new/?case={case.number}")
    assert form.status_code == 200 and f'data-case="{case.number}"' in form.content.decode()
    done = c.post(
        "/whistles/new/",
        {"kind": "emergency", "case": case.number, "departments": ["D05"], "idempotency_key": _key(form)},
    )
    assert done.status_code == 303
    assert CaseEvent.objects.filter(case=case, action="note").exists()
    case_page = c.get(f"/cases/{case.number}/").content.decode()
    assert Whistle.objects.get().number in case_page
    # A grid worker sees the case but no whistle button; another street cannot open the form.
    assert 'id="blow-whistle"' not in signed_in(client, GW_A).get(f"/cases/{case.number}/").content.decode()
    assert signed_in(client, STREET_B).get(f"/whistles/new/?case={case.number}").status_code == 404


def test_a_department_reports_in_on_the_page(client, wdemo):
    whistle = blow(STREET_A)
    c = signed_in(client, "dept-d01")
    page = c.get(f"/whistles/{whistle.number}/").content.decode()
    assert 'id="report-in"' in page and 'id="meeting"' not in page and 'id="close"' not in page
    done = c.post(
        f"/whistles/{whistle.number}/report-in", {"department": "D01", "attendees": "王伟", "where": "现场"}
    )
    assert done.status_code == 303
    page = c.get(f"/whistles/{whistle.number}/").content.decode()
    assert 'data-status="on_time"' in page and 'id="report-in"' not in page
    again = c.post(f"/whistles/{whistle.number}/report-in", {"department": "D01", "attendees": "王伟"})
    assert again.status_code == 409 and 'data-code="already_reported"' in again.content.decode()
    empty = signed_in(client, "dept-d02").post(f"/whistles/{whistle.number}/report-in", {"attendees": ""})
    assert empty.status_code == 400 and 'data-code="text_required"' in empty.content.decode()
    assert Summons.objects.filter(reported_at__isnull=False).count() == 1


def test_the_blower_records_a_meeting_and_closes(client, wdemo):
    whistle = blow(STREET_A)
    c = signed_in(client, STREET_A)
    page = c.get(f"/whistles/{whistle.number}/").content.decode()
    assert 'id="meeting"' in page and 'id="close"' in page and 'id="report-in"' not in page
    done = c.post(f"/whistles/{whistle.number}/meetings", {
        "held_at": "", "attendees": "街道、城管", "agreed": "联合整治",
        "task_department": ["D01", "", ""], "task": ["清理", "", ""], "task_due": ["2030-01-01", "", ""],
    })  # fmt: skip
    assert done.status_code == 303 and MeetingRecord.objects.get().tasks.count() == 1
    bad = c.post(f"/whistles/{whistle.number}/meetings", {"held_at": "noon", "attendees": "x", "agreed": "y"})
    assert bad.status_code == 400 and 'data-code="bad_time"' in bad.content.decode()
    assert c.post(f"/whistles/{whistle.number}/close", {"result": "完成"}).status_code == 303
    assert 'data-field="result"' in c.get(f"/whistles/{whistle.number}/").content.decode()


def test_who_gets_nothing(client, wdemo):
    whistle = blow(STREET_A)
    for who in (GW_A, "resident1", "auditor"):
        c = signed_in(client, who)
        assert c.get("/whistles/").status_code == 403
        assert c.get("/whistles/figures/").status_code == 403
        assert c.get("/whistles/new/").status_code == 403
        assert c.get(f"/whistles/{whistle.number}/").status_code == 404
    for who in (STREET_B, "dept-d03"):
        assert signed_in(client, who).get(f"/whistles/{whistle.number}/").status_code == 404
    assert signed_in(client, "dept-d01").get("/whistles/new/").status_code == 403
    forged = signed_in(client, "dept-d03").post(f"/whistles/{whistle.number}/report-in", {"attendees": "x"})
    assert forged.status_code == 404 and not Summons.objects.filter(reported_at__isnull=False).exists()
    assert signed_in(client, None).get("/whistles/").status_code == 302  # to the login page


def test_the_list_and_figures_pages(client, wdemo):
    whistle = blow(STREET_A, kind="emergency")
    c = signed_in(client, "operator")
    page = c.get("/whistles/?kind=emergency").content.decode()
    assert f'data-number="{whistle.number}"' in page
    assert f'data-number="{whistle.number}"' not in c.get("/whistles/?kind=routine").content.decode()
    bad = c.get("/whistles/?street=nowhere")
    assert bad.status_code == 400 and 'data-code="unknown_region"' in bad.content.decode()
    figures = c.get("/whistles/figures/?date_from=2026-01-01").content.decode()
    assert 'data-total="1"' in figures and 'data-department="D01"' in figures
    assert c.get("/whistles/figures/?date_from=x").status_code == 400
