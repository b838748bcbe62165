"""API shapes for enforcement. Times are ISO 8601 with the +08:00 offset; positions WGS-84 unless
``crs`` says otherwise."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema
from pydantic import Field


class CheckpointOut(Schema):
    id: int
    seq: int
    text: str


class ItemOut(Schema):
    code: str
    name: str
    department: str | None = Field(description="the implementing department's code")
    department_name: str
    legal_basis: str
    case_class: str | None = Field(description="the default 小类 of a case raised from a failed checkpoint")
    checkpoints: list[CheckpointOut]


class PlaceOut(Schema):
    code: str
    name: str


class PersonOut(Schema):
    username: str
    name: str


class TaskItemOut(Schema):
    code: str
    name: str
    checkpoints: list[CheckpointOut]


class TaskOut(Schema):
    id: int
    item: TaskItemOut
    grid: PlaceOut
    due: date
    state: str = Field(description="open, done or cancelled")
    note: str
    assignees: list[PersonOut]


class TaskIn(Schema):
    item: str = Field(description="the item's code")
    grid: str = Field(description="the grid's code")
    due: date
    assignees: list[str] = Field(
        [], description="usernames; empty: the grid's full-time workers and the street's officers"
    )
    note: str = ""


class AnswerIn(Schema):
    checkpoint: int = Field(description="the checkpoint's id")
    result: str = Field(description="pass, fail or na")
    note: str = ""
    raise_case: bool = Field(False, description="raise a case from this failed checkpoint now")


class InspectionIn(Schema):
    task: int | None = None
    item: str = Field(description="the item's code")
    grid: str = Field(description="the grid's code")
    answers: list[AnswerIn] = Field(description="one per active checkpoint of the item")
    lon: float | None = None
    lat: float | None = None
    accuracy: float | None = Field(None, description="metres, as the Geolocation API reports it")
    crs: str = Field("wgs84", description="wgs84, gcj02 or bd09")
    note: str = ""
    client_key: str = Field("", description="the phone's key; the same key again answers the first result")
    at: datetime | None = Field(None, description="when it was inspected (default: now)")


class RecordedOut(Schema):
    id: int
    replayed: bool
    failed: int
    cases: list[str] = Field(description="numbers of the cases raised")


class CaseRaiseIn(Schema):
    checkpoint: int


class RaisedOut(Schema):
    number: str


class InspectionSummaryOut(Schema):
    id: int
    task: int | None
    item: PlaceOut
    grid: PlaceOut
    inspector: PersonOut
    at: datetime
    failed: int
    cases: list[str]


class InspectionListOut(Schema):
    count: int
    items: list[InspectionSummaryOut]


class AnswerOut(Schema):
    checkpoint: CheckpointOut
    result: str
    note: str
    case: str | None


class PhotoOut(Schema):
    id: int
    url: str


class InspectionOut(InspectionSummaryOut):
    lon: float
    lat: float
    accuracy: float | None
    note: str
    created_at: datetime
    answers: list[AnswerOut]
    photos: list[PhotoOut]
