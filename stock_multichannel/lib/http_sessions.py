"""Keep-alive HTTP sessions for the channels' API clients: one per thread, process and account.

A client is built wherever a channel is called (an adapter for each order acknowledged,
say). With a new ``requests.Session`` each time, every order opened a new connection,
and over HTTPS paid a new TLS handshake. The session of an account is kept instead, in
the thread that made it (a session is not meant to be shared by threads) and the process
(a child forked from a parent must not write on the parent's sockets).

A connection the server closed is seen before a request is sent on it (urllib3 checks),
but one it closes *as* the request leaves fails that request. So a session idle for
longer than ``IDLE_SECONDS`` drops its connections before its next request, and a
client built then takes a new session: under Apache's default keep-alive of 5 s, no
request races the server's close. Calls of one import or push follow each other within
that, where the kept connection pays. A server may still close earlier (a shorter
keep-alive, a restart, a proxy): a request it drops that way is sent once more on a new
connection when sending it twice does no harm (idempotent), never otherwise.
"""

import os
import threading
import time

import requests
from urllib3.exceptions import ProtocolError

IDLE_SECONDS = 4.0
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})  # RFC 9110, 9.2.2

_local = threading.local()


class KeptSession(requests.Session):
    """A ``requests.Session`` that knows when it was last used."""

    def __init__(self, clock=time.monotonic):
        super().__init__()
        self.clock = clock
        self.last_used = clock()

    def idle(self):
        """Unused for longer than a server may keep its connections alive."""
        return self.clock() - self.last_used > IDLE_SECONDS

    def request(self, method, url, *args, idempotent=None, **kwargs):
        """``idempotent``: whether sending the request twice does what sending it once does
        (by default, as its method says: a POST is not)."""
        if idempotent is None:
            idempotent = method.upper() in IDEMPOTENT_METHODS
        if self.idle():
            self.close()  # its connections only: the next ones are opened anew
        try:
            try:
                return super().request(method, url, *args, **kwargs)
            except requests.ConnectionError as error:
                if not (idempotent and dropped(error)):
                    raise
                self.close()
                return super().request(method, url, *args, **kwargs)
        finally:
            self.last_used = self.clock()


def dropped(error):
    """How the server closed an open connection without answering, when that is what a
    ``requests.ConnectionError`` says ("RemoteDisconnected", "ConnectionResetError"), else
    None (a connection refused, an answer that did not come in time)."""
    cause = error.args[0] if error.args else None
    if isinstance(error, requests.Timeout) or not isinstance(cause, ProtocolError):
        return None
    reason = cause.args[-1] if len(cause.args) > 1 else cause
    return type(reason).__name__


def kept_session(account, clock=time.monotonic):
    """The session of ``account`` (any hashable naming the API and the credentials) in
    this thread, its connections kept alive between calls."""
    if getattr(_local, "pid", None) != os.getpid():
        _local.pid, _local.sessions = os.getpid(), {}  # a new thread, or a forked child
    sessions = _local.sessions
    session = sessions.get(account)
    if session is not None and session.idle():
        session.close()
        session = None
    if session is None:
        session = sessions[account] = KeptSession(clock)
    return session


def forget_sessions():
    """Close this thread's sessions (a test stopping its simulators: no connection to
    them is kept alive past their stop)."""
    for session in getattr(_local, "sessions", {}).values():
        session.close()
    _local.sessions = {}
