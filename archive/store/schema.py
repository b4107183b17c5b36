"""Database tables: the source of truth. Only archive/ imports this."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import DateTime, TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """Now, in UTC, aware."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Feed(Base):
    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(Text)
    description_html: Mapped[str] = mapped_column(Text, default="")
    image: Mapped[str | None] = mapped_column(Text)
    # The operator's choice; the feed's own <language> is only a hint.
    language: Mapped[str | None] = mapped_column(String(16))
    language_hint: Mapped[str | None] = mapped_column(String(32))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # "active", or "gone" after HTTP 410: never polled again until an operator says so.
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    # Transcribe with Whisper even when the publisher offers a transcript.
    prefer_asr: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Whether this show's transcripts go to the public search index (issue 5).
    publish_transcripts: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # How many voices this show's episodes have (1-6), given to the diarizer; None: estimated.
    speakers: Mapped[int | None] = mapped_column(Integer)

    episodes: Mapped[list[Episode]] = relationship(back_populates="feed")


class Episode(Base):
    __tablename__ = "episodes"
    __table_args__ = (UniqueConstraint("feed_id", "guid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    guid: Mapped[str] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    declared_duration: Mapped[float | None] = mapped_column(Float)
    enclosure_url: Mapped[str | None] = mapped_column(Text)
    enclosure_type: Mapped[str | None] = mapped_column(String(255))
    enclosure_length: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Errors are data: the stage that failed, how often, why, and when to try again.
    error_stage: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # For an operator: e.g. the feed moved a known guid to another enclosure. The
    # new URL waits in enclosure_conflict_url; the stored audio stays as it is.
    flag: Mapped[str | None] = mapped_column(Text)
    enclosure_conflict_url: Mapped[str | None] = mapped_column(Text)
    # podcast:chapters: the file the feed names, the one the stored chapters came from
    # (a new URL is fetched again), and that fetch's own errors: a broken chapters
    # file never counts against the episode's audio or transcript.
    chapters_url: Mapped[str | None] = mapped_column(Text)
    chapters_fetched_url: Mapped[str | None] = mapped_column(Text)
    chapters_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    chapters_error: Mapped[str | None] = mapped_column(Text)
    chapters_next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    feed: Mapped[Feed] = relationship(back_populates="episodes")
    audio: Mapped[AudioFile | None] = relationship(back_populates="episode", uselist=False)
    transcripts: Mapped[list[Transcript]] = relationship(back_populates="episode", order_by="Transcript.version")
    transcript_links: Mapped[list[EpisodeTranscriptLink]] = relationship(
        order_by="EpisodeTranscriptLink.id", cascade="all, delete-orphan"
    )
    people: Mapped[list[EpisodePerson]] = relationship(order_by="EpisodePerson.position", cascade="all, delete-orphan")
    chapters: Mapped[list[EpisodeChapter]] = relationship(
        order_by="EpisodeChapter.position", cascade="all, delete-orphan"
    )


class AudioFile(Base):
    __tablename__ = "audio_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), unique=True)
    # Relative to the audio store; always a name podarchive chose.
    path: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    duration: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the retention policy deleted the file; the transcript and its times stay.
    pruned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    episode: Mapped[Episode] = relationship(back_populates="audio")


class Transcript(Base):
    """An immutable machine or publisher transcript; a new run makes a new version."""

    __tablename__ = "transcripts"
    __table_args__ = (UniqueConstraint("episode_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(255))
    origin: Mapped[str] = mapped_column(String(32))
    duration: Mapped[float] = mapped_column(Float)
    seconds_taken: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Windows re-decoded with safer settings as suspected hallucinations or loops.
    reruns: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The show's vocabulary given to the model, as it was for this run.
    prompt: Mapped[str | None] = mapped_column(Text)
    # Where a publisher transcript came from (origin "publisher").
    source_url: Mapped[str | None] = mapped_column(Text)
    # The diarize step (store/voices.py): "labelled", "none" (no voice found), "failed"
    # (retried on a later run), "kept" (the publisher's own voices); None: not diarized.
    # Bookkeeping about the version, not its text: it changes; the segments never do.
    speakers_status: Mapped[str | None] = mapped_column(String(16))
    speakers_model: Mapped[str | None] = mapped_column(String(64))
    speakers_error: Mapped[str | None] = mapped_column(Text)
    speakers_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    speakers_next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    episode: Mapped[Episode] = relationship(back_populates="transcripts")
    segments: Mapped[list[Segment]] = relationship(
        back_populates="transcript", order_by="Segment.position", cascade="all, delete-orphan"
    )


class Segment(Base):
    __tablename__ = "segments"
    __table_args__ = (
        Index("ix_segments_transcript_position", "transcript_id", "position"),
        # Speaker pages look passages up by name ("every interview with X").
        Index("ix_segments_speaker", "speaker"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    speaker: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str | None] = mapped_column(String(16))
    avg_logprob: Mapped[float | None] = mapped_column(Float)
    no_speech_prob: Mapped[float | None] = mapped_column(Float)
    compression_ratio: Mapped[float | None] = mapped_column(Float)
    # What looked wrong ("compression", "repeat", "silence"), comma-separated; None if fine.
    flags: Mapped[str | None] = mapped_column(String(64))
    rerun: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    transcript: Mapped[Transcript] = relationship(back_populates="segments")
    words: Mapped[list[Word]] = relationship(
        back_populates="segment", order_by="Word.position", cascade="all, delete-orphan"
    )


class Word(Base):
    __tablename__ = "words"
    __table_args__ = (Index("ix_words_segment_position", "segment_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(String(255))
    probability: Mapped[float] = mapped_column(Float)

    segment: Mapped[Segment] = relationship(back_populates="words")


class IndexOutbox(Base):
    """Search-index work written in the same transaction as the change it mirrors."""

    __tablename__ = "index_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(Integer, index=True)
    # "upsert" rebuilds the episode's documents from the database; "delete" removes them.
    op: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StageRun(Base):
    """One run of one pipeline stage: for `podarchive status` and the admin plots."""

    __tablename__ = "stage_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage: Mapped[str] = mapped_column(String(32), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)


class FeedTerm(Base):
    """A name or term of a show (guest, place, brand) given to the model as vocabulary."""

    __tablename__ = "feed_terms"
    __table_args__ = (UniqueConstraint("feed_id", "term"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    term: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EpisodeTranscriptLink(Base):
    """A podcast:transcript the episode's feed entry offers."""

    __tablename__ = "episode_transcript_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    rel: Mapped[str | None] = mapped_column(String(32))


class EpisodePerson(Base):
    """A podcast:person the episode's feed entry credits (host, guest, ...)."""

    __tablename__ = "episode_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255), index=True)
    role: Mapped[str | None] = mapped_column(String(64))
    href: Mapped[str | None] = mapped_column(Text)


class EpisodeChapter(Base):
    """A visible chapter of the episode's JSON chapters file, in start order."""

    __tablename__ = "episode_chapters"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    title: Mapped[str] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(Text)
    img: Mapped[str | None] = mapped_column(Text)


class User(Base):
    """An editor or admin of the archive (issue 7)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="editor")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Part of the login cookie's identity: bumping it logs out every old session.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """An editor's API token for assistants and scripts (issue 18); only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # What the editor called it ("Claude Desktop", "laptop script").
    name: Mapped[str] = mapped_column(String(255), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Roughly (updated at most hourly): enough to spot a token nobody uses.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Revision(Base):
    """An editor's full snapshot of an episode's transcript; the machine transcript stays as it was."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("episode_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    # The machine transcript version this revision was made over.
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    # JSON: [{position, start, end, text, speaker, words: [[start, end, text, probability]]}]
    segments_json: Mapped[str] = mapped_column(Text)


class Review(Base):
    """An episode's review state: machine -> in_review -> published (-> unpublished)."""

    __tablename__ = "reviews"

    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="machine")
    published_revision_id: Mapped[int | None] = mapped_column(ForeignKey("revisions.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Suggestion(Base):
    """A reader's proposed correction of one passage; editors read it, nothing publishes it."""

    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    original: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # "open", "applied" or "dismissed".
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")


class PublishedSpeaker(Base):
    """A speaker named in an episode's published revision, for the public guest pages."""

    __tablename__ = "published_speakers"

    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class ShowVoice(Base):
    """A show's known voice: what a person an editor named sounds like (docs/speakers.md)."""

    __tablename__ = "show_voices"
    __table_args__ = (UniqueConstraint("feed_id", "name", "model"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    # Prints are comparable only between embeddings of one model (transcribe.voice_model.MODEL_ID).
    model: Mapped[str] = mapped_column(String(64))
    # The combined print of the episode voices behind it (EpisodeVoice.show_voice_id): float32 little-endian.
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    seconds: Mapped[float] = mapped_column(Float)
    # The episode whose naming made it first.
    source_episode_id: Mapped[int | None] = mapped_column(ForeignKey("episodes.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EpisodeVoice(Base):
    """One voice the diarizer found in a transcript version: its label, print and who it is, if known."""

    __tablename__ = "episode_voices"
    __table_args__ = (UniqueConstraint("transcript_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    seconds: Mapped[float] = mapped_column(Float)
    # Who it is: "recognised" (matched a show voice, not yet reviewed), "confirmed" (an
    # editor agreed), "named" (an editor named the label), "rejected"; None: unknown.
    status: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(255))
    similarity: Mapped[float | None] = mapped_column(Float)
    show_voice_id: Mapped[int | None] = mapped_column(ForeignKey("show_voices.id", ondelete="SET NULL"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PassageVector(Base):
    """A passage's vector for search by meaning, keyed by what was embedded: survives reindex and index swaps."""

    __tablename__ = "passage_vectors"

    # archive.search.embedder.text_hash(context, model_id): the model is part of the key.
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(255), index=True)
    dimensions: Mapped[int] = mapped_column(Integer)
    # Little-endian float32, L2-normalised: the same bytes on SQLite and PostgreSQL.
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EpisodeVectors(Base):
    """Whether an episode's public passages have their vectors, for which text and model; errors are data."""

    __tablename__ = "episode_vectors"

    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(255))
    # The public text these counts are about (archive.public.visibility): a new transcript
    # version or another published revision makes the row stale, and the embed stage looks again.
    transcript_id: Mapped[int] = mapped_column(Integer)
    revision_id: Mapped[int | None] = mapped_column(Integer)
    passages: Mapped[int] = mapped_column(Integer, default=0)
    missing: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginBucket(Base):
    """A log-in token bucket (issue 19): one per account and client, one per client; the key is a digest."""

    __tablename__ = "login_buckets"

    # sha256 of what the bucket counts: neither emails nor addresses are kept.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the bucket is full again, so the row means nothing and is deleted.
    full_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
