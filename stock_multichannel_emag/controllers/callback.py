import hmac
import logging
import re

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)

ROUTE = "/multichannel/emag/<int:channel_id>/<string:token>"
NOT_FOUND = "not found"
# the token is a credential: mask it in every access-log line of the HTTP server
_TOKEN_IN_PATH = re.compile(r"(/multichannel/emag/\d+/)[^/?\s\"]+")
# compared against when the channel is unknown, so both answers take the same time
_NO_TOKEN = "-" * 43


class MaskCallbackToken(logging.Filter):
    def filter(self, record):
        if isinstance(record.msg, str) and "/multichannel/emag/" in record.msg:
            record.msg = _TOKEN_IN_PATH.sub(r"\1***", record.msg)
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_PATH.sub(r"\1***", arg) if isinstance(arg, str) and "/multichannel/emag/" in arg else arg
                for arg in record.args
            )
        return True


_MASK = MaskCallbackToken()
# the loggers that write request paths (odoo.tests.common: HttpCase's "test cursor on request …")
for _name in ("werkzeug", "odoo.http", "odoo.service.server", "odoo.tests.common"):
    if not any(isinstance(f, MaskCallbackToken) for f in logging.getLogger(_name).filters):
        logging.getLogger(_name).addFilter(_MASK)
# and the handlers set up at start, for any other logger that would write one
for _handler in logging.getLogger().handlers:
    if not any(isinstance(f, MaskCallbackToken) for f in _handler.filters):
        _handler.addFilter(_MASK)


def order_ref(value):
    """eMAG order ids are positive integers; anything else is not an order id."""
    value = (value or "").strip()
    return value if value.isdigit() and 0 < int(value) < 10**12 else None


class EmagCallback(http.Controller):
    @http.route(
        [ROUTE, f"{ROUTE}/<string:event>"],
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def callback(self, channel_id, token, event=None, **params):
        """eMAG's callback (new order, cancellation, return): a trigger to read the order.

        Nothing in the call is trusted but the order id: the order is read from eMAG's
        API by the cron this wakes. Answers at once; an unknown channel and a wrong
        token get the same answer.
        """
        channel = (
            request.env["multichannel.channel"]
            .sudo()
            .search([("id", "=", channel_id), ("channel_type", "=", "emag")], limit=1)
        )
        expected = channel.emag_callback_token if channel else None
        token_ok = hmac.compare_digest((expected or _NO_TOKEN).encode(), token.encode())
        if not channel or not expected or not token_ok:
            return request.make_response(NOT_FOUND, status=404)
        ref = order_ref(params.get("order_id"))
        if not ref:
            return request.make_response("order_id expected", status=400)
        request.env["multichannel.inbox"].sudo()._receive_later(channel, ref)
        _logger.info("%s: eMAG callback for order %s", channel.name, ref)
        return request.make_response("ok")
