"""The app's pages, manifest, service worker and icons through Django's test client: who gets
them, who is refused, and that they keep to the Content-Security-Policy (no inline script)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from PIL import Image

from civicgrid.accounts.models import Role, RoleAssignment
from civicgrid.mobile.labels import LABELS
from civicgrid.mobile.views import SCREENS

from ..cases.conftest import report
from ..cases.steps import GRID_A, GRID_A2, GW_A, GW_A2, point_in, signed_in

PAGES = ["/m/", "/m/todo/", "/m/case/?number=x", "/m/report/", "/m/resolve/", "/m/patrol/",
         "/m/inspect/", "/m/history/", "/m/outbox/"]  # fmt: skip
JS = Path(__file__).resolve().parents[2] / "civicgrid" / "mobile" / "static" / "mobile" / "js"


def _config(page) -> dict:
    found = re.search(
        r'<script id="m-config" type="application/json">(.*?)</script>', page.content.decode(), re.S
    )
    return json.loads(found.group(1))


def test_it_sends_anonymous_visitors_to_the_login(client, mdemo):
    for path in ("/m/", "/m/patrol/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={path}"


def test_every_screen_answers_a_grid_worker_without_inline_script(client, mdemo):
    c = signed_in(client, GW_A)
    for path in PAGES:
        page = c.get(path)
        assert page.status_code == 200, path
        assert "script-src 'self'" in page["Content-Security-Policy"]
        html = page.content.decode()
        # Every script is a file of ours or a JSON data island: the CSP runs nothing inline.
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"\son[a-z]+=", html), path
        config = _config(page)
        assert config["user"]["username"] == GW_A and config["serviceWorker"] == "/m/sw.js"
        assert 'rel="manifest" href="/m/manifest.webmanifest"' in html
    assert c.cookies.get("csrftoken"), "the scripts need the CSRF cookie for their writes"


def test_it_refuses_people_who_are_not_grid_workers(client, mdemo):
    resident = get_user_model().objects.create_user("resident-1", password="x")
    RoleAssignment.objects.create(user=resident, role=Role.RESIDENT, valid_from="2020-01-01")
    for username in ("resident-1", "dept-d01", "operator"):
        page = signed_in(client, username).get("/m/")
        assert page.status_code == 403, username
        assert 'data-code="not_a_grid_worker"' in page.content.decode()
        assert 'id="m-config"' in page.content.decode() and "m-queue" not in page.content.decode()


def test_an_enforcement_officer_gets_the_inspections_not_the_grid_screens(client, mdemo):
    """执法队员进网格: an officer inspects from the phone; patrols and reports are for grid workers."""
    c = signed_in(client, "zf-320102002")
    assert c.get("/m/")["Location"] == "/m/inspect/"
    for path in ("/m/inspect/", "/m/todo/", "/m/history/", "/m/outbox/", "/m/case/?number=x"):
        page = c.get(path)
        assert page.status_code == 200, path
        assert _config(page)["worker"] is False
        html = page.content.decode()
        assert (
            'href="/m/inspect/"' in html
            and 'href="/m/patrol/"' not in html
            and 'href="/m/report/"' not in html
        )
    for path in ("/m/patrol/", "/m/report/", "/m/resolve/"):
        page = c.get(path)
        assert page.status_code == 403 and 'data-code="not_a_grid_worker"' in page.content.decode(), path
    worker = signed_in(client, GW_A).get("/m/todo/")
    assert _config(worker)["worker"] is True and 'href="/m/patrol/"' in worker.content.decode()


def test_the_manifest_makes_the_app_installable(client, mdemo):
    response = client.get("/m/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["start_url"] == manifest["scope"] == "/m/" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes and any(i["purpose"] == "maskable" for i in manifest["icons"])
    for icon in manifest["icons"]:
        png = client.get(icon["src"])
        assert png.status_code == 200 and png["Content-Type"] == "image/png"
        width, height = Image.open(io.BytesIO(png.content)).size
        assert f"{width}x{height}" == icon["sizes"]
    assert client.get("/m/icons/nope.png").status_code == 404


def test_the_service_worker_caches_the_app_shell(client, mdemo):
    response = client.get("/m/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "no-cache" in response["Cache-Control"]
    script = response.content.decode()
    shell = json.loads(re.search(r"const SHELL_FILES = (\[.*?\]);", script).group(1))
    pages = json.loads(re.search(r"const PAGE_URLS = (\[.*?\]);", script).group(1))
    assert {"/static/mobile/js/outbox.js", "/static/mobile/js/shell.js", "/static/mobile/mobile.css"} <= set(
        shell
    )
    assert "/m/manifest.webmanifest" in shell
    assert set(pages) == {f"/m/{'' if name == 'home' else name + '/'}" for name in SCREENS}
    assert re.search(r'const VERSION = "[0-9a-f]{12}";', script)


def test_the_history_lists_my_reports_only(client, mdemo):
    mine = report(GW_A, title="楼道堆放杂物", point=point_in(GRID_A))
    # A neighbour's report in my own grid (I may see it) is still not mine.
    theirs = report(GW_A2, title="路灯不亮", point=point_in(GRID_A))
    elsewhere = report(GW_A2, title="井盖缺失", point=point_in(GRID_A2))
    page = signed_in(client, GW_A).get("/m/history/").content.decode()
    assert f'data-number="{mine.number}"' in page
    assert f'data-number="{theirs.number}"' not in page
    assert f'data-number="{elsewhere.number}"' not in page


def test_every_text_the_scripts_show_is_translatable(client, mdemo):
    used = set()
    for path in JS.glob("*.js"):
        source = path.read_text()
        used |= set(re.findall(r'\bt\("(\w+)"', source))
        used |= set(re.findall(r'"(kind[A-Z]\w+|result(?:Pass|Fail|Na))"', source))
    assert used and used <= set(LABELS), sorted(used - set(LABELS))
    page = signed_in(client, GW_A).get("/m/")
    labels = json.loads(re.search(r'<script id="m-labels" type="application/json">(.*?)</script>',
                                  page.content.decode(), re.S).group(1))  # fmt: skip
    assert set(labels) == set(LABELS)


@pytest.mark.parametrize("language", ["en"])
def test_the_app_speaks_english_when_asked(client, mdemo, language):
    c = signed_in(client, GW_A)
    c.post("/i18n/setlang/", {"language": language, "next": "/m/"})
    page = c.get("/m/")
    assert f'lang="{language}"' in page.content.decode()
    assert _config(page)["language"] == language
    assert c.get("/m/manifest.webmanifest").json()["lang"] == language
