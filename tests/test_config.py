"""Settings parsing: values are checked once, at load."""

from __future__ import annotations

import pytest

from archive.config import ConfigError, load_settings

pytestmark = pytest.mark.fast


def test_switch_languages_are_lower_cased_codes(tmp_path):
    settings = load_settings(environ={"PODARCHIVE_SWITCH_LANGUAGES": "FR, en"}, data_dir=tmp_path)
    assert settings.switch_languages == frozenset({"fr", "en"})
    off = load_settings(environ={"PODARCHIVE_SWITCH_LANGUAGES": ""}, data_dir=tmp_path)
    assert off.switch_languages == frozenset()


@pytest.mark.parametrize("value", ["french", "fr-CA", "e1"])
def test_switch_languages_refuse_what_is_not_a_code(tmp_path, value):
    with pytest.raises(ConfigError, match="SWITCH_LANGUAGES"):
        load_settings(environ={"PODARCHIVE_SWITCH_LANGUAGES": value}, data_dir=tmp_path)
