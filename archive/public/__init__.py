"""What readers may see: the one visibility rule, and the read models every output is built from.

Pages, the search index, outgoing feeds, transcript downloads, the JSON API and the MCP
server call these; none of them reads rows or decides visibility on its own.
"""

from __future__ import annotations

from archive.public.episodes import (
    AudioView,
    ChapterView,
    EpisodeCard,
    EpisodeView,
    episode,
    episode_audio,
    episode_chapters,
    episode_people,
    latest_interviews,
    recent_episodes,
    show_episodes,
)
from archive.public.index_documents import (
    archive_mean,
    episode_entry,
    episode_guests,
    index_documents,
    mean_vector,
    public_passages,
    vector_keys,
)
from archive.public.outgoing import FeedItem, feed_items
from archive.public.shows import ShowCard, ShowView, show, shows
from archive.public.speakers import is_machine_label, speaker_episodes, speakers
from archive.public.transcripts import (
    FORMATS,
    PassageView,
    TranscriptView,
    WordView,
    episode_transcript,
    export,
    transcript_passages,
    transcript_result,
    transcript_view,
)
from archive.public.visibility import PublicText, public_text, public_texts, visible_texts

__all__ = [
    "FORMATS",
    "AudioView",
    "ChapterView",
    "EpisodeCard",
    "EpisodeView",
    "FeedItem",
    "PassageView",
    "PublicText",
    "ShowCard",
    "ShowView",
    "TranscriptView",
    "WordView",
    "archive_mean",
    "episode",
    "episode_audio",
    "episode_chapters",
    "episode_entry",
    "episode_guests",
    "episode_people",
    "episode_transcript",
    "export",
    "index_documents",
    "feed_items",
    "latest_interviews",
    "mean_vector",
    "public_passages",
    "public_text",
    "public_texts",
    "recent_episodes",
    "show",
    "show_episodes",
    "shows",
    "is_machine_label",
    "speaker_episodes",
    "speakers",
    "transcript_passages",
    "transcript_result",
    "transcript_view",
    "vector_keys",
    "visible_texts",
]
