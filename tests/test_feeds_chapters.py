"""JSON chapters (podcast:chapters files): the spec's own example, and garbage or hostile files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feeds import Chapter, ChaptersError, ParseError, parse_chapters
from feeds.chapters import MAX_CHAPTERS, MAX_TITLE

pytestmark = pytest.mark.fast

DATA = Path(__file__).parent / "data" / "chapters"


def _file(*chapters: object, **top: object) -> bytes:
    return json.dumps({"version": "1.2.0", "chapters": list(chapters), **top}).encode()


def test_the_specs_complex_example() -> None:
    content = (DATA / "podcastindex_example_complex.json").read_bytes()
    chapters = parse_chapters(content, "https://example.com/ep7/chapters.json")
    # Eleven entries; the silent "toc": false one (a location, no title) is not shown.
    assert [(c.start, c.title) for c in chapters] == [
        (0.0, "Intro"),
        (168.0, "Hearing Aids"),
        (260.0, "Progress Report"),
        (410.0, "Namespace"),
        (3990.0, "Just Break Up"),
        (4200.0, "Played song by artist"),
        (4600.0, "Donations"),
        (5510.0, "The Big Players"),
        (5854.0, "Spread the Word"),
        (6089.0, "Outro"),
    ]
    assert chapters[3] == Chapter(
        410.0,
        "Namespace",
        "https://github.com/Podcastindex-org/podcast-namespace",
        "https://example.com/images/namepsace_example.jpg",
    )
    assert chapters[0].url is None and chapters[0].img is None


def test_the_demo_episodes_chapters_fit_its_audio() -> None:
    demo = Path(__file__).parent.parent / "archive" / "demo" / "ask-not.chapters.json"
    chapters = parse_chapters(demo.read_bytes(), "http://127.0.0.1:8765/ask-not.chapters.json")
    assert [c.start for c in chapters] == [0.0, 12.5, 23.0, 33.0]  # ask-not.mp3 is 45 s long


def test_unsorted_files_are_sorted_and_ties_keep_file_order() -> None:
    content = _file(
        {"startTime": 30, "title": "c"},
        {"startTime": 0, "title": "a"},
        {"startTime": 30, "title": "d"},
        {"startTime": "12.5", "title": "b"},
    )
    assert [(c.start, c.title) for c in parse_chapters(content)] == [(0, "a"), (12.5, "b"), (30, "c"), (30, "d")]


@pytest.mark.parametrize(
    "entry",
    [
        {"title": "no start"},
        {"startTime": None, "title": "null start"},
        {"startTime": True, "title": "boolean start"},
        {"startTime": -1, "title": "negative"},
        {"startTime": "soon", "title": "words"},
        {"startTime": "NaN", "title": "nan string"},
        {"startTime": 1e308 * 10, "title": "infinite"},
        {"startTime": 10**400, "title": "a 400-digit integer"},
        {"startTime": [1], "title": "a list"},
        {"startTime": 5},
        {"startTime": 5, "title": ""},
        {"startTime": 5, "title": "   \n\t "},
        {"startTime": 5, "title": 42},
        {"startTime": 5, "title": {"en": "object"}},
        {"startTime": 5, "title": "hidden", "toc": False},
        "a string",
        17,
        None,
        [0, "list"],
    ],
    ids=lambda e: str(e)[:40],
)
def test_unusable_entries_are_skipped(entry: object) -> None:
    content = _file({"startTime": 1, "title": "kept"}, entry).replace(b"Infinity", b"1e999")
    assert [c.title for c in parse_chapters(content)] == ["kept"]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"   ",
        b"<html><body>Not found</body></html>",
        b"WEBVTT\n\n00:00.000 --> 00:01.000\nhi",
        b'<?xml version="1.0"?><chapters/>',
        b"\x89PNG\r\n\x1a\n\x00\x00\x00",
        b"\xff\xfe\xfd",
        b'{"version": "1.2.0", "chapters": [{"startTime": 0, "title": "cut',
        b"[]",
        b"null",
        b'"chapters"',
        b'{"version": "1.2.0"}',
        b'{"chapters": {"startTime": 0, "title": "not a list"}}',
        b'{"chapters": "[]"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"chapters": [{"startTime": ' + b"9" * 5000 + b', "title": "x"}]}',
    ],
    ids=[
        "empty",
        "blank",
        "html",
        "vtt",
        "xml",
        "png",
        "bad-bytes",
        "truncated",
        "list",
        "null",
        "string",
        "no-chapters",
        "chapters-object",
        "chapters-string",
        "nested-100k",
        "5000-digit-number",
    ],
)
def test_non_chapters_files_raise_a_typed_error(content: bytes) -> None:
    with pytest.raises(ChaptersError) as caught:
        parse_chapters(content)
    # The feeds package's edge: callers that catch ParseError (or FeedError) catch this too.
    assert isinstance(caught.value, ParseError)


def test_hostile_titles_stay_text_and_are_clipped() -> None:
    script = "<script>alert('chapter')</script><img src=x onerror=alert(1)>"
    content = _file(
        {"startTime": 0, "title": script},
        {"startTime": 1, "title": "Tab\tand\nnew\u2028line\x00 with\x07 controls"},
        {"startTime": 2, "title": "é" * 10_000},
    )
    first, second, third = parse_chapters(content)
    # Escaping is the page's job: the parser keeps the text as the publisher wrote it.
    assert first.title == script
    assert second.title == "Tab and new line with controls"
    assert len(third.title) == MAX_TITLE and third.title.endswith("…")


def test_links_are_http_only_and_resolved_against_the_file() -> None:
    content = _file(
        {"startTime": 0, "title": "a", "url": "javascript:alert(1)", "img": "data:image/png;base64,AAAA"},
        {"startTime": 1, "title": "b", "url": "notes.html#b", "img": "/art/b.jpg"},
        {"startTime": 2, "title": "c", "url": "file:///etc/passwd", "img": 7},
        {"startTime": 3, "title": "d", "url": "https://x.org/" + "a" * 5000, "img": "http://[::1"},
        {"startTime": 4, "title": "e", "url": " HTTPS://Example.org/e "},
    )
    links = [(c.url, c.img) for c in parse_chapters(content, "https://cdn.example/show/ep1/chapters.json")]
    assert links == [
        (None, None),
        ("https://cdn.example/show/ep1/notes.html#b", "https://cdn.example/art/b.jpg"),
        (None, None),
        (None, None),
        ("https://Example.org/e", None),
    ]


def test_count_is_capped_after_sorting() -> None:
    many = [{"startTime": 10_000 - i, "title": f"c{i}"} for i in range(5_000)]
    chapters = parse_chapters(_file(*many))
    assert len(chapters) == MAX_CHAPTERS
    assert chapters[0].start == 10_000 - 4_999  # the earliest ones, whatever their order in the file


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_json_encodings_rfc_8259_allows(encoding: str) -> None:
    text = json.dumps(
        {"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Entrée en matière"}]}, ensure_ascii=False
    )
    assert [c.title for c in parse_chapters(text.encode(encoding))] == ["Entrée en matière"]
