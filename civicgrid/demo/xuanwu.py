"""The Xuanwu demo's geography: real outline and codes, synthetic inner boundaries.

Only the district outline and the statistical codes are real (see ``data/README.md`` for
their provenance). No public polygons exist for Xuanwu's streets, communities or grids, so they
are drawn here: streets around anchor points near each street's real office, communities and
exactly 615 grids by density-weighted subdivision. Every inner boundary is marked synthetic.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from civicgrid.geo import partition

DATA_DIR = Path(__file__).resolve().parent / "data"
DISTRICT_FILE = DATA_DIR / "xuanwu-district.geojson"
DIVISIONS_FILE = DATA_DIR / "xuanwu-divisions-nbs2023.csv"
TOTAL_GRIDS = 615
DEFAULT_SEED = 2026
# Census 2020 population of Xuanwu (shared/reference/cn-grid-domain.md §3), spread over grids.
POPULATION = 537_825
PEOPLE_PER_HOUSEHOLD = 2.6

# Approximate positions (WGS-84) of each street's centre, from general geography of Nanjing;
# they only steer the synthetic street boundaries to the right part of the district.
STREET_ANCHORS = {
    "320102003000": (118.786, 32.044),  # 新街口 — the old city centre, south-west
    "320102002000": (118.806, 32.043),  # 梅园新村 — east of 新街口, by the Presidential Palace
    "320102005000": (118.784, 32.066),  # 玄武门 — west shore of Xuanwu Lake
    "320102007000": (118.813, 32.086),  # 锁金村 — north-east of the lake
    "320102008000": (118.795, 32.097),  # 红山 — the north, around Hongshan zoo
    "320102009000": (118.852, 32.031),  # 孝陵卫 — south-east, the universities
    "320102010000": (118.872, 32.080),  # 玄武湖 — the east: 蒋王庙, 仙鹤门, 徐庄
}

# (lon, lat, radius°, weight): settlement density bumps; negative weight = lake and mountain.
_DENSITY_BUMPS = [
    (118.785, 32.045, 0.012, 3.0),  # 新街口 business district
    (118.803, 32.046, 0.010, 2.0),  # 大行宫 / 长江路
    (118.812, 32.086, 0.010, 1.6),  # 锁金村 housing estates
    (118.795, 32.098, 0.010, 1.2),  # 红山
    (118.852, 32.030, 0.012, 1.2),  # 孝陵卫
    (118.875, 32.085, 0.010, 0.8),  # 仙鹤门
    (118.792, 32.072, 0.010, -0.9),  # Xuanwu Lake (水面)
    (118.845, 32.062, 0.016, -0.9),  # Purple Mountain (紫金山)
]


def density(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Relative residential density used to size synthetic communities and grids."""
    value = np.full(np.shape(lon), 0.35)
    for x, y, r, weight in _DENSITY_BUMPS:
        value = value + weight * np.exp(-((lon - x) ** 2 + (lat - y) ** 2) / (2 * r * r))
    return np.clip(value, 0.05, None)


@dataclass
class Division:
    code: str
    name: str
    level: str  # district | street | community | grid
    parent_code: str | None
    kind: str = ""
    statistical_only: bool = False
    geometry: BaseGeometry | None = None
    synthetic: bool = True
    attributes: dict = field(default_factory=dict)


def load_district() -> BaseGeometry:
    data = json.loads(DISTRICT_FILE.read_text(encoding="utf-8"))
    return shape(data["features"][0]["geometry"])


def load_divisions() -> list[Division]:
    """District, streets, development zone and communities from the NBS 2023 code list."""
    rows = []
    with DIVISIONS_FILE.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            level = row["level"]
            statistical_only = level in ("development-zone", "virtual-community")
            rows.append(
                Division(
                    code=row["code12"],
                    name=row["name"],
                    level={"development-zone": "street", "virtual-community": "community"}.get(level, level),
                    parent_code=None if level == "district" else row["parent_code12"],
                    kind=level,
                    statistical_only=statistical_only,
                )
            )
    return rows


def _weight(geom: BaseGeometry, seed: int) -> float:
    """Expected population weight of an area: mean density × area, by sampling."""
    x, y = partition.sample_points(geom, 1500, np.random.default_rng(seed))
    return float(density(x, y).mean() * geom.area)


def build(
    seed: int = DEFAULT_SEED, grid_code_format: str = "{county}{street}{community}{seq:02d}"
) -> list[Division]:
    """All divisions with geometry: the real district, synthetic streets, communities, grids."""
    divisions = load_divisions()
    district = next(d for d in divisions if d.level == "district")
    district.geometry = load_district()
    district.synthetic = False

    streets = [d for d in divisions if d.level == "street" and not d.statistical_only]
    street_parts = partition.subdivide(
        district.geometry,
        len(streets),
        density=density,
        seed=seed,
        anchors=[STREET_ANCHORS[s.code] for s in streets],
    )
    for street, geom in zip(streets, street_parts, strict=True):
        street.geometry = geom

    communities = [d for d in divisions if d.level == "community" and not d.statistical_only]
    for street in streets:
        members = [c for c in communities if c.parent_code == street.code]
        parts = partition.subdivide(
            street.geometry, len(members), density=density, seed=seed + int(street.code[6:9])
        )
        # Real codes are handed out in reading order of the synthetic parts.
        for community, index in zip(members, partition.reading_order(parts), strict=True):
            community.geometry = parts[index]

    weights = [_weight(c.geometry, seed) for c in communities]
    counts = partition.allocate(TOTAL_GRIDS, weights, minimum=4)
    grids: list[Division] = []
    for community, count, weight in zip(communities, counts, weights, strict=True):
        parts = partition.subdivide(
            community.geometry, count, density=density, seed=seed + int(community.code[6:12])
        )
        share = weight / sum(weights)
        short_name = (
            community.name.removesuffix("社区居委会").removesuffix("社区居民委员会").removesuffix("社区")
        )
        for seq, index in enumerate(partition.reading_order(parts), start=1):
            geom = parts[index]
            code = grid_code_format.format(
                county=community.code[:6], street=community.code[6:9], community=community.code[9:12], seq=seq
            )
            grids.append(_grid(code, f"{short_name}社区第{seq}网格", community.code, geom, share / count))
    return [*divisions, *grids]


def _grid(code: str, name: str, community_code: str, geom: BaseGeometry, share: float) -> Division:
    point = geom.representative_point()
    local = float(density(np.array([point.x]), np.array([point.y]))[0])
    # Lake and mountain grids are dedicated (专属) scenic grids; the rest are comprehensive.
    scenic = local < 0.2
    population = 0 if scenic else round(POPULATION * share)
    return Division(
        code=code,
        name=name,
        level="grid",
        parent_code=community_code,
        kind="dedicated" if scenic else "comprehensive",
        geometry=geom,
        attributes={
            "population": population,
            "households": round(population / PEOPLE_PER_HOUSEHOLD),
            "buildings": 0 if scenic else max(1, round(population / 180)),
            "land_use": "scenic" if scenic else "residential",
        },
    )


def to_geojson(divisions: list[Division]) -> str:
    """The divisions as one FeatureCollection string, byte-stable for a given seed."""
    features = [
        {
            "type": "Feature",
            "properties": {
                "code": d.code,
                "name": d.name,
                "level": d.level,
                "parent_code": d.parent_code,
                "kind": d.kind,
                "synthetic": d.synthetic,
                **d.attributes,
            },
            "geometry": shapely.geometry.mapping(d.geometry),
        }
        for d in divisions
        if d.geometry is not None
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, sort_keys=True)
