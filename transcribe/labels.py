"""Machine speaker labels ("Speaker 1", "Speaker 2", ...) and telling them from people's names.

Pure and dependency-free, so the site's processes can ask without loading any model.
"""

from __future__ import annotations

import re

# The most voices the diarize step tells apart in one episode (and the largest show hint).
MAX_SPEAKERS = 6

_LABEL = re.compile(r"Speaker ([1-9][0-9]?)")


def label(number: int) -> str:
    """The machine label of the number-th voice (0-based).

    >>> label(0), label(2)
    ('Speaker 1', 'Speaker 3')
    """
    return f"Speaker {number + 1}"


def label_number(name: str | None) -> int | None:
    """The voice number (1-based) of a machine label; None for a person's name.

    >>> label_number("Speaker 2"), label_number("Marie Tremblay"), label_number("SPEAKER_1"), label_number(None)
    (2, None, None, None)
    """
    match = _LABEL.fullmatch(name or "")
    return int(match.group(1)) if match else None


def is_label(name: str | None) -> bool:
    """Whether a speaker is a machine label rather than someone's name.

    >>> is_label("Speaker 12"), is_label("Speaker one")
    (True, False)
    """
    return label_number(name) is not None
