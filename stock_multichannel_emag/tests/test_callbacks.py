import logging

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from ..controllers.callback import MaskCallbackToken
from ..simulator.emag_simulator import EmagSimulator
from .common import CapturedLogs, EmagCase


@tagged("post_install", "-at_install")
class TestEmagCallbacks(EmagCase, HttpCase):
    """eMAG calls the seller's URL (GET url?order_id=…) and Odoo reads that order."""

    def setUp(self):
        super().setUp()
        self.sim.offers[1001]["stock"][0]["value"] = 100
        self.sim.offers[1002]["stock"][0]["value"] = 10
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        self.url = self.channel.emag_callback_url
        self.token = self.channel.sudo().emag_callback_token
        self.sim.callbacks_async = False  # delivered before place_order returns: the test sees its answer
        self.sim.callback_urls = dict.fromkeys(("order", "cancellation", "return"), self.url)
        self.cron = self.env.ref("stock_multichannel.ir_cron_process_inbox")
        self.env.flush_all()  # what the commit of the set-up does

    def _orders(self, external_id):
        return self.env["multichannel.order"].search(
            [("channel_id", "=", self.channel.id), ("external_id", "=", str(external_id))]
        )

    def _requests(self):
        return self.env["multichannel.inbox"].search([("channel_id", "=", self.channel.id)])

    def _triggers(self):
        return self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)])

    def test_the_url_holds_the_channel_and_its_secret(self):
        self.assertEqual(self.url, f"{self.base_url()}/multichannel/emag/{self.channel.id}/{self.token}")
        self.assertGreaterEqual(len(self.token), 40)
        other = self.channel.copy({"name": "eMAG RO 2"})
        self.assertNotEqual(other.sudo().emag_callback_token, self.token, "a secret of its own")

    def test_a_new_order_arrives_by_callback_then_polling_finds_it_done(self):
        triggers = self._triggers()
        placed = self.sim.place_order([(1001, 2)])
        [call] = self.sim.callback_log
        self.assertEqual((call["event"], call["status"], call["body"]), ("order", 200, "ok"))
        self.assertEqual(self._requests().order_ref, str(placed["id"]))
        self.assertFalse(self.sim.requests_to("order/read"), "the callback itself never reads eMAG")
        self.assertGreater(self._triggers(), triggers, "the cron is woken")
        # eMAG repeats the callback: still one request
        self.sim.call_back("order", placed["id"])
        self.assertEqual(len(self._requests()), 1)

        self.env["multichannel.inbox"]._cron_process(auto_commit=False)
        order = self._orders(placed["id"])
        self.assertEqual(order.state, "done", order.error)
        self.assertEqual(self.sim.orders[placed["id"]]["status"], 2, "acknowledged")
        self.assertFalse(self._requests())
        self.assertEqual(self.chair.with_context(warehouse_id=self.warehouse.id).free_qty, 98)
        # the poll, the backstop, finds it again: one order, one sale
        self.channel._import_orders()
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

    def test_a_sale_reaches_the_other_channels_within_a_second(self):
        """Callback -> the woken cron reads and imports -> the stock push the import queued:
        another eMAG account shows what is left, without any poll."""
        other_sim = EmagSimulator(username="seller-2", password="pw-2").start()
        self.addCleanup(other_sim.stop)
        other_sim.add_offer(5001, "CHAIR", stock=0)
        other = self.env["multichannel.channel"].create(
            {
                "name": "eMAG RO (second account)",
                "channel_type": "emag",
                "emag_platform": "ro",
                "warehouse_ids": [Command.set(self.warehouse.ids)],
                "pricelist_id": self.pricelist.id,
                "emag_username": "seller-2",
                "emag_password": "pw-2",
                "emag_timeout": 5.0,
            }
        )
        other.emag_base_url = other_sim.base_url
        self.env["multichannel.product.binding"].create(
            {"channel_id": other.id, "product_id": self.chair.id, "external_id": "5001"}
        )
        channels = self.channel | other
        channels._push("stock")
        self.assertEqual(other_sim.stock_of(5001), 100)
        self.env.flush_all()
        self.sim.log.clear()
        placed = self.sim.place_order([(1001, 3)])  # the customer buys on the first account
        self.env["multichannel.inbox"]._cron_process(auto_commit=False)
        self.assertEqual(
            len(self.sim.requests_to("order/read")), 2, "read by its id, re-read once acknowledged: no poll"
        )
        self.env.cr.flush()  # the import's commit queues the stock sync
        channels._push("stock")
        self.assertEqual(self._orders(placed["id"]).state, "done")
        self.assertEqual(other_sim.stock_of(5001), 97)

    def test_a_cancellation_callback_cancels_the_sale(self):
        placed = self.sim.place_order([(1002, 1)])
        self.env["multichannel.inbox"]._cron_process(auto_commit=False)
        sale = self._orders(placed["id"]).sale_order_id
        self.assertEqual(sale.state, "sale")
        self.sim.customer_cancel(placed["id"])
        self.assertEqual(self.sim.callback_log[-1]["event"], "cancellation")
        self.assertEqual(self.sim.callback_log[-1]["status"], 200)
        self.env["multichannel.inbox"]._cron_process(auto_commit=False)
        self.assertEqual(sale.state, "cancel")
        self.assertEqual(self._orders(placed["id"]).state, "cancelled")

    def test_only_the_order_id_is_taken_from_the_call(self):
        placed = self.sim.place_order([(1001, 1)])
        self.env["multichannel.inbox"]._cron_process(auto_commit=False)
        sale = self._orders(placed["id"]).sale_order_id
        # a forged "cancellation" with the right URL cannot cancel anything: the order is read from eMAG
        answer = self.url_open(f"{self.url}?order_id={placed['id']}&status=0&reason_cancellation=24")
        self.assertEqual(answer.status_code, 200)
        self.env["multichannel.inbox"]._cron_process(auto_commit=False)
        self.assertEqual(sale.state, "sale")
        self.assertEqual(self.sim.orders[placed["id"]]["status"], 2)

    def test_a_bad_token_and_an_unknown_channel_get_the_same_answer(self):
        wrong_token = self.url_open(f"/multichannel/emag/{self.channel.id}/{'x' * len(self.token)}?order_id=5")
        short_token = self.url_open(f"/multichannel/emag/{self.channel.id}/abc?order_id=5")
        unknown = self.url_open(f"/multichannel/emag/999999/{self.token}?order_id=5")
        answers = {(a.status_code, a.text) for a in (wrong_token, short_token, unknown)}
        self.assertEqual(answers, {(404, "not found")})
        self.assertFalse(self._requests())
        self.assertEqual(self.url_open(f"{self.url}?order_id=abc").status_code, 400)
        self.assertEqual(self.url_open(self.url).status_code, 400)
        self.channel.active = False
        self.env.flush_all()
        self.assertEqual(self.url_open(f"{self.url}?order_id=5").status_code, 404, "an archived channel")
        self.assertFalse(self._requests())

    def test_orders_fulfilled_by_emag_are_left_out(self):
        placed = self.sim.place_order([(1002, 2)], order_type=2)
        self.assertEqual(self.sim.callback_log[-1]["status"], 200)
        self.env["multichannel.inbox"]._cron_process(auto_commit=False)
        self.assertFalse(self._orders(placed["id"]))
        self.assertFalse(self._requests(), "read once, nothing to import")
        self.channel._import_orders()
        self.assertFalse(self._orders(placed["id"]))

    def test_a_read_failing_is_tried_again_later_without_sleeping(self):
        placed = self.sim.place_order([(1001, 1)])
        self.sim.add_fault("503", "order/read", count=5)
        self.env["multichannel.inbox"]._cron_process(auto_commit=False)
        self.assertEqual(len(self.sim.requests_to("order/read")), 1, "one try, no retry in the worker")
        request = self._requests()
        self.assertEqual(request.attempts, 1)
        self.assertIn("503", request.error)
        self.assertGreater(request.next_try_at, request.received_at)
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id), ("call_at", "=", request.next_try_at)]),
            "the cron wakes again when the request is due",
        )
        self.sim.faults.clear()
        request.sudo().next_try_at = request.received_at
        self.env["multichannel.inbox"]._cron_process(auto_commit=False)
        self.assertEqual(self._orders(placed["id"]).state, "done")

    def test_an_answer_of_the_wrong_shape_is_read_again_later_never_taken_for_an_order(self):
        placed = self.sim.place_order([(1001, 1)])
        self.sim.add_fault("wrong_type", "order/read")  # an object where eMAG documents a list
        self.env["multichannel.inbox"]._cron_process(auto_commit=False)
        self.assertFalse(
            self.env["multichannel.order"].search([("channel_id", "=", self.channel.id)]), "no order made of it"
        )
        request = self._requests()
        self.assertEqual(request.attempts, 1)
        self.assertIn("unexpected shape", request.error)
        request.sudo().next_try_at = request.received_at
        self.env["multichannel.inbox"]._cron_process(auto_commit=False)
        self.assertEqual(self._orders(placed["id"]).state, "done")

    def test_the_token_is_never_logged(self):
        werkzeug = logging.getLogger("werkzeug")
        level = werkzeug.level
        werkzeug.setLevel(logging.INFO)
        try:
            with CapturedLogs() as logs:
                self.sim.place_order([(1001, 1)])
                self.url_open(f"/multichannel/emag/{self.channel.id}/{self.token}x?order_id=7")
        finally:
            werkzeug.setLevel(level)
        self.assertTrue([line for line in logs.lines if "eMAG callback for order" in line], "the capture worked")
        self.assertFalse([line for line in logs.lines if self.token in line])
        record = logging.LogRecord(
            "werkzeug", logging.INFO, "", 0, '"%s" %s %s', (f"GET {self.url}?order_id=1 HTTP/1.1", "200", "-"), None
        )
        MaskCallbackToken().filter(record)
        self.assertNotIn(self.token, record.getMessage())
        self.assertIn(f"/multichannel/emag/{self.channel.id}/***?order_id=1", record.getMessage())

    def test_only_settings_administrators_see_or_change_the_url(self):
        manager = self.env["res.users"].create(
            {
                "name": "Channel manager",
                "login": "emag-cb-manager",
                "groups_id": [Command.set([self.env.ref("stock_multichannel.group_multichannel_manager").id])],
            }
        )
        channel = self.channel.with_user(manager)
        self.assertNotIn("emag_callback_url", channel.fields_get())
        with self.assertRaises(AccessError):
            channel.read(["emag_callback_token"])
        with self.assertRaises(AccessError):
            channel.action_emag_new_callback_token()
        self.channel.action_emag_new_callback_token()
        self.assertNotEqual(self.channel.sudo().emag_callback_token, self.token)
        self.env.flush_all()
        self.assertEqual(self.url_open(f"{self.url}?order_id=5").status_code, 404, "the old URL no longer works")
