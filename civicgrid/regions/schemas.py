from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema


class Place(Schema):
    code: str
    name: str


class GridPlace(Place):
    type: str = Field(description="comprehensive (综合网格) or dedicated (专属网格)")


class GenerationRef(Schema):
    id: int
    name: str


class LonLat(Schema):
    lon: float
    lat: float


class LocateOut(Schema):
    generation: GenerationRef
    wgs84: LonLat
    grid: GridPlace
    community: Place
    street: Place
    district: Place | None


class LocateBulkIn(Schema):
    crs: str = Field("wgs84", description="wgs84, gcj02 or bd09")
    generation: str | None = Field(None, description="id or name; the active generation when omitted")
    points: list[tuple[float, float]] = Field(description="[[lon, lat], …], at most 10,000")


class ConvertOut(Schema):
    lon: float
    lat: float
    crs: str


class ConvertBulkIn(Schema):
    source: str = Field(description="wgs84, gcj02 or bd09")
    target: str = Field(description="wgs84, gcj02 or bd09")
    points: list[tuple[float, float]]


class GenerationOut(Schema):
    id: int
    name: str
    description: str
    state: str
    source: str
    created_at: datetime
    validated_at: datetime | None
    problem_count: int | None
    activated_at: datetime | None


class ProblemOut(Schema):
    kind: str
    message: str
    codes: list[str]
    area_m2: float | None
    lon: float | None
    lat: float | None
    feature: int | None
    geometry: dict | None


class ValidationOut(Schema):
    generation: GenerationRef
    ok: bool
    problems: list[ProblemOut]


class RegionOut(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None
    kind: str
    grid_type: str
    statistical_only: bool
    households: int | None
    population: int | None
    buildings: int | None
    land_use: str
    key_places: list
    landmarks: list


class RegionDetailOut(RegionOut):
    ancestors: list[Place]
    children: list[Place]
    area_m2: float | None
    synthetic: bool | None


class StaffOut(Schema):
    post: str = Field(description="chief, full_time, part_time or branch_secretary")
    post_label: str
    name: str
    since: date
