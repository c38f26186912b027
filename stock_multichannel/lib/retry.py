"""Back-off for calls that fail for a temporary reason."""

import time

from .adapter import TransportError

MAX_SINGLE_WAIT = 60.0


def backoff_delays(attempts, base_delay):
    """Exponential waits between ``attempts`` tries: base, 2*base, 4*base, ..."""
    return [base_delay * (2**index) for index in range(max(0, attempts - 1))]


def call_with_retry(func, *args, attempts=4, base_delay=1.0, sleep=time.sleep, on_retry=None):
    """Call ``func(*args)``; on :class:`TransportError` wait and try again.

    A ``Retry-After`` given by the channel wins over the computed wait when longer.
    After the last attempt the TransportError propagates: the caller keeps its work
    pending for the next run instead of losing it.
    """
    delays = backoff_delays(attempts, base_delay)
    for attempt in range(attempts):
        try:
            return func(*args)
        except TransportError as error:
            if attempt >= len(delays):
                raise
            wait = min(max(delays[attempt], error.retry_after or 0.0), MAX_SINGLE_WAIT)
            if on_retry:
                on_retry(attempt + 1, error, wait)
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
