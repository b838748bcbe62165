"""The score sets a new installation starts with (migration 0002); administrators change them.

- 网格+ 质效评估指数 (grid index): the case rates a grid answers for, resident satisfaction and
  patrol coverage. No public source fixes its items or weights ([NF] in cn-grid-domain §2): this
  is our documented default, to be agreed with the client.
- 综合评分 (unit composite): Chengdu Jinniu's formula — 处置率 30, 按期处置率 20, (1−返工率) 20,
  (1−超期待处置率) 20, (1−延期率) 10 (cn-grid-domain §1.6).
- 12345 三率综合: 响应率 10 %, 解决率 50 %, 满意率 40 % (cn-grid-domain §2).
"""

SCORE_SETS = [
    (
        "grid-plus",
        "“网格+”质效评估指数",
        "grid_index",
        [
            ("on_time_registration", 10),
            ("on_time_handling", 15),
            ("closure", 10),
            ("on_time_closure", 15),
            ("rework", 10),
            ("overdue_pending", 10),
            ("valid_reports", 10),
            ("satisfaction", 10),
            ("patrol_coverage", 10),
        ],
    ),
    (
        "composite",
        "综合评分（金牛区公式）",
        "composite",
        [
            ("handling", 30),
            ("on_time_handling", 20),
            ("rework", 20),
            ("overdue_pending", 20),
            ("extension", 10),
        ],
    ),
    (
        "hotline-12345",
        "12345 三率综合",
        "hotline",
        [("response", 10), ("resolution", 50), ("satisfaction", 40)],
    ),
]


def defaults_install(ScoreSet, ScoreItem, InsightSettings) -> None:
    """Add the settings row and any missing default score set (an edited set is left alone).
    Takes the models, so the migration can pass its historical ones."""
    InsightSettings.objects.get_or_create(pk=1)
    for code, name, kind, items in SCORE_SETS:
        found, created = ScoreSet.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})
        if created:
            for position, (indicator, weight) in enumerate(items):
                ScoreItem.objects.create(
                    score_set=found, indicator=indicator, weight=weight, position=position
                )
