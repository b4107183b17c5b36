"""httpx client whose connections obey the SSRF guard and a hard deadline."""

from __future__ import annotations

import functools
import socket
import ssl
import time
import typing

import httpcore
import httpx

from .errors import BlockedURL
from .guard import FetchPolicy, is_allowed_private, is_public_address


class DeadlineStream(httpcore.NetworkStream):
    """Network stream whose every read and write ends by an absolute deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def _clamp(self, timeout: float | None) -> float:
        # Per-read timeouts alone let a server trickle one byte a second forever.
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("deadline exceeded")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read at most max_bytes, giving up at the deadline."""
        return self._inner.read(max_bytes, self._clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write buffer, giving up at the deadline."""
        self._inner.write(buffer, self._clamp(timeout))

    def close(self) -> None:
        """Close the underlying stream."""
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        """Upgrade to TLS (SNI from the URL's hostname), keeping the deadline."""
        tls = self._inner.start_tls(ssl_context, server_hostname, self._clamp(timeout))
        return DeadlineStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        """Pass through to the underlying stream."""
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
    """httpcore backend that resolves once and connects only to checked addresses."""

    def __init__(self, policy: FetchPolicy, deadline: float) -> None:
        self._policy = policy
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Resolve host, drop non-public addresses, connect to a survivor by IP."""
        errors: list[str] = []
        for ip in self._addresses(host, port):
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise httpcore.ConnectTimeout("deadline exceeded")
            wait = left if timeout is None else min(timeout, left)
            # Connecting to the IP we checked (not the name) closes the DNS
            # rebinding window; httpcore still sends the hostname for SNI.
            try:
                stream = super().connect_tcp(ip, port, wait, local_address, socket_options)
            except httpcore.ConnectError as exc:
                errors.append(f"{ip}: {exc}")
                continue
            return DeadlineStream(stream, self._deadline)
        raise httpcore.ConnectError(f"could not connect to {host}:{port}: {errors}")

    def _addresses(self, host: str, port: int) -> list[str]:
        """Resolved addresses of host that the policy lets us connect to."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        ips = list(dict.fromkeys(str(info[4][0]) for info in infos))
        # The port too: allowing a LAN feed's host:port must not open that host's other services.
        if is_allowed_private(host, port, self._policy):
            return ips
        allowed = [ip for ip in ips if is_public_address(ip)]
        if not allowed:
            raise BlockedURL(f"{host} resolves only to non-public addresses {ips}")
        return allowed


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle takes ~25 ms of
    CPU under the GIL, which serialised concurrent polls (bench/poll_bench.py)."""
    return httpx.create_ssl_context()


def guarded_client(policy: FetchPolicy, deadline: float) -> httpx.Client:
    """A one-shot httpx client: guarded connects, no redirects, no env proxies."""
    context = _ssl_context()
    transport = httpx.HTTPTransport(retries=0, verify=context)
    # httpx has no public hook for the network backend, so swap its pool for one
    # built on ours (httpcore's documented extension point).
    transport._pool = httpcore.ConnectionPool(
        ssl_context=context,
        network_backend=GuardedBackend(policy, deadline),
        retries=0,
    )
    timeout = httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout, pool=policy.connect_timeout)
    return httpx.Client(
        transport=transport,
        # trust_env=False: an HTTP(S)_PROXY would connect for us and bypass the guard.
        trust_env=False,
        follow_redirects=False,
        timeout=timeout,
        # Only encodings we decode ourselves under the byte cap.
        headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"},
    )
