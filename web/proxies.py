"""Behind a reverse proxy: the client's address from X-Forwarded-For, only from proxies the settings trust."""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import TYPE_CHECKING

from flask import Flask
from werkzeug.http import parse_list_header
from werkzeug.middleware.proxy_fix import ProxyFix

from archive.config import Settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

Network = IPv4Network | IPv6Network


def _trusted(value: str | None, networks: tuple[Network, ...]) -> bool:
    try:
        address = ip_address((value or "").strip())
    except ValueError:
        return False
    return any(address in net for net in networks)


class TrustedAddresses:
    """ProxyFix for proxies known by address: X-Forwarded-For counts only when the peer is one of them.

    Each listed proxy found at the right end of the header is one more hop to believe, so a
    chain (a CDN, then nginx) gives the address the first proxy saw; whatever a client wrote
    into the header itself is left of that and never believed.
    """

    def __init__(self, app: WSGIApplication, networks: Iterable[Network]) -> None:
        self.app = app
        self.networks = tuple(networks)
        self._fixes: dict[int, ProxyFix] = {}

    def hops(self, environ: WSGIEnvironment) -> int:
        """How many X-Forwarded-For values to believe for this request (0: none)."""
        if not _trusted(environ.get("REMOTE_ADDR"), self.networks):
            return 0
        values = parse_list_header(environ.get("HTTP_X_FORWARDED_FOR", ""))
        hops = 1
        while hops < len(values) and _trusted(values[-hops], self.networks):
            hops += 1
        return hops

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        hops = self.hops(environ)
        if not hops:
            return self.app(environ, start_response)
        fix = self._fixes.get(hops) or self._fixes.setdefault(hops, ProxyFix(self.app, x_for=hops, x_proto=1))
        return fix(environ, start_response)


def install(app: Flask, settings: Settings) -> None:
    """Wrap the app so request.remote_addr (and the scheme) are the client's, as far as the settings trust."""
    if settings.proxy_hops:
        # The nearest proxy sets X-Forwarded-Proto (nginx: proxy_set_header ... $scheme).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=1)  # type: ignore[method-assign]
    elif settings.proxy_networks:
        app.wsgi_app = TrustedAddresses(app.wsgi_app, settings.proxy_networks)  # type: ignore[method-assign]
