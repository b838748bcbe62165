"""Who sees which case — in the list, the case itself and its files — persona by persona, and
what the public follow link shows. Outside one's scope a case answers 404, audited."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from civicgrid.audit.models import AuditRecord
from civicgrid.cases import presenters
from civicgrid.cases.models import Attachment, Case
from civicgrid.cases.services import Upload

from .conftest import actor, report
from .steps import (
    CHIEF_A,
    GRID_B,
    GW_A,
    GW_A2,
    GW_B,
    PT_A,
    STAFF_A,
    STREET_A,
    STREET_B,
    S,
    do,
    error_of,
    jpeg,
    point_in,
    signed_in,
    walk,
)

pytestmark = pytest.mark.django_db
API = "/api/v1/cases"
PHONE = "13700001234"


def _photo(name: str = "scene.jpg") -> list[Upload]:
    return [Upload(name, jpeg(gps=True))]


def _world(settings, tmp_path) -> dict[str, Case]:
    """Three cases in grid A — registered, dispatched to D01, and dispatched to D01 with D02 as
    co-handler — and resident1's own report in grid B. Each has a photo."""
    settings.MEDIA_ROOT = tmp_path
    registered = walk(S.REGISTERED, files=_photo())
    dispatched = walk(S.HANDLING, files=_photo())
    shared = walk(S.REGISTERED, files=_photo())
    do("operator", shared, "dispatch", data={"department": "D01", "co_departments": ["D02"]})
    do("dept-d01", shared, "accept")
    mine = report("resident1", channel="resident", point=point_in(GRID_B), files=_photo(),
                  reporter_name="李四", reporter_phone=PHONE)  # fmt: skip
    return {"registered": registered, "dispatched": dispatched, "shared": shared, "mine": mine}


IN_A = {"registered", "dispatched", "shared"}
EVERY = IN_A | {"mine"}
# persona → the cases they see (in the list, as a case, and its files); None: not signed in.
SEES = {
    None: set(),
    "resident1": {"mine"},
    "resident2": set(),
    GW_A: IN_A,
    PT_A: IN_A,
    GW_A2: set(),  # the next grid of the same community
    GW_B: {"mine"},  # another community and street
    CHIEF_A: IN_A,
    STAFF_A: IN_A,
    STREET_A: IN_A,
    STREET_B: {"mine"},
    "operator": EVERY,
    "shiftlead": EVERY,
    "dept-d01": {"dispatched", "shared"},  # only once dispatched to D01
    "dept-d02": {"shared"},  # only as the named co-handler
    "dept-d03": set(),
    "auditor": set(),
    "secadmin": set(),
    "admin": set(),
}


@pytest.mark.parametrize("persona", SEES, ids=[p or "anonymous" for p in SEES])
def test_each_persona_sees_exactly_its_cases(client, cases_demo, settings, tmp_path, persona):
    cases = _world(settings, tmp_path)
    c = signed_in(client, persona)
    listed = c.get(f"{API}/")
    if persona is None:
        error_of(listed, 401, "unauthenticated")
        error_of(c.get(f"{API}/{cases['mine'].number}"), 401, "unauthenticated")
    else:
        assert listed.status_code == 200
        assert {i["number"] for i in listed.json()["items"]} == {cases[k].number for k in SEES[persona]}
    for key, case in cases.items():
        attachment = Attachment.objects.get(case=case)
        download = c.get(f"/cases/{case.number}/files/{attachment.pk}")
        if key in SEES[persona]:
            assert c.get(f"{API}/{case.number}").status_code == 200, key
            assert download.status_code == 200, key
        else:
            if persona is not None:
                error_of(c.get(f"{API}/{case.number}"), 404, "case_not_found")
            assert download.status_code == 404, key


def test_a_co_handler_may_add_a_note_but_not_report_the_result(client, cases_demo, settings, tmp_path):
    shared = _world(settings, tmp_path)["shared"]
    c = signed_in(client, "dept-d02")
    assert [m["action"] for m in c.get(f"{API}/{shared.number}").json()["moves"]] == ["note"]
    url = f"{API}/{shared.number}/moves"
    refused = c.post(f"{url}/feedback", {"version": shared.version, "note": "已处理"})
    assert error_of(refused, 403, "move_forbidden")["allowed"] == ["note"]
    assert Case.objects.get(pk=shared.pk).state == S.HANDLING
    noted = c.post(f"{url}/note", {"version": shared.version, "note": "配合单位已到场"})
    assert noted.status_code == 200 and noted.json()["state"] == "handling"
    assert shared.events.last().actor.username == "dept-d02"


def test_a_department_loses_a_case_it_returned_once_another_takes_it(client, cases_demo):
    case = walk(S.DISPATCHED)
    do("dept-d01", case, "return", note="不属于本单位")
    do("operator", case, "dispatch", data={"department": "D02"})
    error_of(signed_in(client, "dept-d01").get(f"{API}/{case.number}"), 404, "case_not_found")
    assert signed_in(client, "dept-d02").get(f"{API}/{case.number}").status_code == 200


def test_an_out_of_scope_case_is_audited_as_a_denied_access(client, cases_demo, settings, tmp_path):
    cases = _world(settings, tmp_path)
    case = cases["registered"]
    c = signed_in(client, GW_B)
    error_of(c.get(f"{API}/{case.number}"), 404, "case_not_found")
    attachment = Attachment.objects.get(case=case)
    assert c.get(f"/cases/{case.number}/files/{attachment.pk}").status_code == 404
    denied = AuditRecord.objects.filter(action="access.denied", actor__username=GW_B)
    assert list(denied.values_list("object_type", "object_id", "result")) == [
        ("cases.case", case.number, "denied"),
        ("cases.case", case.number, "denied"),
    ]
    # A number that does not exist is not found, and nobody was denied anything.
    error_of(c.get(f"{API}/320102-20991231-000001"), 404, "case_not_found")
    assert denied.count() == 2


def test_the_follow_link_shows_no_personal_data_and_no_photo_location(client, cases_demo, settings, tmp_path):
    mine = _world(settings, tmp_path)["mine"]
    do(GW_B, mine, "verify", note="核实属实")
    staff = presenters.case_detail(Case.objects.get(pk=mine.pk), actor("operator"))
    assert staff["attachments"][0]["gps"] == pytest.approx([118.8, 32.05])
    public = presenters.case_public(Case.objects.get(pk=mine.pk))
    text = json.dumps(public, default=str, ensure_ascii=False)
    for secret in (PHONE, "137****1234", "李四", "李*", "gps", "reporter", GW_B, "resident1"):
        assert secret not in text, secret
    assert [set(a) for a in public["attachments"]] == [{"id", "purpose", "url"}]
    assert all(e["actor"] is None and e["actor_role"] == "" and e["data"] == {} for e in public["events"])
    assert [e["note"] for e in public["events"]] == ["", ""]  # a verification note is for staff

    url = public["attachments"][0]["url"]
    served = signed_in(client, None).get(url)
    assert served.status_code == 200
    image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
    assert 0x8825 not in image.getexif()  # no GPS in the stored file
    assert client.get(url.replace(mine.tracking_code, "WRONGCODE2")).status_code == 404
    other = Attachment.objects.exclude(case=mine).first()
    assert client.get(url.rsplit("/", 1)[0] + f"/{other.pk}").status_code == 404


def test_a_resident_reading_their_own_case_gets_what_the_follow_page_shows(
    client, cases_demo, settings, tmp_path
):
    mine = _world(settings, tmp_path)["mine"]
    do(GW_B, mine, "verify", note="核实属实")
    do("shiftlead", mine, "note", note="内部：该居民多次重复反映")
    staff = signed_in(client, "operator").get(f"{API}/{mine.number}").json()
    assert [e["actor"] is not None for e in staff["events"]] == [True, True, True]
    assert staff["events"][-1]["note"] == "内部：该居民多次重复反映" and staff["attachments"][0]["gps"]
    own = signed_in(client, "resident1").get(f"{API}/{mine.number}")
    assert own.status_code == 200
    body = own.json()
    text = json.dumps(body, ensure_ascii=False)
    for internal in ("内部", "核实属实", GW_B, "shiftlead", "department_handler", "grid_worker"):
        assert internal not in text, internal
    assert [e["action"] for e in body["events"]] == ["report", "verify"]  # staff notes are left out
    assert all(e["actor"] is None and e["data"] == {} for e in body["events"])
    assert body["attachments"][0]["gps"] is None and body["moves"] == []
