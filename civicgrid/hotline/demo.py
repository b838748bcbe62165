"""The hotline's part of the demo: landmarks of the Xuanwu district, a hotline class mapping and a
sample batch (data/sample-orders.json) imported as the demo operator. Idempotent: a second run
finds all three and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from civicgrid.accounts.models import User
from civicgrid.cases.models import CaseClass
from civicgrid.geo.crs import gcj02_to_wgs84
from civicgrid.hotline import services
from civicgrid.hotline.models import BatchStatus, HotlineBatch, HotlineClassMap, Landmark, LimitKind
from civicgrid.regions.selectors import grid_locate_many

SAMPLE = Path(__file__).parent / "data" / "sample-orders.json"
# Well-known places of 玄武区 as map apps show them (GCJ-02, converted to WGS-84 when stored).
# A landmark whose point lies outside every demo grid is skipped.
LANDMARKS = [
    ("南京站", "南京火车站,火车站", 118.7975, 32.0875),
    ("玄武湖公园", "玄武湖", 118.7946, 32.0700),
    ("总统府", "", 118.7966, 32.0442),
    ("中山陵", "中山陵景区", 118.8484, 32.0637),
    ("明孝陵", "", 118.8386, 32.0578),
    ("鸡鸣寺", "", 118.7936, 32.0634),
    ("南京图书馆", "省图书馆", 118.7990, 32.0420),
    ("南京博物院", "", 118.8220, 32.0420),
    ("东南大学四牌楼校区", "东大四牌楼", 118.7910, 32.0590),
    ("南京理工大学", "南理工", 118.8550, 32.0260),
    ("南京农业大学", "南农", 118.8430, 32.0380),
    ("红山森林动物园", "红山动物园", 118.8090, 32.0950),
    ("徐庄软件园", "", 118.8700, 32.0750),
    ("紫金山天文台", "", 118.8230, 32.0710),
]
# The sample file's hotline classes → 小类 (cases/data/taxonomy.json) and feedback kind.
CLASS_MAP = [
    ("城市管理/路灯", "P0108", ""),
    ("环境保护/油烟", "G0701", ""),
    ("城市管理/共享单车", "E0507", ""),
    ("环境卫生/垃圾", "E0107", ""),
    ("环境保护/噪音", "G0401", ""),
    ("供水", "G0402", LimitKind.UTILITIES),
    ("燃气", "G0201", LimitKind.EMERGENCY),
    ("市政设施/井盖", "P0106", ""),
    ("邻里纠纷", "G0101", LimitKind.COMPLEX),
]


def seed_landmarks() -> int:
    """Add the landmarks that lie inside the district; the number added."""
    points = [gcj02_to_wgs84(lon, lat) for _n, _a, lon, lat in LANDMARKS]
    _loaded, found = grid_locate_many(points=[(float(x), float(y)) for x, y in points], crs="wgs84")
    added = 0
    for (name, aliases, _lon, _lat), (x, y), place in zip(LANDMARKS, points, found, strict=True):
        if "error" in place or Landmark.objects.filter(name=name).exists():
            continue
        Landmark.objects.create(name=name, aliases=aliases, lon=round(float(x), 7), lat=round(float(y), 7))
        added += 1
    return added


def seed_class_map() -> int:
    classes = {c.code: c for c in CaseClass.objects.filter(code__in=[m[1] for m in CLASS_MAP])}
    added = 0
    for hotline_class, code, kind in CLASS_MAP:
        _row, created = HotlineClassMap.objects.get_or_create(
            hotline_class=hotline_class, defaults={"case_class": classes.get(code), "limit_kind": kind}
        )
        added += created
    return added


def seed(progress: Callable[[str], None] = print) -> None:
    landmarks, mapped = seed_landmarks(), seed_class_map()
    data = SAMPLE.read_bytes()
    if HotlineBatch.objects.filter(file_name=SAMPLE.name, status=BatchStatus.DONE).exists():
        progress(
            f"hotline: {landmarks} landmarks and {mapped} class mappings added; sample batch already imported"
        )
        return
    batch = services.batch_receive(
        user=User.objects.get(username="operator"), name=SAMPLE.name, data=data, again=True
    )
    batch = services.batch_run(batch_id=batch.pk)
    progress(
        f"hotline: {landmarks} landmarks, {mapped} class mappings, sample batch #{batch.pk}: "
        + ", ".join(f"{k} {v}" for k, v in batch.counts().items())
    )
