"""The shipped defaults: the district's default patrol plan, its key-place rules, and the duty rules
of 八定一轮两响应 as a documented default interpretation (docs/decisions/0006-patrol-duty-rules.md).

They are data, written once by migration 0002 and then edited in the back office; nothing in the
code branches on a rule's text. The two response rules carry the figures the monthly assessment
measures against (``value`` in ``unit``), found by their codes below.
"""

from __future__ import annotations

# Codes of the duty rules whose figures the assessment reads.
RESPONSE_TASK = "response-task"
RESPONSE_RESIDENT = "response-resident"
ONE_ROUND = "one-round"

# The default plan (the row with no grid): five rounds a week of at least an hour each, ground
# within 30 m of a track counts as covered, 80 % of the grid a week; a walking or cycling worker
# never exceeds 30 km/h, and a fix worse than 50 m is too vague to place a worker on a street.
PLAN = {
    "period": "week",
    "rounds_per_period": 5,
    "min_minutes": 60,
    "coverage_distance_m": 30,
    "coverage_target": 0.8,
    "max_speed_kmh": 30,
    "max_accuracy_m": 50,
}

# Visits per week to each key place of a kind: schools and markets at their busy times twice
# (opening and closing hours crowd the streets around them), building sites three times (dust,
# night work, fencing and safety change day by day), the rest once.
PLACE_RULES = {
    "school": 2,
    "market": 2,
    "construction": 3,
    "old_building": 1,
    "hospital": 1,
    "elderly": 1,
    "venue": 1,
    "other": 1,
}

# (code, title, text, value, unit): the eight 定, the one round, the two responses.
DUTY_RULES = [
    ("fixed-people", "定人", "每个网格确定专职网格员，名单在社区公示，人员调整报街道备案。", None, ""),
    ("fixed-post", "定岗", "网格员在所在网格履职，网格长统筹所辖网格，岗位设置与网格对应。", None, ""),
    (
        "fixed-duty",
        "定责",
        "网格员负责巡查发现、信息采集、事件上报、核实核查、政策宣传和服务群众，职责清单公开。",
        None,
        "",
    ),
    ("fixed-time", "定时", "按本网格巡查计划规定的周期、轮次和每轮最短时长开展巡查。", None, ""),
    (
        "fixed-area",
        "定区域",
        "以网格边界为巡查责任区，巡查轨迹覆盖范围按巡查计划的覆盖距离计算。",
        None,
        "",
    ),
    (
        "fixed-tasks",
        "定任务",
        "日常巡查、重点场所走访打卡、事件上报与自行处置、核实核查、派遣任务和执法检查任务。",
        None,
        "",
    ),
    (
        "fixed-standard",
        "定标准",
        "上报事件要素齐全（位置、照片、类别、描述），定位精度和轨迹达到巡查计划要求。",
        None,
        "",
    ),
    (
        "fixed-assessment",
        "定考核",
        "按月考核巡查时长与轮次、覆盖率、重点场所走访、上报有效率、按时核实率、按时核查率和响应时效。",
        None,
        "",
    ),
    (ONE_ROUND, "一轮", "每个巡查周期内至少完成一轮覆盖全网格的巡查（达到巡查计划的覆盖率目标）。", 1, "轮"),
    (RESPONSE_TASK, "响应派遣任务", "收到派遣、核实、核查任务后，在规定时间内到场响应。", 2, "小时"),
    (
        RESPONSE_RESIDENT,
        "响应群众诉求",
        "收到居民当面或电话反映的诉求后，在规定时间内响应并反馈。",
        24,
        "小时",
    ),
]


def defaults_install(plan_model, rule_model, duty_model) -> int:
    """Add the defaults that are missing (never overwrites an edit); the number of rows added.
    Takes the model classes so that migration 0002 can pass its historical models."""
    added = 0
    plan = plan_model.objects.filter(grid__isnull=True).first()
    if plan is None:
        plan = plan_model.objects.create(grid=None, **PLAN)
        added += 1
    have = set(rule_model.objects.filter(plan=plan).values_list("kind", flat=True))
    new_rules = [
        rule_model(plan=plan, kind=k, visits_per_period=v) for k, v in PLACE_RULES.items() if k not in have
    ]
    rule_model.objects.bulk_create(new_rules)
    codes = set(duty_model.objects.values_list("code", flat=True))
    new_duties = [
        duty_model(code=code, title=title, text=text, value=value, unit=unit, position=n)
        for n, (code, title, text, value, unit) in enumerate(DUTY_RULES, start=1)
        if code not in codes
    ]
    duty_model.objects.bulk_create(new_duties)
    return added + len(new_rules) + len(new_duties)
