"""The word lists of opinion monitoring (``insight.opinion``; the method and its limits are in
docs/opinion.md). Edit them here: they are code, reviewed like code, because a word added to the
negative list changes every week's negative share after the next recompute.

The domain words that jieba must keep whole are mostly the case taxonomy's names, read from
``CaseClass`` when the tokeniser is built; ``DOMAIN_WORDS`` adds the everyday words residents use
for the same things, which the taxonomy does not spell out.
"""

from __future__ import annotations

# Kept whole by the tokeniser (besides every CaseClass name). A word splits into common pieces in
# jieba's general dictionary otherwise ("违章搭建" → 违章/搭建), and its pieces say less than it does.
DOMAIN_WORDS = (
    "违章搭建",
    "违建",
    "占道经营",
    "油烟扰民",
    "噪音扰民",
    "施工扰民",
    "乱堆物堆料",
    "乱堆乱放",
    "私搭乱建",
    "飞线充电",
    "电动车充电",
    "消防通道",
    "井盖缺失",
    "路灯不亮",
    "垃圾清运",
    "垃圾分类",
    "小广告",
    "共享单车",
    "停车难",
    "物业费",
    "群租房",
    "高空抛物",
    "楼道堆物",
    "下水道",
    "化粪池",
    "老旧小区",
    "加装电梯",
)

# Sentiment phrases kept whole, so "没人管" is read as one cue rather than 没/人/管.
SENTIMENT_PHRASES = (
    "不满意",
    "没人管",
    "没人理",
    "不作为",
    "乱作为",
    "踢皮球",
    "推诿",
    "敷衍",
    "等了太久",
    "太久",
    "太慢",
    "反复投诉",
    "多次投诉",
    "多次反映",
    "一直没",
    "还没解决",
    "没有解决",
    "未解决",
    "不解决",
    "没处理",
    "不处理",
)

# Negative cues: a text holding one (not negated) reads negative. Deliberately words of tone
# (dissatisfaction, urgency, repetition, distress), not the names of problems: "油烟扰民" is a
# topic — a class name kept whole, so it never matches "扰民" here — while "严重扰民" is a complaint.
NEGATIVE = frozenset(
    {
        # dissatisfaction with the handling
        "不满意",
        "不满",
        "失望",
        "投诉",
        "反复投诉",
        "多次投诉",
        "多次反映",
        "反复",  # the problem came back ("问题反复出现")
        "没人管",
        "没人理",
        "不作为",
        "乱作为",
        "踢皮球",
        "推诿",
        "敷衍",
        "糊弄",
        "拖延",
        "太慢",
        "太久",
        "等了太久",
        "一直没",
        "还没解决",
        "没有解决",
        "未解决",
        "不解决",
        "没处理",
        "不处理",
        "无人",
        "无果",
        # distress and nuisance
        "扰民",
        "严重",
        "受不了",
        "忍无可忍",
        "难受",
        "难闻",
        "恶臭",
        "臭",
        "脏",
        "吵",
        "危险",
        "害怕",
        "担心",
        "气愤",
        "愤怒",
        "生气",
        "差",
        "糟糕",
        "无奈",
        "崩溃",
        "强烈",
    }
)

# Positive words: negated ("不满意" split as 不/满意, "没解决" as 没/解决) they read negative.
# jieba's dictionary holds some compounds ("及时处理"), listed too.
POSITIVE = frozenset(
    {
        *("满意", "解决", "处理", "及时", "管", "理", "回复", "到位", "好", "干净", "放心", "负责", "有效"),
        *("及时处理", "妥善处理", "处理好", "解决好", "解决问题", "落实", "彻底"),
    }
)

# A negator within NEGATION_WINDOW tokens before a cue flips it: "不脏" is not negative, "不满意"
# (as 不/满意) is. "很"/"太"/"是" may stand between ("不是很满意", "没有太大问题").
NEGATORS = frozenset(
    {
        "不",
        "没",
        "没有",
        "无",
        "未",
        "别",
        "不是",
        "并不",
        "从不",
        "毫无",
        "不太",
        "不够",
        "不用",
        "不必",
        "无需",
    }
)
NEGATION_WINDOW = 3

# Places said as a phrase ("人行道上", "巷子里"): kept whole so that they can be dropped as places
# while "人行道" alone ("人行道破损") stays a topic.
PLACE_PHRASES = ("人行道上", "小区门口", "店门前", "巷子里", "马路边", "路边上", "家门口", "楼道里")

# Boilerplate of the intake channels ("市民来电反映……请尽快处理") and of places ("楼下", "路口"):
# frequent in every week, so they would crowd the top terms and say nothing.
STOP_WORDS = frozenset(
    {
        # intake boilerplate
        "市民",
        "居民",
        "群众",
        "来电",
        "来访",
        "在线",
        "反映",
        "反应",
        "诉求",
        "投诉人",
        "来电人",
        "请求",
        "要求",
        "希望",
        "请尽快",
        "尽快",
        "处理",
        "问题",
        "情况",
        "事情",
        "现象",
        "相关",
        "部门",
        "有关",
        "工作人员",
        "表示",
        "称",
        "目前",
        "现在",
        "已经",
        "一直",
        "经常",
        "每天",
        "今天",
        "昨天",
        "晚上",
        "早上",
        "上午",
        "下午",
        "时间",
        "谢谢",
        "感谢",
        "您好",
        "你好",
        "我们",
        "他们",
        "自己",
        "这里",
        "那里",
        "这个",
        "那个",
        "这些",
        "一些",
        "没有",
        "不是",
        "可以",
        "还是",
        "但是",
        "因为",
        "所以",
        "如果",
        "而且",
        "并且",
        "以及",
        "进行",
        "存在",
        "造成",
        "导致",
        "影响",
        "出现",
        "发现",
        "需要",
        "一下",
        "一点",
        "非常",
        "比较",
        "特别",
        # the ratings' generic words (tone is measured apart, as the negative share)
        "满意",
        "基本",
        "及时",
        "速度",
        "解决",
        "彻底",
        "及时处理",
        "不错",
        "很快",
        # places (the street and community names are added from the region table)
        "楼下",
        "路口",
        "巷子",
        "门前",
        "门口",
        "小区",
        "附近",
        "周边",
        "旁边",
        "对面",
        "路边",
        "街道",
        "社区",
        "胡同",
        "大街",
        "马路",
        "地址",
        "位置",
        "号楼",
        "单元",
    }
)
