"""The shipped default taxonomy (civicgrid/cases/data/taxonomy.json): shape, codes, limits, owners."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import civicgrid.cases
from civicgrid.cases.clock import parse_limit
from civicgrid.demo.people import DEPARTMENTS

PATH = Path(civicgrid.cases.__file__).parent / "data" / "taxonomy.json"
LIMIT_RE = re.compile(r"^(\d+(?:\.\d+)?)(工作日|工作时|小时|分钟)$")
LEVELS = ("normal", "urgent", "emergency")  # least to most urgent
WORKING_HOURS_PER_DAY = 7.5  # default office hours 08:30–12:00 and 13:30–17:30
DEMO_DEPARTMENTS = {code for code, _name, _kind in DEPARTMENTS}
CJK = re.compile(r"[\u4e00-\u9fff]")

MAJORS = {
    "E": ["市容环境", "宣传广告", "施工管理", "突发事件", "街面秩序", "其他事件"],
    "P": ["公用设施", "道路交通", "市容环境", "园林绿化", "房屋土地", "其他设施"],
    "G": ["矛盾纠纷", "安全隐患", "治安防控", "民生诉求", "特殊人群服务", "消防", "生态环境"],
}
# The 事件 examples the reference cites (svan.cc; same order in renrendoc 191493937), per 大类.
EVENT_EXAMPLES = {
    "市容环境": ["私搭乱建", "暴露垃圾", "积存渣土", "道路不洁", "水域不洁", "绿地脏乱"],
    "宣传广告": ["非法小广告", "街头散发广告", "违规户外广告"],
    "施工管理": ["施工扰民", "施工占道", "工地扬尘", "施工废弃料"],
    "街面秩序": ["无照经营", "占道经营", "流浪乞讨", "黑车拉客"],
    "突发事件": ["管道破裂", "路面塌陷", "道路积水", "火灾"],
}
COMMON_PARTS = [
    "上水井盖", "污水井盖", "雨水井盖", "路灯", "消防栓", "公交站亭", "垃圾箱", "护栏",
    "交通信号灯", "交通标志牌", "行道树", "绿地", "古树名木", "废弃车辆", "危房",
]  # fmt: skip
GOVERNANCE = [
    "邻里纠纷", "物业纠纷", "劳资纠纷", "家庭纠纷", "燃气隐患", "电动车违规充电", "高空坠物隐患",
    "消防通道堵塞", "危化品", "可疑人员", "群租房", "噪声扰民", "供水问题", "供电问题", "燃气供暖供应",
    "独居老人关爱", "残疾人服务", "社区矫正人员", "油烟扰民", "黑臭水体", "露天焚烧",
]  # fmt: skip
# Handling limits taken from the reference's cited examples (cn-grid-domain.md §1.5).
CITED_LIMITS = {
    "私搭乱建": ("normal", "15工作日"),  # Jiyuan 违法搭建
    "暴露垃圾": ("normal", "1工作日"),  # Jiyuan
    "积存渣土": ("normal", "4工作日"),  # Jiyuan 积存垃圾渣土
    "道路不洁": ("normal", "5工作时"),  # Jiyuan
    "水域不洁": ("normal", "15工作日"),  # Jiyuan
    "绿地脏乱": ("normal", "4工作时"),  # renrendoc 191493937 绿地保洁 4 h
    "道路积水": ("normal", "4小时"),  # renrendoc 191493937 路面积水 4 h
    "绿地": ("normal", "5工作日"),  # renrendoc 191493937 绿地养护 5 d
    "路灯": ("normal", "1工作日"),  # Taiyuan: three lamps in a row out, 1 d
    "污水井盖": ("normal", "2小时"),  # Taiyuan: missing sewer cover 2 h
    "露天烧烤": ("normal", "2小时"),  # Taiyuan: open-air barbecue resolved in 2 h
}
# Emergencies run on natural time at every urgency.
NATURAL_TIME = {"管道破裂", "路面塌陷", "道路积水", "火灾", "燃气泄漏", "燃气隐患", "电线断落"}
GENERIC_WORDS = {"问题", "投诉", "反映", "有人", "小区", "门口", "附近", "很多", "不好", "坏了", "危险"}


@pytest.fixture(scope="module")
def data():
    return json.loads(PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def minors(data):
    return [(f, m, n) for f in data["families"] for m in f["majors"] for n in m["minors"]]


@pytest.fixture(scope="module")
def by_name(minors):
    return {n["name"]: (f, m, n) for f, m, n in minors}


def test_file_is_pretty_printed_utf8():
    text = PATH.read_text(encoding="utf-8")
    assert "\\u" not in text  # ensure_ascii=False
    assert text.startswith('{\n "source": ')  # indent=1
    assert json.dumps(json.loads(text), ensure_ascii=False, indent=1) + "\n" == text


def test_families_and_majors(data):
    assert data["source"].strip()
    assert [f["code"] for f in data["families"]] == ["E", "P", "G"]
    assert [f["name"] for f in data["families"]] == ["事件", "部件", "社会治理"]
    for family in data["families"]:
        assert family["name_en"]
        assert [m["name"] for m in family["majors"]] == MAJORS[family["code"]]
        assert [m["code"] for m in family["majors"]] == [
            f"{family['code']}{i:02d}" for i in range(1, len(family["majors"]) + 1)
        ]
        for major in family["majors"]:
            assert major["name_en"] and major["minors"]


def test_minor_codes_follow_the_scheme_and_are_unique(data, minors):
    codes = [n["code"] for _f, _m, n in minors]
    assert len(codes) == len(set(codes))
    assert 100 <= len(codes) <= 130
    for _f, major in ((f, m) for f in data["families"] for m in f["majors"]):
        assert [n["code"] for n in major["minors"]] == [
            f"{major['code']}{i:02d}" for i in range(1, len(major["minors"]) + 1)
        ]
    for family, major, minor in minors:
        assert re.fullmatch(r"[EPG]\d{4}", minor["code"])
        assert minor["code"].startswith(major["code"]) and major["code"].startswith(family["code"])
    names = [n["name"] for _f, _m, n in minors]
    assert len(names) == len(set(names)), "minor names are unique (residents and staff search by name)"


def test_every_minor_has_all_fields(minors):
    fields = {
        "code", "name", "name_en", "register_rule", "close_rule", "limits", "department",
        "self_resolvable", "keywords",
    }  # fmt: skip
    for _f, _m, minor in minors:
        assert set(minor) == fields, minor["code"]
        assert minor["name"].strip() and minor["name_en"].strip()
        for rule in ("register_rule", "close_rule"):
            assert CJK.search(minor[rule]) and len(minor[rule]) >= 10, (minor["code"], rule)
        assert isinstance(minor["self_resolvable"], bool)


def test_reference_examples_are_present(by_name):
    for major, names in EVENT_EXAMPLES.items():
        for name in names:
            family, found_major, _minor = by_name[name]
            assert (family["code"], found_major["name"]) == ("E", major), name
    for name in COMMON_PARTS:
        assert by_name[name][0]["code"] == "P", name
    for name in GOVERNANCE:
        assert by_name[name][0]["code"] == "G", name


def test_every_minor_has_three_limits_in_accepted_spellings(minors):
    for _f, _m, minor in minors:
        limits = minor["limits"]
        assert set(limits) == set(LEVELS), minor["code"]
        for level in LEVELS:
            assert LIMIT_RE.fullmatch(limits[level]), (minor["code"], level, limits[level])
            parse_limit(limits[level])  # the case clock reads it too


def _hours(text: str) -> tuple[bool, float]:
    """(working?, hours): 1工作日 = 7.5 工作时; 小时 and 分钟 are natural time."""
    amount, unit = LIMIT_RE.fullmatch(text).groups()
    n = float(amount)
    return {
        "工作日": (True, n * WORKING_HOURS_PER_DAY),
        "工作时": (True, n),
        "小时": (False, n),
        "分钟": (False, n / 60),
    }[unit]


def test_more_urgent_is_never_longer(minors):
    for _f, _m, minor in minors:
        normal, urgent, emergency = (_hours(minor["limits"][level]) for level in LEVELS)
        assert urgent[1] < normal[1], minor["code"]
        assert emergency[1] <= urgent[1], minor["code"]
        for slow, fast in ((normal, urgent), (urgent, emergency)):
            if slow[0] == fast[0]:
                continue
            # Mixed units are comparable only one way: N natural hours always elapse before N
            # working hours do, never the other way round.
            assert slow[0] and not fast[0], (minor["code"], minor["limits"])


def test_cited_limits(by_name):
    for name, (level, limit) in CITED_LIMITS.items():
        assert by_name[name][2]["limits"][level] == limit, name


def test_emergencies_run_on_natural_time(by_name, minors):
    emergencies = {n["name"] for _f, m, n in minors if m["name"] == "突发事件"}
    covers = {n["name"] for _f, _m, n in minors if n["name"].endswith("井盖")}
    assert len(covers) >= 5
    for name in NATURAL_TIME | emergencies | covers:
        for level in LEVELS:
            working, _ = _hours(by_name[name][2]["limits"][level])
            assert not working, (name, level)


def test_departments_are_demo_units_or_the_locality(minors, by_name):
    for _f, _m, minor in minors:
        assert minor["department"] is None or minor["department"] in DEMO_DEPARTMENTS, minor["code"]
    assert by_name["邻里纠纷"][2]["department"] is None  # 属地兜底
    assert by_name["家庭纠纷"][2]["department"] is None
    assert by_name["私搭乱建"][2]["department"] == "D01"
    assert by_name["无照经营"][2]["department"] == "D03"
    assert by_name["工地扬尘"][2]["department"] == "D04"
    assert by_name["消防通道堵塞"][2]["department"] == "D10"


def test_self_resolvable_small_matters(by_name):
    for name in ("非法小广告", "暴露垃圾", "道路不洁", "邻里纠纷", "非机动车乱停放"):
        assert by_name[name][2]["self_resolvable"] is True, name
    for name in ("火灾", "危房", "私搭乱建", "燃气隐患"):
        assert by_name[name][2]["self_resolvable"] is False, name


def test_keywords(minors):
    for _f, _m, minor in minors:
        keywords = minor["keywords"]
        assert 3 <= len(keywords) <= 8, minor["code"]
        assert all(isinstance(k, str) and k.strip() == k and CJK.search(k) for k in keywords), minor["code"]
        assert len(keywords) == len(set(keywords)), minor["code"]
        assert not GENERIC_WORDS & set(keywords), minor["code"]
