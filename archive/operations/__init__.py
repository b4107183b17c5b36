"""Operators' tools: status, doctor, backups, figures, stage-run records and show administration."""
