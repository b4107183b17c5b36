"""The editors' area: review queue, passage-by-passage editor, speakers, history, publishing."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from archive import public, store
from archive.editorial import accounts, review_queue, revisions, suggestions, voices
from archive.editorial import workflow as editing
from archive.editorial.revisions import LOW_CONFIDENCE
from archive.editorial.workflow import EditConflict, EditError
from web import index_now
from web.context import archive

bp = Blueprint("editor", __name__, url_prefix="/editor")
MAX_TEXT = 5000


@bp.before_request
@login_required  # type: ignore[untyped-decorator]  # Flask-Login is untyped
def _logged_in() -> None:
    """Every page here needs an editor (login_required returns the redirect when not)."""


def _author(session) -> accounts.User | None:  # type: ignore[no-untyped-def]
    return accounts.get_user(session, current_user.id)


def _int(name: str) -> int:
    value = request.form.get(name, type=int)
    if value is None:
        abort(400)
    return value


def _field(name: str, limit: int = 255) -> str | None:
    value = request.form.get(name)
    return None if value is None else value[:limit]


def _conflict(episode_id: int, exc: Exception):  # type: ignore[no-untyped-def]
    return render_template("editor/conflict.html", episode_id=episode_id, message=str(exc)), 409


@bp.get("/")
def queue():  # type: ignore[no-untyped-def]
    """Transcripts waiting for review, riskiest first."""
    with archive().db.session() as s:
        items = review_queue.queue(s)
        waiting = len(suggestions.open_suggestions(s))
    return render_template("editor/queue.html", items=items, waiting=waiting)


@bp.get("/episodes/<int:episode_id>")
def episode(episode_id: int):  # type: ignore[no-untyped-def]
    """The transcript passage by passage, each with its play button and an edit form."""
    with archive().db.session() as s:
        ep = public.episode(s, episode_id)
        if ep is None:
            abort(404)
        try:
            copy = editing.working_copy(s, episode_id)
        except EditError:
            abort(404)
        machine = store.newest_transcript(s, episode_id, words=True)
        newer = editing.newer_machine_text(s, copy)
        stats = {seg.position: seg for seg in machine.segments} if machine else {}
        risky = {
            pos
            for pos, seg in stats.items()
            if seg.flags
            or (seg.avg_logprob or 0) < review_queue.LOW_LOGPROB
            or (seg.no_speech_prob or 0) > review_queue.HIGH_NO_SPEECH
        }
        people = [name for name, _role in public.episode_people(s, episode_id)]
        open_suggestions = suggestions.open_suggestions(s, episode_id)
        has_audio = ep.has_audio
        known = voices.voice_states(s, copy.transcript_id)
        show = public.show(s, ep.feed_id)
        title, feed_id, feed_title = ep.title, ep.feed_id, show.title if show else ""
    names = sorted({*people, *(sp for sp, _n in revisions.speakers(copy.snapshot) if sp)}, key=str.casefold)
    return render_template(
        "editor/episode.html",
        episode_id=episode_id,
        title=title,
        feed_id=feed_id,
        feed_title=feed_title,
        copy=copy,
        risky=risky,
        has_audio=has_audio,
        names=names,
        low=LOW_CONFIDENCE,
        newer=newer,
        speakers=revisions.speakers(copy.snapshot),
        voices=known,
        shown={v.label: v for v in known if v.status in (voices.RECOGNISED, voices.CONFIRMED) and v.name},
        suggestions=open_suggestions,
        added=request.args.get("added", type=int),
        added_terms=request.args.get("terms", ""),
    )


@bp.post("/episodes/<int:episode_id>/passages/<int:position>")
def save_passage(episode_id: int, position: int):  # type: ignore[no-untyped-def]
    """Save one passage's text and speaker as a new revision."""
    text = _field("text", MAX_TEXT)
    speaker = _field("speaker")
    base = _int("base")
    with archive().db.session() as s:
        try:
            before = editing.working_copy(s, episode_id)
            old = next((p for p in before.snapshot if p.position == position), None)
            if old is None:
                abort(404)
            rev = editing.edit_passage(
                s,
                episode_id,
                position,
                base,
                _author(s),
                text=text if text is not None else None,
                speaker=speaker if speaker is not None else False,
            )
        except EditConflict as exc:
            return _conflict(episode_id, exc)
        except EditError:
            abort(404)
    args: dict[str, Any] = {"episode_id": episode_id, "_anchor": f"p-{position}"}
    if rev is not None and text is not None:
        inserted = [
            t.strip(".,;:!?…«»“”\"'()")
            for tag, t in revisions.word_ops(old.text, revisions.clean_text(text))
            if tag == "insert"
        ]
        if inserted:
            # Offer the new words as vocabulary terms: a corrected name is usually one the model will miss again.
            args.update(added=position, terms=" ".join(inserted)[:255])
    return redirect(url_for("editor.episode", **args))


@bp.post("/episodes/<int:episode_id>/speakers")
def rename_speaker(episode_id: int):  # type: ignore[no-untyped-def]
    """Every passage of one speaker renamed at once."""
    old = request.form.get("old", "")[:255] or None
    new = (_field("new") or "").strip() or None
    base = _int("base")
    with archive().db.session() as s:
        try:
            rev = editing.rename_speaker(s, episode_id, old, new, base, _author(s))
        except EditConflict as exc:
            return _conflict(episode_id, exc)
        except EditError:
            abort(404)
    flash(f"Renamed {old or 'unnamed'} to {new or 'unnamed'}." if rev else "Nothing to rename.")
    return redirect(url_for("editor.episode", episode_id=episode_id))


@bp.post("/episodes/<int:episode_id>/publish")
def publish(episode_id: int):  # type: ignore[no-untyped-def]
    """Publish the newest revision."""
    with archive().db.session() as s:
        try:
            rev = editing.publish(s, episode_id, _author(s), request.form.get("base", type=int))
        except EditConflict as exc:
            return _conflict(episode_id, exc)
        except EditError:
            abort(404)
        number = rev.number
    # Committed with its outbox row; now the index itself, so readers find it without waiting for ingest.
    flash(f"Published revision {number}; {index_now.apply([episode_id], 'now searchable')}.")
    return redirect(url_for("editor.episode", episode_id=episode_id))


@bp.post("/episodes/<int:episode_id>/unpublish")
def unpublish(episode_id: int):  # type: ignore[no-untyped-def]
    """Withdraw the transcript from the public index."""
    with archive().db.session() as s:
        try:
            editing.unpublish(s, episode_id, _author(s))
        except EditError:
            abort(404)
    flash(f"Unpublished; {index_now.apply([episode_id], 'gone from the search')}.")
    return redirect(url_for("editor.episode", episode_id=episode_id))


@bp.get("/episodes/<int:episode_id>/history")
def history(episode_id: int):  # type: ignore[no-untyped-def]
    """Every revision with who, when, why and what changed against the one before."""
    with archive().db.session() as s:
        try:
            copy = editing.working_copy(s, episode_id)
        except EditError:
            abort(404)
        entries = editing.history(s, episode_id)
        ep = public.episode(s, episode_id)
        title = ep.title if ep else ""
    return render_template("editor/history.html", episode_id=episode_id, title=title, copy=copy, entries=entries)


@bp.post("/episodes/<int:episode_id>/revert/<int:number>")
def revert(episode_id: int, number: int):  # type: ignore[no-untyped-def]
    """A new revision with an older revision's text (0: the machine transcript)."""
    with archive().db.session() as s:
        try:
            rev = editing.revert(s, episode_id, number, _author(s))
        except EditError:
            abort(404)
    flash(f"Reverted to revision {number}." if rev else f"Already the same as revision {number}.")
    return redirect(url_for("editor.history", episode_id=episode_id))


@bp.post("/episodes/<int:episode_id>/voices/confirm")
def confirm_voice(episode_id: int):  # type: ignore[no-untyped-def]
    """The recognised person is right: the label keeps the name, reviewed, and the print learns from it."""
    label = _field("label", 32) or ""
    with archive().db.session() as s:
        try:
            changed = voices.confirm(s, episode_id, label)
        except voices.VoiceError:
            abort(404)
    flash(f"Confirmed {label}; {index_now.apply(changed, 'readers see it reviewed')}.")
    return redirect(url_for("editor.episode", episode_id=episode_id, _anchor="speakers-h"))


@bp.post("/episodes/<int:episode_id>/voices/reject")
def reject_voice(episode_id: int):  # type: ignore[no-untyped-def]
    """Not this person: the label is shown again and the print does not learn from it."""
    label = _field("label", 32) or ""
    with archive().db.session() as s:
        try:
            changed = voices.reject(s, episode_id, label)
        except voices.VoiceError:
            abort(404)
    flash(f"{label} is nobody known again; {index_now.apply(changed, 'readers see the label')}.")
    return redirect(url_for("editor.episode", episode_id=episode_id, _anchor="speakers-h"))


@bp.get("/shows/<int:feed_id>/voices")
def known_voices(feed_id: int):  # type: ignore[no-untyped-def]
    """A show's known voices: who, how much speech, in how many episodes; each can be forgotten."""
    with archive().db.session() as s:
        show = public.show(s, feed_id)
        if show is None:
            abort(404)
        items = voices.known_voices(s, feed_id)
    return render_template("editor/voices.html", feed_id=feed_id, title=show.title, voices=items)


@bp.post("/shows/<int:feed_id>/voices/<int:voice_id>/forget")
def forget_voice(feed_id: int, voice_id: int):  # type: ignore[no-untyped-def]
    """Delete a voice print: unreviewed recognitions withdrawn, names editors gave kept."""
    with archive().db.session() as s:
        try:
            changed = voices.forget(s, feed_id, voice_id)
        except voices.VoiceError:
            abort(404)
    done = index_now.apply(changed, "readers see the labels again") if changed else "no recognition to withdraw"
    flash(f"Voice print forgotten; {len(changed)} episodes lose an unreviewed recognition; {done}.")
    return redirect(url_for("editor.known_voices", feed_id=feed_id))
