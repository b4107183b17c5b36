"""A small archive with one editor account, for the editor tests (no audio model needed)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.config import Settings
from archive.context import Archive
from archive.editorial import accounts
from tests.web_corpus import build, transcript
from transcribe import Segment, Transcript, Word

PASSWORD = "correct horse battery"
ITEMS = [
    {
        "title": "Entrevue avec Gilles Vignault",
        "guid": "ep-1",
        "extra": '<podcast:person role="guest" href="https://example.org/gv">Gilles Vigneault</podcast:person>',
    },
    {"title": "Deuxième entrevue", "guid": "ep-2", "date": "Tue, 10 Nov 2026 09:00:00 -0500"},
]


def shaky(texts: list[tuple[str | None, str]], unsure: set[str]) -> Transcript:
    """Like web_corpus.transcript, with the words in `unsure` at probability 0.2."""
    base = transcript(texts)
    return Transcript(
        language=base.language,
        duration=base.duration,
        model=base.model,
        segments=tuple(
            Segment(
                start=s.start,
                end=s.end,
                text=s.text,
                speaker=s.speaker,
                language=s.language,
                words=tuple(Word(w.start, w.end, w.text, 0.2 if w.text in unsure else w.probability) for w in s.words),
            )
            for s in base.segments
        ),
    )


@dataclass
class EditorArchive:
    settings: Settings
    ids: dict[str, int]
    email: str = "ed@example.org"
    password: str = PASSWORD


def make_archive(settings: Settings) -> EditorArchive:
    """Two episodes with transcripts (one with unsure words) and an editor account."""
    ids = build(
        settings,
        ITEMS,
        {
            "ep-1": shaky(
                [
                    ("SPEAKER_1", "Bonjour Gilles Vignault merci d'être là"),
                    ("SPEAKER_2", "Merci beaucoup c'est un plaisir"),
                    ("SPEAKER_1", "Parlons de Natashquan et de Vignault"),
                ],
                {"Vignault"},
            ),
            "ep-2": transcript([(None, "Une autre entrevue avec Vignault à Québec")]),
        },
    )
    with Archive(settings).db.session() as s:
        accounts.add_user(s, "ed@example.org", PASSWORD, role="editor", name="Ed Itor")
        accounts.add_user(s, "boss@example.org", PASSWORD, role="admin", name="Boss")
    return EditorArchive(settings, ids)


def csrf_of(html: str) -> str:
    """The first CSRF token in a page."""
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert found, "no CSRF token in the page"
    return found.group(1)


def login(client, email: str = "ed@example.org", password: str = PASSWORD, next_url: str = ""):  # type: ignore[no-untyped-def]
    """Log a Flask test client in through the real form; returns the response."""
    page = client.get("/editor/login")
    token = csrf_of(page.get_data(as_text=True))
    return client.post(
        "/editor/login", data={"email": email, "password": password, "csrf_token": token, "next": next_url}
    )
