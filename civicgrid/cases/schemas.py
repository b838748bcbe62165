"""API shapes for cases. Times are ISO 8601 with the +08:00 offset; coordinates WGS-84."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema
from pydantic import Field


class ClassOut(Schema):
    code: str
    name: str
    name_en: str
    family: str
    major: str | None = None
    register_rule: str = ""
    close_rule: str = ""
    limits: dict[str, str] = {}
    department: str | None = None
    self_resolvable: bool = False


class SuggestionOut(Schema):
    code: str
    name: str
    score: float
    matched: list[str]


class CaseIn(Schema):
    channel: str = Field("api", description="grid_worker, phone, walk_in, leader or api")
    title: str = ""
    description: str = ""
    lon: float | None = None
    lat: float | None = None
    crs: str = Field("wgs84", description="wgs84, gcj02 or bd09")
    address: str = ""
    case_class: str = Field("", description="a 小类 code; suggested from the text when empty")
    urgency: str = "normal"
    level: str = Field(
        "street", description="四级四事: family, neighbourhood, estate, community, street or district"
    )
    reporter_name: str = ""
    reporter_phone: str = ""
    self_resolve: bool = False
    note: str = ""
    idempotency_key: str = Field("", description="or the Idempotency-Key header; required")


class MoveIn(Schema):
    version: int = Field(description="the case version you saw; a stale one is refused with 409")
    note: str = ""
    lon: float | None = None
    lat: float | None = None
    department: str = ""
    co_departments: str = Field("", description="comma-separated department codes")
    case_class: str = ""
    urgency: str = ""
    satisfaction: str = ""
    comment: str = ""
    limit: str = Field("", description='an extension, e.g. "3工作日"')
    review_on: date | None = None
    contacted: bool = False
    resolved: bool = False


class PlaceOut(Schema):
    code: str
    name: str


class CaseSummaryOut(Schema):
    number: str
    title: str
    state: str
    state_label: str
    channel: str
    case_class: str | None
    case_class_name: str | None
    urgency: str
    grid: PlaceOut
    street: PlaceOut
    department: str | None
    created_at: datetime
    stage: str
    stage_deadline: datetime | None
    overdue: bool
    version: int
    level: str
    tier: str
    tier_deadline: datetime | None


class EventOut(Schema):
    seq: int
    action: str
    action_label: str
    from_state: str
    to_state: str
    actor: str | None
    actor_role: str
    at: datetime
    note: str
    data: dict


class AttachmentOut(Schema):
    id: int
    purpose: str
    kind: str
    content_type: str
    size: int
    url: str
    gps: list[float] | None = None


class MoveOut(Schema):
    action: str
    label: str


class CaseOut(CaseSummaryOut):
    description: str
    address: str
    lon: float
    lat: float
    community: PlaceOut
    generation: int
    reporter_name: str
    reporter_phone: str
    tracking_code: str
    due_at: datetime | None
    paused: bool
    pending_extension: dict | None
    rework_count: int
    return_count: int
    extension_count: int
    satisfaction: str
    co_departments: list[str]
    events: list[EventOut]
    attachments: list[AttachmentOut]
    moves: list[MoveOut]


class DuplicateOut(Schema):
    """An open case that may be the same matter, as anyone may see it (cases/duplicates.py)."""

    number: str
    title: str
    state: str
    state_label: str
    distance_m: int = Field(description="rounded to 10 m")
    reported_on: date
    similarity: float = Field(description="text similarity, 0–1")


class DuplicateStaffOut(Schema):
    number: str
    title: str
    state: str
    state_label: str
    case_class: str
    created_at: datetime
    distance_m: float
    age_hours: float
    similarity: float
    score: float = Field(description="0–1: 0.4 nearness + 0.2 recency + 0.4 text similarity")
    version: int


class CreatedOut(Schema):
    replayed: bool
    case: CaseOut
    suggestions: list[SuggestionOut]
    duplicates: list[DuplicateOut] = Field([], description="open cases that may be the same matter")


class MergeIn(Schema):
    master: str = Field(description="the number of the case this one is merged into")
    version: int = Field(description="this case's version you saw; a stale one is refused with 409")
    note: str = ""
    cross_class: bool = Field(False, description="confirm merging cases of different classes")


class FollowIn(Schema):
    lon: float
    lat: float
    crs: str = "wgs84"
    case_class: str = ""
    text: str = ""


class FollowOut(Schema):
    number: str
    follow_code: str
    url: str


class CaseListOut(Schema):
    count: int
    count_capped: bool
    items: list[CaseSummaryOut]


class InboxOut(Schema):
    key: str
    label: str
    count: int


class RevealIn(Schema):
    field: str = Field(description="reporter_name or reporter_phone")
    reason: str
