"""PODARCHIVE_TIMEZONE: the site dates episodes in the archive's zone, not in UTC."""

from __future__ import annotations

import subprocess
import sys

import pytest

from archive.config import ConfigError, load_settings
from tests.conftest import run_cli, settings_env
from tests.web_corpus import build, transcript
from web import create_app

# 22:00 on 31 December in Montreal; already 1 January in UTC.
NEW_YEAR = {"title": "Bilan de l'année", "guid": "ny", "date": "Thu, 01 Jan 2026 03:00:00 +0000"}


@pytest.mark.parametrize(
    ("zone", "en", "fr", "iso"),
    [
        ("America/Toronto", "December 31, 2025", "31 décembre 2025", "2025-12-31"),
        ("UTC", "January 1, 2026", "1 janvier 2026", "2026-01-01"),
    ],
)
def test_dates_are_shown_in_the_site_time_zone(make_settings, zone, en, fr, iso):
    settings = make_settings(secret_key="k", timezone=zone)
    ids = build(settings, [NEW_YEAR], {"ny": transcript([(None, "Bonne année.")])})
    client = create_app(settings).test_client()
    for path in ("/", f"/episodes/{ids['ny']}", "/shows/1"):
        english = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
        french = client.get(path, headers={"Accept-Language": "fr-CA"}).get_data(as_text=True)
        assert f'<time datetime="{iso}">{en}</time>' in english, path
        assert f'<time datetime="{iso}">{fr}</time>' in french, path


def test_the_default_is_the_first_archives_zone_and_unknown_names_are_refused():
    assert load_settings(environ={}).timezone == "America/Toronto"
    assert load_settings(environ={"PODARCHIVE_TIMEZONE": "Europe/Paris"}).tzinfo.key == "Europe/Paris"
    for bad in ("Mars/Olympus_Mons", "america/toronto", "", "../../etc/passwd", "/etc/localtime", "EST5EDT "):
        with pytest.raises(ConfigError, match="PODARCHIVE_TIMEZONE"):
            load_settings(environ={"PODARCHIVE_TIMEZONE": bad})


def test_config_prints_the_zone_and_refuses_a_bad_one(make_settings):
    settings = make_settings(timezone="America/Vancouver")
    shown = run_cli(settings, "config", timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "timezone = America/Vancouver" in shown.stdout.splitlines()
    env = settings_env(settings) | {"PODARCHIVE_TIMEZONE": "Mars/Olympus_Mons"}
    refused = subprocess.run(
        [sys.executable, "-m", "archive.cli", "config"], env=env, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 2 and "Mars/Olympus_Mons" in refused.stderr, refused
