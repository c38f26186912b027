"""Client-side rate limits, shared by every client of one eMAG account in a process.

eMAG counts a request when it receives it. The client cannot see that moment, but it
knows a bound: the request has certainly arrived once its answer is back. So a slot
of the window is held from the moment a request is sent (in flight, not counted out
yet) until its answer arrives, and it frees one window after that answer. However
late a request travels, the server never sees more than ``limit`` requests within any
window: the request that reuses a slot leaves at least a window after the previous
one of that slot was answered, hence after it arrived.
"""

import threading
import time
from collections import deque
from contextlib import contextmanager

# eMAG: order resources 12 requests per second, every other resource together 3 per
# second, per account. The window runs from the answer, so it needs no jitter margin
# beyond the clocks' resolution.
LIMITS = {"order": 12, "other": 3}
WINDOW = 1.01
POLL = 0.02  # every slot in flight: look again this soon


class AnswerWindowLimiter:
    """At most ``limit`` requests per ``window`` seconds, measured from their answers.

    ``acquire`` waits for a slot and marks the request in flight; ``release`` records
    its answer (or the moment the client gave up on it). ``slot`` does both.
    """

    def __init__(self, limit, window=WINDOW, clock=time.monotonic, sleep=time.sleep):
        self.limit, self.window = limit, window
        self.clock, self.sleep = clock, sleep
        self.answers = deque()  # when the answers of the last window arrived, oldest first
        self.in_flight = 0
        self.lock = threading.Lock()

    def acquire(self):
        while True:
            with self.lock:
                now = self.clock()
                while self.answers and now - self.answers[0] >= self.window:
                    self.answers.popleft()
                if len(self.answers) + self.in_flight < self.limit:
                    self.in_flight += 1
                    return
                wait = self.window - (now - self.answers[0]) if self.answers else POLL
            self.sleep(max(wait, 0.001))

    def release(self):
        with self.lock:
            self.in_flight = max(0, self.in_flight - 1)
            self.answers.append(self.clock())

    @contextmanager
    def slot(self):
        self.acquire()
        try:
            yield
        finally:
            self.release()  # answered, refused, timed out or failed: the request may have arrived


_limiters = {}
_limiters_lock = threading.Lock()


def limiter_for(account_key, rate_class):
    """The process-wide limiter of one account's ``rate_class`` ('order' or 'other')."""
    with _limiters_lock:
        key = (account_key, rate_class)
        if key not in _limiters:
            _limiters[key] = AnswerWindowLimiter(LIMITS[rate_class])
        return _limiters[key]
