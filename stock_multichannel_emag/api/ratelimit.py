"""Client-side rate limits, shared by every client of one eMAG account in a process."""

import threading
import time
from collections import deque

# eMAG: order resources 12 requests per second, every other resource together 3 per
# second, per account. The window is a little wider than a second so that network
# jitter never lets the server count one request too many.
LIMITS = {"order": 12, "other": 3}
WINDOW = 1.05


class SlidingWindowLimiter:
    """At most ``limit`` calls in any ``window`` seconds; ``acquire`` waits its turn."""

    def __init__(self, limit, window=WINDOW, clock=time.monotonic, sleep=time.sleep):
        self.limit, self.window = limit, window
        self.clock, self.sleep = clock, sleep
        self.stamps = deque()
        self.lock = threading.Lock()

    def acquire(self):
        while True:
            with self.lock:
                now = self.clock()
                while self.stamps and now - self.stamps[0] >= self.window:
                    self.stamps.popleft()
                if len(self.stamps) < self.limit:
                    self.stamps.append(now)
                    return
                wait = self.window - (now - self.stamps[0])
            self.sleep(wait)


_limiters = {}
_limiters_lock = threading.Lock()


def limiter_for(account_key, rate_class):
    """The process-wide limiter of one account's ``rate_class`` ('order' or 'other')."""
    with _limiters_lock:
        key = (account_key, rate_class)
        if key not in _limiters:
            _limiters[key] = SlidingWindowLimiter(LIMITS[rate_class])
        return _limiters[key]
