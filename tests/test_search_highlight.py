"""Safe highlighting: whatever the text, only <mark> tags come out, and the text survives."""

from __future__ import annotations

import html
import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.search import HL_POST, HL_PRE, Passage, SearchIndex, safe_highlight, strip_sentinels
from archive.search.server import Endpoint

NASTY = st.lists(
    st.sampled_from(list("<>&\"'/=ab é") + [HL_PRE, HL_POST, "<script>", "</mark>", "&amp;", "<mark>"]),
    max_size=30,
).map("".join)
TAG = re.compile(r"<[^>]*>")


def _check(formatted: str) -> None:
    out = safe_highlight(formatted)
    assert {t for t in TAG.findall(out)} <= {"<mark>", "</mark>"}
    assert html.unescape(out.replace("<mark>", "").replace("</mark>", "")) == strip_sentinels(formatted)


@given(st.lists(st.tuples(NASTY, st.booleans()), max_size=8))
def test_safe_highlight_emits_only_mark_tags(parts: list[tuple[str, bool]]) -> None:
    # Meilisearch's output shape: document text (sentinels stripped) with sentinel pairs around words.
    formatted = "".join(
        f"{HL_PRE}{strip_sentinels(t)}{HL_POST}" if marked else strip_sentinels(t) for t, marked in parts
    )
    _check(formatted)


@pytest.fixture(scope="module")
def index(meili: Endpoint) -> SearchIndex:
    return SearchIndex(meili, f"hl{uuid.uuid4().hex[:10]}")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(NASTY)
def test_real_meilisearch_highlight_is_safe(index: SearchIndex, noise: str) -> None:
    text = f'{noise} tigre {noise} <b>rugissement</b> & "lion" {noise}'
    passage = Passage(1, 1, 0, 0.0, 1.0, text, None, "fr", None, "t", "s")
    index.replace_episode(1, [passage])
    hits = index.search("tigre rugissement", limit=1).hits
    assert hits, text
    out = hits[0].html
    assert {t for t in TAG.findall(out)} <= {"<mark>", "</mark>"}
    assert "<mark>tigre</mark>" in out
    # Unescaped and unmarked, the highlight is the (cropped) document text.
    plain = html.unescape(out.replace("<mark>", "").replace("</mark>", ""))
    assert plain.replace("…", "").strip() in strip_sentinels(text)
