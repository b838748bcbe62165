"""Copy the front-end libraries installed by npm into civicgrid/static/vendor/.

District intranets have no CDN, so the app serves these files itself. Each library's licence
file travels with it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "civicgrid" / "static" / "vendor"

# library → (files or folders inside its package, licence file)
COPIES = {
    "leaflet": (["dist/leaflet.js", "dist/leaflet.css", "dist/images"], "LICENSE"),
    "htmx": (["dist/htmx.min.js"], "LICENSE"),
    "echarts": (["dist/echarts.min.js"], "LICENSE"),
}
PACKAGE = {"leaflet": "leaflet", "htmx": "htmx.org", "echarts": "echarts"}


def main() -> int:
    missing = [PACKAGE[name] for name in COPIES if not (NODE / PACKAGE[name]).is_dir()]
    if missing:
        print(f"missing npm packages: {', '.join(missing)} — run `npm ci` first", file=sys.stderr)
        return 1
    for name, (items, licence) in COPIES.items():
        source, target = NODE / PACKAGE[name], VENDOR / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for item in [*items, licence]:
            src = source / item
            dst = target / Path(item).name
            if src.is_dir():
                shutil.copytree(src, dst)
            else:
                shutil.copy2(src, dst)
    print(f"assets: {', '.join(COPIES)} → {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
