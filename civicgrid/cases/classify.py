"""Suggest a case class (小类) from what a resident or grid worker wrote, by keywords.

Pure Python, no Django: build a :class:`KeywordClassifier` once from the taxonomy's
``(code, name, keywords)`` rows and call :meth:`KeywordClassifier.suggest` per report.

Scoring: every keyword of a class (the class's own name counts as one) that occurs in the text
as a substring scores its length in characters, so longer, more specific phrases weigh more; a
class scores the sum over its distinct matching keywords. Text and keywords are normalised the
same way first (NFKC, lower-case, all whitespace removed), so full-width letters and stray spaces
do not matter. Best score first, ties by code; no match gives an empty list.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFKC, lower-case, no whitespace: the form both texts and keywords are compared in."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or "").lower())


@dataclass(frozen=True)
class Suggestion:
    code: str
    name: str
    score: float
    matched: tuple[str, ...]  # the matching keywords as written in the taxonomy, longest first


class KeywordClassifier:
    """Keyword matcher over the 小类 of a taxonomy; immutable once built, safe to share."""

    def __init__(self, rows: Iterable[tuple[str, str, Sequence[str]]]):
        names: dict[str, str] = {}
        # normalised keyword -> [(code, keyword as written)], each keyword tested once per text
        index: dict[str, list[tuple[str, str]]] = {}
        for code, name, keywords in rows:
            if code in names:
                raise ValueError(f"duplicate class code {code!r}")
            names[code] = name
            seen: set[str] = set()
            for word in (name, *keywords):
                key = normalise(word)
                if key and key not in seen:
                    seen.add(key)
                    index.setdefault(key, []).append((code, word.strip()))
        self._names = names
        # Keywords grouped by first character: a text only tries the groups of characters it
        # contains (a 200-character report has ~100 distinct characters, so most are skipped).
        by_first: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {}
        for key, owners in sorted(index.items()):
            by_first.setdefault(key[0], []).append((key, owners))
        self._by_first = by_first

    def __len__(self) -> int:
        return len(self._names)

    def suggest(self, text: str, *, limit: int = 3) -> list[Suggestion]:
        """Up to ``limit`` classes whose keywords occur in ``text``, best first."""
        s = normalise(text)
        if not s or limit <= 0:
            return []
        scores: dict[str, int] = {}
        matched: dict[str, list[str]] = {}
        groups = self._by_first
        for first in set(s) & groups.keys():
            for key, owners in groups[first]:
                if key in s:
                    for code, word in owners:
                        scores[code] = scores.get(code, 0) + len(key)
                        matched.setdefault(code, []).append(word)
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return [
            Suggestion(
                code, self._names[code], float(score), tuple(sorted(matched[code], key=_longest_first))
            )
            for code, score in best
        ]


def _longest_first(word: str) -> tuple[int, str]:
    return (-len(word), word)
