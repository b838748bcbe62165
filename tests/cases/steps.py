"""Helpers for the case tests: a point inside a named grid, a frozen clock, and walking a case
through the services to any state (each move by the demo user whose job it is)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone
from PIL import Image, TiffImagePlugin
from shapely.geometry import shape

from civicgrid.accounts.models import Department, Role, User
from civicgrid.accounts.scopes import Scope
from civicgrid.cases.models import Case, CaseEvent, CaseState
from civicgrid.cases.services import Upload, case_move
from civicgrid.cases.workflow import Actor
from civicgrid.notifications.models import Notification
from civicgrid.regions.models import Boundary

from .conftest import actor, report

S = CaseState
GRID_A = "32010200200101"  # 梅园新村社区第1网格 (梅园新村街道 320102002)
GRID_A2 = "32010200200102"  # the next grid of the same community
GRID_B = "32010201000101"  # 板仓社区第1网格 (玄武湖街道 320102010)
GW_A, PT_A, GW_A2, GW_B = (f"gw-{GRID_A}", f"pt-{GRID_A}", f"gw-{GRID_A2}", f"gw-{GRID_B}")
CHIEF_A, STAFF_A = "chief-320102002001", "staff-320102002001"
STREET_A, STREET_B = "street-320102002", "street-320102010"
# A class a grid worker may resolve on the spot (非法小广告, 1工作日, owned by D01).
SELF_RESOLVABLE = "E0201"
NOT_SELF_RESOLVABLE = "E0101"  # 私搭乱建, 15工作日, D01


def point_in(grid_code: str) -> tuple[float, float]:
    """A point inside the grid's boundary in the active generation."""
    row = Boundary.objects.get(region__code=grid_code, generation__state="active")
    p = shape(row.geojson()).representative_point()
    return (p.x, p.y)


class Frozen:
    """``django.utils.timezone.now`` stands still at ``at`` until moved (services and the DB's
    auto-now fields all read it)."""

    def __init__(self, monkeypatch, at: datetime):
        self.at = at
        # As Django's own now(): in UTC, so stored and replayed values format alike.
        monkeypatch.setattr(timezone, "now", lambda: self.at.astimezone(UTC))

    def to(self, at: datetime) -> datetime:
        self.at = at
        return at


def jpeg(color=(200, 30, 30), size=(8, 8), *, gps: bool = False) -> bytes:
    """A tiny JPEG; with ``gps``, its EXIF says it was taken at 32°03'N 118°48'E (as phones write)."""
    out = io.BytesIO()
    exif = Image.Exif()
    if gps:
        r = TiffImagePlugin.IFDRational
        exif[0x8825] = {1: "N", 2: (r(32, 1), r(3, 1), r(0, 1)), 3: "E", 4: (r(118, 1), r(48, 1), r(0, 1))}
    Image.new("RGB", size, color).save(out, "JPEG", exif=exif)
    return out.getvalue()


def review_day() -> str:
    return (timezone.localdate() + timedelta(days=7)).isoformat()


def handler_of(case: Case) -> str:
    return f"dept-{Department.objects.get(pk=case.department_id).code.lower()}"


# What each move carries when the test makes it: a note where one is required, and its data.
def move_input(action: str) -> dict:
    notes = {
        "void": "重复上报",
        "return": "不属于本单位职责",
        "feedback": "已处理完毕",
        "check_fail": "现场仍有问题",
        "extend_request": "需要协调物业",
        "extend_reject": "时限足够",
        "suspend": "需等待专项资金",
        "pause": "联系不上居民",
        "note": "已电话联系",
    }
    data = {
        "rate": {"satisfaction": "satisfied"},
        "follow_up": {"contacted": True, "resolved": True, "satisfaction": "satisfied"},
        "extend_request": {"limit": "2工作日"},
        "suspend": {"review_on": review_day()},
    }
    given = {"note": notes.get(action, ""), "data": data.get(action, {})}
    if action == "self_resolve":  # the matter before and after, as on the spot
        given["files"] = [
            Upload("before.jpg", jpeg((200, 0, 0)), "before"),
            Upload("after.jpg", jpeg(), "after"),
        ]
    return given


def tracking_actor(case: Case) -> Actor:
    """A resident holding the case's public follow link (not signed in)."""
    return Actor(user_id=None, tracking_case_id=case.pk)


def do(who, case: Case, action: str, **kwargs) -> Case:
    """Make ``action`` on ``case`` as ``who`` (a username, or an Actor) with the usual note and data."""
    case.refresh_from_db()
    given = move_input(action) | kwargs
    acting = who if isinstance(who, Actor) else actor(who)
    if acting.user_id is None:  # the public follow page passes the case it found by tracking code
        given.setdefault("case", Case.objects.get(pk=case.pk))
    case_move(actor=acting, number=case.number, action=action, version=case.version, **given)
    case.refresh_from_db()
    return case


def doer(action: str, case: Case):
    """The demo user whose job ``action`` is on ``case``."""
    return {
        "verify": GW_A,
        "check_pass": GW_A,
        "check_fail": GW_A,
        "self_resolve": GW_A,
        "dispatch": "operator",
        "follow_up": "operator",
        "rate": tracking_actor(case),
    }.get(action) or (
        handler_of(case)
        if action in ("accept", "return", "feedback", "extend_request", "suspend", "pause", "unpause")
        else "shiftlead"
    )


# How to reach each state from the one before it.
PATH = {
    S.VOIDED: (S.REPORTED, "void"),
    S.REGISTERED: (S.REPORTED, "register"),
    S.DISPATCHED: (S.REGISTERED, "dispatch"),
    S.HANDLING: (S.DISPATCHED, "accept"),
    S.SUSPENDED: (S.HANDLING, "suspend"),
    S.CHECKING: (S.HANDLING, "feedback"),
    S.CHECKED: (S.CHECKING, "check_pass"),
    S.CLOSED: (S.CHECKED, "close"),
}


def walk(state: str, *, case_class: str = SELF_RESOLVABLE, grid: str = GRID_A, **fields) -> Case:
    """A new case in grid ``grid`` brought to ``state`` through the services."""
    if state == S.VERIFYING:
        return report("", channel="resident", point=point_in(grid), case_class=case_class, **fields)
    if state == S.REPORTED:
        return report(f"gw-{grid}", point=point_in(grid), case_class=case_class, **fields)
    before, action = PATH[state]
    case = walk(before, case_class=case_class, grid=grid, **fields)
    return do(doer(action, case), case, action)


def everyone(case: Case) -> Actor:
    """An actor holding every role everywhere and the case's follow link: whatever they are
    refused, the state refused it, and what they may do is exactly what the state allows."""
    lead = User.objects.get(username="shiftlead")
    scope = Scope(
        user_id=lead.pk,
        roles=frozenset(Role.values),
        department_ids=frozenset(Department.objects.values_list("pk", flat=True)),
        everything=True,
    )
    return Actor(user_id=lead.pk, scope=scope, tracking_case_id=case.pk)


def snapshot(case: Case) -> dict:
    """What a refused move must leave as it was: the row, its timeline, its messages."""
    row = Case.objects.filter(pk=case.pk).values().get()
    return {
        "row": row,
        "events": list(CaseEvent.objects.filter(case=case).values_list("seq", "action")),
        "notifications": Notification.objects.filter(case=case).count(),
    }


def signed_in(client, username: str | None):
    """The test client as ``username`` (None: nobody)."""
    client.logout()
    if username:
        client.force_login(User.objects.get(username=username))
    return client


def error_of(response, status: int, code: str) -> dict:
    """Check the one error shape, its status and code; returns its detail."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]["detail"]


def on_postgres() -> bool:
    return connection.vendor == "postgresql"
