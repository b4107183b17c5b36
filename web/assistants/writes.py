"""The editors' MCP tools: watch a feed, queue an episode, correct a passage; each call proves its token again."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict

from archive.context import Archive
from archive.editorial import tokens
from archive.editorial import workflow as editing
from archive.editorial.accounts import User
from archive.operations import intake
from web.assistants.server import Calls, EpisodeId, allow
from web.converters import MAX_ID

WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
_DOCUMENTED = ConfigDict(use_attribute_docstrings=True)


@with_config(_DOCUMENTED)
class FeedWatched(TypedDict):
    """A feed the archive watches."""

    show_id: int
    url: str
    added: bool
    """False when the archive already watched it."""
    note: str


@with_config(_DOCUMENTED)
class EpisodeQueued(TypedDict):
    """What the next ingest run does with the episode."""

    episode_id: int
    stage: str | None
    """download, transcribe, or none (nothing to do)."""
    note: str


@with_config(_DOCUMENTED)
class PassageCorrected(TypedDict):
    """A correction saved as the episode's next revision (a draft until an editor publishes it)."""

    episode_id: int
    position: int
    revision: int | None
    """The revision saved; none when the passage already read so."""
    text: str
    speaker: str | None
    note: str


def editor(user: User | None) -> User:
    """The enabled editor a token opened (tokens.token_user); a tool error for anyone else."""
    if user is None:
        raise ToolError("this tool needs a valid editor's API token (podarchive users token EMAIL)")
    return user


def register(server: MCPServer, archive: Archive, calls: Calls) -> None:
    """Add the write tools to a server whose connection came with an editor's token."""

    @server.tool(annotations=WRITE)
    def add_feed(
        url: Annotated[str, Field(description="The podcast's RSS or Atom feed address (http or https).")],
        ctx: Context,
        language: Annotated[str | None, Field(description="Its language for transcription, e.g. fr.")] = None,
    ) -> FeedWatched:
        """Watch a podcast feed: the next ingest run fetches it, then downloads and transcribes its episodes."""
        allow(calls, ctx)
        with archive.db.session() as s:
            editor(tokens.token_user(s, calls.token(ctx)))
            try:
                feed_id, added = intake.watch_feed(archive, s, url, language)
            except intake.IntakeError as exc:
                raise ToolError(str(exc)) from exc
        note = "watched from the next ingest run" if added else "already watched"
        return FeedWatched(show_id=feed_id, url=url.strip(), added=added, note=note)

    @server.tool(annotations=WRITE)
    def queue_episode(episode_id: EpisodeId, ctx: Context) -> EpisodeQueued:
        """Have the next ingest run download and transcribe an episode now, forgetting earlier failures."""
        allow(calls, ctx)
        with archive.db.session() as s:
            editor(tokens.token_user(s, calls.token(ctx)))
            try:
                queued = intake.queue_episode(s, episode_id)
            except intake.IntakeError as exc:
                raise ToolError(str(exc)) from exc
        return EpisodeQueued(episode_id=episode_id, stage=queued.stage, note=queued.note)

    @server.tool(annotations=WRITE)
    def correct_passage(
        episode_id: EpisodeId,
        position: Annotated[
            int, Field(ge=0, le=MAX_ID, description="The passage's position, as get_transcript gives it.")
        ],
        ctx: Context,
        text: Annotated[str | None, Field(description="The corrected text (omit to keep it).")] = None,
        speaker: Annotated[str | None, Field(description="Who speaks ('' for nobody named; omit to keep).")] = None,
        base_revision: Annotated[
            int | None,
            Field(
                ge=0,
                le=MAX_ID,
                description="The revision the correction was made on (0: the machine text); default: the newest.",
            ),
        ] = None,
    ) -> PassageCorrected:
        """Correct one passage's text or speaker as a new revision; readers see it once an editor publishes."""
        allow(calls, ctx)
        if text is None and speaker is None:
            raise ToolError("give the corrected text, the speaker, or both")
        with archive.db.session() as s:
            author = editor(tokens.token_user(s, calls.token(ctx)))
            try:
                base = base_revision if base_revision is not None else editing.working_copy(s, episode_id).number
                rev = editing.edit_passage(
                    s, episode_id, position, base, author, text=text, speaker=False if speaker is None else speaker
                )
                after = next(p for p in editing.working_copy(s, episode_id).snapshot if p.position == position)
            except editing.EditError as exc:
                raise ToolError(str(exc)) from exc
        note = "saved as a draft revision: publish it in the editor area" if rev else "nothing changed"
        return PassageCorrected(
            episode_id=episode_id,
            position=position,
            revision=rev.number if rev else None,
            text=after.text,
            speaker=after.speaker,
            note=note,
        )
