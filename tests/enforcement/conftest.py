"""Fixtures for enforcement: the whole demo committed once for the package, with the enforcement
demo seeded on top (the item list, one officer per street, the demo grid's tasks and
inspections), and helpers to record inspections as the demo's people."""

from __future__ import annotations

import itertools

import pytest

from civicgrid.cases import limits
from civicgrid.enforcement import demo, services
from civicgrid.enforcement.models import AnswerResult, Checkpoint

from ..cases.conftest import actor, committed_demo
from ..cases.steps import GRID_A, GRID_B, point_in

STREET_A, STREET_B = "320102002", "320102010"  # 梅园新村街道, 玄武湖街道
OFFICER_A, OFFICER_B = f"zf-{STREET_A}", f"zf-{STREET_B}"
GW_A, GW_B = f"gw-{GRID_A}", f"gw-{GRID_B}"
ITEM = "ZF-SR-004"  # 擅自在街道两侧和公共场地堆放物料: three checkpoints, default class E0110
_keys = itertools.count(1)


@pytest.fixture(scope="package")
def _module_demo(django_db_setup, django_db_blocker, demo_divisions):
    """The whole demo and the enforcement demo, committed once for this package's modules; each
    test still runs in its own rolled-back transaction on top of it."""
    demo_result = committed_demo(django_db_blocker, demo_divisions)
    result = next(demo_result)
    with django_db_blocker.unblock():
        demo.seed(progress=lambda line: None)
    yield result
    demo_result.close()


@pytest.fixture
def edemo(_module_demo, db):
    """The Xuanwu demo with staff, taxonomy and the enforcement demo; caches dropped."""
    limits.forget()
    yield _module_demo
    limits.forget()


def answers_for(item: str = ITEM, *, failed=(), raise_case=(), skip=()) -> list[dict]:
    """Answers to the item's active checkpoints by their order (seq): pass unless failed."""
    rows = Checkpoint.objects.filter(item__code=item, active=True).order_by("seq")
    return [
        {
            "checkpoint": cp.pk,
            "result": AnswerResult.FAIL if cp.seq in failed else AnswerResult.PASS,
            "note": "人行道堆放建材约5平方米" if cp.seq in failed else "",
            "raise_case": cp.seq in raise_case,
        }
        for cp in rows
        if cp.seq not in skip
    ]


def inspect(who: str, *, grid: str = GRID_A, item: str = ITEM, key: str = "", photos=None, **fields):
    """Record an inspection through the service as ``who`` (a username)."""
    answers = fields.pop("answers", None) or answers_for(item)
    lon, lat = fields.pop("point", None) or point_in(grid)
    data = services.InspectionInput(
        item=item,
        grid=grid,
        answers=[services.AnswerInput(**a) for a in answers],
        lon=lon,
        lat=lat,
        accuracy=8.0,
        client_key=key or f"test-inspection-{next(_keys):05d}",
        **fields,
    )
    return services.inspection_record(actor=actor(who), data=data, photos=photos or [], submitted_by=who)
