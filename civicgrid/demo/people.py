"""Demo staff for every role over the Xuanwu grids: synthetic people with deterministic names.

Every grid gets a full-time grid worker (and every third a part-time one), every community a
grid chief (社区书记, who is 大网格长 of all its grids), community staff and a party secretary;
every street an operator; the district a command-centre operator and a shift lead; a dozen
departments each get a handler; every grid its 四级四事 tier owners (building leader, building
party branch secretary, owners' committee member) and every community a mediator. All demo users
share one demo password, hashed once, because hashing thousands of passwords with Argon2 would
take minutes for nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.hashers import make_password

from civicgrid.accounts.models import (
    Department,
    DepartmentKind,
    GridPost,
    GridStaffing,
    Role,
    RoleAssignment,
    User,
)
from civicgrid.regions.models import Level, Region

START = date(2026, 1, 1)
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文斌宇浩凯婷雪琳晨阳欣怡子涵佳瑞"

# (code, name, kind, owned case classes) — typical units of a Chinese urban district.
DEPARTMENTS = [
    ("D01", "玄武区城市管理局", DepartmentKind.DISTRICT_DEPARTMENT),
    ("D02", "玄武区住房和城乡建设局", DepartmentKind.DISTRICT_DEPARTMENT),
    ("D03", "玄武区市场监督管理局", DepartmentKind.DISTRICT_DEPARTMENT),
    ("D04", "南京市玄武生态环境局", DepartmentKind.DISTRICT_DEPARTMENT),
    ("D05", "玄武区应急管理局", DepartmentKind.DISTRICT_DEPARTMENT),
    ("D06", "南京市公安局玄武分局", DepartmentKind.DISTRICT_DEPARTMENT),
    ("D07", "玄武区民政局", DepartmentKind.DISTRICT_DEPARTMENT),
    ("D08", "玄武区卫生健康委员会", DepartmentKind.DISTRICT_DEPARTMENT),
    ("D09", "玄武区水务局", DepartmentKind.DISTRICT_DEPARTMENT),
    ("D10", "玄武区消防救援大队", DepartmentKind.DISTRICT_DEPARTMENT),
    ("U01", "国网南京供电公司玄武营业部", DepartmentKind.UTILITY),
    ("U02", "南京水务集团玄武服务所", DepartmentKind.UTILITY),
    ("U03", "南京港华燃气玄武服务站", DepartmentKind.UTILITY),
]


@dataclass
class DemoLogin:
    role: str
    username: str
    scope: str


class NameMaker:
    """Deterministic synthetic Chinese names (never a real person's on purpose)."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def mobile(self) -> str:
        """A synthetic mainland mobile number (139 + 8 digits)."""
        return "139" + "".join(str(self.rng.randrange(10)) for _ in range(8))

    def __call__(self) -> str:
        given = "".join(self.rng.choice(_GIVEN) for _ in range(self.rng.choice((1, 2))))
        return self.rng.choice(_SURNAMES) + given


def demo_people(*, password: str, seed: int = 2026) -> list[DemoLogin]:
    """Create the demo staff once; returns one login per role. Idempotent."""
    if User.objects.filter(username="operator").exists():
        return demo_logins()
    hashed = make_password(password)
    names = NameMaker(seed)
    district = Region.objects.get(level=Level.DISTRICT)
    streets = list(Region.objects.filter(level=Level.STREET, statistical_only=False).order_by("code"))
    communities = list(Region.objects.filter(level=Level.COMMUNITY, statistical_only=False).order_by("code"))
    grids = list(Region.objects.filter(level=Level.GRID).order_by("code"))
    users: list[User] = []
    roles: list[tuple[str, str, Region | None, str | None]] = []  # username, role, region, department code
    posts: list[tuple[str, Region, str]] = []

    def person(username: str, *, staff: bool = False) -> str:
        users.append(User(username=username, display_name=names(), password=hashed, is_staff=staff))
        return username

    for username, role in [
        ("operator", Role.OPERATOR),
        ("shiftlead", Role.SHIFT_LEAD),
    ]:
        roles.append((person(username), role, district, None))
    for username, role in [("auditor", Role.AUDITOR), ("secadmin", Role.SECURITY_ADMIN)]:
        # Their work is in the back office (audit trail; accounts and roles).
        roles.append((person(username, staff=True), role, None, None))
    for street in streets:
        roles.append((person(f"street-{street.code[:9]}"), Role.STREET_OPERATOR, street, None))
    by_community: dict[int, list[Region]] = {}
    for grid in grids:
        by_community.setdefault(grid.parent_id, []).append(grid)
    for community in communities:
        chief = person(f"chief-{community.code}")
        roles.append((chief, Role.GRID_CHIEF, community, None))
        roles.append((person(f"staff-{community.code}"), Role.COMMUNITY_STAFF, community, None))
        roles.append((person(f"party-{community.code}"), Role.PARTY_SECRETARY, community, None))
        # 四级四事 tier owners (civicgrid.routing): a mediator for the community; per grid (one
        # housing estate) a building leader, the building party branch and the owners' committee.
        roles.append((person(f"med-{community.code}"), Role.MEDIATOR, community, None))
        for n, grid in enumerate(by_community.get(community.pk, [])):
            posts.append((chief, grid, GridPost.CHIEF))
            worker = person(f"gw-{grid.code}")
            posts.append((worker, grid, GridPost.FULL_TIME))
            # The full-time worker who is a party member leads the grid's party branch.
            if n % 2 == 0:
                posts.append((worker, grid, GridPost.BRANCH_SECRETARY))
            if n % 3 == 0:
                posts.append((person(f"pt-{grid.code}"), grid, GridPost.PART_TIME))
            roles.append((person(f"bl-{grid.code}"), Role.BUILDING_LEADER, grid, None))
            roles.append((person(f"bb-{grid.code}"), Role.BUILDING_BRANCH, grid, None))
            roles.append((person(f"oc-{grid.code}"), Role.OWNERS_COMMITTEE, grid, None))
    for street in streets[:4]:
        roles.append((person(f"deputy-{street.code[:9]}"), Role.DEPUTY, street, None))
    for i in range(1, 4):
        roles.append((person(f"resident{i}"), Role.RESIDENT, None, None))

    departments = {}
    for code, name, kind in DEPARTMENTS:
        departments[code] = Department.objects.create(
            code=code,
            name=name,
            kind=kind,
            region=district,
            contact_name=names(),
            contact_phone=names.mobile(),
        )
        roles.append((person(f"dept-{code.lower()}"), Role.DEPARTMENT_HANDLER, None, code))

    # Each street's office takes what no department owns (属地兜底).
    for n, street in enumerate(streets, start=1):
        code = f"S{n:02d}"
        departments[code] = Department.objects.create(
            code=code,
            name=f"{street.name}综合行政执法和城市管理办公室",
            kind=DepartmentKind.STREET_OFFICE,
            region=street,
            contact_name=names(),
            contact_phone=names.mobile(),
        )
        roles.append((person(f"dept-{code.lower()}"), Role.DEPARTMENT_HANDLER, None, code))
        # 执法队员 (civicgrid.enforcement): the street's enforcement officer inspects in its grids
        # and, as a member of the street's office, handles the office's cases.
        officer = person(f"zf-{street.code[:9]}")
        roles.append((officer, Role.ENFORCEMENT_OFFICER, street, None))
        roles.append((officer, Role.DEPARTMENT_HANDLER, None, code))

    User.objects.bulk_create(users, batch_size=500)
    by_name = {u.username: u for u in User.objects.filter(username__in=[u.username for u in users])}
    RoleAssignment.objects.bulk_create(
        [
            RoleAssignment(
                user=by_name[username],
                role=role,
                region=region,
                department=departments.get(department) if department else None,
                valid_from=START,
            )
            for username, role, region, department in roles
        ],
        batch_size=500,
    )
    GridStaffing.objects.bulk_create(
        [
            GridStaffing(user=by_name[username], grid=grid, post=post, start=START)
            for username, grid, post in posts
        ],
        batch_size=1000,
    )
    return demo_logins()


def demo_logins() -> list[DemoLogin]:
    """One login per role, the first holder of each."""
    logins = [DemoLogin(Role.SYSTEM_ADMIN.label, "admin", "全区 / system")]
    for role in Role:
        if role == Role.SYSTEM_ADMIN:
            continue
        holder = (
            RoleAssignment.objects.filter(role=role)
            .select_related("user", "region", "department")
            .order_by("id")
            .first()
        )
        if role == Role.GRID_WORKER:
            post = (
                GridStaffing.objects.filter(post=GridPost.FULL_TIME)
                .select_related("user", "grid")
                .order_by("id")
                .first()
            )
            if post:
                logins.append(DemoLogin(role.label, post.user.username, post.grid.name))
            continue
        if holder:
            where = (
                holder.region.name if holder.region else holder.department.name if holder.department else "—"
            )
            logins.append(DemoLogin(role.label, holder.user.username, where))
    return logins
