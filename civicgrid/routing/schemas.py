"""API shapes for routing. Times are ISO 8601 with the +08:00 offset."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field


class TierMoveIn(Schema):
    version: int = Field(description="the case version you saw; a stale one is refused with 409")
    reason: str = Field("", description="required: why (for resolve: what was agreed, and how)")


class SendDownIn(TierMoveIn):
    to_tier: str = Field("", description="building, estate or community; one rung down when empty")


class TierOut(Schema):
    tier: str
    label: str
    position: int
    owner_roles: list[str]
    limit: str
    meeting_form: str


class RoutingConfigOut(Schema):
    tiers: list[TierOut]
    first_tier: dict[str, str]


class RoutedOut(Schema):
    number: str
    title: str
    state: str
    level: str
    tier: str
    tier_label: str
    tier_deadline: datetime | None
    version: int
    grid: str
    community: str
    moves: list[str]
    # False when the move took the case out of your sight (e.g. escalated above your tier).
    visible: bool = True


class RoutedListOut(Schema):
    count: int
    items: list[RoutedOut]
