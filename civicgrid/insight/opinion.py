"""Opinion monitoring (舆情/社情民意): what residents write, counted week by week and street by street.

The texts are the words of residents only: the title and description of cases from the resident
channels (``RESIDENT_CHANNELS``; a grid worker's, a leader's, a sensor's or an inspector's report
is the district's own description of a problem, not a resident's voice), the hotline orders that
have no case yet (a placed order's words are its case's description, so they are not counted
twice) and the comments residents leave with their rating. Nothing of a text is stored: each
``OpinionWeek`` holds counts only — texts, negative texts, and how many texts used each term.

Each text is cut into words by jieba (precise mode without HMM new-word discovery, so an unknown
name falls apart into single characters, which are dropped) with the taxonomy's class names and
``opinion_words.DOMAIN_WORDS`` kept whole. A text reads negative when the lexicon finds a negative
cue not negated, or a positive word negated (``is_negative``). docs/opinion.md says what this
method can and cannot tell.

Watch-list (``WatchTerm``): each active term is looked for in the day's texts, street by street; a
match raises or updates one ``Alert`` of kind "keyword" per day, term and street. Re-running a
day changes nothing but the counts.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import jieba
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from civicgrid.cases.models import Case, CaseClass, Channel
from civicgrid.hotline.models import HotlineOrder
from civicgrid.insight import opinion_words as words
from civicgrid.insight.links import case_list_url
from civicgrid.insight.models import Alert, AlertKind, OpinionWeek, WatchTerm
from civicgrid.insight.periods import day_start
from civicgrid.regions.models import Level, Region

RESIDENT_CHANNELS = (Channel.RESIDENT, Channel.PHONE, Channel.WALK_IN, Channel.HOTLINE, Channel.OPEN311)
TOP_TERMS = 200  # terms kept per week and street
MIN_TERM_TEXTS = 2  # a term used by a single text is not kept: it may be someone's detail
DISTRICT = 0  # OpinionWeek.street_id of the whole district

_CJK = re.compile(r"[\u4e00-\u9fff]")
# Numbers, house numbers and ordinals ("三号楼", "第二", "12栋") carry no topic.
_NUMBERISH = re.compile(r"^[\d０-９一二三四五六七八九十百千万两零〇几第号楼栋幢层室单元户期]+$")
_CLAUSE_END = re.compile(r"^[，。！？；：、,.!?;:\s…~]+$")

jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict …" lines are not ours to print
_lock = threading.Lock()
_vocabulary: set[str] = set()  # words added to the tokeniser so far (class and place names)
_places: set[str] = set()  # place names, dropped from the terms like the stop words


def week_of(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


# -- reading a text -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _jieba() -> jieba.Tokenizer:
    """Our own tokeniser (not jieba's global one, which other code may tune): loading the main
    dictionary takes about a second, once per process."""
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in (*words.DOMAIN_WORDS, *words.SENTIMENT_PHRASES, *words.PLACE_PHRASES):
        tokenizer.add_word(word)
    return tokenizer


def vocabulary_load() -> None:
    """Teach the tokeniser the taxonomy's class names and the street and community names (read now:
    a class or a community added since the last run is learnt on the next one)."""
    tokenizer = _jieba()
    classes = set(CaseClass.objects.values_list("name", flat=True))
    places: set[str] = set()
    for name in Region.objects.filter(level__in=(Level.STREET, Level.COMMUNITY)).values_list(
        "name", flat=True
    ):
        places.add(name)
        stem = re.sub(r"(街道|社区|办事处)$", "", name)
        if len(stem) >= 2:
            places.add(stem)
    with _lock:
        new = {w for w in classes | places if len(w) >= 2} - _vocabulary
        for word in sorted(new):
            tokenizer.add_word(word)
        _vocabulary.update(new)
        _places.update(places)
    if new:
        read.cache_clear()


def forget() -> None:
    """Drop what the tokeniser learnt from the database (tests start from another database)."""
    with _lock:
        _jieba.cache_clear()
        _vocabulary.clear()
        _places.clear()
    read.cache_clear()


def tokenize(text: str) -> list[str]:
    return _jieba().lcut(text, HMM=False)


def keep_term(token: str) -> bool:
    """A topic word: two characters or more, some of them Chinese, not boilerplate or a place or
    a number. (Latin letters and digits alone are never kept: plates, phone numbers, codes.)"""
    return (
        len(token) >= 2
        and _CJK.search(token) is not None
        and token not in words.STOP_WORDS
        and token not in _places
        and token not in words.PLACE_PHRASES
        and _NUMBERISH.match(token) is None
    )


def is_negative(tokens: list[str]) -> bool:
    """Whether the lexicon reads the text as negative: a negative cue without a negator before it
    in its clause, or a positive word with one ("不满意" as 不/满意, "没有及时处理")."""
    clause: list[str] = []
    for token in tokens:
        if _CLAUSE_END.match(token):
            clause = []
            continue
        if token in words.NEGATIVE or token in words.POSITIVE:
            negated = any(t in words.NEGATORS for t in clause[-words.NEGATION_WINDOW :])
            if negated != (token in words.NEGATIVE):
                return True
        clause.append(token)
    return False


@dataclass(frozen=True)
class Reading:
    terms: frozenset[str]
    negative: bool


@functools.lru_cache(maxsize=50_000)
def read(text: str) -> Reading:
    """A text's terms (each once) and whether it reads negative. Cached: residents' texts repeat
    a lot ("很满意", the channels' boilerplate), and jieba is the cost of a recompute."""
    tokens = tokenize(text)
    return Reading(frozenset(t for t in tokens if keep_term(t)), is_negative(tokens))


# -- the texts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    at: datetime
    street_id: int  # 0: not placed yet (a hotline order in triage)
    text: str


def texts_between(start: date, end: date) -> Iterator[Text]:
    """Residents' texts written on the days ``start``–``end`` (local dates, inclusive)."""
    since, until = day_start(start), day_start(end + timedelta(days=1))
    cases = Case.objects.filter(created_at__gte=since, created_at__lt=until, channel__in=RESIDENT_CHANNELS)
    for at, street_id, title, description in cases.values_list(
        "created_at", "street_id", "title", "description"
    ).iterator(chunk_size=5000):
        yield Text(at, street_id, f"{title}。{description}")
    comments = Case.objects.filter(rated_at__gte=since, rated_at__lt=until).exclude(rating_comment="")
    for at, street_id, comment in comments.values_list("rated_at", "street_id", "rating_comment").iterator(
        chunk_size=5000
    ):
        yield Text(at, street_id, comment)
    orders = HotlineOrder.objects.filter(received_at__gte=since, received_at__lt=until, case__isnull=True)
    for at, content in orders.values_list("received_at", "content").iterator(chunk_size=5000):
        yield Text(at, 0, content)


# -- the weeks ----------------------------------------------------------------------------------


@dataclass
class Tally:
    texts: int = 0
    negative: int = 0
    terms: Counter = field(default_factory=Counter)

    def add(self, reading: Reading) -> None:
        self.texts += 1
        self.negative += reading.negative
        self.terms.update(reading.terms)

    def top(self) -> dict[str, int]:
        return {t: n for t, n in self.terms.most_common(TOP_TERMS) if n >= MIN_TERM_TEXTS}


@dataclass(frozen=True)
class ComputeResult:
    weeks: int
    rows: int
    texts: int


def tally(texts: Iterable[Text]) -> dict[tuple[date, int], Tally]:
    """Counts by (week, street), the district (street 0) holding every text."""
    tallies: dict[tuple[date, int], Tally] = defaultdict(Tally)
    for t in texts:
        reading = read(t.text)
        week = week_of(timezone.localtime(t.at).date())
        tallies[(week, DISTRICT)].add(reading)
        if t.street_id:
            tallies[(week, t.street_id)].add(reading)
    return tallies


def opinion_weeks_compute(*, start: date, end: date | None = None) -> ComputeResult:
    """Recompute the ISO weeks from ``start``'s to ``end``'s (default: the same week). Rows of
    streets left without texts are removed, so a re-run equals a first run."""
    first = week_of(start)
    last = week_of(end or start)
    vocabulary_load()
    tallies = tally(texts_between(first, last + timedelta(days=6)))
    now = timezone.now()
    weeks = [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    for week in weeks:
        tallies.setdefault((week, DISTRICT), Tally())  # the district's row says "no texts" too
    rows = [
        OpinionWeek(week=w, street_id=s, texts=t.texts, negative=t.negative, terms=t.top(), computed_at=now)
        for (w, s), t in sorted(tallies.items())
    ]
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                OpinionWeek.objects.filter(week__gte=first, week__lte=last).delete()
                OpinionWeek.objects.bulk_create(rows, batch_size=500)
            break
        except IntegrityError:
            # Two recomputes of a week at once (the hourly task and the page's button): on
            # PostgreSQL the later DELETE does not see the rows the earlier one inserted, and its
            # INSERT collides. Once more, and it sees them.
            if attempt == 2:
                raise
    texts = sum(t.texts for (w, s), t in tallies.items() if s == DISTRICT)
    return ComputeResult(weeks=len(weeks), rows=len(rows), texts=texts)


# -- the watch-list -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    days: int
    alerts: int  # alerts raised or updated
    created: int


def _link(term: str, day: date, street: Region | None) -> str:
    return case_list_url(
        q=term, date_from=day, date_to=day, region=street.code if street is not None else None
    )


def _explain(term: str, n: int, day: date, street: Region | None) -> str:
    # Stored text: written in the site's language (Chinese), whoever's request or task made it.
    with translation.override(settings.LANGUAGE_CODE):
        place = street.name if street is not None else _("the district (not yet placed)")
        return _("“%(term)s” in %(n)d residents' texts on %(day)s, %(place)s") % {
            "term": term,
            "n": n,
            "day": day.isoformat(),
            "place": place,
        }


def watch_scan(*, start: date, end: date | None = None) -> ScanResult:
    """Look for the active watched terms in the texts of the days ``start``–``end`` and raise or
    update one alert per day, term and street (a plain substring match: a watched phrase need not
    be one of jieba's words). An alert keeps its status and handler when its count changes."""
    end = end or start
    terms = list(WatchTerm.objects.filter(active=True).values_list("term", "severity"))
    hits: Counter = Counter()  # (day, term, street id) -> texts
    if terms:
        for t in texts_between(start, end):
            day = timezone.localtime(t.at).date()
            for term, _severity in terms:
                if term in t.text:
                    hits[(day, term, t.street_id)] += 1
    severity = dict(terms)
    streets = Region.objects.in_bulk({s for (_d, _t, s) in hits if s})
    now = timezone.now()
    created = 0
    for (day, term, street_id), n in sorted(hits.items()):
        street = streets.get(street_id)
        fields = {
            "observed": n,
            "explanation": _explain(term, n, day, street),
            "link": _link(term, day, street),
            "severity": severity[term],
        }
        alert, made = Alert.objects.get_or_create(
            key=f"keyword:{day.isoformat()}:{term}:{street_id}",
            defaults={
                **fields,
                "kind": AlertKind.KEYWORD,
                "day": day,
                "street": street,
                "term": term,
                "expected": 0,
                "created_at": now,
                "updated_at": now,
            },
        )
        created += made
        if not made and any(getattr(alert, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(alert, k, v)
            alert.updated_at = now
            alert.save(update_fields=[*fields, "updated_at"])
    return ScanResult(days=(end - start).days + 1, alerts=len(hits), created=created)


def opinion_refresh() -> dict:
    """The periodic work: this week's (and, on a Monday, last week's) figures, and the watch-list
    over yesterday and today (a text written just before midnight is seen on the next run)."""
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    weeks = opinion_weeks_compute(start=yesterday, end=today)
    scan = watch_scan(start=yesterday, end=today)
    return {"weeks": weeks.weeks, "texts": weeks.texts, "alerts": scan.alerts, "new_alerts": scan.created}
