"""The routing part of the demo: a few 四级四事 matters in 梅园新村社区第1网格, each taken through
the grassroots tiers by the demo people whose job it is (the logins printed by ``civicgrid demo``:
``bl-…`` building leader, ``oc-…`` owners' committee, ``party-…`` community party secretary).

Idempotent: each matter is reported under a fixed idempotency key, and a replayed report (a
second run) makes no moves. Each matter is one transaction, so an interrupted run leaves none
half-made.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from shapely.geometry import shape

from civicgrid.accounts.models import User
from civicgrid.accounts.scopes import scope_for
from civicgrid.cases.services import CaseInput, case_create, case_move
from civicgrid.cases.workflow import Actor
from civicgrid.regions.models import Boundary
from civicgrid.routing import rules, services

GRID = "32010200200101"  # 梅园新村社区第1网格
COMMUNITY = GRID[:12]
WORKER, LEADER, COMMITTEE, SECRETARY = f"gw-{GRID}", f"bl-{GRID}", f"oc-{GRID}", f"party-{COMMUNITY}"
STREET = f"street-{GRID[:9]}"

# (key, level, class, title, moves: (who, action, reason or note, extra))
MATTERS = [
    (
        "demo-routing-01",
        "family",
        "G0101",
        "老人与子女因赡养问题争吵",
        [
            (LEADER, rules.RESOLVE, "楼栋长两次上门做工作,子女承诺每周探望并分担费用。", {}),
            (WORKER, "check_pass", "", {}),
            ("shiftlead", "close", "", {}),
        ],
    ),
    (
        "demo-routing-02",
        "neighbourhood",
        "G0101",
        "楼上卫生间渗水到楼下",
        [
            (LEADER, rules.ESCALATE, "涉及公共管道,需业委会和物业共同处理。", {}),
            (COMMITTEE, rules.RESOLVE, "居民议事会议定:维修基金出资更换立管,三日内施工。", {}),
        ],
    ),
    ("demo-routing-03", "estate", "G0101", "小区停车位分配争议", []),
    (
        "demo-routing-04",
        "community",
        "G0101",
        "社区广场舞噪音扰民",
        [(SECRETARY, rules.ESCALATE, "涉及城管执法,提交街道处理。", {})],
    ),
    ("demo-routing-05", "family", "G0101", "独居老人家中无人应门", []),
    (
        "demo-routing-06",
        "street",
        "G0101",
        "邻居在楼道堆放杂物",
        [(STREET, rules.SEND_DOWN, "属邻里事,先由楼栋长上门协调。", {"to_tier": "building"})],
    ),
]


def _actor(username: str) -> Actor:
    user = User.objects.get(username=username)
    return Actor(user_id=user.pk, scope=scope_for(user), name=str(user))


def _point() -> tuple[float, float]:
    row = Boundary.objects.get(region__code=GRID, generation__state="active")
    p = shape(row.geojson()).representative_point()
    return (p.x, p.y)


def seed(*, progress: Callable[[str], None] = print) -> int:
    """Report and route the demo matters not made yet; the number made."""
    if not User.objects.filter(username=LEADER).exists():
        return 0  # demo without people
    progress("routing a few matters through the grassroots tiers (四级四事) …")
    lon, lat = _point()
    made = 0
    for key, level, case_class, title, moves in MATTERS:
        with transaction.atomic():
            data = CaseInput(
                channel="grid_worker", title=title, lon=lon, lat=lat, level=level, case_class=case_class
            )
            created = case_create(
                actor=_actor(WORKER), data=data, idempotency_key=key, submitted_by="demo:routing"
            )
            if created.replayed:
                continue
            case = created.case
            for who, action, text, extra in moves:
                case.refresh_from_db()
                if action in rules.ACTIONS:
                    services.tier_move(
                        actor=_actor(who),
                        number=case.number,
                        action=action,
                        version=case.version,
                        reason=text,
                        **extra,
                    )
                else:
                    case_move(
                        actor=_actor(who), number=case.number, action=action, version=case.version, note=text
                    )
            made += 1
    return made
