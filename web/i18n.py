"""Languages: French (Canada) and English through Flask-Babel; catalogs compiled on start."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.units import format_unit
from flask import Blueprint, Flask, current_app, redirect, request
from flask_babel import Babel, format_date, get_locale

# The first is the fallback when nothing else decides: the archive's first home is French.
LOCALES = ("fr_CA", "en")
LABELS = {"fr_CA": "Français", "en": "English"}
COOKIE = "lang"
SOURCE = Path(__file__).parent / "translations"

bp = Blueprint("i18n", __name__)


def compile_catalogs(target: Path) -> Path:
    """Compile every shipped .po into target/<locale>/LC_MESSAGES/*.mo when missing or stale."""
    for po in SOURCE.glob("*/LC_MESSAGES/*.po"):
        mo = target / po.relative_to(SOURCE).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parts[-3])
        # One temporary file per process: gunicorn workers starting at once compile together,
        # and a shared name let one rename the file another was still writing (or had moved).
        tmp = mo.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog)
        tmp.replace(mo)  # atomic: two processes starting at once never read half a file
    return target


def normalise(code: str | None) -> str | None:
    """One of LOCALES for a language tag, or None.

    >>> normalise("fr-FR"), normalise("en_GB"), normalise("de"), normalise(None)
    ('fr_CA', 'en', None, None)
    """
    if not code:
        return None
    base = code.replace("-", "_").split("_")[0].lower()
    return next((loc for loc in LOCALES if loc.split("_")[0] == base), None)


def select_locale() -> str:
    """The reader's switch (cookie), then the site setting, then Accept-Language."""
    # The switch goes first: a site-wide setting would otherwise make it do nothing.
    chosen = normalise(request.cookies.get(COOKIE))
    if chosen:
        return chosen
    setting = normalise(current_app.extensions["podarchive"].settings.site_language)
    if setting:
        return setting
    for tag, _quality in request.accept_languages:
        found = normalise(tag)
        if found:
            return found
    # No stated preference at all (feed readers, curl, scripts): the source strings' language.
    if not request.accept_languages:
        return "en"
    return LOCALES[0]


def _safe_next(target: str | None) -> str:
    """A local path to go back to; anything else (other hosts, //evil) goes home."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"


@bp.get("/language/<code>")
def switch(code: str):  # type: ignore[no-untyped-def]
    """Remember the reader's language and go back to the page they were on."""
    response = redirect(_safe_next(request.args.get("next")), code=303)
    locale = normalise(code)
    if locale:
        response.set_cookie(COOKIE, locale, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


_NUMBER_UNIT_GAP = re.compile(r"(?<=\d)\s+|\s+(?=\d)")


def duration(seconds: float | None) -> str:
    """A length such as "1 h 5 min" / "1 hr 5 min" in the page's language."""
    if seconds is None:
        return ""
    return format_duration(seconds, str(get_locale() or LOCALES[0]))


def format_duration(seconds: float, locale: str) -> str:
    """Hours and minutes (seconds under a minute), a no-break space between number and unit.

    French typography keeps a number with its unit; the space is set here, whatever
    separator the CLDR data of the installed Babel uses.

    >>> format_duration(3900, "fr_CA")
    '1\\xa0h 5\\xa0min'
    >>> format_duration(3900, "en")
    '1\\xa0hr 5\\xa0min'
    >>> format_duration(42.4, "fr_CA")
    '42\\xa0s'
    """
    total = max(0, int(round(seconds)))
    hours, minutes = total // 3600, (total % 3600) // 60
    if not hours and not minutes:
        parts = [format_unit(total, "duration-second", length="short", locale=locale)]
    else:
        parts = []
        if hours:
            parts.append(format_unit(hours, "duration-hour", length="short", locale=locale))
        if minutes:
            parts.append(format_unit(minutes, "duration-minute", length="short", locale=locale))
    return " ".join(_NUMBER_UNIT_GAP.sub("\u00a0", part) for part in parts)


def local_time(value: datetime | int) -> datetime:
    """A stored moment (aware UTC, naive UTC or epoch seconds) in the site's time zone."""
    if isinstance(value, int):
        value = datetime.fromtimestamp(value, UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(current_app.extensions["podarchive"].settings.tzinfo)


def day(value: datetime | int | None, form: str = "long") -> str:
    """A date in the page's language and the site's time zone ("9 novembre 2026" / "November 9, 2026")."""
    if value is None:
        return ""
    # A date, not a datetime: Flask-Babel would rebase a datetime through pytz again.
    text: str = format_date(local_time(value).date(), form)  # Flask-Babel is untyped
    return text


def iso_day(value: datetime | int | None) -> str:
    """The same local date as YYYY-MM-DD, for <time datetime>."""
    return "" if value is None else local_time(value).date().isoformat()


def language_name(code: str | None) -> str:
    """A language code ("fr", "en-US") as its name in the page's language ("français")."""
    if not code:
        return ""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(str(get_locale() or LOCALES[0]))
    except (ValueError, TypeError, UnknownLocaleError):
        return code
    return name or code


def init(app: Flask, cache_dir: Path) -> None:
    """Install Babel, the switch route and the localised filters."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compile_catalogs(cache_dir / "translations"))
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    # For Flask-Babel's own datetime formatting; day() converts with the same zone itself.
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.extensions["podarchive"].settings.timezone
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.jinja_env.filters["duration"] = duration
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["iso_day"] = iso_day
    app.jinja_env.filters["language_name"] = language_name

    @app.context_processor
    def languages() -> dict[str, object]:
        current = str(get_locale() or LOCALES[0])
        return {"locale": current, "html_lang": current.replace("_", "-"), "locale_labels": LABELS}

    @app.after_request
    def vary(response):  # type: ignore[no-untyped-def]
        # Pages differ by the switch cookie and Accept-Language: shared caches must know.
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
        return response
