"""HTTP client of the WooCommerce REST API (wc/v3): auth, pagination, batches, errors.

Temporary faults (timeouts, connection errors, 429, 5xx, unreadable answers) raise the
core's :class:`TransportError` carrying ``Retry-After``; refusals raise
:class:`ChannelError`. The consumer secret is never part of a message or a log line.
"""

import logging
import re
from urllib.parse import urlsplit

import requests

from odoo.addons.stock_multichannel.lib.adapter import ChannelError, TransportError

MAX_BATCH = 100
PER_PAGE = 100
_SECRET_IN_URL = re.compile(r"(consumer_(?:key|secret)=)[^&\s\"']+")


class _RedactKeys(logging.Filter):
    """urllib3 logs request lines at DEBUG: keys sent in the query string are masked."""

    def filter(self, record):
        if "consumer_" in str(record.msg) or any("consumer_" in str(arg) for arg in record.args or ()):
            record.msg = _SECRET_IN_URL.sub(r"\1***", str(record.msg % record.args if record.args else record.msg))
            record.args = ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactKeys())


class WooAccessError(ChannelError):
    """401 / 403: keys wrong, not allowed, or the server strips the Authorization header."""


class WooClient:
    def __init__(
        self,
        shop_url,
        key,
        secret,
        timeout=30.0,
        user_agent="Odoo stock_multichannel",
        query_string_auth=False,
        session=None,
    ):
        url = urlsplit(shop_url.rstrip("/"))
        local = url.hostname in ("127.0.0.1", "localhost")
        if url.scheme != "https" and not local:
            raise ChannelError("WooCommerce keys are only sent over HTTPS: use the shop's https:// address.")
        self.base = f"{shop_url.rstrip('/')}/wp-json/wc/v3"
        self._key, self._secret = key, secret
        self.timeout = timeout
        self.query_string_auth = query_string_auth
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent or "Odoo stock_multichannel"

    def __repr__(self):
        return f"<WooClient {self.base}>"

    def request(self, method, path, params=None, payload=None):
        """Return (JSON body, response headers)."""
        params = dict(params or {})
        auth = None
        if self.query_string_auth:
            params.update(consumer_key=self._key, consumer_secret=self._secret)
        else:
            auth = (self._key, self._secret)
        try:
            response = self.session.request(
                method, f"{self.base}/{path}", params=params, json=payload, auth=auth, timeout=self.timeout
            )
        except requests.Timeout:
            raise TransportError(f"the shop did not answer {method} {path} within {self.timeout:g}s") from None
        except requests.ConnectionError as error:
            raise TransportError(f"could not reach the shop for {path}: {type(error).__name__}") from None
        return self._parse(method, path, response), response.headers

    def _parse(self, method, path, response):
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = _seconds(response.headers.get("Retry-After"))
            raise TransportError(f"the shop answered HTTP {status} on {method} {path}", retry_after=retry_after)
        try:
            body = response.json()
        except ValueError:
            raise TransportError(f"the shop sent an unreadable answer on {method} {path}") from None
        if status in (401, 403):
            code = body.get("code", "") if isinstance(body, dict) else ""
            raise WooAccessError(
                f"the shop refused the API keys (HTTP {status} {code}): check the consumer key and secret and "
                "their Read/Write permission; if they are right, the server may strip the Authorization header "
                "(switch on 'Keys in Query String')."
            )
        if status == 413:
            raise ChannelError(f"the shop refused a batch as too large (HTTP 413) on {path}")
        if status >= 400:
            message = body.get("message") if isinstance(body, dict) else None
            raise ChannelError(f"the shop refused {method} {path} (HTTP {status}): {message or body}")
        return body

    def get_all(self, path, params=None):
        """Every record of a paged list, following X-WP-TotalPages."""
        records, page = [], 1
        while True:
            body, headers = self.request("GET", path, dict(params or {}, per_page=PER_PAGE, page=page))
            records.extend(body or [])
            if page >= int(headers.get("X-WP-TotalPages") or 1) or not body:
                return records
            page += 1

    def batch_update(self, path, items):
        if len(items) > MAX_BATCH:
            raise ValueError(f"a WooCommerce batch holds at most {MAX_BATCH} items")
        body, _headers = self.request("POST", f"{path}/batch", payload={"update": items})
        return (body or {}).get("update") or []


def _seconds(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
