from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema


class AuditRecordOut(Schema):
    id: int
    at: datetime
    actor_name: str
    ip: str | None
    action: str
    object_type: str
    object_id: str
    result: str = Field(description="success, failure or denied")
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class AuditFilters(Schema):
    q: str | None = Field(None, description="an IP address, or text in the actor, action or object")
    action: str | None = Field(None, description="a code (auth.login) or a prefix (auth.*)")
    actor: str | None = Field(None, description="username as recorded")
    since: datetime | date | None = Field(None, description="inclusive")
    until: datetime | date | None = Field(None, description="exclusive; a date includes its whole day")


class ChainBreakOut(Schema):
    kind: str = Field(description="edited, gap, start or anchor")
    record_id: int | None
    at: str | None
    previous_id: int | None
    previous_at: str | None
    message: str


class ChainOut(Schema):
    ok: bool
    checked: int
    head_id: int | None
    head_hash: str | None
    break_count: int
    breaks: list[ChainBreakOut] = Field(description="the first 100 breaks")
