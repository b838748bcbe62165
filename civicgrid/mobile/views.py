"""The grid worker's phone app at /m/: server-rendered shells that fetch their data from the API,
the web app manifest, the service worker and the icons.

The pages hold no data of their own (except the history's list of reports): the scripts read
the API, and every write goes through the phone's outbox (static/mobile/js/outbox.js), so a
page works the same whether it came from the network or from the service worker's cache.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache, wraps
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import ensure_csrf_cookie

from civicgrid import __version__
from civicgrid.accounts.models import Role
from civicgrid.accounts.scopes import request_scope
from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.workflow import Action
from civicgrid.mobile.icons import ICONS, icon_png
from civicgrid.mobile.labels import labels

STATIC_DIR = Path(__file__).resolve().parent / "static"
THEME_COLOUR = "#0b5cad"
# Leaflet as the rest of the site loads it (scripts/build_assets.py copies it from npm).
VENDOR_FILES = (
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/images/marker-icon.png",
    "vendor/leaflet/images/marker-icon-2x.png",
    "vendor/leaflet/images/marker-shadow.png",
    "vendor/leaflet/images/layers.png",
    "vendor/leaflet/images/layers-2x.png",
)
# The screens, in the order of the app's menu: (url name, what the tab says). The service worker
# caches every one of them, so the app starts without a connection.
SCREENS = ("home", "todo", "case", "report", "resolve", "patrol", "inspect", "history", "outbox")


def grid_worker_page(view=None, *, officers: bool = False):
    """Signed in (else the site's login, back here after), and a grid worker: a current grid
    post or the grid worker role. With ``officers``, enforcement officers too (执法队员进网格:
    their to-do, inspections and records). Anyone else is told plainly that the app is not for them."""

    def decorate(view):
        @wraps(view)
        @login_required
        @ensure_csrf_cookie  # the scripts send the cookie's token with every write
        def wrapped(request, *args, **kwargs):
            scope = request_scope(request)
            allowed = scope.has_role(Role.GRID_WORKER) or (
                officers and scope.has_role(Role.ENFORCEMENT_OFFICER)
            )
            if not allowed:
                return render(request, "mobile/refused.html", _context(request, "refused"), status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate


def _is_worker(request) -> bool:
    return request.user.is_authenticated and request_scope(request).has_role(Role.GRID_WORKER)


def _context(request, screen: str, **extra) -> dict:
    user = request.user
    config = {
        "screen": screen,
        "user": {"username": user.get_username(), "name": str(user)} if user.is_authenticated else None,
        "language": get_language(),
        "loginUrl": reverse("login"),
        "csrfCookie": settings.CSRF_COOKIE_NAME,
        "serviceWorker": reverse("mobile:sw"),
        "scope": reverse("mobile:home"),
        "pages": {name: reverse(f"mobile:{name}") for name in SCREENS},
        "tileUrl": settings.TILE_URL,
        "tileCrs": settings.TILE_CRS,
        "tileAttribution": settings.TILE_ATTRIBUTION,
        "uploadMaxBytes": settings.UPLOAD_MAX_BYTES,
        **extra.pop("config", {}),
    }
    worker = _is_worker(request)
    config["worker"] = worker
    return {
        "screen": screen,
        "config": config,
        "labels": labels(),
        "theme_colour": THEME_COLOUR,
        "worker": worker,
        **extra,
    }


def _screen(name: str, *, officers: bool = False):
    def view(request):
        return render(request, f"mobile/{name}.html", _context(request, name))

    view.__name__ = view.__qualname__ = name
    return grid_worker_page(view, officers=officers)


@grid_worker_page(officers=True)
def home(request):
    """An enforcement officer has no grids to walk: their app opens on the inspections."""
    if not _is_worker(request):
        return redirect("mobile:inspect")
    return render(request, "mobile/home.html", _context(request, "home"))


todo = _screen("todo", officers=True)
case = _screen("case", officers=True)
report = _screen("report")
# Resolving on the spot is a report with before/after photos: one form, one script.
resolve = _screen("resolve")
patrol = _screen("patrol")
inspect = _screen("inspect", officers=True)
outbox = _screen("outbox", officers=True)

HISTORY_SIZE = 30


@grid_worker_page(officers=True)
def history(request):
    """My recent reports (staff reports carry no reporter: the report event names who made
    them), read through the case selectors, scope-filtered like every list; the patrols and what
    this phone sent come from the API and the outbox."""
    scope = request_scope(request)
    mine = case_selectors.case_list(scope=scope).filter(
        events__action=Action.REPORT, events__actor_id=request.user.pk
    )[:HISTORY_SIZE]
    return render(request, "mobile/history.html", _context(request, "history", cases=mine))


def manifest(request):
    """The web app manifest: what the phone's home screen shows, and that /m/ opens full-screen."""
    scope = reverse("mobile:home")
    body = {
        "id": scope,
        "name": _("CivicGrid for grid workers"),
        "short_name": _("Grid app"),
        "description": _("Patrol, report, check and inspect in your grid, online or offline."),
        "lang": get_language(),
        "start_url": scope,
        "scope": scope,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f4f6f8",
        "theme_color": THEME_COLOUR,
        "icons": [
            {
                "src": reverse("mobile:icon", args=[name]),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "maskable" if maskable else "any",
            }
            for name, (size, maskable) in ICONS.items()
        ],
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json; charset=utf-8"
    return response


@lru_cache(maxsize=1)
def _shell_cached() -> tuple[tuple[str, ...], str]:
    return _shell()


def _shell() -> tuple[tuple[str, ...], str]:
    """The static files the app needs to start offline, and a version that changes with them
    (a new service worker, and so a fresh cache, whenever one of them changes)."""
    digest = hashlib.sha256(__version__.encode())
    mine = sorted(p for p in (STATIC_DIR / "mobile").rglob("*") if p.is_file())
    files = [(p.relative_to(STATIC_DIR).as_posix(), p) for p in mine]
    # Leaflet is missing only before `make assets`; the app then starts without the map.
    files += [(name, Path(found)) for name in VENDOR_FILES if (found := finders.find(name))]
    urls = []
    for relative, path in files:
        urls.append(static(relative))
        digest.update(relative.encode())
        digest.update(path.read_bytes())
    template = Path(__file__).resolve().parent / "templates" / "mobile" / "sw.js"
    digest.update(template.read_bytes())
    return tuple(urls), digest.hexdigest()[:12]


@cache_control(no_cache=True)
def service_worker(request):
    """The service worker, served from /m/ so that its scope is the app (no extra header)."""
    # Developers edit the files under a running server; production computes the list once.
    urls, version = _shell() if settings.DEBUG else _shell_cached()
    pages = [reverse(f"mobile:{name}") for name in SCREENS]
    extras = [reverse("mobile:manifest"), *(reverse("mobile:icon", args=[name]) for name in ICONS)]
    script = render_to_string(
        "mobile/sw.js",
        {
            "version": version,
            "shell": json.dumps([*urls, *extras]),
            "pages": json.dumps(pages),
            "scope": reverse("mobile:home"),
            "static_prefix": settings.STATIC_URL,
        },
    )
    return HttpResponse(script, content_type="application/javascript; charset=utf-8")


@cache_control(public=True, max_age=86400)
def icon(request, name: str):
    if name not in ICONS:
        raise Http404
    return HttpResponse(icon_png(name), content_type="image/png")
