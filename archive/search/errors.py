"""The search package's one error: every Meilisearch failure, whatever the client or the server raised."""

from __future__ import annotations


class SearchUnavailable(Exception):
    """Meilisearch cannot be reached, cannot be started, or refused the operation."""
