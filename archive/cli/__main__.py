"""`python -m archive.cli`: the `podarchive` command."""

from archive.cli import main

main()
