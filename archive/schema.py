"""Database tables: the source of truth. Only archive/ imports this."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
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

    feed: Mapped[Feed] = relationship(back_populates="episodes")
    audio: Mapped[AudioFile | None] = relationship(back_populates="episode", uselist=False)
    transcripts: Mapped[list[Transcript]] = relationship(
        back_populates="episode", order_by="Transcript.version"
    )


class AudioFile(Base):
    __tablename__ = "audio_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), unique=True
    )
    # Relative to the audio store; always a name podarchive chose.
    path: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    duration: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    episode: Mapped[Episode] = relationship(back_populates="audio")


class Transcript(Base):
    """An immutable machine or publisher transcript; a new run makes a new version."""

    __tablename__ = "transcripts"
    __table_args__ = (UniqueConstraint("episode_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(255))
    origin: Mapped[str] = mapped_column(String(32))
    duration: Mapped[float] = mapped_column(Float)
    seconds_taken: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    episode: Mapped[Episode] = relationship(back_populates="transcripts")
    segments: Mapped[list[Segment]] = relationship(
        back_populates="transcript", order_by="Segment.position", cascade="all, delete-orphan"
    )


class Segment(Base):
    __tablename__ = "segments"
    __table_args__ = (Index("ix_segments_transcript_position", "transcript_id", "position"),)

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
