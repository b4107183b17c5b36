"""podarchive: settings, database, pipeline stages, search index and CLI."""
