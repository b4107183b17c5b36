"""Known voices end to end: real speech through the real worker (Whisper base, CAM++), named on the editor's
page, recognised in the next episode of the show, on its page, in its exports and in the search index."""

from __future__ import annotations

import os

# Must precede any huggingface_hub import: it reads the flag once, and tests never download.
os.environ["HF_HUB_OFFLINE"] = "1"

import re
import wave
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from archive import store
from archive.config import Settings
from archive.context import Archive
from archive.editorial import accounts
from archive.ingest import run_stages
from archive.store.schema import EpisodeVoice, Feed, ShowVoice, Transcript
from tests.conftest import rss
from tests.editor_site import PASSWORD, csrf_of, login
from transcribe.diarization_eval import VOICES, Interview, compose, levelled, split_at_pauses
from transcribe.diarize import decode
from transcribe.voice_model import default_model_path
from web import create_app

pytestmark = [pytest.mark.db, pytest.mark.slow]

AUDIO = Path(__file__).parent / "data" / "audio"
MARIE = "Marie Tremblay"


@pytest.fixture(scope="module")
def episodes() -> dict[str, Interview]:
    """Three interviews of one show, fr-001 (the host) in each: with fr-002, then with fr-003, then with en-001."""
    assert default_model_path().is_file(), "speaker model missing: run ./dev setup"
    rec = {v: levelled(decode(AUDIO / VOICES[v])) for v in ("fr-001", "fr-002", "fr-003", "en-001")}
    half = len(rec["fr-001"]) // 2
    host_first, host_second = split_at_pauses(rec["fr-001"][:half], 2), split_at_pauses(rec["fr-001"][half:], 2)

    def with_guest(host: list[np.ndarray], guest: str) -> list[tuple[str, np.ndarray]]:
        other = split_at_pauses(rec[guest], 2)
        return [("fr-001", host[0]), (guest, other[0]), ("fr-001", host[1]), (guest, other[1])]

    return {
        "ep-1": compose("ep-1", with_guest(host_first, "fr-002"), [0.8, 1.0]),
        "ep-2": compose("ep-2", with_guest(host_second, "fr-003"), [0.7, 1.1]),
        "ep-3": compose("ep-3", with_guest(host_second, "en-001"), [0.9, 0.6]),
    }


def _wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


class Show:
    """One feed on a loopback server; each call to `publish` adds an episode and ingests it."""

    def __init__(self, settings: Settings, http_root: tuple[Path, str], built: dict[str, Interview]) -> None:
        self.settings, self.built = settings, built
        self.root, self.base = http_root
        self.archive = Archive(settings)
        self.items: list[dict[str, str]] = []
        with self.archive.db.session() as s:
            self.feed_id = store.add_feed(s, f"{self.base}/feed.xml", "fr").id
            accounts.add_user(s, "ed@example.org", PASSWORD, role="editor", name="Ed Itor")

    def publish(self, guid: str) -> int:
        _wav(self.root / f"{guid}.wav", self.built[guid].samples)
        day = 2 + len(self.items)
        self.items.append(
            {
                "title": guid,
                "guid": guid,
                "url": f"{self.base}/{guid}.wav",
                "date": f"Mon, {day:02d} Nov 2026 09:00:00 +0000",
            }
        )
        (self.root / "feed.xml").write_text(rss("Entrevues", self.items))
        with self.archive.db.session() as s:
            feed = s.get(Feed, self.feed_id)
            assert feed is not None
            feed.next_poll_at = feed.etag = feed.last_modified = None  # due now, fetched in full
        reports = run_stages(self.archive, ("poll", "download", "transcribe", "index"))
        assert all(r.failed == 0 for r in reports), [r.notes for r in reports]
        with self.archive.db.session() as s:
            return int(s.scalars(select(store.Episode.id).where(store.Episode.guid == guid)).one())

    def voices(self, episode_id: int) -> dict[str, tuple[str | None, str | None]]:
        with self.archive.db.session() as s:
            tid = s.scalars(select(Transcript.id).where(Transcript.episode_id == episode_id)).one()
            rows = s.scalars(select(EpisodeVoice).where(EpisodeVoice.transcript_id == tid))
            return {v.label: (v.status, v.name) for v in rows}

    def word_of(self, episode_id: int, label: str) -> str:
        """The longest word the voice `label` says in the episode, to search for."""
        with self.archive.db.session() as s:
            tid = s.scalars(select(Transcript.id).where(Transcript.episode_id == episode_id)).one()
            texts = s.scalars(
                select(store.Segment.text).where(store.Segment.transcript_id == tid, store.Segment.speaker == label)
            )
            return max((w.strip(".,;:!?«»") for t in texts for w in t.split()), key=len)

    def host_label(self, guid: str, episode_id: int) -> str:
        """The label the diarizer gave fr-001 in an episode: the one with most of its speech."""
        turns = [t for t in self.built[guid].turns if t.speaker == "fr-001"]
        with self.archive.db.session() as s:
            tid = s.scalars(select(Transcript.id).where(Transcript.episode_id == episode_id)).one()
            segments = s.scalars(select(store.Segment).where(store.Segment.transcript_id == tid))
            time: dict[str, float] = {}
            for seg in segments:
                overlap = sum(max(0.0, min(seg.end, t.end) - max(seg.start, t.start)) for t in turns)
                time[seg.speaker or ""] = time.get(seg.speaker or "", 0.0) + overlap
        return max(time, key=lambda k: time[k])


def _post(client, path: str, **data: str):  # type: ignore[no-untyped-def]
    page = client.get("/editor/").get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_of(page), **data})


def test_a_named_host_is_recognised_in_the_next_episodes(make_settings, http_root, episodes) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(secret_key="k", model="base")
    show = Show(settings, http_root, episodes)
    client = create_app(settings).test_client()
    assert login(client).status_code == 302

    # Episode 1: the editor names the host's label on the editor page.
    first = show.publish("ep-1")
    host = show.host_label("ep-1", first)
    assert set(show.voices(first)) == {"Speaker 1", "Speaker 2"}
    renamed = _post(client, f"/editor/episodes/{first}/speakers", old=host, new=MARIE, base="0")
    assert renamed.status_code == 302
    assert show.voices(first)[host] == ("named", MARIE)
    with show.archive.db.session() as s:
        assert [v.name for v in s.scalars(select(ShowVoice))] == [MARIE]

    # Episode 2, with no editing: the host is recognised, marked as not yet reviewed.
    second = show.publish("ep-2")
    label = show.host_label("ep-2", second)
    assert show.voices(second)[label] == ("recognised", MARIE)
    # Two voices, and the guest is nobody known.
    assert len(show.voices(second)) == 2 and [n for st, n in show.voices(second).values() if st] == [MARIE]
    page = client.get(f"/episodes/{second}").get_data(as_text=True)
    assert re.search(rf'class="speaker recognised"[^>]*>{MARIE} <small class="recognised-mark">', page)
    assert f'<span class="speaker">{label}</span>' not in page
    english = client.get(f"/episodes/{second}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    french = client.get(f"/episodes/{second}", headers={"Accept-Language": "fr-CA"}).get_data(as_text=True)
    assert "(recognised by voice)" in english and "(reconnu à la voix)" in french
    vtt = client.get(f"/episodes/{second}/transcript.vtt").get_data(as_text=True)
    assert f"<v {MARIE}>" in vtt and f"<v {label}>" not in vtt
    said = show.word_of(second, label)
    found = client.get("/api/search", query_string={"q": said, "episode": second, "speaker": MARIE}).get_json()
    assert found["passages"] and {p["speaker"] for p in found["passages"]} == {MARIE}
    api = client.get(f"/api/episodes/{second}/transcript").get_json()["passages"]
    assert {(p["speaker"], p["speaker_recognised"]) for p in api} == {(MARIE, True), ("Speaker 2", False)}
    editor_page = client.get(f"/editor/episodes/{second}").get_data(as_text=True)
    assert "recognised, not yet reviewed (similarity 0." in editor_page

    # The editor confirms: the mark is gone, the name stays, the print learns.
    before = _seconds(show)
    assert _post(client, f"/editor/episodes/{second}/voices/confirm", label=label).status_code == 302
    assert show.voices(second)[label] == ("confirmed", MARIE)
    assert _seconds(show) > before
    page = client.get(f"/episodes/{second}").get_data(as_text=True)
    assert "recognised-mark" not in page and f">{MARIE}</a>" in page
    api = client.get(f"/api/episodes/{second}/transcript").get_json()["passages"]
    assert {(p["speaker"], p["speaker_recognised"]) for p in api if p["speaker"] == MARIE} == {(MARIE, False)}

    # Episode 3 is recognised too; forgetting the print withdraws only that unreviewed recognition.
    third = show.publish("ep-3")
    third_label = show.host_label("ep-3", third)
    assert show.voices(third)[third_label] == ("recognised", MARIE) and len(show.voices(third)) == 2
    said = show.word_of(third, third_label)
    found = client.get("/api/search", query_string={"q": said, "episode": third, "speaker": MARIE}).get_json()
    assert found["passages"]
    # Episode 1's naming is published: readers see it as the editor wrote it.
    assert _post(client, f"/editor/episodes/{first}/publish", base="1").status_code == 302
    listing = client.get(f"/editor/shows/{show.feed_id}/voices").get_data(as_text=True)
    assert MARIE in listing and "Forget this voice print" in listing
    with show.archive.db.session() as s:
        voice_id = s.scalars(select(ShowVoice.id)).one()
    assert _post(client, f"/editor/shows/{show.feed_id}/voices/{voice_id}/forget").status_code == 302
    assert [st for st, _ in show.voices(third).values()] == [None, None]
    assert MARIE not in client.get(f"/episodes/{third}").get_data(as_text=True)
    found = client.get("/api/search", query_string={"q": said, "episode": third, "speaker": MARIE}).get_json()
    assert found["passages"] == []
    assert show.voices(first)[host] == ("named", MARIE) and show.voices(second)[label] == ("confirmed", MARIE)
    assert f">{MARIE}</a>" in client.get(f"/episodes/{second}").get_data(as_text=True)
    assert f">{MARIE}</a>" in client.get(f"/episodes/{first}").get_data(as_text=True)


def _seconds(show: Show) -> float:
    with show.archive.db.session() as s:
        return float(s.scalars(select(ShowVoice.seconds)).one())
