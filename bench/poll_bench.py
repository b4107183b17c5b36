"""Benchmark (not a test): poll 1,000 loopback feeds, 90 % answering 304, through the real poll stage.

    .venv/bin/python bench/poll_bench.py [--feeds 1000] [--workers 16] [--latency-ms 50]

Prints the wall time of a first poll (every feed 200, parsed and stored) and of a
second poll (validators sent; 90 % answer 304), the maximum number of requests
the server saw in flight at once, and the request count. The server runs in its
own process so it does not share the poller's GIL.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive import store  # noqa: E402
from archive.config import load_settings  # noqa: E402
from archive.context import Archive  # noqa: E402
from archive.ingest import poll_feeds  # noqa: E402


def feed_body(n: int) -> bytes:
    items = "".join(
        f"<item><title>Episode {i} of show {n}</title><guid>show{n}-ep{i}</guid>"
        f"<pubDate>Mon, 0{1 + i % 9} Nov 2026 09:00:00 +0000</pubDate>"
        f'<enclosure url="https://cdn.example.org/{n}/{i}.mp3" type="audio/mpeg" length="1000"/></item>'
        for i in range(10)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Show {n}</title>'
        f"<link>https://example.org/{n}</link><description>bench</description>{items}</channel></rss>"
    ).encode()


def run_server(
    port_out: Synchronized,
    in_flight_max: Synchronized,
    requests: Synchronized,
    ready: threading.Event,
    latency: float,
) -> None:
    lock = threading.Lock()
    state = {"now": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:  # noqa: N802
            with lock:
                state["now"] += 1
                requests.value += 1
                in_flight_max.value = max(in_flight_max.value, state["now"])
            try:
                # A real host is tens of milliseconds away; loopback is not.
                time.sleep(latency)
                n = int(self.path.rsplit("/", 1)[1])
                etag = f'"{n}"'
                # Feeds whose number ends in 0 changed (200 every time); the rest are unchanged.
                if n % 10 != 0 and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = feed_body(n)
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            finally:
                with lock:
                    state["now"] -= 1

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    server = Server(("127.0.0.1", 0), Handler)
    port_out.value = server.server_address[1]
    ready.set()  # type: ignore[attr-defined]
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=0, help="Server think time per request.")
    args = parser.parse_args()

    port, peak, count = mp.Value("i", 0), mp.Value("i", 0), mp.Value("i", 0)
    ready = mp.Event()
    proc = mp.Process(target=run_server, args=(port, peak, count, ready, args.latency_ms / 1000), daemon=True)
    proc.start()
    ready.wait(10)
    base = f"http://127.0.0.1:{port.value}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(
                environ={}, data_dir=Path(tmp), allow_private_hosts="127.0.0.1:*", poll_workers=args.workers
            )
            archive = Archive(settings)
            with archive.db.session() as s:
                for n in range(args.feeds):
                    store.add_feed(s, f"{base}/feed/{n}", None)
            for label in ("first poll (all 200, parse + store)", "second poll (90 % 304)"):
                with archive.db.session() as s:
                    store.poll_soon(s)
                peak.value = count.value = 0
                started = time.perf_counter()
                report = poll_feeds(archive)
                wall = time.perf_counter() - started
                print(
                    f"{label}: {wall:.2f} s wall, {report.done} ok, {report.failed} failed, "
                    f"{count.value} requests, max {peak.value} in flight, workers {args.workers}, "
                    f"latency {args.latency_ms:g} ms"
                )
            with archive.db.session() as s:
                print(f"episodes stored: {store.episode_counts(s)['episodes']}")
    finally:
        proc.terminate()
        proc.join(5)


if __name__ == "__main__":
    main()
