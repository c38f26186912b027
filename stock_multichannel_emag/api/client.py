"""HTTP client of the eMAG Marketplace API (api-3): transport, auth, envelope, limits.

Raises the core's :class:`TransportError` for what is worth retrying (timeouts,
connection errors, HTTP 429 and 5xx, unreadable answers) and :class:`ChannelError`
for refusals (credentials, rights, ``isError`` answers). Credentials travel only in
the Authorization header: they are never part of a URL, a message or a log line.
"""

import hashlib
import logging
from dataclasses import dataclass, field

import requests

from odoo.addons.stock_multichannel.lib.adapter import ChannelError, TransportError
from odoo.addons.stock_multichannel.lib.http_sessions import dropped, kept_session, never_sent, sent_again_if_dropped
from odoo.addons.stock_multichannel.lib.messages import translatable
from odoo.addons.stock_multichannel.lib.retry import call_with_retry

from .ratelimit import limiter_for

_logger = logging.getLogger(__name__)
_lt = translatable(__name__)

ITEMS_PER_PAGE = 100
# answers refusing what was sent, whatever their body (not a fault of the URL or of the channel)
REFUSAL_STATUSES = (400, 409, 422)


class EmagApiError(ChannelError):
    """eMAG answered ``isError: true``."""

    def __init__(self, messages):
        self.messages = messages
        super().__init__("; ".join(messages) or _lt("eMAG reported an error without a message"))


class EmagAccessError(ChannelError):
    """HTTP 401 / 403: credentials, API rights or IP whitelist."""


@dataclass
class Envelope:
    results: object = None
    messages: list = field(default_factory=list)  # as strings
    raw_messages: list = field(default_factory=list)  # as eMAG sent them (strings or objects)


def message_text(message):
    """eMAG messages are strings or objects; make them readable strings."""
    if isinstance(message, dict):
        text = message.get("message") or message.get("text") or ""
        ident = message.get("id")
        return f"{ident}: {text}" if ident is not None else text or str(message)
    return str(message)


class EmagClient:
    def __init__(self, base_url, username, password, timeout=30.0, attempts=1, retry_delay=1.0):
        self.base_url = base_url.rstrip("/")
        # UTF-8, as RFC 7617 has it: requests would encode a text in Latin-1, and an "ă" fail
        # with an error naming it and its place in the password, shown wherever errors are
        self._auth = (username.encode(), password.encode())
        self.timeout = timeout
        self.attempts, self.retry_delay = attempts, retry_delay
        self.account = hashlib.sha256(f"{self.base_url}|{username}".encode()).hexdigest()[:16]
        self.session = kept_session(("emag", self.account))
        # per process; the Odoo adapter swaps in limiters shared by every process and server
        self.limiters = {kind: limiter_for(self.account, kind) for kind in ("order", "other")}

    def __repr__(self):
        return f"<EmagClient {self.base_url}>"

    # ------------------------------------------------------------------
    def call(self, path, payload=None, retry=True):
        """POST ``payload`` to ``{base}/{path}``; return the :class:`Envelope`.

        ``retry=False`` for writes that are not idempotent (order/save): the caller
        re-reads the state before trying again.
        """
        attempts = self.attempts if retry else 1
        return call_with_retry(self._call_once, path, payload, retry, attempts=attempts, base_delay=self.retry_delay)

    def _call_once(self, path, payload, idempotent=True):
        """One call; ``idempotent``: when the server drops the kept connection as the request
        leaves, it is sent once more on a new connection (in a slot of its own)."""
        try:
            response = sent_again_if_dropped(self.session, lambda: self._post(path, payload), idempotent)
        except requests.ConnectionError as error:
            raise self._unreachable(path, error) from None
        return self._parse(path, response)

    def _post(self, path, payload):
        rate_class = "order" if path.split("/", 1)[0] == "order" else "other"
        try:
            # the slot frees one window after the answer (or the give-up) is here
            with self.limiters[rate_class].slot():
                return self.session.post(
                    f"{self.base_url}/{path}",
                    json=payload if payload is not None else {},
                    auth=self._auth,
                    timeout=self.timeout,
                )
        except requests.Timeout as error:
            raise TransportError(
                _lt("eMAG did not answer %(path)s within %(seconds)ss", path=path, seconds=f"{self.timeout:g}"),
                maybe_applied=not never_sent(error),
            ) from None

    def _unreachable(self, path, error):
        if how := dropped(error):
            return TransportError(
                _lt("eMAG closed the connection before answering %(path)s (%(error)s)", path=path, error=how)
            )
        return TransportError(
            _lt(
                "could not reach eMAG at %(url)s (%(path)s: %(error)s): check the API URL of the channel's "
                "platform and that this server can reach the internet",
                url=self.base_url,
                path=path,
                error=type(error).__name__,
            ),
            maybe_applied=not never_sent(error),
        )

    def _parse(self, path, response):
        status = response.status_code
        if status == 429:
            raise TransportError(
                _lt("eMAG rate limit exceeded on %(path)s (HTTP 429)", path=path), retry_after=1.0, rate_limited=True
            )
        if status >= 500:
            raise TransportError(
                _lt("eMAG answered HTTP %(status)s on %(path)s", status=status, path=path), http_status=status
            )
        body = self._json(response)
        raw_messages = (body.get("messages") or []) if isinstance(body, dict) else []
        raw_messages = raw_messages if isinstance(raw_messages, list) else [raw_messages]
        messages = [message_text(m) for m in raw_messages]
        if status == 401:
            raise EmagAccessError(
                _lt(
                    "eMAG refused the API username or password (HTTP 401). %(messages)s",
                    messages=" ".join(messages),
                )
            )
        if status == 403:
            raise EmagAccessError(
                _lt(
                    "eMAG refused access (HTTP 403): %(messages)s. The API user needs API rights and this "
                    "server's IP address must be whitelisted in eMAG's Marketplace settings.",
                    messages=" ".join(messages) or _lt("forbidden"),
                )
            )
        if body is None or not isinstance(body, dict) or "isError" not in body:
            said = (body.get("message") or body.get("error")) if isinstance(body, dict) else None
            if status in REFUSAL_STATUSES and said:
                # refused for what was sent (a campaign, bad data), in a body without eMAG's
                # envelope: a refusal the push isolates; with nothing said (a proxy's page),
                # a fault of the channel, not of every offer by halves
                raise EmagApiError([message_text(said)])
            if status >= 400:
                raise ChannelError(_lt("eMAG answered HTTP %(status)s on %(path)s", status=status, path=path))
            raise TransportError(_lt("eMAG sent an unreadable answer on %(path)s", path=path))
        if body["isError"] or status >= 400:
            raise EmagApiError(messages or [f"HTTP {status}"])
        return Envelope(body.get("results"), messages, raw_messages)

    @staticmethod
    def _json(response):
        try:
            return response.json()
        except ValueError:
            return None

    # ------------------------------------------------------------------
    def save(self, resource, items, retry=True):
        return self.call(f"{resource}/save", {"data": items}, retry=retry)

    def read_all(self, resource, **filters):
        """Every record of a paged read (``currentPage`` / ``itemsPerPage``)."""
        page, records = 1, []
        while True:
            batch = self.call(f"{resource}/read", dict(filters, currentPage=page, itemsPerPage=ITEMS_PER_PAGE)).results
            batch = batch or []
            if not isinstance(batch, list):  # an answer of another shape: not a page of records
                raise TransportError(_lt("eMAG sent no list for %(resource)s/read", resource=resource))
            records.extend(batch)
            if len(batch) < ITEMS_PER_PAGE:
                return records
            page += 1
