"""The database: connection, schema, migrations, and the rows of each table family; nothing else writes SQL.

Callers use the functions re-exported here (`store.add_feed`, `store.save_transcript`, ...);
each lives in the module of its table family.
"""

from __future__ import annotations

from archive.store.chapters import episodes_needing_chapters, record_chapters_error, save_chapters
from archive.store.database import Database
from archive.store.episodes import (
    EpisodeState,
    audio_to_prune,
    clear_episode_error,
    episode_counts,
    episode_states,
    episodes_needing_download,
    episodes_needing_transcript,
    get_episode,
    record_episode_error,
    resumable_downloads,
    save_audio,
)
from archive.store.errors import StoreError
from archive.store.feed_entries import record_feed_parsed
from archive.store.outbox import (
    all_episode_ids,
    complete_index_work,
    fail_index_work,
    outbox_size,
    pending_index_work,
    queue_feed_episodes,
    set_feed_publishing,
)
from archive.store.retry import backoff, now
from archive.store.reviews import IN_REVIEW, MACHINE, PUBLISHED, STATES, UNPUBLISHED, review_states
from archive.store.schema import (
    AudioFile,
    Episode,
    EpisodeChapter,
    EpisodePerson,
    EpisodeTranscriptLink,
    Feed,
    IndexOutbox,
    Segment,
    Transcript,
    Word,
    utcnow,
)
from archive.store.stage_runs import finish_stage_run, start_stage_run
from archive.store.subscriptions import (
    FEED_ACTIVE,
    FEED_GONE,
    FeedHealth,
    add_feed,
    feed_episodes,
    feed_health,
    feeds_due,
    flagged_episodes,
    list_feeds,
    move_feed,
    poll_soon,
    record_feed_error,
    record_feed_gone,
    record_feed_unchanged,
)
from archive.store.transcripts import newest_transcript, newest_transcript_ids, save_transcript

__all__ = [
    "FEED_ACTIVE",
    "FEED_GONE",
    "IN_REVIEW",
    "MACHINE",
    "PUBLISHED",
    "STATES",
    "UNPUBLISHED",
    "review_states",
    "AudioFile",
    "Database",
    "Episode",
    "EpisodeChapter",
    "EpisodePerson",
    "EpisodeState",
    "EpisodeTranscriptLink",
    "Feed",
    "FeedHealth",
    "IndexOutbox",
    "Segment",
    "StoreError",
    "Transcript",
    "Word",
    "add_feed",
    "all_episode_ids",
    "audio_to_prune",
    "backoff",
    "clear_episode_error",
    "complete_index_work",
    "episode_counts",
    "episode_states",
    "episodes_needing_chapters",
    "episodes_needing_download",
    "episodes_needing_transcript",
    "fail_index_work",
    "feed_episodes",
    "feed_health",
    "feeds_due",
    "finish_stage_run",
    "flagged_episodes",
    "get_episode",
    "list_feeds",
    "move_feed",
    "newest_transcript",
    "newest_transcript_ids",
    "now",
    "outbox_size",
    "pending_index_work",
    "poll_soon",
    "queue_feed_episodes",
    "record_chapters_error",
    "record_episode_error",
    "record_feed_error",
    "record_feed_gone",
    "record_feed_parsed",
    "record_feed_unchanged",
    "resumable_downloads",
    "save_audio",
    "save_chapters",
    "save_transcript",
    "set_feed_publishing",
    "start_stage_run",
    "utcnow",
]
