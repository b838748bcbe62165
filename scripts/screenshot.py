"""Screenshots of the grid map for the docs, taken from a running server.

    civicgrid runserver 127.0.0.1:8000 &
    python scripts/screenshot.py http://127.0.0.1:8000 [--out docs/img] [--lang zh-CN]

Writes map.png (desktop, 1280×800, a located point with its card) and map-phone.png (390×844,
the bottom sheet after a tap). Drives Debian's Chromium, like the browser tests.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from civicgrid.chromium import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent


def _open_map(page: Page, base: str) -> None:
    page.goto(f"{base}/map/")
    expect(page.locator("#map")).to_have_attribute("data-state", "ready", timeout=20_000)


def _click_map(page: Page, fx: float, fy: float, *, tap: bool = False) -> None:
    """Click (or tap) the map at a fraction of its size, and wait for the located card."""
    box = page.locator("#map").bounding_box()
    x, y = box["x"] + box["width"] * fx, box["y"] + box["height"] * fy
    with page.expect_response(lambda r: "/api/v1/geo/locate" in r.url):
        if tap:
            page.touchscreen.tap(x, y)
        else:
            page.mouse.click(x, y)
    page.wait_for_timeout(400)  # let the card and the zoom animation settle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url", help="base URL of a running CivicGrid, e.g. http://127.0.0.1:8000")
    parser.add_argument("--out", default=str(ROOT / "docs" / "img"), help="folder for the PNG files")
    parser.add_argument("--lang", default="zh-CN", help="browser language (the page follows it)")
    args = parser.parse_args(argv)
    base, out = args.url.rstrip("/"), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            desktop = browser.new_context(viewport={"width": 1280, "height": 800}, locale=args.lang)
            page = desktop.new_page()
            _open_map(page, base)
            _click_map(page, 0.62, 0.45)
            page.mouse.move(5, 5)  # park the pointer so that no tooltip covers the map
            page.screenshot(path=out / "map.png")
            desktop.close()

            phone = browser.new_context(
                viewport={"width": 390, "height": 844},
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                locale=args.lang,
            )
            page = phone.new_page()
            _open_map(page, base)
            _click_map(page, 0.5, 0.4, tap=True)
            page.screenshot(path=out / "map-phone.png")
            phone.close()
        finally:
            browser.close()
    print(f"wrote {out / 'map.png'} and {out / 'map-phone.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
