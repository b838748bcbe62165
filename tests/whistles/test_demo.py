"""The demo's whistles: past ones with late and missing report-ins for the figures, two live ones
through the services, and a second run that changes nothing."""

from __future__ import annotations

from civicgrid.accounts.models import User
from civicgrid.accounts.scopes import scope_for
from civicgrid.whistles import demo, selectors
from civicgrid.whistles.models import Summons, Whistle

from ..cases.steps import GRID_A, S, walk


def test_the_demo_seed_fills_the_figures_once(wdemo):
    walk(S.DISPATCHED, grid=GRID_A)
    walk(S.HANDLING, grid=GRID_A)
    demo.seed(progress=lambda line: None)
    assert Whistle.objects.count() == demo.PAST + 2
    assert Whistle.objects.filter(state="closed").exists() and Whistle.objects.filter(state="open").exists()
    assert Whistle.objects.filter(case__isnull=False).count() == 2
    assert (
        Summons.objects.filter(late=True).exists()
        and Summons.objects.filter(late=False, reported_at__isnull=False).exists()
    )
    figures = selectors.whistle_figures(scope=scope_for(User.objects.get(username="operator")))
    assert figures["total"] == demo.PAST + 2 and figures["resolution"]["closed"] > 0
    assert all(d["due"] >= d["on_time"] for d in figures["departments"])
    before = (Whistle.objects.count(), Summons.objects.count())
    demo.seed(progress=lambda line: None)
    assert (Whistle.objects.count(), Summons.objects.count()) == before
