import base64
import hashlib
import hmac
import json
import logging

from odoo import SUPERUSER_ID, http
from odoo.http import request

_logger = logging.getLogger(__name__)
TOPICS = ("order.created", "order.updated")


def signature_ok(secret, body, signature):
    """WooCommerce signs with base64(HMAC-SHA256(secret, raw body)); compare in constant time."""
    if not secret or not signature:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, signature.strip())


class WooCommerceWebhook(http.Controller):
    @http.route(
        "/multichannel/woocommerce/<int:channel_id>/webhook",
        type="http",
        auth="none",
        methods=["POST"],
        readonly=False,
        csrf=False,
        save_session=False,
    )
    def receive(self, channel_id, **params):
        body = request.httprequest.get_data()
        headers = request.httprequest.headers
        signature = headers.get("X-WC-Webhook-Signature")
        if not signature and (params.get("webhook_id") or body.startswith(b"webhook_id=")):
            return request.make_response("ok")  # the unsigned ping WooCommerce sends on creation
        request.update_env(user=SUPERUSER_ID)  # auth="none": the signature is the authentication
        channel = request.env["multichannel.channel"].browse(channel_id).exists()
        if not channel or channel.channel_type != "woocommerce" or not channel.active:
            return request.make_response("unknown channel", status=404)
        if not signature_ok(channel.woo_webhook_secret, body, signature):
            _logger.warning("%s: webhook with a bad signature refused", channel.name)
            return request.make_response("bad signature", status=401)
        topic = headers.get("X-WC-Webhook-Topic", "")
        if topic not in TOPICS:
            return request.make_response("ignored")
        try:
            order = json.loads(body)
        except ValueError:
            order = body.decode("utf-8", "replace")
        # a signed body comes from the shop: even unreadable, it is kept for a human (a 4xx
        # would make WooCommerce retry, then disable the webhook) and the order still
        # arrives by the next poll
        stored = request.env["multichannel.order"]._receive(channel, channel._get_adapter().normalized_order(order))
        if stored and stored.state == "error":
            _logger.warning("%s: webhook order stored with an error: %s", channel.name, stored.error)
            return request.make_response("stored with an error")
        return request.make_response("ok")
