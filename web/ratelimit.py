"""A per-client token bucket, in memory, for the search proxy."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBucket:
    """`burst` requests at once, refilled at `rate` per second, per client key.

    >>> b = TokenBucket(burst=2, rate=1.0, clock=lambda: 0.0)
    >>> b.take("a"), b.take("a"), b.take("a") > 0, b.take("b")
    (0.0, 0.0, True, 0.0)
    """

    def __init__(
        self, burst: int, rate: float, max_clients: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst, self.rate, self.max_clients, self.clock = burst, rate, max_clients, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token: 0.0 when allowed, else seconds until the next token."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            self._buckets[key] = (tokens - 1 if wait == 0.0 else tokens, now)
            # Forget the least recently seen clients so memory stays bounded.
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            return wait
