"""The French (Canada) catalog covers every string the site marks for translation."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from web.i18n import SOURCE, compile_catalogs, normalise

pytestmark = pytest.mark.fast

WEB = Path(__file__).parent.parent / "web"
METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]


def _marked() -> set[str]:
    found = set()
    for file, _line, message, _comments, _context in extract_from_dir(str(WEB), METHODS):
        # The reader's pages; the editor and admin areas have their own owners and readers.
        if file.startswith(("templates/editor/", "templates/admin", "editor", "admin", "auth")):
            continue
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_marked_string_has_a_french_translation():
    with (SOURCE / "fr_CA" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="fr_CA")
    translated = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog if m.id and m.string}
    marked = _marked()
    assert len(marked) > 60  # the extractor really read the templates
    missing = sorted(marked - translated)
    assert missing == [], missing
    # French typography: a non-breaking space before the colon and inside « ».
    for m in catalog:
        text = " ".join(m.string) if isinstance(m.string, tuple) else m.string
        assert " :" not in text and "« " not in text and " »" not in text, text


def test_catalogs_compile_once_and_again_when_changed(tmp_path):
    target = compile_catalogs(tmp_path)
    mo = target / "fr_CA" / "LC_MESSAGES" / "messages.mo"
    first = mo.stat().st_mtime_ns
    compile_catalogs(tmp_path)
    assert mo.stat().st_mtime_ns == first
    assert normalise("fr") == "fr_CA" and normalise("EN-us") == "en" and normalise("es") is None
