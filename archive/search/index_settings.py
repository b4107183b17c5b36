"""Meilisearch settings for the passage and episode indexes, kept in version control.

Measured against Meilisearch 1.21 (tests/test_search_french.py): its tokenizer
already splits French elisions on both ' and ’ (l'accident -> l, accident),
splits hyphenated words (peut-être, états-unis) and folds accents and œ/oe, so
no text rewriting is needed. What it does not do, we add here: the elided
particles as stop words (so "l'accident" does not also match every "l'usoc"),
digits <-> number words, and regional (Quebec) synonyms.
"""

from __future__ import annotations

from typing import Any

# The letters left in front of an apostrophe by French elision; alone they carry
# no meaning, and as query words they made "l'accident" match any "l'..." passage.
ELISION_STOP_WORDS = ["l", "d", "qu", "j", "s", "n", "c", "m", "t", "jusqu", "lorsqu", "puisqu"]

_UNITS_FR = [
    "zéro",
    "un",
    "deux",
    "trois",
    "quatre",
    "cinq",
    "six",
    "sept",
    "huit",
    "neuf",
    "dix",
    "onze",
    "douze",
    "treize",
    "quatorze",
    "quinze",
    "seize",
]
_TENS_FR = {20: "vingt", 30: "trente", 40: "quarante", 50: "cinquante", 60: "soixante"}
_UNITS_EN = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
_TENS_EN = {30: "thirty", 40: "forty", 50: "fifty", 60: "sixty", 70: "seventy", 80: "eighty", 90: "ninety"}


def french_number(n: int) -> str:
    """French words for 0-99 (1990 spelling, hyphens).

    >>> french_number(17), french_number(21), french_number(71), french_number(80), french_number(99)
    ('dix-sept', 'vingt-et-un', 'soixante-et-onze', 'quatre-vingts', 'quatre-vingt-dix-neuf')
    """
    if n <= 16:
        return _UNITS_FR[n]
    if n < 20:
        return f"dix-{_UNITS_FR[n - 10]}"
    if n < 70:
        tens, unit = divmod(n, 10)
        word = _TENS_FR[tens * 10]
        return word if unit == 0 else f"{word}-et-un" if unit == 1 else f"{word}-{_UNITS_FR[unit]}"
    if n < 80:
        rest = n - 60
        return f"soixante-et-{_UNITS_FR[rest]}" if rest == 11 else f"soixante-{french_number(rest)}"
    if n == 80:
        return "quatre-vingts"
    return f"quatre-vingt-{french_number(n - 80)}"


def number_synonyms() -> dict[str, list[str]]:
    """Digits <-> number words both ways: French 0-99, English 0-20 and the tens."""
    pairs = [(str(n), french_number(n)) for n in range(100)]
    pairs += [(str(n), _UNITS_EN[n]) for n in range(21)]
    pairs += [(str(n), w) for n, w in _TENS_EN.items()]
    synonyms: dict[str, list[str]] = {}
    for digits, words in pairs:
        synonyms.setdefault(digits, []).append(words)
        synonyms.setdefault(words, []).append(digits)
    # "un" and "one" are articles far more often than numbers: mapping them would
    # make every query with "un" also match every "1".
    for common in ("un", "one"):
        synonyms.pop(common, None)
        synonyms["1"] = [w for w in synonyms["1"] if w != common]
    return {k: sorted(set(v)) for k, v in synonyms.items() if v}


# Quebec French and France French, and loanwords, for the same thing. Edit freely:
# `ensure_settings` applies this on the next run and Meilisearch reindexes.
REGIONAL_SYNONYMS: dict[str, list[str]] = {
    "char": ["voiture", "auto"],
    "voiture": ["char", "auto"],
    "courriel": ["email", "mail"],
    "email": ["courriel"],
    "magasiner": ["shopping"],
    "fin de semaine": ["week-end"],
    "week-end": ["fin de semaine"],
    "dépanneur": ["épicerie"],
    "blonde": ["copine"],
    "chum": ["copain"],
    "cellulaire": ["portable"],
    "stationnement": ["parking"],
    "parking": ["stationnement"],
}


def synonyms() -> dict[str, list[str]]:
    """Every synonym the indexes use."""
    merged = number_synonyms()
    for word, alts in REGIONAL_SYNONYMS.items():
        merged[word] = sorted(set(merged.get(word, [])) | set(alts))
    return merged


_LOCALES = [{"attributePatterns": ["text", "next_text", "title", "description"], "locales": ["fra", "eng"]}]

PASSAGE_SETTINGS: dict[str, Any] = {
    # next_text (the next passage's first words) after text: a phrase across two passages
    # ranks the passage where it starts first, and a match in a passage's own words still
    # outranks the same match in the words that follow it (the attribute rule).
    "searchableAttributes": ["text", "next_text"],
    "displayedAttributes": ["*"],
    "filterableAttributes": ["episode_id", "feed_id", "show", "language", "year", "speaker"],
    "sortableAttributes": ["published", "start"],
    "rankingRules": ["words", "typo", "proximity", "attribute", "sort", "exactness", "published:desc"],
    "localizedAttributes": _LOCALES,
    "stopWords": ELISION_STOP_WORDS,
    "synonyms": synonyms(),
    # Defaults (1 typo from 5 letters, 2 from 9) measured best on the French corpus;
    # numbers stay exact so "1995" does not match "1996".
    "typoTolerance": {"enabled": True, "disableOnNumbers": True},
    "proximityPrecision": "byWord",
    "faceting": {"maxValuesPerFacet": 50},
    "pagination": {"maxTotalHits": 2000},
}

EPISODE_SETTINGS: dict[str, Any] = {
    # In ranking order: a guest's name outranks the same word in a show's title or notes.
    "searchableAttributes": ["title", "guests", "show", "description"],
    "displayedAttributes": ["*"],
    "filterableAttributes": ["episode_id", "feed_id", "show", "language", "year", "guests"],
    "sortableAttributes": ["published"],
    "localizedAttributes": _LOCALES,
    "stopWords": ELISION_STOP_WORDS,
    "synonyms": synonyms(),
    "typoTolerance": {"enabled": True, "disableOnNumbers": True},
}
