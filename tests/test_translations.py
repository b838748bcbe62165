"""The Chinese catalogue is complete and the compiled .mo matches the .po it came from."""

import gettext
import re
from pathlib import Path

from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


def _po_entries() -> dict[tuple[str, str], str]:
    """(context, msgid) → msgstr; context is "" for entries without msgctxt."""
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    entries = {}
    for block in text.split("\n\n"):
        if "#~" in block:
            continue  # obsolete entries are not compiled
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r"^msgstr(?:\[0\])? ((?:\".*\"\n?)+)", block, re.M)
        context = re.search(r'^msgctxt "(.*)"', block, re.M)
        if msgid and msgstr:
            key = "".join(re.findall(r'"(.*)"', msgid[1])).replace('\\"', '"')
            entries[(context[1] if context else "", key)] = "".join(re.findall(r'"(.*)"', msgstr[1])).replace(
                '\\"', '"'
            )
    entries.pop(("", ""), None)
    return entries


def test_every_message_has_a_chinese_translation():
    untranslated = [msgid for msgid, msgstr in _po_entries().items() if not msgstr]
    assert untranslated == []


def test_the_compiled_catalogue_is_current():
    with (LOCALE / "django.mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    for (context, msgid), msgstr in _po_entries().items():
        found = compiled.pgettext(context, msgid) if context else compiled.gettext(msgid)
        assert found == msgstr.replace("\\n", "\n"), msgid


def test_pages_are_chinese_by_default(client, db):
    page = client.get("/")
    assert "网格化社会治理平台".encode() in page.content
    assert "网格地图".encode() in page.content
