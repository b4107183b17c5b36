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


def test_transcribe_workers_default_to_one_and_share_the_threads(tmp_path):
    from archive.ingest.executor import LocalProcessExecutor, engine_options

    assert load_settings(environ={}, data_dir=tmp_path).transcribe_workers == 1
    settings = load_settings(
        environ={"PODARCHIVE_TRANSCRIBE_WORKERS": "3", "PODARCHIVE_THREADS": "8"}, data_dir=tmp_path
    )
    # No child starts before the first job: this builds the slots only.
    executor = LocalProcessExecutor(settings, engine_options(settings))
    assert (executor.workers, executor.options.threads, executor.capacity()) == (3, 2, 3)
    with pytest.raises(ConfigError, match="TRANSCRIBE_WORKERS"):
        load_settings(environ={"PODARCHIVE_TRANSCRIBE_WORKERS": "0"}, data_dir=tmp_path)
