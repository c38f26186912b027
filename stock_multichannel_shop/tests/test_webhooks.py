import base64
import hashlib
import hmac
import json
import time

from odoo.tests import HttpCase, tagged

from .common import ShopSetup


@tagged("post_install", "-at_install")
class TestShopWebhooks(ShopSetup, HttpCase):
    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        self.channel.action_register_webhooks()
        self.env.flush_all()  # what the commit of the button's transaction does

    def _orders(self, external_id):
        return self.env["multichannel.order"].search(
            [("channel_id", "=", self.channel.id), ("external_id", "=", str(external_id))]
        )

    def test_registration_and_ping(self):
        self.assertEqual(len(self.sim.webhooks), 2)
        self.assertEqual({w["topic"] for w in self.sim.webhooks.values()}, {"order.created", "order.updated"})
        self.assertEqual({d["status"] for d in self.sim.deliveries}, {200}, "the creation pings were answered")
        self.assertTrue(self.channel.sudo().woo_webhook_secret)

    def test_an_order_arrives_by_webhook_and_poll_once(self):
        started = time.monotonic()
        placed = self.sim.place_order([(self.chair_id, 0, 2, 100.0)])  # delivers the webhook
        self.assertLess(time.monotonic() - started, 5)
        order = self._orders(placed["id"])
        self.assertEqual(order.state, "done", order.error)
        self.channel._import_orders()  # the poll finds it too
        self.assertEqual(len(self._orders(placed["id"])), 1)
        self.assertEqual(
            self.env["sale.order"].search_count(
                [
                    ("multichannel_channel_id", "=", self.channel.id),
                    ("multichannel_external_ref", "=", str(placed["id"])),
                ]
            ),
            1,
        )

    def _post(self, body, signature=None, topic="order.created"):
        headers = {"Content-Type": "application/json", "X-WC-Webhook-Topic": topic}
        if signature is not None:
            headers["X-WC-Webhook-Signature"] = signature
        return self.url_open(f"/multichannel/woocommerce/{self.channel.id}/webhook", data=body, headers=headers)

    def test_a_forged_webhook_is_refused(self):
        order = {"id": 777, "status": "processing", "currency": "EUR", "line_items": []}
        body = json.dumps(order).encode()
        forged = base64.b64encode(hmac.new(b"not-the-secret", body, hashlib.sha256).digest()).decode()
        self.assertEqual(self._post(body, forged).status_code, 401)
        self.assertEqual(self._post(body).status_code, 401, "unsigned")
        self.assertFalse(self._orders(777))
        good = base64.b64encode(
            hmac.new(self.channel.sudo().woo_webhook_secret.encode(), body, hashlib.sha256).digest()
        ).decode()
        self.assertEqual(self._post(body, good).status_code, 200)
        self.assertEqual(self._orders(777).state, "error", "signed but unusable: staged with its error")
        self.assertEqual(self._post(b"webhook_id=12").status_code, 200, "the ping")
