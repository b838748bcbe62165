"""API shapes for whistles. Times are ISO 8601 with the +08:00 offset; coordinates WGS-84."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema
from pydantic import Field


class WhistleIn(Schema):
    kind: str = Field(description="routine (日常哨), tough (攻坚哨) or emergency (应急哨)")
    departments: list[str] = Field(description="codes of the departments summoned, each once")
    lead: str = Field("", description="the lead department's code (one of departments; optional with one)")
    region: str = Field("", description="the blowing street or community; default: the case's or your own")
    case: str = Field("", description="the case's number; empty for a standalone matter")
    title: str = Field("", description="a standalone matter's title (required without a case)")
    description: str = ""
    place: str = ""
    idempotency_key: str = Field("", description="or the Idempotency-Key header; required")


class ReportInIn(Schema):
    department: str = Field("", description="your department's code (needed only if you hold several)")
    attendees: str = Field(description="who came (names)")
    where: str = ""
    lon: float | None = None
    lat: float | None = None
    crs: str = Field("wgs84", description="wgs84, gcj02 or bd09")
    note: str = ""


class TaskIn(Schema):
    department: str
    task: str
    due: date


class MeetingIn(Schema):
    held_at: datetime | None = Field(None, description="default: now")
    place: str = ""
    attendees: str
    agreed: str
    tasks: list[TaskIn] = []


class CloseIn(Schema):
    result: str


class PlaceOut(Schema):
    code: str
    name: str
    level: str = ""


class WhistleSummaryOut(Schema):
    number: str
    kind: str
    kind_label: str
    state: str
    title: str
    region: PlaceOut
    street: PlaceOut
    case: str | None
    lead: str
    limit: str
    opened_at: datetime
    closed_at: datetime | None


class SummonsOut(Schema):
    department: str
    department_name: str
    deadline: datetime
    status: str = Field(description="waiting, on_time, late (reported after the deadline) or missing")
    reported_at: datetime | None
    reported_by: str | None
    attendees: str
    where: str
    lon: float | None
    lat: float | None
    note: str
    late: bool


class TaskOut(Schema):
    department: str
    department_name: str
    task: str
    due: date


class MeetingOut(Schema):
    held_at: datetime
    place: str
    attendees: str
    agreed: str
    recorded_by: str
    tasks: list[TaskOut]


class WhistleOut(WhistleSummaryOut):
    description: str
    place: str
    blown_by: str
    blown_as: str
    result: str
    summonses: list[SummonsOut]
    meetings: list[MeetingOut]


class BlownOut(Schema):
    replayed: bool
    whistle: WhistleOut


class WhistleListOut(Schema):
    count: int
    items: list[WhistleSummaryOut]


class LimitOut(Schema):
    kind: str
    label: str
    limit: str
    working_time: bool


class StreetFiguresOut(Schema):
    street: str
    name: str
    routine: int
    tough: int
    emergency: int
    total: int


class DepartmentFiguresOut(Schema):
    department: str
    name: str
    summoned: int
    due: int = Field(description="summonses that came due: reported in, or flagged without a report-in")
    on_time: int
    late: int = Field(description="reported in after the deadline")
    missing: int = Field(description="deadline passed, no report-in")
    on_time_rate: float | None = Field(description="on_time / due; null when nothing came due")


class ResolutionOut(Schema):
    closed: int
    mean_hours: float | None
    median_hours: float | None


class FiguresOut(Schema):
    date_from: date | None
    date_to: date | None
    total: int
    by_kind: dict[str, int]
    by_street: list[StreetFiguresOut]
    departments: list[DepartmentFiguresOut]
    resolution: ResolutionOut
