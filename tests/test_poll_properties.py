"""Property tests for the identity pieces the poll stage leans on: URL normaliser, duration parser."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds import entry_identity, normalise_enclosure_url, parse_duration

pytestmark = pytest.mark.fast

label = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
hosts = st.builds(lambda a, b: f"{a}.{b}", label, st.sampled_from(["com", "org", "fm", "net"]))
paths = st.lists(label, min_size=1, max_size=4).map(lambda parts: "/".join(parts) + ".mp3")
params = st.lists(st.tuples(label, label), max_size=3, unique_by=lambda kv: kv[0]).map(
    lambda kvs: [(k if not k.startswith("utm") else "k" + k, v) for k, v in kvs]
)
prefixes = st.sampled_from(
    [
        "dts.podtrac.com/redirect.mp3/",
        "www.podtrac.com/pts/redirect.mp3/",
        "chtbl.com/track/AB12C/",
        "op3.dev/e/",
        "pdst.fm/e/",
        "op3.dev/e,pg=abc/",
    ]
)


def url_of(host: str, path: str, query: list[tuple[str, str]], scheme: str = "https") -> str:
    q = "&".join(f"{k}={v}" for k, v in query)
    return f"{scheme}://{host}/{path}" + (f"?{q}" if q else "")


@settings(max_examples=200, deadline=None)
@given(hosts, paths, params, st.lists(prefixes, max_size=3), st.sampled_from(["http", "https"]))
def test_tracking_prefixes_never_change_identity(
    host: str, path: str, query: list[tuple[str, str]], chain: list[str], scheme: str
) -> None:
    plain = url_of(host, path, query, scheme)
    tracked = f"{scheme}://" + "".join(chain) + plain.split("://", 1)[1]
    assert normalise_enclosure_url(tracked) == normalise_enclosure_url(plain)
    assert entry_identity(None, tracked, None, "t", None) == entry_identity("", plain, "x", "t", None)


@settings(max_examples=200, deadline=None)
@given(hosts, paths, params, st.lists(st.sampled_from(["utm_source", "utm_medium", "fbclid", "gclid"]), max_size=3))
def test_volatile_parameters_and_fragments_are_ignored(
    host: str, path: str, query: list[tuple[str, str]], volatile: list[str]
) -> None:
    plain = url_of(host, path, query)
    noisy = url_of(host.upper(), path, query + [(v, "x") for v in volatile]) + "#t=30"
    assert normalise_enclosure_url(noisy) == normalise_enclosure_url(plain)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_normaliser_is_idempotent_and_total(text: str) -> None:
    once = normalise_enclosure_url(text)
    assert normalise_enclosure_url(once) == once


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 99), st.integers(0, 59), st.integers(0, 59), st.integers(0, 99))
def test_clock_durations_round_trip(h: int, m: int, s: int, hundredths: int) -> None:
    assert parse_duration(f"{h}:{m:02d}:{s:02d}") == h * 3600 + m * 60 + s
    # Float seconds: equal to within float rounding (4 + 0.56 is 4.5600000000000005).
    assert parse_duration(f"{h:02d}:{m:02d}:{s:02d}.{hundredths:02d}") == pytest.approx(
        h * 3600 + m * 60 + s + hundredths / 100, abs=1e-9
    )
    assert parse_duration(f"{m}:{s:02d}") == m * 60 + s
    assert parse_duration(str(h * 3600 + m * 60 + s)) == h * 3600 + m * 60 + s


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=30))
def test_duration_parser_never_raises_and_never_goes_negative(text: str) -> None:
    value = parse_duration(text)
    assert value is None or (value >= 0 and math.isfinite(value))
