"""Placing an order that came without coordinates: its address text against the district's known
places — street and community names from the active region tree, and the landmark gazetteer.

The most specific kind of place wins (landmark, then community, then street), then the longest
name. Names are found in one regular-expression pass with the longer alternatives first, so a
short name inside a longer one ("红山" in "红山街道") is never taken on its own. A name that two
places of the same kind share is ambiguous and not used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from civicgrid.hotline.models import Landmark
from civicgrid.regions import locator

# Specificity of each kind of place: the higher wins.
RANK = {"landmark": 3, "community": 2, "street": 1}
MIN_NAME = 2  # a one-character name matches almost anything


@dataclass(frozen=True)
class Known:
    kind: str  # landmark / community / street
    key: str  # region code or landmark id
    name: str
    lon: float
    lat: float

    @property
    def placed_by(self) -> str:
        return f"{self.kind}:{self.key}"


def _community_names(name: str) -> list[str]:
    short = name.removesuffix("居委会").removesuffix("居民委员会")
    bare = short.removesuffix("社区")
    return [name, short, bare]


def _street_names(name: str) -> list[str]:
    return [name, name.removesuffix("办事处"), name.removesuffix("办事处").removesuffix("街道")]


class Gazetteer:
    """The known places of the active boundary generation and the active landmarks (read once:
    build one per import)."""

    def __init__(self, landmarks: list[Landmark] | None = None):
        self._by_name: dict[str, Known | None] = {}
        streets = locator.communities()
        for street in streets:
            communities = street["communities"]
            point = self._first_point(c["code"] for c in communities)
            if point is not None:
                place = Known("street", street["street"]["code"], street["street"]["name"], *point)
                self._add(_street_names(place.name), place)
            for community in communities:
                point = locator.community_point(community["code"])
                if point is not None:
                    place = Known("community", community["code"], community["name"], *point)
                    self._add(_community_names(place.name), place)
        if landmarks is None:
            landmarks = list(Landmark.objects.filter(active=True).order_by("id"))
        for landmark in landmarks:
            self._add(
                landmark.names(),
                Known("landmark", str(landmark.pk), landmark.name, landmark.lon, landmark.lat),
            )
        self._cache: dict[str, Known | None] = {}

    @staticmethod
    def _first_point(codes) -> tuple[float, float] | None:
        """A street is placed inside its first community (by code) that has a grid: coarse, and
        said so by ``placed_by`` ("street:…"); the grid worker verifies the place on site."""
        for code in sorted(codes):
            point = locator.community_point(code)
            if point is not None:
                return point
        return None

    def _add(self, names: list[str], place: Known) -> None:
        for name in dict.fromkeys(n.strip() for n in names):
            if len(name) < MIN_NAME:
                continue
            other = self._by_name.get(name, place)
            if other is None or (other != place and RANK[other.kind] == RANK[place.kind]):
                self._by_name[name] = None  # two places of one kind share the name: ambiguous
            elif other == place or RANK[place.kind] > RANK[other.kind]:
                self._by_name[name] = place

    @cached_property
    def _pattern(self) -> re.Pattern | None:
        names = sorted((n for n, p in self._by_name.items() if p is not None), key=lambda n: (-len(n), n))
        return re.compile("|".join(map(re.escape, names))) if names else None

    def match(self, address: str) -> Known | None:
        """The place the address names, or None."""
        text = (address or "").strip()
        if not text or self._pattern is None:
            return None
        if text in self._cache:
            return self._cache[text]
        best, best_key = None, (0, 0)
        for m in self._pattern.finditer(text):
            place = self._by_name[m.group()]
            key = (RANK[place.kind], len(m.group()))
            if key > best_key:
                best, best_key = place, key
        if len(self._cache) < 200_000:
            self._cache[text] = best
        return best

    def choices(self) -> list[Known]:
        """Every usable place once (the triage page's picker): communities, then landmarks."""
        seen = {p for p in self._by_name.values() if p is not None and p.kind != "street"}
        return sorted(seen, key=lambda p: (-RANK[p.kind], p.key if p.kind == "community" else p.name))

    def get(self, placed_by: str) -> Known | None:
        for place in self._by_name.values():
            if place is not None and place.placed_by == placed_by:
                return place
        return None
