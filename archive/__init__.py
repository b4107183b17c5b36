"""podarchive's core: the database and every stage from a feed to a searchable page (docs/architecture.md)."""
