"""Fixtures for the hotline: the whole demo (committed once per module, as for cases), files of
orders in each format, and helpers to import them as a given user."""

from __future__ import annotations

import csv
import io
import json

import pytest
from huey.contrib.djhuey import HUEY

from civicgrid.accounts.models import User
from civicgrid.hotline import services
from civicgrid.hotline.models import Landmark
from civicgrid.tables import xlsx_bytes
from tests.browser.conftest import browser, live_staff, open_page  # noqa: F401 (fixtures)
from tests.cases.conftest import POINT, actor, cases_demo, committed_demo  # noqa: F401 (fixtures)


@pytest.fixture(scope="package")
def _module_demo(django_db_setup, django_db_blocker, demo_divisions):
    """The whole demo, committed once for this package's modules (not once per module: loading
    and emptying it cost more than most modules' tests); each test still runs in its own
    rolled-back transaction on top of it."""
    yield from committed_demo(django_db_blocker, demo_divisions)


# 梅园新村街道's community 兰园 and a landmark the tests add at POINT.
LANDMARK = "测试大厦"


def order(number: str, **fields) -> dict:
    """One order as the hotline sends it (with coordinates unless told otherwise)."""
    return {
        "external_number": number,
        "received_at": "2026-11-27 09:30:00",
        "content": "小区门口路灯不亮已经三天了，晚上出行不便",
        "caller_name": "张三",
        "caller_phone": "13800138000",
        "address": "玄武区长江路292号",
        "lon": str(POINT[0]),
        "lat": str(POINT[1]),
        "hotline_class": "城市管理/路灯",
        "urgency": "一般",
        **fields,
    }


def as_json(rows: list[dict]) -> bytes:
    return json.dumps({"orders": rows}, ensure_ascii=False).encode()


def as_csv(rows: list[dict]) -> bytes:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    out = io.StringIO()
    writer = csv.DictWriter(out, keys)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(rows: list[dict]) -> bytes:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    return xlsx_bytes("orders", keys, ([r.get(k, "") for k in keys] for r in rows))[0]


def run(rows_or_bytes, *, name: str = "orders.json", user: str = "operator", again: bool = False):
    """Receive and import a file as ``user``; the finished batch."""
    data = rows_or_bytes if isinstance(rows_or_bytes, bytes) else as_json(rows_or_bytes)
    batch = services.batch_receive(user=User.objects.get(username=user), name=name, data=data, again=again)
    return services.batch_run(batch_id=batch.pk)


@pytest.fixture
def hotline(cases_demo, settings, tmp_path):  # noqa: F811 (the imported fixture)
    """The demo with stored files in a temporary folder and one landmark at POINT."""
    settings.MEDIA_ROOT = tmp_path
    Landmark.objects.create(name=LANDMARK, aliases="测试楼, 测试广场", lon=POINT[0], lat=POINT[1])
    return cases_demo


@pytest.fixture
def huey_immediate(monkeypatch):
    monkeypatch.setattr(HUEY, "immediate", True)
    yield HUEY
