"""Benchmark — patrol tracks: ingestion over HTTP and the coverage of a 2-hour patrol.

Targets (from the issue): track ingestion ≥ 5,000 points/s; coverage of a 2-hour patrol (a fix
every 5 s = 1,440 points) over its grid ≤ 50 ms.

(a) Ingestion: ``POST /api/v1/patrol/patrols/{id}/points`` in batches of BATCH (200) points,
through gunicorn with 2 sync workers on loopback, driven by a small Python load generator in the
child process (CLIENTS threads, each a different demo grid worker with its own patrol and a
``patrol:write`` bearer token, sending its batches in order with increasing seq: what a phone
does). wrk is not used: each request's body must carry the next seqs of its own patrol. Every
answer is checked (200, all points accepted), and the stored rows are counted against the sum of
the accepted points. Baseline in the same run: a bare bulk insert of the same rows (the project's
lean insert, ``civicgrid.bulk.Table``: executemany on SQLite, COPY on PostgreSQL), one transaction
per batch of BATCH rows, in one process.

(b) Coverage: ``geo.tracks.coverage`` of a 2-hour walk (the demo's walk generator: legs between
random spots, GPS noise, a few vague fixes and wild jumps) over GRIDS real demo grids, REPEATS times
each: p50/p95. Baselines in the same run: reading the grid's polygon from the database (the
Boundary row's GeoJSON parsed into a Shapely polygon); and one plain Shapely buffer of the whole
track (the obvious way, which GEOS makes slow on a track that crosses itself — the reason the
coverage buffers short stretches and merges them). Also reported: the whole ``patrol_stop`` of a
1,440-point patrol in the database (read the track, flags, length, coverage, the week's union,
save, audit).

Each database runs in a child process (this file with ``--worker``): a temporary SQLite file, then
PostgreSQL in the scratch database ``cg_bench_patrol`` (created for the run, always dropped;
skipped, saying why, when the server is unreachable).

Run alone: ``.venv/bin/python bench/bench_patrol.py [sqlite|postgresql]``. Knobs:
BENCH_PATROL_SECONDS (15), BENCH_PATROL_CLIENTS (4), BENCH_PATROL_WORKERS (2).
"""

from __future__ import annotations

import http.client
import json
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

NAME = "patrol"
PG_DATABASE = "cg_bench_patrol"
HOST = "127.0.0.1"
BATCH = 200
SECONDS = max(5, min(120, int(os.environ.get("BENCH_PATROL_SECONDS", "15"))))
CLIENTS = max(1, int(os.environ.get("BENCH_PATROL_CLIENTS", "4")))
WORKERS = max(1, int(os.environ.get("BENCH_PATROL_WORKERS", "2")))
WARMUP_SECONDS = 3
GRIDS = 20
REPEATS = 5
STOPS = 8
TARGET_POINTS_S = 5_000
# Each phone's walk holds more points than it can send in the run at 20,000 points/s in all.
POINTS_PER_CLIENT = (SECONDS + WARMUP_SECONDS + 2) * 20_000 // CLIENTS
TARGET_COVERAGE_S = 0.050
WORKER_TIMEOUT_S = 600
TARGET_A = f"≥ {TARGET_POINTS_S:,} points/s"
TARGET_B = f"p95 ≤ {TARGET_COVERAGE_S * 1e3:.0f} ms"


# --- the child process ------------------------------------------------------------------------
def _walk(shape, seconds: int, seed: int):
    """A demo-style walk inside ``shape`` (the demo's own generator) with its flags."""
    import random
    from datetime import timedelta

    from django.utils import timezone

    from civicgrid.geo import tracks
    from civicgrid.patrol import demo

    walk = demo._walk(shape, timezone.now() - timedelta(seconds=seconds), seconds, random.Random(seed))
    walk["flags"] = tracks.flag_points(
        [t.timestamp() for t in walk["at"]], walk["lon"], walk["lat"], walk["accuracy"].tolist(),
        max_speed_kmh=30, max_accuracy_m=50,
    ).flags  # fmt: skip
    return walk


def _clients() -> list[dict]:
    """CLIENTS grid workers, each with a token and an active patrol in their grid."""
    from civicgrid.accounts.models import GridPost, GridStaffing
    from civicgrid.accounts.tokens import api_token_create
    from civicgrid.patrol import services

    posts = list(
        GridStaffing.objects.filter(post=GridPost.FULL_TIME).select_related("user", "grid").order_by("id")
    )
    out = []
    for n, post in enumerate(posts[:: max(1, len(posts) // CLIENTS)][:CLIENTS]):
        _row, secret = api_token_create(user=post.user, name="bench", scopes=["patrol:write", "patrol:read"])
        patrol, _created = services.patrol_start(
            user=post.user, grid_code=post.grid.code, client_key=f"bench-{n}", started_at=None
        )
        walk = _walk(services.grid_shape(post.grid), POINTS_PER_CLIENT * 5, seed=n)
        out.append({"token": secret, "patrol": patrol.pk, "walk": walk, "grid": post.grid.code})
    return out


def _bodies(walk) -> list[bytes]:
    """The walk's points as request bodies of BATCH points, in seq order (made before the run)."""
    bodies = []
    for first in range(0, len(walk["at"]) - BATCH + 1, BATCH):
        points = [
            {"seq": i, "t": walk["at"][i].isoformat(), "lon": round(float(walk["lon"][i]), 7),
             "lat": round(float(walk["lat"][i]), 7), "accuracy": float(walk["accuracy"][i])}
            for i in range(first, first + BATCH)
        ]  # fmt: skip
        bodies.append(json.dumps({"points": points}).encode())
    return bodies


def _load(port: int, clients: list[dict], seconds: float, start_at: list[int]) -> dict:
    """Each client thread posts its next batches until ``seconds`` have passed."""
    stop = time.monotonic() + seconds
    lock = threading.Lock()
    found = {"requests": 0, "points": 0, "flagged": 0, "other": 0, "latencies": [], "errors": []}

    def run(k: int) -> None:
        client = clients[k]
        bodies = client["bodies"]
        path = f"/api/v1/patrol/patrols/{client['patrol']}/points"
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {client['token']}"}
        i = start_at[k]
        while time.monotonic() < stop and i < len(bodies):
            t0 = time.perf_counter_ns()
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
            try:
                conn.request("POST", path, body=bodies[i], headers=headers)
                response = conn.getresponse()
                body = response.read()
            except OSError as exc:
                with lock:
                    found["errors"].append(str(exc)[:100])
                continue
            finally:
                conn.close()
            elapsed = time.perf_counter_ns() - t0
            ok = response.status == 200
            answer = json.loads(body) if ok else {}
            with lock:
                found["requests"] += 1
                found["latencies"].append(elapsed)
                if ok and answer["accepted"] == BATCH:
                    found["points"] += BATCH
                    found["flagged"] += len(answer["flagged"])
                else:
                    found["other"] += 1
                    found["errors"].append(f"{response.status}: {body[:120]!r}")
            i += 1
        start_at[k] = i

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(clients))]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    found["elapsed_s"] = time.perf_counter() - t0
    found["points_per_s"] = found["points"] / found["elapsed_s"]
    found |= {k: v for k, v in c.percentiles_s(found.pop("latencies") or [0]).items() if k != "n"}
    found["errors"] = found["errors"][:5]
    return found


def _http_run(clients: list[dict]) -> dict:
    import _cases_create_worker as create
    import bench_api

    for client in clients:
        client["bodies"] = _bodies(client["walk"])
    log_path = c.scratch_dir("civicgrid-bench-patrol-http-") / "gunicorn.log"
    with bench_api.serving(WORKERS, log_path) as (port, proc):
        start_at = [0] * len(clients)
        warm = _load(port, clients, WARMUP_SECONDS, start_at)
        before = create._cpu_snapshot(proc.pid)
        own_before = resource.getrusage(resource.RUSAGE_SELF)
        main = _load(port, clients, SECONDS, start_at)
        own_after = resource.getrusage(resource.RUSAGE_SELF)
        after = create._cpu_snapshot(proc.pid)
    cpu = {k: after[k] - before[k] for k in ("server", "database")}
    cpu["load_generator"] = (own_after.ru_utime - own_before.ru_utime) + (
        own_after.ru_stime - own_before.ru_stime
    )
    cpu["per_1000_points_ms"] = {k: 1e6 * v / max(1, main["points"]) for k, v in cpu.items()}
    return {"warmup": warm, "main": main, "cpu": cpu, "sent_batches": sum(start_at)}


def _count_rows(http: dict) -> dict:
    from civicgrid.patrol.models import TrackPoint

    stored = TrackPoint.objects.count()
    answered = http["warmup"]["points"] + http["main"]["points"]
    return {"stored": stored, "answered": answered, "ok": stored == answered}


def _baseline(clients: list[dict], n_points: int) -> dict:
    """The same rows stored by the lean bulk insert alone, one transaction per batch."""
    from django.db import transaction
    from django.utils import timezone

    from civicgrid.accounts.models import User
    from civicgrid.bulk import Table
    from civicgrid.patrol.models import Patrol, PatrolState, TrackPoint

    worker = User.objects.get(username="operator")  # any user: the rows are all that matters
    grid_id = Patrol.objects.values_list("grid_id", flat=True).first()
    table = Table(TrackPoint, with_pk=False)
    samples, done = [], 0
    for k, client in enumerate(clients):
        patrol = Patrol.objects.create(
            worker=worker,
            grid_id=grid_id,
            started_at=timezone.now(),
            state=PatrolState.ENDED,
            client_key=f"bb-{k}",
        )
        walk = client["walk"]
        for first in range(0, len(walk["at"]) - BATCH + 1, BATCH):
            if done >= n_points:
                break
            objs = [
                TrackPoint(patrol_id=patrol.pk, seq=i, at=walk["at"][i], lon=float(walk["lon"][i]),
                           lat=float(walk["lat"][i]), accuracy_m=float(walk["accuracy"][i]), flag=int(walk["flags"][i]))
                for i in range(first, first + BATCH)
            ]  # fmt: skip
            t0 = time.perf_counter_ns()
            with transaction.atomic():
                table.insert(table.rows(objs))
            samples.append(time.perf_counter_ns() - t0)
            done += BATCH
    total = sum(samples) / 1e9
    return {"points": done, "points_per_s": done / total if total else None} | c.percentiles_s(samples)


def _coverage_run() -> dict:
    """tracks.coverage of a 2-hour walk over real grids; the polygon read and a plain buffer."""
    import shapely
    from shapely.geometry import shape as to_shape

    from civicgrid.geo import tracks
    from civicgrid.regions import locator
    from civicgrid.regions.models import Boundary

    loaded = locator.loaded_index()
    step = max(1, len(loaded.index.codes) // GRIDS)
    picks = list(zip(loaded.index.codes, loaded.index.geometries, strict=True))[::step][:GRIDS]
    walks = [(code, shape, _walk(shape, 7200, seed=n)) for n, (code, shape) in enumerate(picks)]
    shares, cover = [], []
    for _ in range(REPEATS):
        for _code, shape, w in walks:
            t0 = time.perf_counter_ns()
            found = tracks.coverage(shape, w["lon"], w["lat"], w["flags"])
            cover.append(time.perf_counter_ns() - t0)
            shares.append(found.share)
    reads = []
    for _ in range(REPEATS):
        for code, _shape, _w in walks:
            t0 = time.perf_counter_ns()
            row = (
                Boundary.objects.filter(generation_id=loaded.generation_id, region__code=code)
                .values("geometry")
                .first()
            )
            to_shape(json.loads(row["geometry"]))
            reads.append(time.perf_counter_ns() - t0)
    plain = []
    for _code, shape, w in walks[:3]:
        frame = tracks.LocalFrame.around(shape)
        keep = w["flags"] == tracks.OK
        x, y = frame.xy(w["lon"][keep], w["lat"][keep])
        t0 = time.perf_counter_ns()
        shapely.intersection(shapely.buffer(shapely.linestrings(x, y), 30.0), frame.to_metres(shape))
        plain.append(time.perf_counter_ns() - t0)
    return {
        "grids": len(walks),
        "points": len(walks[0][2]["at"]),
        "coverage": c.percentiles_s(cover),
        "share_median": statistics.median(shares),
        "polygon_read": c.percentiles_s(reads),
        "plain_buffer": c.percentiles_s(plain),
    }


def _stop_run() -> dict:
    """The whole patrol_stop of 1,440-point patrols in the demo worker's grid."""
    from datetime import timedelta

    from django.utils import timezone

    from civicgrid.accounts.models import GridPost, GridStaffing
    from civicgrid.patrol import services
    from civicgrid.patrol.models import Patrol, PatrolState

    post = (
        GridStaffing.objects.filter(post=GridPost.FULL_TIME)
        .select_related("user", "grid")
        .order_by("id")
        .first()
    )
    Patrol.objects.filter(worker=post.user, state=PatrolState.ACTIVE).update(state=PatrolState.ENDED)
    shape = services.grid_shape(post.grid)
    samples = []
    for n in range(STOPS):
        walk = _walk(shape, 7200, seed=100 + n)
        begun = timezone.now() - timedelta(days=2, hours=n)
        patrol, _ = services.patrol_start(
            user=post.user, grid_code=post.grid.code, client_key=f"bench-stop-{n}", started_at=begun
        )
        offset = begun - walk["at"][0]
        points = [
            services.PointIn(seq=i, at=t + offset, lon=float(x), lat=float(y), accuracy=float(a))
            for i, (t, x, y, a) in enumerate(
                zip(walk["at"], walk["lon"], walk["lat"], walk["accuracy"], strict=True)
            )
        ]
        for first in range(0, len(points), BATCH):
            services.track_ingest(user=post.user, patrol_id=patrol.pk, points=points[first : first + BATCH])
        t0 = time.perf_counter_ns()
        services.patrol_stop(user=post.user, patrol_id=patrol.pk, ended_at=begun + timedelta(hours=2))
        samples.append(time.perf_counter_ns() - t0)
    return c.percentiles_s(samples)


def _worker(backend: str, out_path: Path) -> None:
    import _cases_create_worker as create

    result: dict = {
        "backend": backend,
        "seconds": SECONDS,
        "clients": CLIENTS,
        "workers": WORKERS,
        "batch": BATCH,
    }
    result |= create._worker_start(backend)
    from django.db import connection

    clients = _clients()
    connection.close()
    result["load_before"] = os.getloadavg()
    result["http"] = _http_run(clients)
    result["rows"] = _count_rows(result["http"])
    result["baseline"] = _baseline(clients, max(20_000, result["http"]["main"]["points"]))
    result["coverage"] = _coverage_run()
    result["stop"] = _stop_run()
    out_path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str), encoding="utf-8")


# --- the parent: spawn, print -------------------------------------------------------------------
def _spawn(backend: str, database_url: str | None) -> dict:
    work = c.scratch_dir(f"civicgrid-bench-patrol-{backend}-")
    return c.spawn_json(
        [sys.executable, str(Path(__file__).resolve()), "--worker", backend],
        env=c.child_env(work, database_url, CIVICGRID_ALLOWED_HOSTS=c.SERVED_HOSTS),
        timeout=WORKER_TIMEOUT_S,
    )


def _pg_run() -> dict:
    return c.pg_scratch(PG_DATABASE, lambda url: _spawn("postgresql", url) | {"database": PG_DATABASE})


def _print_backend(label: str, found: dict) -> list[dict]:
    http, base, cov, stop = found["http"], found["baseline"], found["coverage"], found["stop"]
    main = http["main"]
    c.note(
        f"{label} {found['server_version']}: load average before the run {c.fmt_load(found['load_before'])}"
        f"; demo loaded in {found['setup']['demo_s']:.0f} s"
    )
    print()
    print(
        c.table(
            ["", "points", "points/s", "p50", "p95", "p99", "non-200"],
            [
                (f"POST …/points, {BATCH} a batch ({found['clients']} phones, {found['workers']} workers)",
                 c.fmt_int(main["points"]), c.fmt_int(main["points_per_s"]), c.fmt_dur(main["p50"]),
                 c.fmt_dur(main["p95"]), c.fmt_dur(main["p99"]), str(main["other"])),
                (f"bare bulk insert, {BATCH} rows a transaction (1 process)", c.fmt_int(base["points"]),
                 c.fmt_int(base["points_per_s"]), c.fmt_dur(base["p50"]), c.fmt_dur(base["p95"]),
                 c.fmt_dur(base["p99"]), "—"),
            ],
        )
    )  # fmt: skip
    rate = c.ratio(main["points_per_s"], base["points_per_s"])
    per = http["cpu"]["per_1000_points_ms"]
    rows = found["rows"]
    print()
    c.note(
        f"ratio to the bare insert (same run): {rate:.3f}× its rate; CPU per 1,000 points: gunicorn "
        f"{per['server']:.0f} ms + database {per['database']:.0f} ms + load generator {per['load_generator']:.0f} ms"
    )
    c.note(
        f"rows check: {rows['stored']:,} stored for {rows['answered']:,} accepted → {'OK' if rows['ok'] else 'MISMATCH'}; "
        f"{main['flagged']:,} flagged in the answers; errors {main['errors'] or 'none'}"
    )
    met_a = main["points_per_s"] >= TARGET_POINTS_S and main["other"] == 0 and rows["ok"]
    print(f"  target: {TARGET_A}, every batch accepted ({label}) → {c.verdict(met_a)}")
    print()
    cv, rd, pb = cov["coverage"], cov["polygon_read"], cov["plain_buffer"]
    print(
        c.table(
            ["", "calls", "p50", "p95", "p99"],
            [
                (f"tracks.coverage, 2 h walk ({cov['points']:,} points), {cov['grids']} demo grids",
                 str(cv["n"]), c.fmt_dur(cv["p50"]), c.fmt_dur(cv["p95"]), c.fmt_dur(cv["p99"])),
                ("baseline: read the grid polygon (row + GeoJSON → Shapely)", str(rd["n"]), c.fmt_dur(rd["p50"]),
                 c.fmt_dur(rd["p95"]), c.fmt_dur(rd["p99"])),
                ("baseline: one plain Shapely buffer of the whole track", str(pb["n"]), c.fmt_dur(pb["p50"]),
                 c.fmt_dur(pb["p95"]), c.fmt_dur(pb["p99"])),
                ("services.patrol_stop of such a patrol (all of it)", str(stop["n"]), c.fmt_dur(stop["p50"]),
                 c.fmt_dur(stop["p95"]), c.fmt_dur(stop["p99"])),
            ],
        )
    )  # fmt: skip
    print()
    c.note(
        f"coverage p95 is {c.ratio(cv['p95'], rd['p95']):.1f}× reading the polygon and "
        f"{c.ratio(pb['p50'], cv['p50']):.0f}× faster than the plain buffer; median share covered {cov['share_median']:.0%}"
    )
    met_b = cv["p95"] <= TARGET_COVERAGE_S
    print(f"  target: coverage {TARGET_B} ({label}) → {c.verdict(met_b)}")
    return [
        {
            "benchmark": f"patrol track ingestion, {label}",
            "figure": f"{c.fmt_int(main['points_per_s'])} points/s, p95 {c.fmt_dur(main['p95'])}",
            "target": TARGET_A,
            "met": met_a,
            "vs_baseline": f"{rate:.3f}× bare bulk insert ({c.fmt_int(base['points_per_s'])}/s)",
        },
        {
            "benchmark": f"patrol coverage 2 h, {label}",
            "figure": f"p95 {c.fmt_dur(cv['p95'])} (p50 {c.fmt_dur(cv['p50'])})",
            "target": TARGET_B,
            "met": met_b,
            "vs_baseline": f"{c.ratio(cv['p95'], rd['p95']):.1f}× polygon read; plain buffer p50 {c.fmt_dur(pb['p50'])}",
        },
    ]


def run(backends: tuple[str, ...] = ("sqlite", "postgresql")) -> dict:
    c.heading("Patrol — track ingestion over HTTP (gunicorn -w 2) and coverage of a 2-hour patrol")
    result: dict = {}
    summary = []
    for backend in backends:
        found = _spawn("sqlite", None) if backend == "sqlite" else _pg_run()
        result[backend] = found
        label = "SQLite" if backend == "sqlite" else "PostgreSQL"
        if "skipped" in found:
            c.note(f"{backend}: SKIPPED — {found['skipped']}")
            for what, target in (("track ingestion", TARGET_A), ("coverage 2 h", TARGET_B)):
                summary.append(c.unmeasured(f"patrol {what}, {label}", target, found["skipped"][:60]))
            continue
        summary += _print_backend(label, found)
        print()
    return result | {"summary": summary}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        _worker(sys.argv[2], Path(sys.argv[3]))
    else:
        chosen = tuple(sys.argv[1:]) or ("sqlite", "postgresql")
        c.standalone(NAME, lambda: run(chosen))
