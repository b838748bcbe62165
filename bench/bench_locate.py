"""Benchmark 1 — point → grid lookup in process (GridIndex) against two baselines.

Targets: bulk ``locate_many`` ≥ 1,000,000 points/s and single ``locate`` p50 ≤ 20 µs, on the
615-grid Xuanwu demo and on a synthetic 20,000-grid city.

Baselines measured in the same run, on the same grids and points:
  (a) a naive loop over shapely-prepared polygons (per point, try every polygon in code order
      until one contains it), on a subsample;
  (b) PostGIS ``ST_Contains`` with a GiST index (temp tables in the ``postgres`` database at
      127.0.0.1:5432), as a bulk join and as single-point prepared statements. Skipped, with the
      reason printed, when PostgreSQL or the PostGIS extension is unavailable.

Run alone: ``.venv/bin/python bench/bench_locate.py``.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c
import numpy as np
import shapely

from civicgrid.geo.index import OUTSIDE, GridIndex

NAME = "locate"
BULK_TARGET = 1_000_000  # points/s
SINGLE_TARGET_S = 20e-6  # p50


@dataclass
class Dataset:
    key: str
    title: str
    codes: list[str]
    geometries: list
    bbox: tuple[float, float, float, float]
    points_seed: int
    n_bulk: int = 1_000_000
    n_single: int = 20_000
    naive_max_points: int = 2_000
    naive_max_seconds: float = 3.0
    n_postgis_bulk: int = 100_000
    n_postgis_single: int = 2_000


# --- baseline (a): naive loop -------------------------------------------------------------------
def naive_locate(geometries: list, lon: float, lat: float) -> int:
    """Try every prepared polygon in code order; the first that contains the point wins."""
    for i, geom in enumerate(geometries):
        if shapely.contains_xy(geom, lon, lat):
            return i
    return OUTSIDE


def run_naive(geometries: list, lon: np.ndarray, lat: np.ndarray, *, max_points: int, max_seconds: float):
    """Naive answers and per-point times (ns) for a prefix of the points, bounded in count and time."""
    answers, times = [], []
    clock = time.perf_counter_ns
    deadline = time.perf_counter() + max_seconds
    for x, y in zip(lon[:max_points].tolist(), lat[:max_points].tolist(), strict=True):
        start = clock()
        answers.append(naive_locate(geometries, x, y))
        times.append(clock() - start)
        if time.perf_counter() > deadline:
            break
    return np.array(answers, dtype=np.int32), np.array(times, dtype=np.int64)


# --- baseline (b): PostGIS ----------------------------------------------------------------------
class PostGIS:
    """One session on the local PostgreSQL with PostGIS; temp tables only, cleaned up on close."""

    def __init__(self) -> None:
        self.conn = None
        self.skip_reason: str | None = None
        self.version: str | None = None
        self.created_extension = False
        self.cleanup_notes: list[str] = []

    def open(self) -> PostGIS:
        try:
            import psycopg
        except ImportError as exc:
            self.skip_reason = f"psycopg is not importable ({exc})"
            return self
        try:
            self.conn = psycopg.connect(c.PG_DSN, autocommit=True)
        except Exception as exc:
            self.skip_reason = f"cannot connect to PostgreSQL ({str(exc).strip().splitlines()[0]})"
            return self
        try:
            had = self.conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
            self.conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            self.created_extension = had is None
            self.version = self.conn.execute("SELECT postgis_lib_version()").fetchone()[0]
            # Bound every query; JIT compilation only adds start-up time to these plans.
            self.conn.execute("SET statement_timeout = '120s'")
            self.conn.execute("SET jit = off")
        except Exception as exc:
            self.skip_reason = f"CREATE EXTENSION postgis failed ({str(exc).strip().splitlines()[0]})"
            self.close()
        return self

    @property
    def available(self) -> bool:
        return self.conn is not None and self.skip_reason is None

    def load(self, geometries: list, lon: np.ndarray, lat: np.ndarray) -> float:
        """Grids (GiST-indexed) and points into temp tables; returns the load time."""
        start = time.perf_counter()
        conn = self.conn
        conn.execute("DROP TABLE IF EXISTS pg_temp.bench_grids, pg_temp.bench_points")
        conn.execute(
            "CREATE TEMP TABLE bench_grids (idx integer PRIMARY KEY, geom geometry(Geometry, 4326) NOT NULL)"
        )
        conn.execute(
            "CREATE TEMP TABLE bench_points (id integer PRIMARY KEY, geom geometry(Point, 4326) NOT NULL)"
        )
        wkb = shapely.to_wkb(np.asarray(geometries, dtype=object), hex=True)
        with conn.cursor() as cur, cur.copy("COPY bench_grids (idx, geom) FROM STDIN") as copy:
            for i, hexwkb in enumerate(wkb.tolist()):
                copy.write_row((i, f"SRID=4326;{hexwkb}"))
        with conn.cursor() as cur, cur.copy("COPY bench_points (id, geom) FROM STDIN") as copy:
            for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True)):
                copy.write_row((i, f"SRID=4326;POINT({x!r} {y!r})"))
        conn.execute("CREATE INDEX ON bench_grids USING gist (geom)")
        conn.execute("ANALYZE bench_grids")
        conn.execute("ANALYZE bench_points")
        return time.perf_counter() - start

    def bulk(
        self, n_points: int, *, repeats: int = 3, max_seconds: float = 12.0
    ) -> tuple[list[float], np.ndarray]:
        """Times of the bulk join and its answer (grid index per point, OUTSIDE where none)."""
        sql = "SELECT p.id, g.idx FROM bench_points p JOIN bench_grids g ON ST_Contains(g.geom, p.geom)"
        rows: list = []

        def once():
            nonlocal rows
            rows = self.conn.execute(sql).fetchall()

        times = c.repeat_timed(once, repeats=repeats, max_seconds=max_seconds)
        answer = np.full(n_points, np.iinfo(np.int32).max, dtype=np.int64)
        if rows:
            ids, idx = np.array(rows, dtype=np.int64).T
            np.minimum.at(answer, ids, idx)  # a point in two polygons: the lower code wins, as in GridIndex
        answer[answer == np.iinfo(np.int32).max] = OUTSIDE
        return times, answer.astype(np.int32)

    def single(self, lon: np.ndarray, lat: np.ndarray, *, max_seconds: float = 3.0) -> np.ndarray:
        """Per-query times (ns) of a prepared single-point statement, bounded in count and time."""
        sql = "SELECT idx FROM bench_grids WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) LIMIT 1"
        clock = time.perf_counter_ns
        times = []
        with self.conn.cursor() as cur:
            for x, y in zip(lon[:20].tolist(), lat[:20].tolist(), strict=True):  # warm up, prepare
                cur.execute(sql, (x, y), prepare=True)
                cur.fetchall()
            deadline = time.perf_counter() + max_seconds
            for x, y in zip(lon.tolist(), lat.tolist(), strict=True):
                start = clock()
                cur.execute(sql, (x, y), prepare=True)
                cur.fetchall()
                times.append(clock() - start)
                if time.perf_counter() > deadline:
                    break
        return np.array(times, dtype=np.int64)

    def drop_tables(self) -> None:
        if self.conn is not None:
            self.conn.execute("DROP TABLE IF EXISTS pg_temp.bench_grids, pg_temp.bench_points")

    def close(self) -> None:
        if self.conn is None:
            return
        try:
            # Temporary tables end with the session anyway, so a failed drop is only noted.
            with contextlib.suppress(Exception):
                self.drop_tables()
            if self.created_extension:
                # We installed PostGIS just for this run; leave the database as we found it.
                try:
                    self.conn.execute("DROP EXTENSION postgis")
                except Exception as exc:
                    self.cleanup_notes.append(f"left the postgis extension installed ({exc})")
        finally:
            self.conn.close()
            self.conn = None


# --- one data set -------------------------------------------------------------------------------
def bench_dataset(ds: Dataset, pg: PostGIS) -> dict:
    c.heading(f"locate — {ds.title} ({len(ds.codes):,} grids)")
    start = time.perf_counter()
    index = GridIndex(ds.codes, ds.geometries)
    build_s = time.perf_counter() - start
    # Baselines index the grids exactly as GridIndex does: in code order (prepared geometries).
    geometries = list(index.geometries)
    lon, lat = c.uniform_points(ds.bbox, ds.n_bulk, ds.points_seed)

    # Correctness first: GridIndex against the naive loop on a subsample.
    index.locate_many(lon[:10_000], lat[:10_000])  # warm up
    bulk_answer = index.locate_many(lon, lat)
    inside_share = float(np.mean(bulk_answer != OUTSIDE))
    naive_answer, naive_ns = run_naive(
        geometries, lon, lat, max_points=ds.naive_max_points, max_seconds=ds.naive_max_seconds
    )
    k = naive_answer.size
    single_answer = np.array(
        [index.locate(x, y) for x, y in zip(lon[:k].tolist(), lat[:k].tolist(), strict=True)]
    )
    agree_bulk = float(np.mean(bulk_answer[:k] == naive_answer))
    agree_single = float(np.mean(single_answer == naive_answer))

    # Bulk throughput.
    bulk_times = c.repeat_timed(lambda: index.locate_many(lon, lat), repeats=5, max_seconds=10.0)
    bulk_rate = ds.n_bulk / statistics.median(bulk_times)

    # Single-point latency, each call timed on its own.
    xs, ys = lon[: ds.n_single].tolist(), lat[: ds.n_single].tolist()
    locate, clock = index.locate, time.perf_counter_ns
    for x, y in zip(xs[:2000], ys[:2000], strict=True):
        locate(x, y)
    single_ns = []
    deadline = time.perf_counter() + 5.0
    for x, y in zip(xs, ys, strict=True):
        t0 = clock()
        locate(x, y)
        single_ns.append(clock() - t0)
        if time.perf_counter() > deadline:
            break
    single = c.percentiles_s(single_ns)
    naive_single = c.percentiles_s(naive_ns)
    naive_rate = naive_ns.size / (naive_ns.sum() / 1e9)

    # PostGIS.
    postgis: dict = {"skipped": pg.skip_reason} if not pg.available else {}
    if pg.available:
        n = ds.n_postgis_bulk
        try:
            postgis["load_s"] = pg.load(geometries, lon[:n], lat[:n])
            pg_times, pg_answer = pg.bulk(n)
            postgis["bulk_points"] = n
            postgis["bulk_times_s"] = pg_times
            postgis["bulk_rate"] = n / statistics.median(pg_times)
            postgis["agreement"] = float(np.mean(pg_answer == bulk_answer[:n]))
            postgis["single"] = c.percentiles_s(
                pg.single(lon[: ds.n_postgis_single], lat[: ds.n_postgis_single])
            )
            pg.drop_tables()
        except Exception as exc:  # a baseline failing must not hide the figures
            postgis = {"skipped": f"PostGIS query failed ({str(exc).strip().splitlines()[0]})"}
            try:
                pg.drop_tables()
            except Exception:
                pass

    # Print.
    pg_rate = postgis.get("bulk_rate")
    pg_p50 = postgis.get("single", {}).get("p50")
    c.note(
        f"{ds.n_bulk:,} points uniform in [{ds.bbox[0]}, {ds.bbox[2]}] E × [{ds.bbox[1]}, {ds.bbox[3]}] N; "
        f"{inside_share:.1%} fall inside a grid"
    )
    c.note(
        f"index build {c.fmt_dur(build_s)}; lattice {index.nx}×{index.ny}, "
        f"{index.ambiguous_share:.1%} of cells ambiguous"
    )
    c.note(
        f"correctness on {k:,} points: locate_many agrees with the naive loop on {agree_bulk:.2%}, "
        f"locate on {agree_single:.2%}"
        + (
            f", PostGIS on {postgis['agreement']:.2%} of {postgis['bulk_points']:,}"
            if "agreement" in postgis
            else ""
        )
    )
    print()
    bulk_rows = [
        ("GridIndex.locate_many", ds.n_bulk, bulk_rate),
        ("PostGIS ST_Contains join, GiST", postgis.get("bulk_points"), pg_rate),
        ("naive loop, prepared polygons", k, naive_rate),
    ]
    print(
        c.table(
            ["bulk", "points", "points/s", "vs naive", "vs PostGIS"],
            [
                (
                    name,
                    c.fmt_int(n),
                    c.fmt_int(rate),
                    c.fmt_ratio(c.ratio(rate, naive_rate)),
                    c.fmt_ratio(c.ratio(rate, pg_rate)),
                )
                for name, n, rate in bulk_rows
            ],
        )
    )
    print()
    single_rows = [
        ("GridIndex.locate", single),
        ("PostGIS prepared statement", postgis.get("single")),
        ("naive loop, prepared polygons", naive_single),
    ]
    print(
        c.table(
            ["single point", "calls", "p50", "p95", "p99", "vs naive", "vs PostGIS"],
            [
                (
                    name,
                    c.fmt_int(s["n"]) if s else "—",
                    c.fmt_dur(s["p50"]) if s else "—",
                    c.fmt_dur(s["p95"]) if s else "—",
                    c.fmt_dur(s["p99"]) if s else "—",
                    c.fmt_ratio(c.ratio(naive_single["p50"], s["p50"])) if s else "—",
                    c.fmt_ratio(c.ratio(pg_p50, s["p50"])) if s else "—",
                )
                for name, s in single_rows
            ],
        )
    )
    print()
    if "skipped" in postgis:
        c.note(f"PostGIS baseline skipped: {postgis['skipped']}")
    else:
        c.note(
            f"PostGIS {pg.version}: {len(ds.codes):,} polygons + {postgis['bulk_points']:,} points loaded by COPY "
            f"in {c.fmt_dur(postgis['load_s'])} (untimed); join timed with rows fetched; "
            "single = one loopback round trip per point"
        )
    c.note(
        "ratios: bulk = points/s over the baseline's; single = baseline p50 over this p50 (÷N = N× slower)"
    )
    bulk_met = bulk_rate >= BULK_TARGET
    single_met = single["p50"] <= SINGLE_TARGET_S
    print(
        f"  target: bulk ≥ {BULK_TARGET:,}/s, single p50 ≤ {SINGLE_TARGET_S * 1e6:.0f} µs → "
        f"{c.verdict(bulk_met and single_met)} (bulk {c.fmt_int(bulk_rate)}/s {c.verdict(bulk_met)}, "
        f"p50 {c.fmt_dur(single['p50'])} {c.verdict(single_met)})"
    )

    def baseline_text(r_naive, r_pg):
        parts = [f"{c.fmt_ratio(r_naive)} naive"]
        parts.append(f"{c.fmt_ratio(r_pg)} PostGIS" if r_pg else "PostGIS skipped")
        return ", ".join(parts)

    summary = [
        {
            "benchmark": f"locate bulk, {ds.key}",
            "figure": f"{c.fmt_int(bulk_rate)} pts/s",
            "target": f"≥ {BULK_TARGET:,} pts/s",
            "met": bulk_met,
            "vs_baseline": baseline_text(c.ratio(bulk_rate, naive_rate), c.ratio(bulk_rate, pg_rate)),
        },
        {
            "benchmark": f"locate single p50, {ds.key}",
            "figure": c.fmt_dur(single["p50"]),
            "target": f"≤ {SINGLE_TARGET_S * 1e6:.0f} µs",
            "met": single_met,
            "vs_baseline": baseline_text(
                c.ratio(naive_single["p50"], single["p50"]), c.ratio(pg_p50, single["p50"])
            ),
        },
    ]
    return {
        "grids": len(ds.codes),
        "points": ds.n_bulk,
        "inside_share": inside_share,
        "index_build_s": build_s,
        "lattice": [index.nx, index.ny],
        "ambiguous_share": index.ambiguous_share,
        "agreement_with_naive": {"points": k, "locate_many": agree_bulk, "locate": agree_single},
        "gridindex": {
            "bulk_rate": bulk_rate,
            "bulk_times_s": bulk_times,
            "single": single,
        },
        "naive": {"points": k, "rate": naive_rate, "single": naive_single},
        "postgis": postgis,
        "targets": {"bulk_rate_min": BULK_TARGET, "single_p50_max_s": SINGLE_TARGET_S},
        "met": {"bulk": bulk_met, "single_p50": single_met},
        "ratios": {
            "bulk_vs_naive": c.ratio(bulk_rate, naive_rate),
            "bulk_vs_postgis": c.ratio(bulk_rate, pg_rate),
            "single_p50_vs_naive": c.ratio(naive_single["p50"], single["p50"]),
            "single_p50_vs_postgis": c.ratio(pg_p50, single["p50"]),
        },
        "summary": summary,
    }


def datasets() -> list[Dataset]:
    demo_codes, demo_geoms = c.demo_grids()
    city_codes, city_geoms = c.synthetic_city()
    return [
        Dataset("Xuanwu demo", "Xuanwu demo", demo_codes, demo_geoms, c.XUANWU_BBOX, points_seed=615),
        Dataset(
            "20k city",
            "synthetic city, Voronoi cells over 118.5–119.0 E × 31.8–32.2 N",
            city_codes,
            city_geoms,
            c.CITY_BBOX,
            points_seed=20_000,
            naive_max_points=300,
            naive_max_seconds=4.0,
        ),
    ]


def run() -> dict:
    pg = PostGIS().open()
    results: dict = {"postgis_version": pg.version, "datasets": {}, "summary": []}
    try:
        for ds in datasets():
            found = bench_dataset(ds, pg)
            results["datasets"][ds.key] = found
            results["summary"] += found["summary"]
    finally:
        pg.close()
        for line in pg.cleanup_notes:
            c.note(f"PostGIS cleanup: {line}")
    if pg.created_extension:
        c.note("PostGIS: the extension was created for this run and dropped again afterwards")
    results["postgis_skipped"] = pg.skip_reason
    return results


if __name__ == "__main__":
    c.standalone(NAME, run)
