"""Editor tools beyond one episode: find and replace, people, vocabulary, reader suggestions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from archive import public, store
from archive.editorial import accounts, find_replace, people, suggestions, vocabulary
from archive.editorial.workflow import EditConflict, EditError
from web import index_now
from web.context import archive

bp = Blueprint("editor_tools", __name__, url_prefix="/editor")


@bp.before_request
@login_required  # type: ignore[untyped-decorator]  # Flask-Login is untyped
def _logged_in() -> None:
    """Every page here needs an editor."""


def _query(source) -> find_replace.Query:  # type: ignore[no-untyped-def]
    return find_replace.Query(
        find=source.get("find", "")[:200],
        replacement=source.get("replacement", "")[:200],
        whole_word=source.get("whole_word") == "1",
        case_sensitive=source.get("case_sensitive") == "1",
    )


@bp.get("/replace")
def replace_preview():  # type: ignore[no-untyped-def]
    """Every passage a replacement would change, before anything is saved."""
    query = _query(request.args)
    plans = None
    if query.find.strip():
        with archive().db.session() as s:
            plans = find_replace.preview(s, query)
    return render_template("editor/replace.html", query=query, plans=plans)


@bp.post("/replace")
def replace_apply():  # type: ignore[no-untyped-def]
    """Apply the previewed replacement: one revision per episode."""
    query = _query(request.form)
    expected: dict[int, int] = {}
    for item in request.form.getlist("expect"):
        eid, _, base = item.partition(":")
        if not eid.isdigit() or not base.isdigit():
            abort(400)
        expected[int(eid)] = int(base)
    with archive().db.session() as s:
        try:
            saved = find_replace.apply(s, query, expected, accounts.get_user(s, current_user.id))
        except EditConflict as exc:
            flash(str(exc))
            return redirect(
                url_for(
                    "editor_tools.replace_preview",
                    find=query.find,
                    replacement=query.replacement,
                    whole_word="1" if query.whole_word else "",
                    case_sensitive="1" if query.case_sensitive else "",
                )
            )
        except EditError:
            abort(400)
    # Drafts: what readers read and search changes only when each episode is published.
    flash(
        f"Replaced in {len(saved)} episodes (one draft revision each); "
        "readers and the search see them once each episode is published."
    )
    return redirect(url_for("editor.queue"))


@bp.get("/people")
def people_directory():  # type: ignore[no-untyped-def]
    """Hosts and guests credited by the feeds (podcast:person)."""
    with archive().db.session() as s:
        directory = people.directory(s)
    return render_template("editor/people.html", people=directory)


@bp.get("/shows/<int:feed_id>/vocabulary")
def vocab(feed_id: int):  # type: ignore[no-untyped-def]
    """A show's names and terms, given to the model for new transcriptions."""
    with archive().db.session() as s:
        feed = public.show(s, feed_id)
        if feed is None:
            abort(404)
        terms = vocabulary.feed_terms(s, feed_id)
        title, publish = feed.title or feed.url, feed.publishes_transcripts
    prompt = vocabulary.vocabulary_prompt(terms) or ""
    return render_template(
        "editor/vocabulary.html", feed_id=feed_id, title=title, terms=terms, publish=publish, prompt=prompt
    )


@bp.post("/shows/<int:feed_id>/vocabulary")
def vocab_change(feed_id: int):  # type: ignore[no-untyped-def]
    """Add or remove terms; `back` returns to the editor page the term came from."""
    add = [t for t in request.form.getlist("add") if t.strip()]
    remove = request.form.getlist("remove")
    with archive().db.session() as s:
        try:
            added = vocabulary.add_terms(s, feed_id, [t[:255] for t in add]) if add else 0
        except vocabulary.VocabularyError:
            abort(404)
        removed = vocabulary.remove_terms(s, feed_id, remove) if remove else 0
    flash(f"{added} term(s) added, {removed} removed.")
    back = request.form.get("back", type=int)
    if back:
        return redirect(url_for("editor.episode", episode_id=back))
    return redirect(url_for("editor_tools.vocab", feed_id=feed_id))


@bp.post("/shows/<int:feed_id>/publishing")
def show_publishing(feed_id: int):  # type: ignore[no-untyped-def]
    """Admins only: whether this show's machine transcripts are public before review."""
    if not current_user.is_admin:
        abort(403)
    publish = request.form.get("publish") == "1"
    with archive().db.session() as s:
        if public.show(s, feed_id) is None:
            abort(404)
        changed = store.set_feed_publishing(s, feed_id, publish)
        episode_ids = [e.id for e in public.show_episodes(s, feed_id, limit=changed)] if changed else []
    if episode_ids:
        words = "now searchable" if publish else "gone from the search"
        flash(f"Machine transcripts {'published' if publish else 'withdrawn'}; {index_now.apply(episode_ids, words)}.")
    return redirect(url_for("editor_tools.vocab", feed_id=feed_id))


@bp.get("/suggestions")
def suggestion_list():  # type: ignore[no-untyped-def]
    """Readers' suggested corrections not yet handled."""
    with archive().db.session() as s:
        rows = suggestions.open_suggestions(s)
        titles = {}
        for r in rows:
            ep = public.episode(s, r.episode_id)
            titles[r.episode_id] = ep.title if ep else ""
    return render_template("editor/suggestions.html", rows=rows, titles=titles)


@bp.post("/suggestions/<int:suggestion_id>")
def suggestion_handle(suggestion_id: int):  # type: ignore[no-untyped-def]
    """Apply a suggestion as a revision of its passage, or dismiss it; a changed passage goes back to the editor."""
    action = request.form.get("action")
    back = bool(request.form.get("back"))
    with archive().db.session() as s:
        try:
            if action == "apply":
                # `over`: the editor saw the conflict with that revision and chose the reader's text.
                result = suggestions.apply(s, suggestion_id, _author(s), over=request.form.get("over", type=int))
            else:
                row = suggestions.set_status(s, suggestion_id, "dismissed")
                result = suggestions.Applied(row.episode_id, None)
        except EditConflict as exc:  # another revision was saved while this one was being made
            flash(f"Nothing was saved: {exc}. Look at the suggestion again.")
            return redirect(url_for("editor_tools.suggestion_list"))
        except (suggestions.SuggestionError, EditError):
            abort(404)
        if isinstance(result, suggestions.Conflict):
            ep = public.episode(s, result.suggestion.episode_id)
            page = render_template(
                "editor/suggestion_conflict.html", conflict=result, title=ep.title if ep else "", back=back
            )
            return page, 409
    if action != "apply":
        flash("Suggestion dismissed.")
    elif result.number is None:
        flash("The passage already says that; suggestion marked applied.")
    else:
        flash(
            f"Suggestion applied as revision {result.number} (a draft): "
            "readers and the search see it once the episode is published."
        )
    if back:
        return redirect(url_for("editor.episode", episode_id=result.episode_id))
    return redirect(url_for("editor_tools.suggestion_list"))


def _author(session) -> accounts.User | None:  # type: ignore[no-untyped-def]
    return accounts.get_user(session, current_user.id)
