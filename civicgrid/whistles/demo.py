"""The demo's whistles: a dozen past ones over the last two months (most closed, a few with late or
missing report-ins) so that the figures page shows something, and two live ones blown now
through the services on open cases (one department already reported in). Idempotent: a second
run changes nothing.

Past whistles are written as rows with their past times (the services would stamp them now);
their deadlines still come from the same limits and working-time calendar as real ones.
Called by the demo loader after the year of cases (nothing in the product imports this module).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from civicgrid.accounts.models import Department, DepartmentKind, User
from civicgrid.accounts.scopes import scope_for
from civicgrid.cases import limits
from civicgrid.cases.models import Case, CaseState
from civicgrid.cases.workflow import Actor
from civicgrid.regions.models import Level, Region
from civicgrid.whistles import services
from civicgrid.whistles.models import Summons, Whistle, WhistleKind, WhistleState

KEY = "demo-whistle-"
PAST = 12
MATTERS = [
    ("珠江路沿线占道经营反复回潮", "沿街商户跨门经营，多次劝导无效"),
    ("老旧小区加装电梯协调", "低层住户意见分歧，需住建部门现场解释政策"),
    ("雨后小区积水严重", "地势低洼，排水管网堵塞"),
    ("违规群租房消防隐患", "一套住房隔出多个单间，消防通道堵塞"),
    ("夜间渣土车噪声扰民", "工地夜间运输，居民多次投诉"),
    ("燃气管道老化泄漏隐患", "居民闻到燃气味，需燃气公司与应急部门到场"),
    ("菜场周边油烟直排", "餐饮店未安装油烟净化设备"),
    ("废弃自行车堆积占用消防通道", "小区内长期无人认领的车辆"),
]
KINDS = [WhistleKind.ROUTINE] * 5 + [WhistleKind.TOUGH] * 4 + [WhistleKind.EMERGENCY] * 3


def seed(progress: Callable[[str], None] = print, *, seed: int = 2026) -> None:
    if Whistle.objects.filter(idempotency_key__startswith=KEY).exists():
        return
    departments = list(Department.objects.filter(active=True).exclude(kind=DepartmentKind.STREET_OFFICE))
    streets = list(Region.objects.filter(level=Level.STREET, statistical_only=False).order_by("code"))
    operators = {u.username: u for u in User.objects.filter(username__startswith="street-")}
    if len(departments) < 3 or not streets or not operators:
        return
    progress(f"blowing {PAST} past whistles and 2 live ones …")
    rng = random.Random(seed)
    with transaction.atomic():
        for n in range(PAST):
            street = streets[n % len(streets)]
            blower = operators.get(f"street-{street.code[:9]}")
            if blower is not None:
                _past(n, rng, street, blower, departments)
    _live(departments)


def _past(n: int, rng: random.Random, street: Region, blower: User, departments: list[Department]) -> None:
    kind = KINDS[n % len(KINDS)]
    title, description = MATTERS[n % len(MATTERS)]
    limit = services.report_in_limit(kind)
    # Office hours on a weekday some days ago: whistles are blown in the day, mostly.
    now = timezone.localtime()
    opened = now - timedelta(days=3 + n * 4)
    opened = opened.replace(
        hour=rng.choice((9, 10, 14, 15)), minute=rng.choice((0, 15, 40)), second=0, microsecond=0
    )
    deadline = limits.calendar().add(opened, limit)
    closed = n % 5 != 4  # every fifth one is still open
    summoned = rng.sample(departments, 2 + n % 2)
    whistle = Whistle.objects.create(
        number=f"{KEY}{n}",  # replaced below, as the services do
        kind=kind, region=street, street=street, blown_by=blower, blown_as="street_operator",
        title=title, description=description, place=f"{street.name}辖区", lead=summoned[0],
        limit=limit.label(), opened_at=opened,
        state=WhistleState.CLOSED if closed else WhistleState.OPEN,
        closed_at=min(opened + timedelta(hours=rng.choice((3, 8, 26, 50, 75))), now) if closed else None,
        closed_by=blower if closed else None, result="各部门按分工处置完毕，已建立长效机制" if closed else "",
        idempotency_key=f"{KEY}{n:03d}", submitted_by="demo",
    )  # fmt: skip
    whistle.number = f"CS{opened:%Y%m%d}{whistle.pk:05d}"
    whistle.save(update_fields=["number"])
    span = (deadline - opened).total_seconds()
    rows = []
    for d in summoned:
        fate = rng.random()
        # Most come in time; some come late; a few never come (flagged late by the sweep).
        reported = None if fate > 0.9 else min(opened + timedelta(seconds=span * (0.3 + fate)), now)
        late = reported is None or reported > deadline
        rows.append(
            Summons(
                whistle=whistle,
                department=d,
                deadline=deadline,
                reported_at=reported,
                reported_by=_handler(d) if reported else None,
                attendees="值班科长及执法队员" if reported else "",
                where=whistle.place if reported else "",
                late=late,
                late_notified_at=deadline if late else None,
            )
        )
    Summons.objects.bulk_create(rows)


def _handler(department: Department) -> User | None:
    return User.objects.filter(username=f"dept-{department.code.lower()}").first()


def _live(departments: list[Department]) -> None:
    """Two whistles blown now by the command centre on open cases, through the services."""
    operator = User.objects.filter(username="operator").first()
    if operator is None:
        return
    actor = Actor(user_id=operator.pk, scope=scope_for(operator), name=str(operator))
    cases = Case.objects.filter(state__in=[CaseState.HANDLING, CaseState.DISPATCHED]).order_by("-created_at")[
        :2
    ]
    for n, (case, kind) in enumerate(zip(cases, (WhistleKind.TOUGH, WhistleKind.EMERGENCY), strict=False)):
        codes = [d.code for d in departments[n * 2 : n * 2 + 2]]
        data = services.WhistleInput(
            kind=kind, departments=codes, lead=codes[0], case=case.number, region=case.street.code
        )
        blown = services.whistle_blow(
            actor=actor, data=data, idempotency_key=f"{KEY}live-{n}", submitted_by="demo"
        )
        handler = _handler(departments[n * 2])
        if n == 0 and handler is not None:
            services.summons_report_in(
                actor=Actor(user_id=handler.pk, scope=scope_for(handler), name=str(handler)),
                number=blown.whistle.number,
                attendees="城管执法中队 王队长等3人",
                where=case.address or case.grid.name,
            )
