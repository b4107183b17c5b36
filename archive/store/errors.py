"""The store's own error: a request the database cannot honour."""

from __future__ import annotations


class StoreError(Exception):
    """A request the database cannot honour (duplicate, missing row)."""
