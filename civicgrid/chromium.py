"""How the browser tests and the docs' screenshots start Debian's Chromium.

Playwright's own browser download does not work on these machines. The flags keep a headless
Chromium running as root and stop it from calling home on a closed network.
"""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
