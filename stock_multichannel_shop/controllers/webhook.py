import base64
import hashlib
import hmac
import json
import logging

from odoo import fields, http
from odoo.http import request

from ..api import translate
from ..const import MAX_BODY, PING_PARAM, PING_WINDOW_PARAM, TOPICS

_logger = logging.getLogger(__name__)
REFUSED = ("bad signature", 401)  # the same answer for an unknown channel and a bad signature


def signature_ok(secret, body, signature):
    """WooCommerce signs with base64(HMAC-SHA256(secret, raw body)); compare in constant time."""
    if not secret or not signature:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected.encode(), signature.strip().encode(errors="replace"))


class WooCommerceWebhook(http.Controller):
    @http.route(
        "/multichannel/woocommerce/<int:channel_id>/webhook",
        type="http",
        auth="public",
        methods=["POST"],
        readonly=False,
        csrf=False,
        save_session=False,
        # a chunked body says no length: read one byte past the limit at most, to tell it too large
        max_content_length=MAX_BODY + 1,
    )
    def receive(self, channel_id, **params):
        httprequest = request.httprequest
        if (httprequest.content_length or 0) > MAX_BODY:
            return request.make_response("too large", status=413)
        body = httprequest.get_data()
        if len(body) > MAX_BODY:
            return request.make_response("too large", status=413)
        headers = httprequest.headers
        signature = headers.get("X-WC-Webhook-Signature")
        # the only record this route touches, as the payment providers' webhooks do
        channel = request.env["multichannel.channel"].sudo().browse(channel_id).exists()
        if channel and (channel.channel_type != "woocommerce" or not channel.active):
            channel = channel.browse()
        if not signature and (params.get("webhook_id") or body.startswith(b"webhook_id=")):
            # the unsigned ping the shop sends when a webhook is created: answered alike
            # for every channel id, noted for the registration's check
            if channel:
                self._note_ping(channel, params.get("webhook_id") or body[11:].decode(errors="replace"))
            return request.make_response("ok")
        if not channel or not signature_ok(channel.woo_webhook_secret, body, signature):
            _logger.warning(
                "WooCommerce webhook for channel id %s refused: unknown channel or bad signature", channel_id
            )
            return request.make_response(REFUSED[0], status=REFUSED[1])
        topic = headers.get("X-WC-Webhook-Topic", "")
        if topic not in TOPICS:
            return request.make_response("ignored")
        try:
            order = json.loads(body)
        except (ValueError, RecursionError):
            order = None
        order_ref = str(order.get("id") or "") if isinstance(order, dict) else ""
        if translate.is_draft(order) and not self._known(channel, order_ref):
            return request.make_response("ignored: checkout draft")  # not an order yet
        # a signed body comes from the shop: stored as delivered, even unreadable (a 4xx
        # counts as a failed delivery and the shop disables the webhook after 5), and
        # imported by a cron, so a slow import never makes the shop wait or time out
        request.env["multichannel.inbox"].sudo()._receive_later(
            channel, order_ref[:64], body=body.decode("utf-8", "replace").replace("\x00", "")
        )
        return request.make_response("ok")

    @staticmethod
    def _known(channel, order_ref):
        return bool(order_ref) and bool(
            request.env["multichannel.order"]
            .sudo()
            .search_count([("channel_id", "=", channel.id), ("external_id", "=", order_ref)], limit=1)
        )

    @staticmethod
    def _note_ping(channel, webhook_id):
        """Noted only while a registration of the channel's webhooks waits for it: anyone
        can send an unsigned ping, and a note at every one would write (and empty every
        worker's caches) for whoever asks."""
        webhook_id = str(webhook_id).strip()
        if not webhook_id.isdigit():
            return
        # read in the database, not through the parameters' cache: the registration
        # opened the window in another worker
        request.env.cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", [PING_WINDOW_PARAM % channel.id])
        row = request.env.cr.fetchone()
        if not row or not row[0] or fields.Datetime.to_datetime(row[0].split("|")[0]) < fields.Datetime.now():
            return
        params = request.env["ir.config_parameter"].sudo()
        key = PING_PARAM % channel.id
        seen = (params.get_param(key) or "").split()
        if webhook_id not in seen:
            params.set_param(key, " ".join(([webhook_id] + seen)[:10]))
