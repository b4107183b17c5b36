"""The transcript list of an episode page, rendered once per transcript version and language."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from urllib.parse import quote

from flask import current_app, request
from flask_babel import gettext
from markupsafe import Markup, escape

from archive.public import PassageView, is_machine_label
from web.filters import clock

# Distinct colours in the style sheet (voice-1 ... voice-6); more voices reuse them in turn.
VOICE_COLOURS = 6

# Rendered fragments of a 2-hour interview weigh about 0.5 MB: keep a few dozen.
CACHE_SIZE = 32


class FragmentCache:
    """A small thread-safe LRU; transcripts are immutable (a change is a new version), so no expiry."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[object, ...], str] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: tuple[object, ...], make: Callable[[], str]) -> str:
        """The cached value for key, made (outside the lock) when missing."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


class Voices:
    """Each speaker's colour, by first appearance in the transcript, and where each turn starts."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.last: str | None = None

    def classes(self, speaker: str | None) -> str:
        """ " voice-N" (and " turn" where the voice changes) for a passage of this speaker."""
        if not speaker:
            self.last = None
            return ""
        number = self.numbers.setdefault(speaker, len(self.numbers) % VOICE_COLOURS + 1)
        turn = " turn" if speaker != self.last else ""
        self.last = speaker
        return f" voice-{number}{turn}"


def _passage(p: PassageView, listen: str, cite: str, speaker_base: str, voices: Voices, marks: tuple[str, str]) -> str:
    start, end = f"{p.start:.2f}", f"{p.end:.2f}"
    if p.words:
        # Word starts as offsets from the passage start, 0.1 s: the script turns a click
        # on the n-th word into a seek without one element per word (~20k in 2 hours).
        text = escape(" ".join(w.text.strip() for w in p.words))
        offsets = " ".join(f"{max(w.start - p.start, 0):.1f}".removesuffix(".0") for w in p.words)
        body = f'<p class="text" data-w="{offsets}">{text}</p>'
    else:
        body = f'<p class="text">{escape(p.text)}</p>'
    speaker = ""
    if p.speaker and is_machine_label(p.speaker):
        # A machine label names a voice of this episode only: no page to link to.
        speaker = f'<span class="speaker">{escape(p.speaker)}</span>'
    elif p.speaker and p.recognised:
        # Named by the show's known voices, not by an editor: said so on the name (docs/speakers.md).
        href = speaker_base + quote(p.speaker, safe="")
        short, note = marks
        speaker = (
            f'<a class="speaker recognised" href="{escape(href)}" title="{escape(note)}">{escape(p.speaker)}'
            f' <small class="recognised-mark">({escape(short)})</small></a>'
        )
    elif p.speaker:
        href = speaker_base + quote(p.speaker, safe="")
        speaker = f'<a class="speaker" href="{escape(href)}">{escape(p.speaker)}</a>'
    voice = voices.classes(p.speaker)
    label = escape(listen % {"time": clock(p.start)})
    # The quote control is a plain ?start=&end= link (a quote page without JavaScript);
    # player.js turns it into a pick that the share panel can widen from the keyboard.
    quote_label = escape(cite % {"time": clock(p.start)})
    return (
        f'<li id="p-{p.position}" class="passage{voice}" data-start="{start}" data-end="{end}">'
        f'<span class="tools"><a class="ts" href="?t={start}#p-{p.position}" data-seek="{start}"'
        f' aria-label="{label}">{clock(p.start)}</a>'
        f'<a class="cite" href="?start={start}&amp;end={end}" data-quote'
        f' aria-label="{quote_label}" title="{quote_label}">\u275d</a></span>'
        f'<div class="body">{speaker}{body}</div></li>\n'
    )


def render(
    key: tuple[object, ...], passages: Callable[[], Iterable[PassageView]], quoted: frozenset[int] = frozenset()
) -> Markup:
    """The <li> passages of a transcript; `key` names the transcript version, its known voices and the language."""
    cache: FragmentCache = current_app.extensions.setdefault("podarchive.transcripts", FragmentCache())

    def make() -> str:
        listen = gettext("Listen from %(time)s", time="\x00").replace("\x00", "%(time)s")
        cite = gettext("Quote the passage at %(time)s", time="\x00").replace("\x00", "%(time)s")
        speaker_base = request.script_root + "/speakers/"
        marks = (gettext("recognised by voice"), gettext("Recognised by voice, not yet reviewed by an editor"))
        voices = Voices()
        return "".join(_passage(p, listen, cite, speaker_base, voices, marks) for p in passages())

    html = cache.get_or_make(key, make)
    for position in quoted:
        html = html.replace(f'<li id="p-{position}" class="passage', f'<li id="p-{position}" class="passage quoted', 1)
    return Markup(html)
