from odoo.exceptions import UserError
from odoo.tests import tagged

from ..lib.adapter import ChannelError, TransportError
from .common import MultichannelCase, order_data


@tagged("post_install", "-at_install")
class TestOrderStatus(MultichannelCase):
    def _import(self, external_id):
        return self.env["multichannel.order"]._receive(self.channel, order_data(external_id))

    def _ship(self, sale):
        for picking in sale.picking_ids.filtered(lambda p: p.state not in ("done", "cancel")):
            picking.move_ids.quantity = 2
            picking.button_validate()

    def test_delivery_done_is_reported_as_shipped(self):
        order = self._import("7001")
        self._ship(order.sale_order_id)
        self.assertEqual(order.status_to_send, "shipped")
        self.assertTrue(order.status_pending)
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(self.remote.statuses, [("7001", "shipped")])
        self.assertEqual(order.status_sent, "shipped")
        self.assertFalse(order.status_pending)
        ledger = self.env["multichannel.ledger"].search([("order_id", "=", order.id), ("kind", "=", "status")])
        self.assertEqual((ledger.result, ledger.new_value), ("ok", "shipped"))
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(len(self.remote.statuses), 1, "sent once")

    def test_an_archived_channel_sends_no_status_even_from_the_button(self):
        order = self._import("7009")
        order.sale_order_id._action_cancel()
        self.channel.active = False
        with self.assertRaisesRegex(UserError, "archived"):
            order.action_send_status()
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(self.remote.statuses, [])
        self.assertTrue(order.status_pending)

    def test_multi_step_delivery_reports_when_the_customer_gets_it(self):
        self.warehouse.delivery_steps = "pick_ship"
        order = self._import("7002")
        pick = order.sale_order_id.picking_ids.filtered(lambda p: p.location_dest_id.usage != "customer")
        pick.move_ids.quantity = 2
        pick.button_validate()
        self.assertFalse(order.status_to_send, "picked is not shipped")
        self._ship(order.sale_order_id)
        self.assertEqual(order.status_to_send, "shipped")

    def test_cancel_in_odoo_is_reported(self):
        order = self._import("7003")
        order.sale_order_id._action_cancel()
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(self.remote.statuses, [("7003", "cancelled")])

    def test_an_unreadable_answer_fails_its_order_alone_and_refused_ones_go_last(self):
        first, second = self._import("7101"), self._import("7102")
        for order in (first, second):
            order.sale_order_id._action_cancel()
        self.remote.faults = [AttributeError("'NoneType' object has no attribute 'get'")]
        self.env["multichannel.order"]._send_statuses()  # the cron goes on
        self.assertIn("AttributeError", first.status_error)
        self.assertTrue(first.status_pending)
        self.assertEqual(self.remote.statuses, [("7102", "cancelled")], "the next order was sent")
        third = self._import("7103")
        third.sale_order_id._action_cancel()
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(
            self.remote.statuses[1:], [("7103", "cancelled"), ("7101", "cancelled")], "the one refused last time last"
        )
        self.assertFalse(first.status_error)

    def test_a_failed_status_stays_visible_and_is_retried(self):
        self.channel.retry_attempts = 2
        order = self._import("7004")
        self._ship(order.sale_order_id)
        self.remote.faults = [TransportError("timeout"), TransportError("timeout")]
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(self.remote.statuses, [])
        self.assertTrue(order.status_pending)
        self.assertIn("timeout", order.status_error)
        self.remote.faults = [ChannelError("order is locked")]
        self.env["multichannel.order"]._send_statuses()
        self.assertIn("order is locked", order.status_error)
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(self.remote.statuses, [("7004", "shipped")])
        self.assertFalse(order.status_error)
        results = (
            self.env["multichannel.ledger"]
            .search([("order_id", "=", order.id), ("kind", "=", "status")], order="id")
            .mapped("result")
        )
        self.assertEqual(results, ["failed", "failed", "ok"])
