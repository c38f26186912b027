"""HTTP client of the WooCommerce REST API (wc/v3): auth, pagination, batches, errors.

Auth as a real WooCommerce checks it: over https HTTP Basic (or the keys as query
parameters for servers that strip the Authorization header); over plain http the shop
refuses both (``401 woocommerce_rest_cannot_view``) and only accepts OAuth 1.0a
one-legged requests: the query signed with HMAC-SHA256 and ``consumer secret + "&"``,
which never sends the secret.

Temporary faults (timeouts, connection errors, 429, 5xx, unreadable answers) raise the
core's :class:`TransportError` carrying ``Retry-After``; refusals raise
:class:`ChannelError` with a message a merchant can act on. The consumer secret is
never part of a message or a log line.
"""

import base64
import contextlib
import hashlib
import hmac
import logging
import re
import secrets
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlsplit

import requests

from odoo.addons.stock_multichannel.lib.adapter import ChannelError, TransportError
from odoo.addons.stock_multichannel.lib.http_sessions import dropped, kept_session, never_sent, sent_again_if_dropped
from odoo.addons.stock_multichannel.lib.messages import translatable

from .translate import modified

_lt = translatable(__name__)
MAX_BATCH = 100
PER_PAGE = 100
# the end of WooCommerce's error code for an id it has no record of (woocommerce_rest_shop_order_invalid_id)
NO_SUCH_RECORD = "_invalid_id"
CHANGE_STAMP = "%Y-%m-%dT%H:%M:%S"  # date_modified_gmt, and modified_after as sent
_SECRET_IN_URL = re.compile(r"((?:consumer_(?:key|secret)|oauth_signature|oauth_consumer_key)=)[^&\s\"']+")
AUTH_MODES = ("auto", "basic", "query", "oauth")


class _RedactKeys(logging.Filter):
    """urllib3 logs request lines at DEBUG: keys and signatures in the query string are masked."""

    def filter(self, record):
        text = str(record.msg)
        if any(k in text for k in ("consumer_", "oauth_")) or any(
            any(k in str(arg) for k in ("consumer_", "oauth_")) for arg in record.args or ()
        ):
            record.msg = _SECRET_IN_URL.sub(r"\1***", str(record.msg % record.args if record.args else record.msg))
            record.args = ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactKeys())


class WooRefused(ChannelError):
    """The shop refused a call: ``status`` and ``code`` are the shop's own."""

    def __init__(self, message, status=None, code=""):
        super().__init__(message)
        self.status, self.code = status, code


class WooAccessError(WooRefused):
    """401 / 403: keys wrong, not allowed, or the server strips the Authorization header."""


def total_pages(headers):
    """The pages of a list, as X-WP-TotalPages says ("0" for an empty list; 0 if unreadable)."""
    try:
        return int(headers.get("X-WP-TotalPages") or 0)
    except ValueError:
        return 0


def _second_before(stamp):
    try:
        return (datetime.strptime(stamp[:19], CHANGE_STAMP) - timedelta(seconds=1)).strftime(CHANGE_STAMP)
    except ValueError:
        return ""


def _encode(value):
    """RFC 3986 percent-encoding, as WooCommerce's OAuth check encodes keys and values."""
    return quote(str(value), safe="~-._")


def oauth_signature(method, url, params, secret, algorithm="HMAC-SHA256"):
    """The OAuth 1.0a signature WooCommerce expects for ``method url?params``.

    WooCommerce signs ``METHOD&enc(url)&k1%3Dv1%26k2%3Dv2`` where keys and values are
    encoded once and sorted by key, with the key ``consumer_secret&``.
    """
    pairs = sorted((_encode(k), _encode(v)) for k, v in params.items() if k != "oauth_signature")
    query = "%26".join(f"{k}%3D{v}" for k, v in pairs)
    base = f"{method.upper()}&{_encode(url)}&{query}"
    digest = hashlib.sha1 if algorithm == "HMAC-SHA1" else hashlib.sha256
    return base64.b64encode(hmac.new(f"{secret}&".encode(), base.encode(), digest).digest()).decode()


# the shop's error codes, as a merchant can act on them
ERROR_HINTS = {
    "woocommerce_rest_cannot_view": _lt(
        "the shop refused to show this (HTTP %(status)s woocommerce_rest_cannot_view): over plain http WooCommerce "
        "refuses keys sent as Basic auth or in the query string — use the shop's https:// address, or OAuth "
        "signing over http; otherwise the REST key lacks Read rights (WooCommerce > Settings > Advanced > REST API)."
    ),
    "woocommerce_rest_authentication_error": _lt(
        "the shop refused the API keys (HTTP %(status)s): %(message)s Check the consumer key and secret in "
        "WooCommerce > Settings > Advanced > REST API."
    ),
    "woocommerce_rest_cannot_create": _lt(
        "the REST key may not create this (HTTP %(status)s): give the key Read/Write permission in "
        "WooCommerce > Settings > Advanced > REST API."
    ),
    "woocommerce_rest_cannot_edit": _lt(
        "the REST key may not change this (HTTP %(status)s): give the key Read/Write permission in "
        "WooCommerce > Settings > Advanced > REST API."
    ),
    "woocommerce_rest_cannot_delete": _lt(
        "the REST key may not delete this (HTTP %(status)s): give the key Read/Write permission."
    ),
    "rest_no_route": _lt(
        "the shop has no such REST route (HTTP %(status)s): check the shop URL (without /wp-json) and that "
        "WooCommerce is active and permalinks are not 'Plain'."
    ),
    "rest_forbidden": _lt("the shop refused the request (HTTP %(status)s): %(message)s"),
}


class WooClient:
    def __init__(
        self,
        shop_url,
        key,
        secret,
        timeout=30.0,
        user_agent="Odoo stock_multichannel",
        query_string_auth=False,
        auth_mode="auto",
        allow_http_oauth=True,
    ):
        url = urlsplit((shop_url or "").rstrip("/"))
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ChannelError(
                _lt("The shop URL %(url)r is not an http(s) address such as https://shop.example.com.", url=shop_url)
            )
        if auth_mode == "auto":
            if query_string_auth and url.scheme == "https":
                auth_mode = "query"
            elif query_string_auth:
                # the shop would refuse them, after they crossed the network in clear
                raise ChannelError(
                    _lt(
                        "The shop's address is plain http: keys in the query string would travel unencrypted "
                        "(and WooCommerce refuses them there). Use the shop's https:// address, or switch off "
                        "Keys in Query String: over http the requests are then signed with OAuth 1.0a."
                    )
                )
            elif url.scheme == "https":
                auth_mode = "basic"
            elif allow_http_oauth:
                auth_mode = "oauth"
            else:
                raise ChannelError(
                    _lt(
                        "The shop's address is plain http: WooCommerce only accepts keys over HTTPS, or over http "
                        "with OAuth 1.0a signing, which this channel refuses. Use the shop's https:// address, or "
                        "allow OAuth signing over http on the channel."
                    )
                )
        if auth_mode not in AUTH_MODES:
            raise ValueError(f"unknown auth mode {auth_mode!r}")
        self.auth_mode = auth_mode
        self.base = f"{shop_url.rstrip('/')}/wp-json/wc/v3"
        self._key, self._secret = key, secret
        self.timeout = timeout
        account = hashlib.sha256(f"{self.base}|{key}".encode()).hexdigest()[:16]
        self.session = kept_session(("woocommerce", account))
        # per request: the session is shared with the account's other channels
        self.headers = {"User-Agent": user_agent or "Odoo stock_multichannel"}

    def __repr__(self):
        return f"<WooClient {self.base}>"

    def _signed(self, method, url, params):
        signed = {k: v for k, v in params.items() if v is not None}
        signed.update(
            oauth_consumer_key=self._key,
            oauth_nonce=secrets.token_hex(16),
            oauth_signature_method="HMAC-SHA256",
            oauth_timestamp=str(int(time.time())),
        )
        signed["oauth_signature"] = oauth_signature(method, url, signed, self._secret)
        return signed

    def request(self, method, path, params=None, payload=None, idempotent=None):
        """Return (JSON body, response headers).

        ``idempotent``: sending it twice does what sending it once does and answers the
        same (by default, a GET or a PUT: a DELETE done already answers 404); only such a
        request is sent once more, signed anew, when the shop drops the kept connection.
        """
        idempotent = method in ("GET", "PUT") if idempotent is None else idempotent
        try:
            response = sent_again_if_dropped(
                self.session, lambda: self._send(method, path, params, payload), idempotent
            )
        except requests.ConnectionError as error:
            raise self._unreachable(method, path, error) from None
        return self._parse(method, path, response), response.headers

    def _send(self, method, path, params, payload):
        params = {k: str(v) for k, v in (params or {}).items() if v is not None}
        url = f"{self.base}/{path}"
        auth = None
        if self.auth_mode == "query":
            params.update(consumer_key=self._key, consumer_secret=self._secret)
        elif self.auth_mode == "oauth":
            params = self._signed(method, url, params)  # a nonce of its own: the shop refuses one seen before
        else:
            auth = (self._key.encode(), self._secret.encode())  # UTF-8 (see the eMAG client)
        try:
            return self.session.request(
                method, url, params=params, json=payload, auth=auth, headers=self.headers, timeout=self.timeout
            )
        except requests.Timeout as error:
            raise TransportError(
                _lt(
                    "the shop did not answer %(request)s within %(seconds)ss",
                    request=f"{method} {path}",
                    seconds=f"{self.timeout:g}",
                ),
                maybe_applied=not never_sent(error),
            ) from None

    def _unreachable(self, method, path, error):
        if how := dropped(error):
            return TransportError(
                _lt(
                    "the shop closed the connection before answering %(request)s (%(error)s)",
                    request=f"{method} {path}",
                    error=how,
                )
            )
        return TransportError(
            _lt("could not reach the shop for %(path)s: %(error)s", path=path, error=type(error).__name__),
            maybe_applied=not never_sent(error),
        )

    def _parse(self, method, path, response):
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = _seconds(response.headers.get("Retry-After"))
            request = f"{method} {path}"
            said = _server_message(response)
            message = (
                _lt(
                    "the shop answered HTTP %(status)s on %(request)s: %(said)s",
                    status=status,
                    request=request,
                    said=said,
                )
                if said
                else _lt("the shop answered HTTP %(status)s on %(request)s", status=status, request=request)
            )
            raise TransportError(
                message,
                retry_after=retry_after,
                rate_limited=status == 429,
                http_status=status,
            )
        try:
            body = response.json()
        except ValueError:
            raise TransportError(
                _lt("the shop sent an unreadable answer on %(request)s", request=f"{method} {path}")
            ) from None
        code = str(body.get("code") or "") if isinstance(body, dict) else ""
        message = str(body.get("message") or "") if isinstance(body, dict) else ""
        hint = ERROR_HINTS.get(code)
        if status in (401, 403):
            if hint:
                raise WooAccessError(hint.with_params(status=status, message=message), status, code)
            raise WooAccessError(
                _lt(
                    "the shop refused the API keys (HTTP %(status)s %(code)s): check the consumer key and secret and "
                    "their Read/Write permission; if they are right, the server may strip the Authorization header "
                    "(switch on 'Keys in Query String').",
                    status=status,
                    code=code,
                ),
                status,
                code,
            )
        if status == 413:
            raise WooRefused(
                _lt("the shop refused a batch as too large (HTTP 413) on %(path)s", path=path), status, code
            )
        if status >= 400:
            if hint:
                raise WooRefused(hint.with_params(status=status, message=message), status, code)
            raise WooRefused(
                _lt(
                    "the shop refused %(request)s (HTTP %(status)s %(code)s): %(message)s",
                    request=f"{method} {path}",
                    status=status,
                    code=code,
                    message=message or body,
                ),
                status,
                code,
            )
        return body

    def get_all(self, path, params=None):
        """Every record of a paged list, following X-WP-TotalPages ("0" for an empty list)."""
        records, page = [], 1
        while True:
            body, headers = self.request("GET", path, dict(params or {}, per_page=PER_PAGE, page=page))
            if not isinstance(body, list):
                raise TransportError(_lt("the shop sent no list for GET %(path)s", path=path))
            records.extend(body)
            pages = total_pages(headers)
            if not body or page >= pages:
                return records
            page += 1

    def get_changed(self, path, since):
        """Every record of ``path`` changed after ``since`` (GMT, "%Y-%m-%dT%H:%M:%S"),
        the earliest change first, each once (its latest version read).

        Paged by the change stamp, not by page number: a record changed while the pages
        are read moves to the end of the list, and a page number would then skip the
        record it pushes back onto a page already read. Each page starts one second
        before the last stamp read (``modified_after`` is exclusive and stamps keep whole
        seconds); only a page whose records all changed within that second is followed by
        page number."""
        records, cursor, page = {}, since, 1
        while True:
            query = {"modified_after": cursor, "dates_are_gmt": "true", "orderby": "modified", "order": "asc"}
            body, headers = self.request("GET", path, dict(query, per_page=PER_PAGE, page=page))
            if not isinstance(body, list):
                raise TransportError(_lt("the shop sent no list for GET %(path)s", path=path))
            for record in body:
                if not isinstance(record, dict):
                    continue
                kept = records.get(record.get("id"))
                if kept is None or modified(record) >= modified(kept):
                    records[record.get("id")] = record
            pages = total_pages(headers)
            if not body or page >= pages:
                return sorted(records.values(), key=lambda r: (modified(r), str(r.get("id"))))
            following = _second_before(modified(body[-1])) or cursor
            if following > cursor:
                cursor, page = following, 1
            else:
                page += 1

    def get_one(self, path):
        """One record, or None when the shop says it has no such record (deleted, or
        never there). Any other 404 (``rest_no_route``: WooCommerce paused, a plugin
        or a proxy answering for it) says nothing of the record and is raised."""
        try:
            body, _headers = self.request("GET", path)
        except WooRefused as error:
            if error.status == 404 and error.code.endswith(NO_SUCH_RECORD):
                return None
            raise
        if not isinstance(body, dict):
            # a 200 with null, a list or a page (a cache or a security plugin in front of
            # the shop): it says nothing of the record, certainly not that it is gone
            raise TransportError(_lt("the shop sent no record for GET %(path)s", path=path), maybe_applied=False)
        return body

    def setting(self, group, setting_id):
        """The value of one of the shop's settings (``GET settings/<group>/<id>``).

        Reading settings needs the key's WordPress user to manage WooCommerce (a Shop
        manager or an Administrator): a key authenticated without that right is answered
        403 ``woocommerce_rest_cannot_view``."""
        try:
            body, _headers = self.request("GET", f"settings/{group}/{setting_id}")
        except WooAccessError as error:
            if (error.status, error.code) != (403, "woocommerce_rest_cannot_view"):
                raise  # the keys themselves refused: said as for any call
            raise WooAccessError(
                _lt(
                    "the shop refused to show its setting %(setting)s (HTTP %(status)s %(code)s): the REST key's "
                    "WordPress user must be a Shop manager or an Administrator for Odoo to read the shop's currency "
                    "and whether its prices are entered with tax.",
                    setting=setting_id,
                    status=error.status,
                    code=error.code,
                ),
                error.status,
                error.code,
            ) from None
        if not isinstance(body, dict) or "value" not in body:
            raise TransportError(_lt("the shop sent no value for its setting %(setting)s", setting=setting_id))
        return body["value"]

    def batch_update(self, path, items):
        if len(items) > MAX_BATCH:
            raise ValueError(f"a WooCommerce batch holds at most {MAX_BATCH} items")
        # updates only (values set, nothing created): the same batch twice leaves the same shop
        body, _headers = self.request("POST", f"{path}/batch", payload={"update": items}, idempotent=True)
        return (body or {}).get("update") or []


def _seconds(value):
    """A ``Retry-After`` in seconds: a number, or an HTTP date (RFC 9110; a host's or a
    proxy's), counted from now; None when it is neither."""
    with contextlib.suppress(TypeError, ValueError):
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000": HTTP dates are GMT
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())


def _server_message(response, limit=200):
    """What WordPress said with a server error (its fatal error handler answers JSON with
    an HTML message), as plain text; empty for anything else (a proxy's error page)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str):
        return ""
    text = " ".join(re.sub(r"<[^>]*>", " ", message).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
