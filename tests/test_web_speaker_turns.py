"""Machine speaker labels everywhere readers look: the episode page, the exports, search, the lists of people."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from archive import public
from archive.context import Archive
from archive.ingest import run_stages
from tests.web_corpus import build, transcript
from web import create_app

pytestmark = pytest.mark.db

ITEMS = [{"title": "Entrevue sur la forêt", "guid": "ep-1", "date": "Mon, 09 Nov 2026 09:00:00 -0500"}]
TEXTS = [
    ("Speaker 1", "Bonjour et bienvenue à l'émission."),
    ("Speaker 2", "Merci de me recevoir, c'est un plaisir."),
    ("Speaker 2", "La forêt boréale couvre une grande partie du Québec."),
    ("Speaker 1", "Parlons de la coupe forestière."),
]


@pytest.fixture
def site(make_settings):  # type: ignore[no-untyped-def]
    settings = make_settings(secret_key="k", model="base")
    ids = build(settings, ITEMS, {"ep-1": transcript(TEXTS, step=5.0)})
    return settings, create_app(settings).test_client(), ids["ep-1"]


def test_the_episode_page_shows_turns_with_a_colour_per_voice(site) -> None:  # type: ignore[no-untyped-def]
    _, client, episode = site
    html = client.get(f"/episodes/{episode}").get_data(as_text=True)
    classes = re.findall(r'<li id="p-(\d)" class="passage([^"]*)"', html)
    assert classes == [("0", " voice-1 turn"), ("1", " voice-2 turn"), ("2", " voice-2"), ("3", " voice-1 turn")]
    # A machine label is a voice of this episode, not a person with a page.
    assert html.count('<span class="speaker">Speaker 1</span>') == 2
    assert "/speakers/Speaker" not in html
    assert client.get("/speakers/Speaker%201").status_code == 404


def test_the_exports_carry_the_labels(site) -> None:  # type: ignore[no-untyped-def]
    _, client, episode = site
    vtt = client.get(f"/episodes/{episode}/transcript.vtt").get_data(as_text=True)
    assert vtt.count("<v Speaker 1>") == 2 and vtt.count("<v Speaker 2>") == 2
    data = json.loads(client.get(f"/episodes/{episode}/transcript.json").get_data(as_text=True))
    segments = data["segments"] if isinstance(data, dict) else data
    assert [s["speaker"] for s in segments] == [t[0] for t in TEXTS]
    text = client.get(f"/episodes/{episode}/transcript.txt").get_data(as_text=True)
    assert [p.split(":")[0] for p in text.strip().split("\n\n")] == ["Speaker 1", "Speaker 2", "Speaker 1"]
    api = client.get(f"/api/episodes/{episode}/transcript").get_json()
    assert [p["speaker"] for p in api["passages"]] == [t[0] for t in TEXTS]


def test_labels_are_not_people(site) -> None:  # type: ignore[no-untyped-def]
    """Lists of voices (home page, list_speakers, the index's guests) hold people, never "Speaker 1"."""
    settings, client, episode = site
    archive = Archive(settings)
    with archive.db.session() as s:
        assert public.speakers(s) == []
        assert public.speaker_episodes(s, "Speaker 1") == []
        assert public.episode_guests(s, episode, public.public_text(s, episode)) == ()
    assert client.get("/api/speakers").get_json()["speakers"] == []


def test_search_filters_by_speaker_and_shows_it(site) -> None:  # type: ignore[no-untyped-def]
    settings, client, episode = site
    reports = run_stages(Archive(settings), ("index",))
    assert reports[0].failed == 0, reports[0].notes
    every = client.get("/api/search", query_string={"q": "forêt", "episode": episode}).get_json()
    # Every hit names its passage's own speaker (search by meaning may add passages beyond the keyword ones).
    hits = {p["position"]: p["speaker"] for p in every["passages"]}
    assert {2, 3} <= set(hits) and all(hits[n] == TEXTS[n][0] for n in hits)
    only = client.get("/api/search", query_string={"q": "forêt", "episode": episode, "speaker": "Speaker 1"})
    mine = {p["position"]: p["speaker"] for p in only.get_json()["passages"]}
    assert 3 in mine and set(mine.values()) == {"Speaker 1"} and not {1, 2} & set(mine)
    html = client.get("/search", query_string={"q": "boréale"}).get_data(as_text=True)
    assert "· Speaker 2</span>" in html


def test_the_site_loads_no_speaker_model_code() -> None:
    """Speaker code must not bring onnxruntime or Whisper into the site's processes (bench/worker_memory.py)."""
    names = "('onnxruntime', 'faster_whisper')"
    code = f"import sys, web; print(sorted(m for m in {names} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
