"""Editors' work: revisions, publishing, speakers, find and replace, review queue, suggestions, accounts, vocabulary."""
