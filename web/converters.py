"""URL converters: ids bounded to what the database stores, names kept to one path segment."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Flask
from werkzeug.routing import IntegerConverter, Map, PathConverter

# Ids are INTEGER columns: 32-bit signed on PostgreSQL (64-bit on SQLite, but an archive
# may move between the two), so a larger number is no id at all, and never reaches a query.
MAX_ID = 2**31 - 1


def up_to(bound: int) -> str:
    """A regular expression for the decimal numbers 0 to `bound`, leading zeros aside.

    >>> import re
    >>> [bool(re.fullmatch(up_to(305), str(n))) for n in (0, 9, 99, 299, 300, 305, 306, 310, 400, 1000)]
    [True, True, True, True, True, True, False, False, False, False]
    """
    digits = str(bound)
    # Fewer digits, or the same number of digits and smaller at the first place they differ.
    parts = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, d in enumerate(digits):
        if d != "0":
            rest = len(digits) - i - 1
            parts.append(digits[:i] + f"[0-{int(d) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    parts.append(digits)
    return "(?:" + "|".join(parts) + ")"


class IdConverter(IntegerConverter):
    """`<int:...>` for every route: 0 to 2^31-1, so a larger number is a 404, never an OverflowError or a DataError.

    >>> from werkzeug.routing import Map, Rule
    >>> urls = Map([Rule("/e/<int:n>", endpoint="e")], converters={"int": IdConverter}).bind("x")
    >>> urls.match(f"/e/{MAX_ID}")[1]["n"] == MAX_ID
    True
    >>> [urls.test(f"/e/{n}") for n in (2**31, 2**63, 10**19, "9" * 5000)]
    [False, False, False, False]
    """

    # In the pattern, not only in the `max` check: a number the pattern matches but the check
    # refuses makes werkzeug answer 405 where a route of another method has the same path;
    # and int() of a 5,000-digit string raises ValueError before any check.
    regex = up_to(MAX_ID)

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class NameConverter(PathConverter):
    """A name that may hold "/" (it matches several segments) but is built as one quoted segment.

    A voice called `../../editor/logout` must link to its own page, not to /editor/logout.

    >>> from werkzeug.routing import Map, Rule
    >>> urls = Map([Rule("/s/<name:n>", endpoint="s")], converters={"name": NameConverter}).bind("x")
    >>> urls.build("s", {"n": "../../editor/logout"})
    '/s/..%2F..%2Feditor%2Flogout'
    >>> urls.match("/s/AC/DC")[1]["n"]
    'AC/DC'
    """

    def to_url(self, value: Any) -> str:
        # "/" quoted too, so the name stays one segment. Only a name that is exactly "." or ".."
        # is still a dot segment (browsers read "%2e" as "." as well): it leads to /speakers/ or /,
        # plain pages, never to another route's action.
        return quote(str(value), safe="!$&'()*+,:;=@")


def register(app: Flask) -> None:
    """Install the converters; call before any blueprint is registered (rules are parsed then)."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["name"] = NameConverter
