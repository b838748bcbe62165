"""The child process of bench_scopes.py: one database, 100,000 rows, timed queries and logins.

Run by bench_scopes.py as ``python bench/_scopes_worker.py BACKEND OUT.json`` with the
environment that selects the database; Django settings can be set only once per process.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

TARGET_RATIO = 1.10
N_ROWS = 100_000
N_PEOPLE = 1_000
OPEN_SHARE = 0.7  # share of the added rows still open (end IS NULL)
PAGE = 50
BATCH = 5_000
# Query timing: rounds × variants × calls, alternating; bounded in count and in time.
ROUNDS = 8
CALLS_PER_ROUND = 8
QUERY_SECONDS = 90.0
SCOPE_FOR_CALLS = 30
# Login timing: per hasher, in alternating rounds; bounded in count and in time.
LOGINS = 50
LOGIN_ROUND = 10
LOGIN_SECONDS = 120.0
UPGRADE_LOGINS = 5
WORKER_TIMEOUT_S = 900

ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"
PBKDF2 = "django.contrib.auth.hashers.PBKDF2PasswordHasher"

VARIANTS = {
    "unfiltered": "unfiltered (baseline)",
    "street": "street operator (1 street)",
    "district": "district operator (every region)",
    "grid": "grid worker (1 grid)",
    "district_skip": "district, no filter (reference)",
}
SCOPED = ("street", "district", "grid")


# --- the child process: one database ----------------------------------------------------------
def _add_rows(seed: int = N_ROWS) -> dict:
    """Top GridStaffing up to N_ROWS rows over the demo grids, held by synthetic people."""
    from django.db import transaction

    from civicgrid.accounts.models import GridPost, GridStaffing, User
    from civicgrid.regions.models import Level, Region

    rng = random.Random(seed)
    grids = list(Region.objects.filter(level=Level.GRID).order_by("code").values_list("id", flat=True))
    existing = GridStaffing.objects.count()
    to_add = max(0, N_ROWS - existing)
    start = time.perf_counter()
    with transaction.atomic():
        User.objects.bulk_create(
            [User(username=f"bench-{i:04d}", password="!bench") for i in range(N_PEOPLE)], batch_size=BATCH
        )
        people = list(User.objects.filter(username__startswith="bench-").values_list("id", flat=True))
        posts = list(GridPost.values)
        first = date(2018, 1, 1)
        for offset in range(0, to_add, BATCH):
            batch = []
            for _ in range(min(BATCH, to_add - offset)):
                begin = first + timedelta(days=rng.randrange(3_000))
                end = None if rng.random() < OPEN_SHARE else begin + timedelta(days=rng.randrange(1, 720))
                batch.append(
                    GridStaffing(
                        grid_id=rng.choice(grids),
                        user_id=rng.choice(people),
                        post=rng.choice(posts),
                        start=begin,
                        end=end,
                    )
                )
            GridStaffing.objects.bulk_create(batch, batch_size=BATCH)
    return {
        "grids": len(grids),
        "demo_rows": existing,
        "added_rows": to_add,
        "rows": GridStaffing.objects.count(),
        "open_rows": GridStaffing.objects.filter(end__isnull=True).count(),
        "insert_s": time.perf_counter() - start,
    }


def _timed_rounds(variants: dict, rounds: int, calls: int, max_seconds: float) -> dict[str, list[int]]:
    """Per-call ns of each variant; each round runs every variant ``calls`` times, order rotating."""
    keys = list(variants)
    samples: dict[str, list[int]] = {k: [] for k in keys}
    per_round: dict[str, list[float]] = {k: [] for k in keys}
    clock = time.perf_counter_ns
    deadline = time.perf_counter() + max_seconds
    for r in range(rounds):
        order = keys[r % len(keys) :] + keys[: r % len(keys)]
        if r % 2:
            order.reverse()
        for key in order:
            fn = variants[key]
            mine = []
            for _ in range(calls):
                t0 = clock()
                fn()
                mine.append(clock() - t0)
            samples[key] += mine
            per_round[key].append(statistics.median(mine))
        if time.perf_counter() > deadline:
            break
    return {"samples": samples, "per_round": per_round}


def _measure_queries() -> dict:
    from collections import Counter

    from django.contrib.auth import get_user_model

    from civicgrid.accounts.models import GridPost, GridStaffing
    from civicgrid.accounts.scopes import region_q, scope_for
    from civicgrid.regions.models import Level, Region

    User = get_user_model()
    street_region = Region.objects.filter(level=Level.STREET, statistical_only=False).order_by("code").first()
    first_post = (
        GridStaffing.objects.filter(post=GridPost.FULL_TIME, user__username__startswith="gw-")
        .order_by("id")
        .first()
    )
    users = {
        "street": User.objects.get(username=f"street-{street_region.code[:9]}"),
        "district": User.objects.get(username="operator"),
        "grid": first_post.user,
    }
    scopes = {key: scope_for(user) for key, user in users.items()}
    for key, scope in scopes.items():
        if not scope.region_ids:
            raise RuntimeError(f"the {key} user ({users[key].username}) has an empty scope today")
    all_regions = frozenset(Region.objects.values_list("id", flat=True))

    def base():
        return GridStaffing.objects.filter(end__isnull=True)

    def page_and_count(qs) -> tuple[int, int]:
        return len(list(qs.order_by("id")[:PAGE])), qs.count()

    def scoped(scope):
        # The app's own filter (accounts.scopes.region_q), so the figure is what selectors pay.
        return base().filter(region_q(scope, "grid"))

    district = scopes["district"]

    def district_skip():
        # The alternative: no IN list when the scope reaches every region (a set test, ~µs).
        qs = base() if all_regions <= district.region_ids else scoped(district)
        return page_and_count(qs)

    variants = {
        "unfiltered": lambda: page_and_count(base()),
        "street": lambda: page_and_count(scoped(scopes["street"])),
        "district": lambda: page_and_count(scoped(district)),
        "grid": lambda: page_and_count(scoped(scopes["grid"])),
        "district_skip": district_skip,
    }
    # Correctness, by another path (no IN list): open rows per grid, summed over each scope.
    open_by_grid = Counter(base().values_list("grid_id", flat=True))
    expected = {
        "unfiltered": sum(open_by_grid.values()),
        "district_skip": sum(open_by_grid.values()),
        **{k: sum(open_by_grid[g] for g in s.region_ids) for k, s in scopes.items()},
    }
    answers = {key: fn() for key, fn in variants.items()}  # also the warm-up
    plans = {}
    for key in ("unfiltered", "street", "district", "grid"):
        qs = base() if key == "unfiltered" else scoped(scopes[key])
        try:
            plans[key] = qs.order_by("id")[:PAGE].explain()
        except Exception as exc:  # a plan is a nicety; never fail the run for it
            plans[key] = f"unavailable: {exc}"

    timed = _timed_rounds(variants, ROUNDS, CALLS_PER_ROUND, QUERY_SECONDS)
    figures = {}
    for key in variants:
        arr = timed["samples"][key]
        figures[key] = c.percentiles_s(arr, qs=(50, 95)) | {
            "page_rows": answers[key][0],
            "count": answers[key][1],
            "expected_count": expected[key],
            "correct": answers[key][1] == expected[key] and answers[key][0] == min(PAGE, expected[key]),
            "in_list": None
            if key in ("unfiltered", "district_skip") or scopes[key].everything
            else len(scopes[key].region_ids),
            "per_round_median_s": [v / 1e9 for v in timed["per_round"][key]],
        }

    # scope_for itself: three users, alternating, bounded.
    scope_ns: dict[str, list[int]] = {k: [] for k in users}
    deadline = time.perf_counter() + 30.0
    for _ in range(SCOPE_FOR_CALLS):
        for key, user in users.items():
            t0 = time.perf_counter_ns()
            scope_for(user)
            scope_ns[key].append(time.perf_counter_ns() - t0)
        if time.perf_counter() > deadline:
            break
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    scope_for_figures = {}
    for key, user in users.items():
        with CaptureQueriesContext(connection) as ctx:
            scope_for(user)
        scope_for_figures[key] = c.percentiles_s(scope_ns[key], qs=(50, 95)) | {
            "username": user.username,
            "roles": sorted(scopes[key].roles),
            "region_ids": len(scopes[key].region_ids),
            "queries": len(ctx.captured_queries),
        }
    return {
        "regions": len(all_regions),
        "street": street_region.code,
        "queries": figures,
        "rounds": len(timed["per_round"]["unfiltered"]),
        "calls_per_round": CALLS_PER_ROUND,
        "plans": plans,
        "scope_for": scope_for_figures,
    }


def _measure_logins() -> dict:
    from django.contrib.auth import authenticate
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    from civicgrid.accounts.lockout import is_locked
    from civicgrid.accounts.models import User
    from civicgrid.demo.loader import DEMO_PASSWORD

    argon_user = User.objects.get(username="operator")
    pbkdf2_hash = make_password(DEMO_PASSWORD, hasher="pbkdf2_sha256")
    pbkdf2_user = User.objects.create(username="bench-pbkdf2", password=pbkdf2_hash)
    legacy_user = User.objects.create(username="bench-legacy", password=pbkdf2_hash)
    django_default = [PBKDF2, ARGON2]  # Django's own order: PBKDF2 preferred

    def login_argon2():
        return authenticate(username=argon_user.username, password=DEMO_PASSWORD)

    def login_pbkdf2():
        with override_settings(PASSWORD_HASHERS=django_default):
            return authenticate(username=pbkdf2_user.username, password=DEMO_PASSWORD)

    logins = {"argon2": login_argon2, "pbkdf2": login_pbkdf2}
    failures = dict.fromkeys(logins, 0)
    queries = {}
    for key, fn in logins.items():  # warm-up, and the query count of one login
        with CaptureQueriesContext(connection) as ctx:
            failures[key] += fn() is None
        queries[key] = len(ctx.captured_queries)

    samples: dict[str, list[int]] = {k: [] for k in logins}
    deadline = time.perf_counter() + LOGIN_SECONDS
    for r in range(max(1, LOGINS // LOGIN_ROUND)):
        order = list(logins) if r % 2 == 0 else list(reversed(logins))
        for key in order:
            for _ in range(LOGIN_ROUND):
                t0 = time.perf_counter_ns()
                user = logins[key]()
                samples[key].append(time.perf_counter_ns() - t0)
                failures[key] += user is None
        if time.perf_counter() > deadline:
            break
    argon_user.refresh_from_db()
    pbkdf2_user.refresh_from_db()
    hashes_kept = argon_user.password.startswith("argon2") and pbkdf2_user.password.startswith(
        "pbkdf2_sha256"
    )

    lock_ns = []
    for _ in range(LOGINS):
        t0 = time.perf_counter_ns()
        is_locked(username=argon_user.username, ip=None)
        lock_ns.append(time.perf_counter_ns() - t0)

    # A legacy PBKDF2 hash under the project's settings: the first login re-hashes with Argon2.
    upgrade_ns, upgraded = [], 0
    for _ in range(UPGRADE_LOGINS):
        User.objects.filter(pk=legacy_user.pk).update(password=pbkdf2_hash)
        t0 = time.perf_counter_ns()
        authenticate(username=legacy_user.username, password=DEMO_PASSWORD)
        upgrade_ns.append(time.perf_counter_ns() - t0)
        legacy_user.refresh_from_db()
        upgraded += legacy_user.password.startswith("argon2")

    from django.contrib.auth.hashers import get_hasher

    argon = get_hasher("argon2")
    return {
        "argon2": c.percentiles_s(samples["argon2"], qs=(50, 95, 99)) | {"queries": queries["argon2"]},
        "pbkdf2": c.percentiles_s(samples["pbkdf2"], qs=(50, 95, 99)) | {"queries": queries["pbkdf2"]},
        "failures": failures,
        "hashes_kept": hashes_kept,
        "lockout_check": c.percentiles_s(lock_ns, qs=(50, 95)),
        "legacy_upgrade": c.percentiles_s(upgrade_ns, qs=(50, 95)) | {"upgraded": upgraded},
        "argon2_params": {
            "time_cost": argon.time_cost,
            "memory_cost_kib": argon.memory_cost,
            "parallelism": argon.parallelism,
        },
        "pbkdf2_iterations": get_hasher("pbkdf2_sha256").iterations,
    }


def _worker(backend: str, out_path: Path) -> None:
    """In the child: migrate, load the demo, add rows, measure, write JSON to ``out_path``."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from civicgrid.demo.loader import demo_load

    result: dict = {"backend": backend, "vendor": connection.vendor}
    start = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    result["migrate_s"] = time.perf_counter() - start
    start = time.perf_counter()
    demo_load(people=True, cases=0, progress=lambda _message: None)
    result["demo_s"] = time.perf_counter() - start
    result["rows"] = _add_rows()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum would do soon; now, so plans are stable
            cursor.execute("ANALYZE")
        result["analyzed"] = True
    else:
        result["analyzed"] = False
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            result["server_version"] = cursor.fetchone()[0].split()[0]
    else:
        result["server_version"] = sqlite3.sqlite_version
    result |= _measure_queries()
    if backend == "sqlite":
        result["login"] = _measure_logins()
    connection.close()
    out_path.write_text(json.dumps(result, default=c._json_default), encoding="utf-8")


if __name__ == "__main__":
    _worker(sys.argv[1], Path(sys.argv[2]))
