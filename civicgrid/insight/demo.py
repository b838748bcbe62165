"""The command centre's part of the demo: rollups built from the demo year, then (each topic
adding its line) the year's warnings, opinion weeks and the archived reviews. Idempotent."""

from __future__ import annotations

from collections.abc import Callable

from civicgrid.insight import rollups


def seed(*, progress: Callable[[str], None]) -> None:
    progress("command centre: building the rollups from the event log …")
    result = rollups.rebuild()
    progress(
        f"command centre: {result.cases:,} case facts, {result.days} days of moves ({result.seconds:.1f} s)"
    )
    # -- each topic's demo step follows (warnings, opinion, reviews) --
