"""The demo year's plan: what happens to each simulated case, and when. Pure and seeded.

``plan_year`` reads nothing but its ``World`` (the calendar, the time limits, the grids and
where the dispatch rules send each class) and a seed, and yields one ``CasePlan`` per case in
the order the cases were reported. A plan is what people would have done: who reported what,
where and when, and every later step with its time and the data a client would send (codes, not
ids). ``cases_year`` applies the plans with the workflow's rules; the tests run the same plans
through the services and compare.

The rhythm: weekdays busier than weekends and holidays, office hours busier than nights; summer
brings more street-appearance, waterlogging, cooking-fume and noise reports, winter more gas and
fire-safety ones; a few grids are persistent hotspots for certain classes. Each step's time is
drawn against the deadline of the stage it ends, so most are on time and some are late.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from typing import NamedTuple

from civicgrid.cases.clock import Limit, WorkCalendar, parse_limit
from civicgrid.cases.models import Channel, Satisfaction, Stage, Urgency
from civicgrid.cases.services import VERIFIED_CHANNELS
from civicgrid.cases.workflow import Action
from civicgrid.demo import spikes
from civicgrid.demo.people import _GIVEN, _SURNAMES

A = Action
# Who makes a step; the loader turns these into actors (the case's grid worker, the lead
# department's handler, the reporter — a signed-in resident or the holder of the tracking link).
WORKER, OPERATOR, SHIFT_LEAD, HANDLER, REPORTER = "worker", "operator", "shiftlead", "handler", "reporter"
# The newest steps lie this far before "now", so nothing is dated in the future.
CUTOFF = timedelta(minutes=10)


@dataclass(frozen=True)
class Grid:
    code: str
    street: str  # the street's code, for 属地 (the street office)
    community_name: str
    weight: float  # relative rate of reports (population-based)
    points: tuple[tuple[float, float], ...]  # WGS-84 points inside the grid, pre-sampled


@dataclass(frozen=True)
class World:
    """Everything the plan reads; built from the database by ``cases_year``."""

    now: datetime
    calendar: WorkCalendar
    stage_limits: Mapping[str, Mapping[str, Limit]]  # stage -> urgency -> limit
    class_limits: Mapping[str, Mapping[str, Limit]]  # 小类 code -> urgency -> handling limit
    class_names: Mapping[str, str]
    grids: Sequence[Grid]
    suggest: Callable[[str, str], str]  # (class code, grid code) -> the department code rules choose
    locality: Mapping[str, str]  # street code -> its street office's department code
    residents: Sequence[str]  # usernames of signed-in residents


class Step(NamedTuple):
    action: str
    at: datetime
    by: str
    note: str = ""
    data: Mapping | None = None


@dataclass(slots=True)
class CasePlan:
    index: int  # 1-based, in reporting order
    created_at: datetime
    channel: str
    reported_by: str  # WORKER, OPERATOR, a resident's username, or "" (anonymous)
    grid: str
    lon: float
    lat: float
    case_class: str
    class_at_intake: bool  # chosen when reporting (else at registration)
    urgency: str
    urgency_at_intake: str
    title: str
    description: str
    address: str
    reporter_name: str
    reporter_phone: str
    steps: tuple[Step, ...]


# -- the mix --------------------------------------------------------------------------------------

# Relative weight of each 小类 among reports; unlisted classes get DEFAULT_WEIGHT. Weighted toward
# what grid systems see most (exposed refuse, street vending, flyers, parking, noise, hallways).
CLASS_WEIGHTS = {
    "E0102": 10,  # 暴露垃圾
    "E0502": 8,  # 占道经营
    "E0201": 7,  # 非法小广告
    "E0507": 6,  # 非机动车乱停放
    "E0506": 5,  # 机动车乱停放
    "G0603": 5,  # 楼道堆物
    "G0401": 4,  # 噪声扰民
    "E0110": 4,  # 乱堆物堆料
    "G0602": 3,  # 电动车违规充电
    "P0108": 3,  # 路灯
    "G0101": 3,  # 邻里纠纷
    "E0104": 3,  # 道路不洁
    "E0107": 3,  # 垃圾满溢
    "P0101": 0.6,  # 上水井盖
    "P0102": 0.8,  # 污水井盖
    "P0103": 0.8,  # 雨水井盖
    "P0104": 0.3,  # 燃气井盖
    "P0105": 0.3,  # 电力井盖
    "P0106": 0.5,  # 其他井盖
    "E0301": 2,  # 施工扰民
    "G0701": 2,  # 油烟扰民
    "G0102": 2,  # 物业纠纷
    "G0601": 2,  # 消防通道堵塞
    "E0101": 1.5,  # 私搭乱建
    "E0109": 1.5,  # 沿街晾挂
    "E0204": 1.5,  # 乱涂乱画
    "P0207": 1.5,  # 人行道及盲道
    "P0401": 1.5,  # 行道树
    "P0302": 1.5,  # 垃圾箱
    "G0501": 1.5,  # 独居老人关爱
    "E0303": 1,  # 工地扬尘
    "E0403": 1,  # 道路积水
    "E0503": 1,  # 露天烧烤
    "E0601": 1,  # 违规养犬
    "P0601": 1,  # 废弃车辆
    "G0302": 1,  # 群租房
    "G0201": 0.8,  # 燃气隐患
    "E0405": 0.15,  # 燃气泄漏
    "E0404": 0.1,  # 火灾
    "E0407": 0.2,  # 道路结冰积雪
    "G0206": 0.2,  # 违规燃放烟花爆竹
}
DEFAULT_WEIGHT = 0.15
_SUMMER = {6: 1.0, 7: 1.0, 8: 1.0, 5: 0.5, 9: 0.5}  # how much of the summer factor applies
_WINTER = {12: 1.0, 1: 1.0, 2: 1.0, 11: 0.4, 3: 0.4}
# class or 大类 prefix -> factor at the height of the season
SUMMER_FACTORS = {"E01": 1.35, "E0403": 5, "G0701": 1.7, "G0401": 1.5, "E0503": 2.5, "E0605": 2.0}
WINTER_FACTORS = {"G0201": 2.5, "E0405": 2.5, "G0404": 2.5, "G06": 1.6, "E0404": 1.8, "E0407": 8}
NIGHT_FACTORS = {"G0401": 4, "E0301": 3, "E0503": 3, "G0701": 1.5, "G0307": 3}
# Month volume (more in summer; the Spring Festival month is quiet).
MONTH_VOLUME = {1: 0.85, 2: 0.75, 3: 0.95, 4: 1.0, 5: 1.05, 6: 1.12, 7: 1.18, 8: 1.15, 9: 1.05, 10: 0.95}
# Reports by hour of day, on working days and on days off.
HOURS_WORK = tuple(
    map(
        float, "0.15 .1 .08 .07 .08 .15 .4 .9 1.6 2.2 2.3 1.9 1 1.2 2 2.1 1.9 1.4 .9 .8 .7 .55 .4 .25".split()
    )
)
HOURS_OFF = tuple(
    map(
        float,
        ".2 .12 .08 .07 .07 .1 .25 .5 .9 1.3 1.5 1.4 1.1 1.1 1.3 1.4 1.3 1.1 .9 .9 .8 .6 .45 .3".split(),
    )
)
C = Channel
CHANNELS = {  # (working day?, office hours?) -> channel weights
    (True, True): {C.GRID_WORKER: 62, C.PHONE: 13, C.RESIDENT: 12, C.WALK_IN: 8, C.LEADER: 5},
    (True, False): {C.GRID_WORKER: 15, C.PHONE: 40, C.RESIDENT: 45},
    (False, True): {C.GRID_WORKER: 40, C.PHONE: 28, C.RESIDENT: 32},
    (False, False): {C.PHONE: 45, C.RESIDENT: 55},
}
URGENCY = {Urgency.NORMAL: 90, Urgency.URGENT: 8.5, Urgency.EMERGENCY: 1.5}
# Persistent hotspots: (classes, rate factor). Each gets one grid, chosen by the seed.
HOTSPOTS = [
    (("E0502", "E0503", "E0102"), 5),  # a night market
    (("E0102", "E0110", "E0107"), 4),  # an old lane without a refuse room
    (("E0506", "E0507"), 4),  # the street by a hospital
    (("G0401", "E0301", "E0303"), 3),  # next to a building site
    (("G0603", "G0602", "G0601"), 4),  # an old housing estate
    (("E0201", "E0204"), 3),  # flyers on a busy junction
]

# -- how cases go ------------------------------------------------------------------------------

P_VOID_VERIFY = 0.08  # reports by phone or web found untrue on site
P_VOID_REGISTER = 0.025  # duplicates and matters outside the remit
P_RETURN = 0.03
P_CO_DEPARTMENT = 0.02
P_SUSPEND, P_PAUSE, P_EXTEND, P_EXTEND_APPROVED = 0.01, 0.04, 0.037, 0.8
P_REWORK = 0.04
P_RATED = 0.6
# Chance that a stage ends after its deadline.
P_LATE = {
    Stage.VERIFY: 0.005,
    Stage.REGISTER: 0.005,
    Stage.DISPATCH: 0.005,
    Stage.ACCEPT: 0.01,
    Stage.HANDLE: 0.045,
    Stage.CHECK: 0.01,
    Stage.CLOSE: 0.005,
}
NOTES = {
    A.VERIFY: ("现场核实属实", "已到现场核实，情况属实", "核实属实，已拍照"),
    "void_verify": ("经现场核实不属实", "现场未发现所述问题"),
    "void_register": ("重复上报", "不属于受理范围"),
    A.RETURN: ("不属于本单位职责，请改派", "非我单位管辖范围"),
    A.FEEDBACK: ("已处理完毕", "已整改到位，附处理后照片", "已现场处置", "已清理完毕"),
    A.CHECK_FAIL: ("现场复核仍未整改到位", "问题未彻底解决"),
    A.SUSPEND: ("需统筹解决，暂时挂账", "涉及多方产权，待协调"),
    A.PAUSE: ("等待居民配合", "等待当事人提供材料"),
    A.EXTEND_REQUEST: ("需协调多部门，申请延期", "需采购配件，申请延期"),
    A.EXTEND_REJECT: ("理由不充分，请按期办结",),
}
COMMENTS = {
    Satisfaction.SATISFIED.value: ("", "", "处理及时，谢谢！", "很满意"),
    Satisfaction.BASIC.value: ("", "基本解决", "速度可以再快一点"),
    Satisfaction.DISSATISFIED.value: ("问题反复出现", "处理不彻底", "等了太久"),
}
RATINGS = list(COMMENTS)
PLACES = ("", "", "小区门口", "路口", "楼下", "店门前", "人行道上", "巷子里")
DESCRIPTIONS = {
    C.GRID_WORKER: "网格员巡查发现：{title}，已拍照取证。",
    C.PHONE: "市民来电反映{title}，请尽快处理。",
    C.RESIDENT: "居民在线反映：{title}。",
    C.WALK_IN: "居民来访反映{title}问题。",
    C.LEADER: "领导交办：{title}，请及时处置并反馈。",
}


def _cum(weights) -> list[float]:
    return list(accumulate(weights))


class Tables:
    """The mix as cumulative weights, and the hotspots: computed once per world and seed."""

    def __init__(self, world: World, seed: int):
        rng = random.Random(f"civicgrid-demo-hotspots:{seed}")
        self.codes = sorted(world.class_limits)
        self.classes: dict[tuple[int, bool], list[float]] = {}
        for month in range(1, 13):
            for night in (False, True):
                weights = []
                for code in self.codes:
                    w = CLASS_WEIGHTS.get(code, DEFAULT_WEIGHT)
                    w *= _season(code, SUMMER_FACTORS, _SUMMER.get(month, 0))
                    w *= _season(code, WINTER_FACTORS, _WINTER.get(month, 0))
                    if night:
                        w *= NIGHT_FACTORS.get(code, 1)
                    weights.append(w)
                self.classes[month, night] = _cum(weights)
        grids = world.grids
        base = [g.weight for g in grids]
        self.grids = _cum(base)
        # Hotspots: grids drawn among the busier half, each with its classes and factor.
        busy = sorted(range(len(grids)), key=lambda i: (-base[i], grids[i].code))[: max(1, len(grids) // 2)]
        spots = rng.sample(busy, min(len(HOTSPOTS), len(busy)))
        self.hotspot: set[tuple[str, int]] = set()
        by_class: dict[str, list[float]] = {}
        for (classes, factor), i in zip(HOTSPOTS, spots, strict=False):
            for code in classes:
                weights = by_class.setdefault(code, list(base))
                weights[i] *= factor
                self.hotspot.add((code, i))
        self.class_grids = {code: _cum(w) for code, w in by_class.items()}
        self.channels = {key: ([c.value for c in w], _cum(w.values())) for key, w in CHANNELS.items()}
        self.urgency = ([u.value for u in URGENCY], _cum(URGENCY.values()))
        self.planted = spikes.planted_times(spikes.plants_of_world(world, seed=seed))
        self.grid_at = {g.code: i for i, g in enumerate(grids)}


def _season(code: str, factors: Mapping[str, float], share: float) -> float:
    factor = factors.get(code) or factors.get(code[:3]) or 1.0
    return 1.0 + (factor - 1.0) * share


def _pick(rng: random.Random, items: Sequence, cum: list[float]):
    return rng.choices(items, cum_weights=cum)[0]


def created_times(world: World, *, n: int, seed: int) -> list[datetime]:
    """``n`` report times over the year before ``world.now``, sorted, to the second (UTC)."""
    rng = random.Random(f"civicgrid-demo-year:{seed}")
    cal = world.calendar
    end = int((world.now - CUTOFF).timestamp())
    start = end - 365 * 86400
    first_hour = start - start % 3600
    slots, weights = [], []
    for slot in range(first_hour, end, 3600):
        local = datetime.fromtimestamp(slot, UTC).astimezone(cal.tz)
        day = local.date()
        workday = cal.is_workday(day)
        w = 1.0 if workday else (0.55 if day.weekday() >= 5 else 0.4)  # a weekday off is a holiday
        w *= MONTH_VOLUME.get(day.month, 0.92) * (HOURS_WORK if workday else HOURS_OFF)[local.hour]
        lo, hi = max(slot, start), min(slot + 3600, end)
        slots.append((lo, hi))
        weights.append(w * (hi - lo) / 3600)
    cum = _cum(weights)
    times = []
    for lo, hi in rng.choices(slots, cum_weights=cum, k=n):
        times.append(lo + int(rng.random() * (hi - lo)))
    if n >= spikes.PLANT_FROM:  # a full year gets the planted bursts (demo.spikes)
        times += [int(t.timestamp()) for t in spikes.planted_times(spikes.plants_of_world(world, seed=seed))]
    times.sort()
    return [datetime.fromtimestamp(t, UTC) for t in times]


def plan_year(world: World, *, n: int, seed: int) -> Iterator[CasePlan]:
    """The plans of ``n`` cases, in reporting order; the same world and seed give the same plans."""
    tables = Tables(world, seed)
    for index, created in enumerate(created_times(world, n=n, seed=seed), start=1):
        yield plan_case(world, tables, seed=seed, index=index, created=created)


def plan_case(world: World, t: Tables, *, seed: int, index: int, created: datetime) -> CasePlan:
    """Case ``index`` (reported at ``created``): its own random stream, so cases can be planned
    in any order or in parallel and come out the same."""
    rng = random.Random(f"civicgrid-demo-case:{seed}:{index}")
    cal = world.calendar
    local = created.astimezone(cal.tz)
    workday = cal.is_workday(local.date())
    office = 8 <= local.hour < 18
    night = local.hour >= 20 or local.hour < 6
    channel = _pick(rng, *t.channels[workday, office])
    code = _pick(rng, t.codes, t.classes[local.month, night])
    grid_i = _pick(rng, range(len(world.grids)), t.class_grids.get(code, t.grids))
    plant = t.planted.get(created)
    if plant is not None:  # a planted burst: its class and grid
        code, grid_i = plant.case_class, t.grid_at[plant.grid]
    grid = world.grids[grid_i]
    # A hotspot's reports come from the same few spots (the market, the junction), a burst's from one.
    points = grid.points[:5] if (code, grid_i) in t.hotspot else grid.points
    if plant is not None:
        points = (grid.points[plant.spot % len(grid.points)],)
    lon, lat = rng.choice(points)
    urgency = _pick(rng, *t.urgency)
    if channel == C.GRID_WORKER:
        reported_by, class_at_intake, urgency_at_intake = WORKER, True, urgency
    elif channel == C.RESIDENT:
        signed_in = world.residents and rng.random() < 0.4
        reported_by = rng.choice(world.residents) if signed_in else ""
        class_at_intake, urgency_at_intake = False, Urgency.NORMAL.value
    else:
        reported_by, urgency_at_intake = OPERATOR, Urgency.NORMAL.value
        class_at_intake = channel != C.LEADER and rng.random() < 0.5
    reporter_name = reporter_phone = ""
    if channel in (C.PHONE, C.WALK_IN):
        reporter_name, reporter_phone = _name(rng), _mobile(rng)
    elif channel == C.RESIDENT and not reported_by and rng.random() < 0.5:
        reporter_phone = _mobile(rng)
    title = rng.choice(PLACES) + world.class_names[code]
    story = _Story(world, rng, created, code, grid, urgency_at_intake)
    story.run(channel, urgency, class_at_intake, urgency_at_intake)
    return CasePlan(
        index=index,
        created_at=created,
        channel=channel,
        reported_by=reported_by,
        grid=grid.code,
        lon=lon,
        lat=lat,
        case_class=code,
        class_at_intake=class_at_intake,
        urgency=urgency,
        urgency_at_intake=urgency_at_intake,
        title=title,
        description=DESCRIPTIONS[channel].format(title=title),
        address=f"{grid.community_name}{rng.randint(1, 80)}号附近",
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        steps=tuple(story.steps),
    )


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


def _mobile(rng: random.Random) -> str:
    return "139" + "".join(str(rng.randrange(10)) for _ in range(8))


class _Stop(Exception):
    """The next step would lie after "now": the case stays where it is."""


class _Story:
    """One case's steps. Mirrors the workflow's clock only to aim each step at its deadline; the
    workflow itself decides what the deadlines are when the plan is applied."""

    def __init__(self, world: World, rng: random.Random, created: datetime, code: str, grid: Grid, urgency):
        self.world, self.rng, self.cal = world, rng, world.calendar
        self.cutoff = world.now - CUTOFF
        self.code, self.grid = code, grid
        self.t = created
        self.urgency = urgency
        self.steps: list[Step] = []
        self.late = False
        self.reworked = False

    # -- time ------------------------------------------------------------------------------------
    def _stage(self, stage: str) -> tuple[int, bool]:
        """Minutes from the last step to the deadline of ``stage`` entered then, and on which clock
        (the calendar's add and elapsed are exact inverses, so that is the limit's length)."""
        limit = self.world.stage_limits[stage][self.urgency]
        return limit.minutes(self.cal.day_minutes), limit.working

    def _until(self, deadline: datetime, working: bool) -> tuple[int, bool]:
        return self.cal.elapsed(self.t, deadline, working=working), working

    def _within(self, span: int, working: bool, stage: str | None, lo=0.05, hi=0.9) -> datetime:
        """A time after the last step: on time (a share of the ``span`` minutes to the deadline) or
        late."""
        rng = self.rng
        if stage and rng.random() < P_LATE[stage]:
            self.late = True
            # Mostly a little late; one in ten badly (the cases that sit in a to-do list).
            over = rng.expovariate(1.5) if rng.random() < 0.9 else rng.uniform(3, 10)
            minutes = span + 1 + round(max(span, 30) * over)
        else:
            minutes = round(span * (lo + (hi - lo) * rng.random() ** 1.6))
        return self.cal.add_minutes(self.t, max(1, minutes), working=working)

    def _after(self, minutes: int, working: bool) -> datetime:
        return self.cal.add_minutes(self.t, minutes, working=working)

    def step(self, action: str, at: datetime, by: str, note: str = "", data: Mapping | None = None) -> None:
        if at > self.cutoff:
            raise _Stop
        self.steps.append(Step(action, at, by, note, data))
        self.t = at

    def note(self, key: str) -> str:
        return self.rng.choice(NOTES[key])

    # -- the path --------------------------------------------------------------------------------
    def run(self, channel: str, urgency: str, class_at_intake: bool, urgency_at_intake: str) -> None:
        try:
            self._run(channel, urgency, class_at_intake, urgency_at_intake)
        except _Stop:
            pass

    def _run(self, channel, urgency, class_at_intake, urgency_at_intake) -> None:
        rng = self.rng
        if channel not in VERIFIED_CHANNELS:
            span, working = self._stage(Stage.VERIFY)
            if rng.random() < P_VOID_VERIFY:
                self.step(
                    A.VOID,
                    self._within(span, working, Stage.VERIFY),
                    SHIFT_LEAD,
                    self.note("void_verify"),
                )
                return
            self.step(A.VERIFY, self._within(span, working, Stage.VERIFY), WORKER, self.note(A.VERIFY))
        span, working = self._stage(Stage.REGISTER)
        if rng.random() < P_VOID_REGISTER:
            self.step(
                A.VOID,
                self._within(span, working, Stage.REGISTER),
                SHIFT_LEAD,
                self.note("void_register"),
            )
            return
        raw = {} if class_at_intake else {"case_class": self.code}
        if urgency != urgency_at_intake:
            raw["urgency"] = urgency
        self.step(A.REGISTER, self._within(span, working, Stage.REGISTER), SHIFT_LEAD, data=raw)
        self.urgency = urgency
        suggested = self.world.suggest(self.code, self.grid.code)
        raw = {}
        if rng.random() < P_CO_DEPARTMENT:
            raw["co_departments"] = ["D06" if suggested != "D06" else self._locality()]
        due = self._dispatch(raw)
        if rng.random() < P_RETURN:
            span, working = self._accept_span(due)
            self.step(A.RETURN, self._within(span, working, Stage.ACCEPT), HANDLER, self.note(A.RETURN))
            other = self._locality() if suggested != self._locality() else "D01"
            due = self._dispatch({"department": other})
        span, working = self._accept_span(due)
        self.step(A.ACCEPT, self._within(span, working, Stage.ACCEPT), HANDLER)
        self._handle(due, extras=True)
        span, working = self._stage(Stage.CHECK)
        at = self._within(span, working, Stage.CHECK)
        if rng.random() < P_REWORK:
            self.reworked = True
            self.step(A.CHECK_FAIL, at, WORKER, self.note(A.CHECK_FAIL))
            self._handle(self.cal.add(self.t, self._handle_limit()), extras=False)
            span, working = self._stage(Stage.CHECK)
            at = self._within(span, working, Stage.CHECK)
        self.step(A.CHECK_PASS, at, WORKER)
        span, working = self._stage(Stage.CLOSE)
        self.step(A.CLOSE, self._within(span, working, Stage.CLOSE), SHIFT_LEAD)
        if rng.random() < P_RATED:
            self._rate()

    def _locality(self) -> str:
        return self.world.locality[self.grid.street]

    def _handle_limit(self) -> Limit:
        return self.world.class_limits[self.code][self.urgency]

    def _dispatch(self, raw: dict) -> datetime:
        """Dispatch; returns the handling deadline it sets."""
        span, working = self._stage(Stage.DISPATCH)
        self.step(A.DISPATCH, self._within(span, working, Stage.DISPATCH), OPERATOR, data=raw)
        return self.cal.add(self.t, self._handle_limit())

    def _accept_span(self, due: datetime) -> tuple[int, bool]:
        limit = self.world.stage_limits[Stage.ACCEPT][self.urgency]
        if due < self.cal.add(self.t, limit):  # the workflow caps acceptance at the handling deadline
            return self._until(due, self._handle_limit().working)
        return self._stage(Stage.ACCEPT)

    def _handle(self, due: datetime, *, extras: bool) -> None:
        """From acceptance (or rework) to the handler's report, with the odd pause, suspension or
        extension on the way; ``due`` moves as the workflow would move it."""
        rng, cal = self.rng, self.cal
        working = self._handle_limit().working
        r = rng.random() if extras else 1.0
        if r < P_SUSPEND:
            since = self._within(*self._until(due, working), None, 0.2, 0.6)
            review = since.astimezone(cal.tz).date() + timedelta(days=rng.randint(10, 45))
            self.step(A.SUSPEND, since, HANDLER, self.note(A.SUSPEND), {"review_on": review.isoformat()})
            resume = _local_at(cal, review + timedelta(days=rng.randint(0, 3)), 9 * 60 + rng.randint(0, 150))
            self.step(A.RESUME, resume, SHIFT_LEAD)
            due = cal.add_minutes(due, cal.elapsed(since, resume, working=working), working=working)
        elif r < P_SUSPEND + P_PAUSE:
            self.step(
                A.PAUSE, self._within(*self._until(due, working), None, 0.1, 0.5), HANDLER, self.note(A.PAUSE)
            )
            since = self.t
            minutes = rng.randint(30, 2 * cal.day_minutes) if working else rng.randint(30, 600)
            self.step(A.UNPAUSE, self._after(minutes, working), HANDLER)
            due = cal.add_minutes(due, cal.elapsed(since, self.t, working=working), working=working)
        elif r < P_SUSPEND + P_PAUSE + P_EXTEND:
            text = rng.choice(("2工作日", "3工作日", "5工作日") if working else ("4小时", "12小时", "24小时"))
            at = self._within(*self._until(due, working), None, 0.4, 0.85)
            self.step(A.EXTEND_REQUEST, at, HANDLER, self.note(A.EXTEND_REQUEST), {"limit": text})
            decided = self._after(rng.randint(15, 180) if working else rng.randint(10, 120), working)
            if rng.random() < P_EXTEND_APPROVED:
                self.step(A.EXTEND_APPROVE, decided, SHIFT_LEAD)
                due = cal.add(due, parse_limit(text))
            else:
                self.step(A.EXTEND_REJECT, decided, SHIFT_LEAD, self.note(A.EXTEND_REJECT))
        self.step(
            A.FEEDBACK, self._within(*self._until(due, working), Stage.HANDLE), HANDLER, self.note(A.FEEDBACK)
        )

    def _rate(self) -> None:
        rng = self.rng
        at = self.t + timedelta(minutes=10 + round(rng.expovariate(1 / 600)))
        unhappy = self.late or self.reworked
        weights = (60, 25, 15) if unhappy else (84, 13, 3)
        satisfaction = rng.choices(RATINGS, weights=weights)[0]
        data = {"satisfaction": satisfaction, "comment": rng.choice(COMMENTS[satisfaction])}
        self.step(A.RATE, at, REPORTER, data=data)


def _local_at(cal: WorkCalendar, day: date, minute_of_day: int) -> datetime:
    local = datetime.combine(day, time(minute_of_day // 60, minute_of_day % 60), cal.tz)
    return local.astimezone(UTC)
