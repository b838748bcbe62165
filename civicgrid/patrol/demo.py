"""The demo's patrols: 2–4 key places inside every grid, the default plan and duty rules, and the
last eight weeks of patrols of every grid worker (full-time ones 3–6 rounds a week, part-time
ones 1–2), with their summaries, check-ins at key places and weekly coverage — so that the
monthly assessment has data everywhere.

Tracks are stored, and coverage computed from them by the product's own code (``geo.tracks``,
``services.coverage_week_update``), only in the demo grid worker's grid (the first full-time
post), so that its pages show real maps; elsewhere the figures are drawn from plausible ranges,
which keeps the whole seed within seconds. Idempotent: a second run adds nothing.

Called by the demo loader after the year of cases (nothing in the product imports this module).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import numpy as np
import shapely
from django.db import transaction
from django.utils import timezone

from civicgrid import bulk
from civicgrid.accounts.models import GridPost, GridStaffing
from civicgrid.errors import DomainError
from civicgrid.geo import tracks
from civicgrid.geo.cells import distance_m
from civicgrid.patrol import defaults, services
from civicgrid.patrol.models import (
    CheckIn,
    CoverageWeek,
    DutyRule,
    KeyPlace,
    KeyPlaceKind,
    Patrol,
    PatrolPlan,
    PatrolState,
    PlaceRule,
    TrackPoint,
)
from civicgrid.regions import locator
from civicgrid.regions.models import Region

KEY = "demo-patrol-"
WEEKS = 8
STEP_S = 5  # one fix every 5 s, as the phone app records
ROADS = (
    "长江路 珠江路 北京东路 中山路 太平北路 龙蟠路 黄埔路 后宰门 丹凤街 成贤街 进香河路 四牌楼 碑亭巷 兰园 "
    "网巾市 估衣廊 百子亭 玄武门 童家巷 卫岗 孝陵卫 钟灵街 蓝旗街 月苑 樱铁村 锁金村 红山路 板仓街 新庄 岗子村"
).split()
# (kind, weight, name pattern) — old housing and markets are the commonest key places of an old
# inner-city district; every pattern makes a name unique within its grid with the road.
KINDS = [
    (KeyPlaceKind.OLD_BUILDING, 4, "{road}{n}号老旧住宅楼"),
    (KeyPlaceKind.SCHOOL, 2, "{road}小学"),
    (KeyPlaceKind.MARKET, 2, "{road}农贸市场"),
    (KeyPlaceKind.CONSTRUCTION, 1, "{road}地块建设工地"),
    (KeyPlaceKind.HOSPITAL, 1, "{road}社区卫生服务站"),
    (KeyPlaceKind.ELDERLY, 1, "{road}养老服务中心"),
    (KeyPlaceKind.VENUE, 1, "{road}文体活动中心"),
]
RADIUS = {KeyPlaceKind.SCHOOL: 80, KeyPlaceKind.MARKET: 80, KeyPlaceKind.CONSTRUCTION: 100}


def seed(progress: Callable[[str], None] = print, *, seed: int = 2026) -> None:
    defaults.defaults_install(PatrolPlan, PlaceRule, DutyRule)
    try:
        loaded = locator.loaded_index()
    except DomainError:  # no active generation: no grids to place anything in
        return
    rng = random.Random(seed)
    with transaction.atomic():
        added = _places(loaded, rng)
    if added:
        progress(f"patrol: {added} key places placed inside the grids")
    if Patrol.objects.filter(client_key__startswith=KEY).exists():
        return
    posts = list(
        GridStaffing.objects.filter(post__in=(GridPost.FULL_TIME, GridPost.PART_TIME), end__isnull=True)
        .select_related("grid")
        .order_by("id")
    )
    if not posts:
        return
    demo_grid = next(p.grid for p in posts if p.post == GridPost.FULL_TIME)
    progress(f"patrol: {WEEKS} weeks of patrols for {len(posts)} grid workers (tracks in {demo_grid.name}) …")
    with transaction.atomic():
        made = _patrols(posts, demo_grid, rng)
    progress(
        f"patrol: {made['patrols']:,} patrols, {made['points']:,} track points, {made['checkins']:,} check-ins"
    )


# --- key places -------------------------------------------------------------------------------
def _inside(shape, rng: random.Random, near: shapely.Point, spread_m: float) -> shapely.Point:
    """A point inside ``shape`` within about ``spread_m`` of ``near`` (``near`` if none is found)."""
    frame = tracks.LocalFrame(near.x, near.y)
    for _ in range(30):
        dx, dy = rng.uniform(-spread_m, spread_m), rng.uniform(-spread_m, spread_m)
        point = shapely.Point(near.x + dx / frame.kx, near.y + dy / frame.ky)
        if shape.contains(point):
            return point
    return near


def _places(loaded, rng: random.Random) -> int:
    have = set(KeyPlace.objects.values_list("grid__code", flat=True).distinct())
    grids = {r.code: r for r in Region.objects.filter(code__in=loaded.index.codes)}
    kinds, weights = [k for k, _w, _p in KINDS], [w for _k, w, _p in KINDS]
    patterns = {k: p for k, _w, p in KINDS}
    rows = []
    for code, shape in zip(loaded.index.codes, loaded.index.geometries, strict=True):
        if code in have or code not in grids:
            continue
        centre = shape.representative_point()
        names = set()
        for n in range(rng.randint(2, 4)):
            kind = rng.choices(kinds, weights)[0]
            name = patterns[kind].format(road=rng.choice(ROADS), n=rng.randint(1, 60))
            if name in names:
                name = f"{name}（{n + 1}）"
            names.add(name)
            point = _inside(shape, rng, centre, 150.0)
            rows.append(
                KeyPlace(
                    grid=grids[code],
                    name=name,
                    kind=kind,
                    lon=round(point.x, 7),
                    lat=round(point.y, 7),
                    radius_m=RADIUS.get(kind, 50),
                )
            )
    KeyPlace.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


# --- patrols ----------------------------------------------------------------------------------
def _weeks(today: date) -> list[date]:
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=w) for w in range(WEEKS, -1, -1)]


def _rounds(post, rng: random.Random, today: date) -> list[tuple[date, datetime, int]]:
    """(week, start, duration in seconds) of the worker's rounds, all ended before today."""
    tz = timezone.get_current_timezone()
    out = []
    for week in _weeks(today):
        count = rng.randint(3, 6) if post.post == GridPost.FULL_TIME else rng.randint(1, 2)
        days = sorted(rng.sample(range(6), count))  # Monday to Saturday
        for day in days:
            when = week + timedelta(days=day)
            if when >= today:
                continue
            start = datetime.combine(when, time(rng.randint(8, 15), rng.choice((0, 10, 20, 30, 40, 50))), tz)
            out.append((week, start, rng.randint(45, 120) * 60))
    return out


def _walk(shape, start: datetime, seconds: int, rng: random.Random) -> dict:
    """A plausible walk inside the grid: straight legs between random spots at walking pace, a
    fix every ``STEP_S`` seconds with GPS noise, a few vague fixes and the rare wild jump."""
    xmin, ymin, xmax, ymax = shape.bounds
    frame = tracks.LocalFrame((xmin + xmax) / 2, (ymin + ymax) / 2)
    n = seconds // STEP_S
    here = _inside(shape, rng, shape.representative_point(), 200.0)
    x, y = (float(v) for v in frame.xy(here.x, here.y))
    xs, ys = [], []
    while len(xs) < n:
        goal = _inside(shape, rng, shapely.Point(rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)), 50.0)
        gx, gy = (float(v) for v in frame.xy(goal.x, goal.y))
        steps = max(1, int(np.hypot(gx - x, gy - y) / (1.2 * STEP_S)))
        xs.extend(np.linspace(x, gx, steps, endpoint=False))
        ys.extend(np.linspace(y, gy, steps, endpoint=False))
        x, y = gx, gy
    nrng = np.random.default_rng(rng.randrange(2**32))
    xs, ys = np.array(xs[:n]) + nrng.normal(0, 3, n), np.array(ys[:n]) + nrng.normal(0, 3, n)
    accuracy = nrng.uniform(4, 18, n).round(1)
    vague = nrng.random(n) < 0.02
    accuracy[vague] = nrng.uniform(60, 150, vague.sum()).round(1)
    wild = nrng.random(n) < 0.004
    xs[wild] += nrng.choice((-1, 1), wild.sum()) * nrng.uniform(300, 800, wild.sum())
    lon, lat = xs / frame.kx + frame.lon0, ys / frame.ky + frame.lat0
    times = [start + timedelta(seconds=i * STEP_S) for i in range(n)]
    return {"at": times, "lon": lon, "lat": lat, "accuracy": accuracy}


def _patrols(posts: list, demo_grid: Region, rng: random.Random) -> dict:
    today = timezone.localdate()
    plan = services.plan_for(None)
    places: dict[int, list[KeyPlace]] = {}
    for place in KeyPlace.objects.filter(active=True).order_by("id"):
        places.setdefault(place.grid_id, []).append(place)
    shapes = {}
    planned = []  # (post, week, start, seconds)
    for post in posts:
        for week, start, seconds in _rounds(post, rng, today):
            planned.append((post, week, start, seconds))
    rows, walks = [], {}
    for i, (post, _week, start, seconds) in enumerate(planned):
        patrol = Patrol(
            worker_id=post.user_id,
            grid_id=post.grid_id,
            state=PatrolState.ENDED,
            started_at=start,
            ended_at=start + timedelta(seconds=seconds),
            client_key=f"{KEY}{i:06d}",
            duration_s=seconds,
        )
        if post.grid_id == demo_grid.pk:
            shape = shapes.setdefault(post.grid_id, services.grid_shape(demo_grid))
            walk = walks[i] = _walk(shape, start, seconds, rng)
            judged = tracks.flag_points(
                [t.timestamp() for t in walk["at"]], walk["lon"], walk["lat"], walk["accuracy"].tolist(),
                max_speed_kmh=plan.max_speed_kmh, max_accuracy_m=plan.max_accuracy_m,
            )  # fmt: skip
            walk["flags"] = judged.flags
            found = tracks.coverage(
                shape, walk["lon"], walk["lat"], judged.flags, distance_m=plan.coverage_distance_m
            )
            patrol.points = len(judged.flags)
            patrol.flagged = int((judged.flags != tracks.OK).sum())
            patrol.distance_m = round(tracks.track_length_m(walk["lon"], walk["lat"], judged.flags), 1)
            patrol.coverage = round(found.share, 4)
            patrol.covered = shapely.to_wkb(found.covered) if not found.covered.is_empty else None
        else:
            patrol.points = seconds // STEP_S
            patrol.flagged = rng.randint(0, patrol.points // 40)
            patrol.distance_m = round(seconds * rng.uniform(0.55, 0.95), 1)  # ~1 m/s with stops
            patrol.coverage = round(rng.uniform(0.2, 0.55), 4)
        rows.append(patrol)
    table = bulk.Table(Patrol, with_pk=False)
    table.insert(table.rows(rows))
    saved = dict(Patrol.objects.filter(client_key__startswith=KEY).values_list("client_key", "id"))
    points = _track_rows(rows, walks, saved)
    checkins = _checkins(rows, places, saved, rng)
    _coverage_weeks(planned, rows, demo_grid, shapes.get(demo_grid.pk))
    return {"patrols": len(rows), "points": points, "checkins": checkins}


def _track_rows(rows: list[Patrol], walks: dict, saved: dict) -> int:
    table = bulk.Table(TrackPoint, with_pk=False)
    count = 0
    for i, walk in walks.items():
        patrol_id = saved[rows[i].client_key]
        objs = [
            TrackPoint(patrol_id=patrol_id, seq=n, at=t, lon=round(float(x), 7), lat=round(float(y), 7),
                       accuracy_m=float(a), flag=int(f))
            for n, (t, x, y, a, f) in enumerate(
                zip(walk["at"], walk["lon"], walk["lat"], walk["accuracy"], walk["flags"], strict=True)
            )
        ]  # fmt: skip
        table.insert(table.rows(objs))
        count += len(objs)
    return count


def _checkins(rows: list[Patrol], places: dict, saved: dict, rng: random.Random) -> int:
    """One or two check-ins a round at the grid's key places (now and then one refused for being
    too far off), within the round's time."""
    objs = []
    for patrol in rows:
        grid_places = places.get(patrol.grid_id, [])
        if not grid_places:
            continue
        chosen = rng.sample(grid_places, min(len(grid_places), rng.randint(1, 2)))
        for n, place in enumerate(chosen):
            refused = rng.random() < 0.04
            off = rng.uniform(60, 150) if refused else rng.uniform(3, min(40, place.radius_m * 0.8))
            frame = tracks.LocalFrame(place.lon, place.lat)
            lon, lat = place.lon + off / frame.kx, place.lat
            objs.append(
                CheckIn(
                    worker_id=patrol.worker_id,
                    place=place,
                    patrol_id=saved[patrol.client_key],
                    at=patrol.started_at
                    + timedelta(seconds=patrol.duration_s * (n + 1) // (len(chosen) + 1)),
                    lon=round(lon, 7),
                    lat=lat,
                    accuracy_m=round(rng.uniform(5, 20), 1),
                    distance_m=round(distance_m(lon, lat, place.lon, place.lat), 1),
                    accepted=not refused,
                    reason="outside_geofence" if refused else "",
                    client_key=f"{patrol.client_key}-{n}",
                )
            )
    table = bulk.Table(CheckIn, with_pk=False)
    table.insert(table.rows(objs))
    return len(objs)


def _coverage_weeks(planned: list, rows: list[Patrol], demo_grid: Region, shape) -> None:
    """The weekly coverage rows: computed from the covered areas in the demo grid, elsewhere the
    union estimated as 1 − Π(1 − share) (rounds wander independently over the grid)."""
    weeks: dict[tuple[int, int, date], list[Patrol]] = {}
    for (post, week, _start, _s), patrol in zip(planned, rows, strict=True):
        weeks.setdefault((post.user_id, post.grid_id, week), []).append(patrol)
    objs = []
    for (worker_id, grid_id, week), patrols in weeks.items():
        if grid_id == demo_grid.pk:
            services.coverage_week_update(worker_id=worker_id, grid=demo_grid, week=week, shape=shape)
            continue
        share = 1.0 - float(np.prod([1.0 - p.coverage for p in patrols]))
        objs.append(
            CoverageWeek(
                worker_id=worker_id,
                grid_id=grid_id,
                week=week,
                coverage=round(share, 4),
                patrols=len(patrols),
                seconds=sum(p.duration_s for p in patrols),
            )
        )
    CoverageWeek.objects.bulk_create(objs, batch_size=1000)
