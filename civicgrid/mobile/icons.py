"""The app's home-screen icons, drawn with Pillow (a grid with a position pin) rather than kept
as binary files: one source for every size, and no font needed (servers may have no CJK font)."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw

BRAND = (11, 92, 173, 255)  # --brand in site.css
PIN = (255, 90, 31, 255)  # the map's highlight orange
WHITE = (255, 255, 255, 255)
# name → (size in px, maskable). A maskable icon fills its square: the launcher crops it to its
# own shape, keeping the central 80 % (the "safe zone"), so its drawing is smaller.
ICONS = {
    "icon-192": (192, False),
    "icon-512": (512, False),
    "maskable-512": (512, True),
    "apple-touch-180": (180, True),
}
_SCALE = 4  # drawn large and scaled down: Pillow draws without anti-aliasing


@lru_cache(maxsize=len(ICONS))
def icon_png(name: str) -> bytes:
    size, maskable = ICONS[name]
    big = size * _SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, big, big), fill=BRAND)
        inset = big * 0.24
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.2, fill=BRAND)
        inset = big * 0.18
    _grid(draw, inset, big - inset, width=max(2, round(big * 0.035)))
    _pin(draw, inset, big - inset)
    out = io.BytesIO()
    image.resize((size, size), Image.Resampling.LANCZOS).save(out, "PNG", optimize=True)
    return out.getvalue()


def _grid(draw: ImageDraw.ImageDraw, low: float, high: float, *, width: int) -> None:
    """A 3 × 3 grid of cells, the app's subject."""
    step = (high - low) / 3
    draw.rounded_rectangle((low, low, high, high), radius=step * 0.3, outline=WHITE, width=width)
    for i in (1, 2):
        at = low + step * i
        draw.line((at, low, at, high), fill=WHITE, width=width)
        draw.line((low, at, high, at), fill=WHITE, width=width)


def _pin(draw: ImageDraw.ImageDraw, low: float, high: float) -> None:
    """A map pin standing in the grid's centre cell: where the worker is."""
    step = (high - low) / 3
    cx, tip = low + step * 1.5, low + step * 2.25
    r = step * 0.55
    cy = tip - r * 2.1
    draw.polygon([(cx - r * 0.86, cy + r * 0.5), (cx + r * 0.86, cy + r * 0.5), (cx, tip)], fill=PIN)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=PIN)
    hole = r * 0.42
    draw.ellipse((cx - hole, cy - hole, cx + hole, cy + hole), fill=WHITE)
