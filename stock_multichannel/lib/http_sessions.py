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
keep-alive, a restart, a proxy): ``dropped`` tells such a failure, and
``sent_again_if_dropped`` sends the request once more on a new connection when sending
it twice does no harm, never otherwise.
"""

import os
import threading
import time
from http.client import RemoteDisconnected

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

IDLE_SECONDS = 4.0

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

    def request(self, *args, **kwargs):
        if self.idle():
            self.close()  # its connections only: the next ones are opened anew
        try:
            return super().request(*args, **kwargs)
        finally:
            self.last_used = self.clock()


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


# what a server closing a connection without answering looks like, under urllib3's
# ProtocolError: not a server that answers something else than HTTP (BadStatusLine)
DROPS = (RemoteDisconnected, ConnectionResetError, ConnectionAbortedError, BrokenPipeError)


def dropped(error):
    """How the server closed an open connection without answering, when that is what a
    ``requests.ConnectionError`` says ("RemoteDisconnected", "ConnectionResetError"), else
    None (a connection refused, an answer that did not come in time or was not HTTP).

    Such a request may be sent once more on a new connection, by the client, when sending
    it twice does what sending it once does (RFC 9110, 9.2.2); the server may have
    processed it before closing."""
    cause = error.args[0] if error.args else None
    if isinstance(error, requests.Timeout) or not isinstance(cause, ProtocolError):
        return None
    reason = cause.args[-1] if len(cause.args) > 1 else None
    return type(reason).__name__ if isinstance(reason, DROPS) else None


def never_sent(error):
    """Whether a ``requests`` error certainly happened before the request left: no
    connection could be opened (refused, name not found, the connect timed out). Any
    other failure may have reached the server, which may apply the request yet."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    cause = error.args[0] if error.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return isinstance(cause, NewConnectionError)


def sent_again_if_dropped(session, send, idempotent):
    """``send()``'s response; when the server dropped ``session``'s kept connection as the
    request left and sending it twice does no harm (``idempotent``), ``send()`` once more
    on a new connection. The ``requests.ConnectionError`` of the last try is raised: the
    client words it (see ``dropped``)."""
    try:
        return send()
    except requests.ConnectionError as error:
        if not (idempotent and dropped(error)):
            raise
    session.close()
    return send()
