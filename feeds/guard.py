"""SSRF guard: which URLs and addresses podarchive may fetch from."""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import SplitResult, urlsplit

from .errors import BlockedURL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Spelled out rather than trusting ipaddress.is_global alone: its tables changed
# between Python patch releases (gh-113171), and multicast counts as "global" there.
_BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)
_BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "64:ff9b:1::/48",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# inet_aton spellings ("0x7f000001", "2130706433", "127.1") that resolvers accept.
_LEGACY_IPV4 = re.compile(r"^(?:0x[0-9a-f]+|[0-9]+)(?:\.(?:0x[0-9a-f]+|[0-9]+)){0,3}$", re.I)
_HOST_NAME = re.compile(r"^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?$")
# What a bare host in the allow-list opens: the ports a URL without one means.
DEFAULT_PORTS = (80, 443)


@dataclass(frozen=True)
class FetchPolicy:
    """Limits and identity for every outgoing request."""

    user_agent: str = "podarchive/0.1 (+https://github.com/podarchive)"
    connect_timeout: float = 10
    read_timeout: float = 30
    deadline: float = 120
    max_bytes: int = 50 * 1024 * 1024
    max_redirects: int = 8
    # Entries that may reach loopback or private addresses: "host:port", "host" (its
    # default ports 80 and 443 only) or "host:*" (every port; for tests).
    allow_private_hosts: frozenset[str] = field(default_factory=frozenset)


def is_public_address(ip: str | IPAddress) -> bool:
    """True when the address is globally routable unicast and safe to connect to.

    >>> is_public_address("93.184.216.34")
    True
    >>> is_public_address("127.0.0.1"), is_public_address("10.1.2.3")
    (False, False)
    >>> is_public_address("169.254.169.254"), is_public_address("100.64.0.1")
    (False, False)
    >>> is_public_address("224.0.0.1"), is_public_address("0.0.0.0")
    (False, False)
    >>> is_public_address("::1"), is_public_address("fd00::1"), is_public_address("fe80::1")
    (False, False, False)
    >>> is_public_address("::ffff:127.0.0.1"), is_public_address("::ffff:8.8.8.8")
    (False, True)
    >>> is_public_address("2002:7f00:1::"), is_public_address("64:ff9b::a9fe:a9fe")
    (False, False)
    >>> is_public_address("2001:0:4136:e378:8000:63bf:80ff:fffe")  # Teredo
    False
    >>> is_public_address("2606:4700:4700::1111")
    True
    >>> is_public_address("not an ip")
    False
    """
    try:
        addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.scope_id:
            return False
        embedded = _embedded_ipv4(addr)
        if embedded is not None:
            return is_public_address(embedded)
        if any(addr in net for net in _BLOCKED_V6):
            return False
    elif any(addr in net for net in _BLOCKED_V4):
        return False
    return addr.is_global and not (
        addr.is_multicast
        or addr.is_private
        or addr.is_reserved
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_unspecified
    )


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address tunnels to, if it is one of those forms."""
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


def url_parts(url: str) -> SplitResult:
    """url split into its parts when it is plain http(s) with a host and no credentials; raises BlockedURL."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise BlockedURL(f"malformed URL {url!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise BlockedURL(f"scheme {parts.scheme!r} not allowed: {url!r}")
    # Credentials in URLs leak into logs and let a feed steer our auth headers.
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise BlockedURL(f"credentials in URL not allowed: {url!r}")
    if not parts.hostname:
        raise BlockedURL(f"no host in URL {url!r}")
    return parts


def check_url(url: str, policy: FetchPolicy) -> None:
    """Refuse URLs that are not plain public http(s); raises BlockedURL."""
    parts = url_parts(url)
    host = parts.hostname or ""
    if is_allowed_private(host, parts.port or _default_port(parts.scheme), policy):
        return
    literal = _ip_literal(host)
    if literal is None:
        return  # a name: checked again at connect time, after resolution
    if not is_public_address(literal):
        raise BlockedURL(f"non-public address {host} in {url!r}")


def _ip_literal(host: str) -> IPAddress | None:
    """The address a host spells directly, legacy numeric IPv4 forms included."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _default_port(scheme: str) -> int:
    return 443 if scheme.lower() == "https" else 80


@lru_cache(maxsize=256)
def allowed_private_entry(entry: str) -> tuple[str, tuple[int, ...] | None]:
    """(host, ports) of one allow-list entry; ports None means every port. Raises ValueError.

    >>> allowed_private_entry("10.0.0.5:8080"), allowed_private_entry("NAS.lan")
    (('10.0.0.5', (8080,)), ('nas.lan', (80, 443)))
    >>> allowed_private_entry("[fd00::1]:8443"), allowed_private_entry("127.0.0.1:*")
    (('fd00::1', (8443,)), ('127.0.0.1', None))
    """
    text = entry.strip().lower()
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise ValueError("an IPv6 address goes in brackets: [fd00::1]:8080")
        port_text = rest[1:] if rest else ""
        if rest == ":":
            raise ValueError("no port after the colon")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        if not port_text:
            raise ValueError("no port after the colon")
    else:  # a name, an IPv4 address, or an IPv6 address without a port
        host, port_text = text, ""
    if not (_HOST_NAME.match(host) or _ip_literal(host) is not None):
        raise ValueError(f"{host!r} is not a host name or address")
    if not port_text:
        return host, DEFAULT_PORTS
    if port_text == "*":
        return host, None
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"port {port_text!r} is not a number from 1 to 65535 (or *)")
    return host, (int(port_text),)


def is_allowed_private(host: str, port: int, policy: FetchPolicy) -> bool:
    """True when the policy lets host:port reach non-public addresses (a LAN feed, tests).

    >>> p = FetchPolicy(allow_private_hosts=frozenset({"127.0.0.1:8765", "nas.lan"}))
    >>> is_allowed_private("127.0.0.1", 8765, p), is_allowed_private("127.0.0.1", 8766, p)
    (True, False)
    >>> is_allowed_private("NAS.lan", 443, p), is_allowed_private("nas.lan", 8080, p)
    (True, False)
    """
    host = host.lower().strip("[]")
    for entry in policy.allow_private_hosts:
        try:
            allowed_host, ports = allowed_private_entry(entry)
        except ValueError:
            continue  # load_settings refuses these; a hand-made policy just does not match
        if allowed_host == host and (ports is None or port in ports):
            return True
    return False
