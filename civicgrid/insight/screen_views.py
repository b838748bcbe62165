"""The big screen (/command/): a 1920×1080 wall of the reader's live figures, also usable on a
laptop. The page is a shell; its script polls /api/v1/insight/screen/… (``screen_api``), so the
figures, the map and the feed refresh themselves. docs/command.md describes it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.accounts.scopes import request_scope
from civicgrid.errors import DomainError
from civicgrid.insight import access, screen
from civicgrid.insight.indicators import UNIT_LABELS
from civicgrid.regions import selectors as region_selectors
from civicgrid.regions.models import BoundaryGeneration

# How often the page asks again (seconds): the feed is the live part; the figures come from
# rollups refreshed every minute, so asking them more often than this would show nothing new.
FEED_SECONDS = 5
BLOCK_SECONDS = 30


@login_required
def command_screen(request):
    scope = request_scope(request)
    if not access.may_use(scope):
        return render(
            request,
            "insight/screen_forbidden.html",
            {"message": _("The command centre is for staff with a territory or a department.")},
            status=403,
        )
    try:
        generation = region_selectors.generation_get(None)
    except (DomainError, BoundaryGeneration.DoesNotExist):  # none active yet: the map stays empty
        generation = None
    place = screen.place_of(scope)
    api = "/api/v1/insight/screen/"
    config = {
        "api": {name: f"{api}{name}" for name in screen_endpoints()},
        "geojsonUrl": reverse("map-data") + (f"?generation={generation.id}" if generation else ""),
        "tileUrl": settings.TILE_URL,
        "tileAttribution": settings.TILE_ATTRIBUTION,
        "feedSeconds": FEED_SECONDS,
        "blockSeconds": BLOCK_SECONDS,
        "casesUrl": reverse("case-list"),
        "timeZone": settings.TIME_ZONE,
    }
    return render(
        request,
        "insight/screen.html",
        {
            "place": place,
            "unit_label": UNIT_LABELS[place.unit],
            "config": config,
            "tile_labels": TILES,
            "labels": _labels(),
            "nav": _nav(),
            "warnings_url": _url("insight:warnings"),
        },
    )


# The headline tiles, in order (the keys of ``screen.summary``'s figures).
TILES = [
    ("today", gettext_lazy("Reported today")),
    ("month", gettext_lazy("Reported this month")),
    ("open", gettext_lazy("Open")),
    ("overdue", gettext_lazy("Overdue")),
    ("closed_today", gettext_lazy("Closed today")),
    ("on_time_closure", gettext_lazy("On-time closure (month)")),
    ("satisfaction", gettext_lazy("Satisfaction (month)")),
]


# The command centre's other pages, linked from the screen's header (each topic adds its own).
NAV = [
    ("insight:indicators", gettext_lazy("Indicators")),
    ("insight:warnings", gettext_lazy("Warnings")),
    ("insight:hotspots", gettext_lazy("Hotspots")),
    ("insight:opinion", gettext_lazy("Opinion")),
    ("insight:reviews", gettext_lazy("Reviews")),
]


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:  # a topic not installed (yet): no link rather than an error
        return ""


def _nav() -> list[tuple[str, str]]:
    return [(str(label), url) for name, label in NAV if (url := _url(name))]


def _labels() -> dict[str, str]:
    """What the script shows, translated with the page; {name} marks a value it puts in."""
    return {
        "reported": _("Reported"),
        "closed": _("Closed"),
        "new": _("New"),
        "overdue": _("Overdue"),
        "open": _("Open"),
        "noData": _("No data"),
        "feedEmpty": _("Nothing new in the last 24 hours."),
        "noWhistles": _("No open whistles."),
        "whistlesUnavailable": _("Whistles are not part of your work."),
        "noWarnings": _("No open warnings."),
        "reportedIn": _("{reported}/{summoned} reported in"),
        "late": _("{n} late"),
        "grid": _("{name}: {open} open, {overdue} overdue"),
        "cases": _("{n} cases"),
        "mapFailed": _("The grid map could not be loaded."),
        "severity1": _("Yellow"),
        "severity2": _("Orange"),
        "severity3": _("Red"),
    }


def screen_endpoints() -> tuple[str, ...]:
    return ("summary", "map", "feed", "trend", "classes", "streets", "whistles", "warnings")


urlpatterns: list = [path("", command_screen, name="screen")]
