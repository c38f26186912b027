from unittest.mock import patch

import psycopg2

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..const import TO_FIX_DOMAIN
from .common import MultichannelCase, order_data


@tagged("post_install", "-at_install")
class TestOrderIdentity(MultichannelCase):
    """Names say the channel; an id coming back as another order is kept for a human."""

    def _receive(self, data, channel=None):
        return self.env["multichannel.order"]._receive(channel or self.channel, data)

    def test_two_channels_numbering_alike_are_told_apart(self):
        other = self.env["multichannel.channel"].create(
            {
                "name": "Other Marketplace",
                "channel_type": "manual",
                "warehouse_ids": [Command.set(self.warehouse.ids)],
                "pricelist_id": self.pricelist.id,
                "customer_country_id": self.env.ref("base.ro").id,
            }
        )
        self._listing(self.chair, "ext-chair", channel=other)
        here = self._receive(order_data("100001", name="100001"))
        there = self._receive(order_data("100001", name="100001"), channel=other)
        self.assertEqual((here.name, there.name), ("Test Marketplace 100001", "Other Marketplace 100001"))
        for order in here | there:
            sale = order.sale_order_id
            self.assertEqual(sale.client_order_ref, order.name)
            self.assertEqual(sale.origin, order.name)
            self.assertEqual(sale.picking_ids.origin, f"{sale.name} - {order.name}", "the delivery says the channel")

    def test_an_order_without_a_name_is_named_by_its_id(self):
        order = self._receive(order_data("7001", name=""))
        self.assertEqual(order.name, "Test Marketplace 7001")

    def test_the_order_is_readable_without_its_payload(self):
        order = self._receive(order_data("2001", date="2026-03-02 05:25:38"))
        self.assertEqual(order.customer_name, "Ana Pop")
        self.assertEqual(order.customer_email, "ana@example.com")
        self.assertEqual(str(order.order_date), "2026-03-02 05:25:38")
        self.assertEqual((order.amount_total, order.currency_id), (250.0, self.euro))
        self.assertEqual(order.product_summary, "2 × Office chair")
        self.assertIn("2 × Office chair (CHAIR) @ 100", order.line_summary)
        broken = self._receive({"external_id": "2002", "lines": "?", "customer": {"name": "Ion"}})
        self.assertEqual(broken.state, "error")
        self.assertEqual((broken.customer_name, broken.product_summary), ("Ion", False))
        foreign = self._receive(order_data("2003", currency="ron"))
        self.assertEqual(foreign.state, "error", "not in the channel's currency")
        self.assertEqual(foreign.currency_id, self.env.ref("base.RON"), "its own currency, even one not in use")
        self.assertEqual(foreign.pending_quantities, {str(self.chair.id): 2.0}, "its units held meanwhile")
        self.assertEqual(self._receive(order_data("2004", total=199.999)).amount_total, 200.0, "to the cent")

    def test_an_order_another_worker_stored_meanwhile_is_updated_not_dropped(self):
        """Two workers receive the same new order (a poll and a webhook): the one whose
        insert meets the other's, committed meanwhile, applies what it read to that order."""
        waiting = self._receive(order_data("2101", status="pending"))
        self.assertEqual(waiting.state, "pending")
        Order = type(self.env["multichannel.order"])
        stored, looked_up = Order._stored, []

        def not_there_yet(order, channel, external_id):
            looked_up.append(external_id)
            return order.browse() if len(looked_up) == 1 else stored(order, channel, external_id)

        with patch.object(Order, "_stored", not_there_yet):
            paid = self._receive(order_data("2101", status="open"))
        self.assertEqual(looked_up, ["2101", "2101"], "looked up again after its insert met the other")
        self.assertEqual(paid, waiting)
        self.assertEqual(waiting.state, "done", "the payment it read is not lost")
        self.assertEqual(self.env["multichannel.order"].search_count([("external_id", "=", "2101")]), 1)

    def test_a_reused_id_with_other_content_is_kept_for_a_human(self):
        order = self._receive(order_data("3001", date="2027-03-02 05:25:38"))
        sale = order.sale_order_id
        self.assertEqual(order.state, "done")
        self.assertEqual(self.chair_listing.target_qty, 98)
        other = order_data(
            "3001",
            date="2027-05-10 10:00:00",
            lines=[{"listing_external_id": "ext-desk", "name": "Desk", "quantity": 3, "unit_price": 250.0}],
            customer=dict(order_data()["customer"], name="Ion Ionescu", email="ion@example.com"),
            total=None,
        )
        self.assertFalse(self._receive(other))
        self.assertEqual(order.state, "done", "the imported order stays as it was")
        self.assertTrue(order.content_changed)
        self.assertEqual(order.payload["lines"][0]["listing_external_id"], "ext-chair", "never overwritten")
        self.assertEqual(order.changed_payload["customer"]["name"], "Ion Ionescu")
        self.assertIn("products 3 × Desk instead of 2 × Office chair", order.error)
        self.assertIn("customer Ion Ionescu instead of Ana Pop", order.error)
        self.assertIn(sale.name, order.error)
        self.assertEqual(sale.order_line.filtered("product_id.is_storable").product_id, self.chair)
        self.assertIn(order, self.env["multichannel.order"].search(TO_FIX_DOMAIN))
        self.assertEqual(self.channel.order_error_count, 1)
        self.desk_listing.invalidate_recordset()
        self.assertEqual(self.desk_listing.target_qty, 7, "the other order's desks stay held")
        refused = self.env["multichannel.ledger"].search([("order_id", "=", order.id), ("result", "=", "refused")])
        self.assertEqual(len(refused), 1)
        self._receive(other)  # read again by the next poll: flagged once
        self.assertEqual(
            self.env["multichannel.ledger"].search_count([("order_id", "=", order.id), ("result", "=", "refused")]), 1
        )

    def test_a_read_from_before_the_change_never_takes_the_flag_away(self):
        """A poll that read the order before the channel changed it, stored after the change
        was flagged: taken for the order as imported, it cleared the flag and freed the
        units the changed order holds."""
        order = self._receive(order_data("3101", modified="2027-03-02 05:25:38"))
        desks = [{"listing_external_id": "ext-desk", "name": "Desk", "quantity": 3, "unit_price": 250.0}]
        changed = order_data("3101", lines=desks, total=None, modified="2027-03-02 05:40:00")
        self._receive(changed)
        self.assertTrue(order.content_changed)
        read_before = order_data("3101", modified="2027-03-02 05:30:00")
        self.assertFalse(self._receive(read_before))
        self.assertTrue(order.content_changed, "still to handle")
        self.assertEqual(order.changed_payload["lines"][0]["listing_external_id"], "ext-desk")
        self.desk_listing.invalidate_recordset()
        self.assertEqual(self.desk_listing.target_qty, 7, "the changed order's desks stay held")
        self._receive(order_data("3101", modified="2027-03-02 05:45:00"))  # changed back on the channel
        self.assertFalse(order.content_changed)

    def test_a_status_update_of_the_same_order_is_followed(self):
        order = self._receive(order_data("4001"))
        self._receive(order_data("4001", status="cancelled", payment_method="bank transfer"))
        self.assertFalse(order.content_changed)
        self.assertEqual(order.state, "cancelled")

    def test_a_cancellation_kept_aside_holds_nothing_and_is_followed_once_handled(self):
        order = self._receive(order_data("4101"))
        sale = order.sale_order_id
        self.desk_listing.invalidate_recordset()
        desks = self.desk_listing.target_qty
        lines = [{"listing_external_id": "ext-desk", "quantity": 1, "unit_price": 250.0}]
        cancelled = order_data("4101", status="cancelled", lines=lines, total=None)
        self._receive(cancelled)
        self.assertTrue(order.content_changed)
        self.assertEqual(sale.state, "sale", "kept aside: the sale order untouched")
        self.assertIn("It is cancelled on the channel", order.error)
        self.desk_listing.invalidate_recordset()
        self.assertEqual(self.desk_listing.target_qty, desks, "a cancelled order holds nothing")
        order.action_mark_handled()
        self.assertEqual(order.channel_status, "cancelled")
        self.assertEqual((order.state, sale.state), ("cancelled", "cancel"), "not only once read again")
        self._receive(cancelled)  # the same content read again: the stored one now
        self.assertEqual((order.state, sale.state, order.content_changed), ("cancelled", "cancel", False))

    def test_a_changed_order_closed_on_the_channel_still_holds_its_units(self):
        """Done on the channel, not on its shelf again: Odoo still ships it."""
        order = self._receive(order_data("4102"))
        self.desk_listing.invalidate_recordset()
        desks = self.desk_listing.target_qty
        lines = [{"listing_external_id": "ext-desk", "quantity": 1, "unit_price": 250.0}]
        self._receive(order_data("4102", status="closed", lines=lines, total=None))
        self.assertTrue(order.content_changed)
        self.desk_listing.invalidate_recordset()
        self.assertEqual(self.desk_listing.target_qty, desks - 1)

    def test_an_update_odoo_cannot_apply_is_told_not_taken_for_another_order(self):
        """Stored as an unreadable order, it was compared with the imported one: "products
        none instead of 2 × chair", and marking it handled stored the unreadable text."""
        order = self._receive(order_data("4201"))
        sale = order.sale_order_id
        cancelled = order_data("4201", status="cancelled")

        def locked(_sale):
            raise UserError(self.env._("the sale order is locked"))

        with patch.object(type(sale), "_action_cancel", locked):
            self.assertEqual(self._receive(cancelled), order)
            self._receive(cancelled)  # read again by the next poll: told once
        self.assertFalse(order.content_changed, order.error)
        self.assertEqual(sale.activity_ids.mapped("summary"), ["Channel's update not applied"])
        self.assertIn("Odoo could not apply it (UserError: the sale order is locked)", sale.activity_ids.note)
        failed = self.env["multichannel.ledger"].search([("order_id", "=", order.id), ("result", "=", "failed")])
        self.assertEqual(len(failed), 1)
        self.assertEqual((order.payload["status"], sale.state), ("open", "sale"), "what the sale was made from stays")
        self._receive(cancelled)  # read again once Odoo can
        self.assertEqual((order.state, sale.state), ("cancelled", "cancel"))

    def test_an_order_another_worker_holds_is_read_again_by_the_next_import(self):
        """A user shipping it holds its row: the import leaves it, and its watermark passed
        what the channel said of it (a cancellation) for good."""
        self.remote.orders = [order_data("4301")]
        self.channel._import_orders()
        order = self.env["multichannel.order"].search([("external_id", "=", "4301")])
        self.assertEqual((order.state, self.channel.order_watermark), ("done", "1"))
        self.remote.orders = [order_data("4301", status="cancelled"), order_data("4302")]
        lock = type(order)._lock

        def held(orders):
            if order in orders:
                raise psycopg2.errors.LockNotAvailable("could not obtain lock on row in relation multichannel_order")
            return lock(orders)

        with patch.object(type(order), "_lock", held):
            self.channel._import_orders()
        self.assertEqual(self.env["multichannel.order"].search([("external_id", "=", "4302")]).state, "done")
        self.assertEqual((order.channel_status, self.channel.order_watermark), ("open", "1"), "read again next")
        self.channel._import_orders()
        self.assertEqual((order.state, order.sale_order_id.state), ("cancelled", "cancel"))
        self.assertEqual(self.channel.order_watermark, "2")

    def test_handling_a_changed_order_needs_sale_rights(self):
        order = self._receive(order_data("5001"))
        other = order_data("5001", lines=[{"listing_external_id": "ext-desk", "quantity": 1, "unit_price": 250.0}])
        self._receive(other)
        viewer = self.env["res.users"].create(
            {
                "name": "Channel viewer",
                "login": "channel_viewer_5001",
                "groups_id": [Command.set(self.env.ref("stock_multichannel.group_multichannel_user").ids)],
            }
        )
        with self.assertRaises(AccessError):
            order.with_user(viewer).action_mark_handled()
        salesman = self.env["res.users"].create(
            {
                "name": "Channel salesman",
                "login": "channel_salesman_5001",
                "groups_id": [
                    Command.set(
                        (
                            self.env.ref("stock_multichannel.group_multichannel_user")
                            | self.env.ref("sales_team.group_sale_salesman_all_leads")
                        ).ids
                    )
                ],
            }
        )
        order.with_user(salesman).action_mark_handled()
        self.assertFalse(order.content_changed)
        self.assertFalse(order.error)
        self.assertEqual(order.payload["lines"][0]["listing_external_id"], "ext-desk", "the new content is kept")
        self._receive(other)
        self.assertFalse(order.content_changed, "the same content again is no news")
        self.desk_listing.invalidate_recordset()
        self.assertEqual(self.desk_listing.target_qty, 10, "nothing held any more")


@tagged("post_install", "-at_install")
class TestImportAsNewOrder(MultichannelCase):
    """An id the channel sent again with other content, imported as a new order by a person."""

    def _receive(self, data):
        return self.env["multichannel.order"]._receive(self.channel, data)

    def _flagged(self, external_id):
        first = self._receive(order_data(external_id, date="2027-03-02 05:25:38"))
        self.assertEqual(first.state, "done", first.error)
        other = order_data(
            external_id,
            date="2027-05-10 10:00:00",
            lines=[{"listing_external_id": "ext-desk", "name": "Desk", "quantity": 3, "unit_price": 250.0}],
            customer=dict(order_data()["customer"], name="Ion Ionescu", email="ion@example.com"),
            total=None,
        )
        self._receive(other)
        self.assertTrue(first.content_changed)
        return first, other

    def _targets(self):
        (self.chair_listing | self.desk_listing).invalidate_recordset()
        return self.chair_listing.target_qty, self.desk_listing.target_qty

    def _salesman(self):
        groups = self.env.ref("stock_multichannel.group_multichannel_user") | self.env.ref(
            "sales_team.group_sale_salesman_all_leads"
        )
        return self.env["res.users"].create(
            {"name": "Channel salesman", "login": "import_as_new_salesman", "groups_id": [Command.set(groups.ids)]}
        )

    def test_the_changed_content_becomes_a_new_sale_and_the_old_one_stays(self):
        old, other = self._flagged("8001")
        old_sale = old.sale_order_id
        old_lines = [(line.product_id, line.product_uom_qty, line.price_unit) for line in old_sale.order_line]
        old_sale_values = old_sale.read(["state", "amount_total", "client_order_ref", "multichannel_external_ref"])
        self.assertEqual(self._targets(), (98, 7), "the first order reserved 2 chairs; the changed one holds 3 desks")

        action = old.with_user(self._salesman()).action_import_as_new_order()

        new = self.env["multichannel.order"].browse(action["res_id"])
        self.assertEqual((action["res_model"], new.external_id, new.state), ("multichannel.order", "8001", "done"))
        new_sale = new.sale_order_id
        self.assertTrue(new_sale)
        self.assertNotEqual(new_sale, old_sale)
        self.assertEqual(new_sale.state, "sale")
        self.assertEqual(new_sale.partner_id.name, "Ion Ionescu")
        self.assertEqual(new_sale.order_line.filtered("product_id.is_storable").product_id, self.desk)
        self.assertEqual(sum(new_sale.order_line.filtered("product_id.is_storable").mapped("product_uom_qty")), 3)
        self.assertEqual((new_sale.multichannel_order_id, new_sale.multichannel_external_ref), (new, "8001"))
        self.assertEqual(new.payload["customer"]["name"], "Ion Ionescu")
        # the old order and its sale order stay as they were, linked to the new one
        self.assertEqual(old.replaced_by_id, new)
        self.assertEqual(new.replaced_ids, old)
        self.assertFalse(old.external_id, "the channel's id is the new order's now")
        self.assertTrue(old.name.endswith("(replaced)"), old.name)
        self.assertFalse(old.content_changed or old.error or old.changed_payload or old.pending_quantities)
        self.assertEqual((old.state, old.sale_order_id), ("done", old_sale))
        self.assertEqual(old.payload["lines"][0]["listing_external_id"], "ext-chair", "the first content is kept")
        self.assertEqual(
            [(line.product_id, line.product_uom_qty, line.price_unit) for line in old_sale.order_line], old_lines
        )
        self.assertEqual(
            old_sale.read(["state", "amount_total", "client_order_ref", "multichannel_external_ref"]), old_sale_values
        )
        self.assertEqual(old_sale.multichannel_order_id, old)
        self.assertNotIn(old | new, self.env["multichannel.order"].search(TO_FIX_DOMAIN))
        # the 3 desks held for the changed order are now reserved by its sale order: counted once
        self.assertEqual(self._targets(), (98, 7))
        self.assertEqual(new_sale.picking_ids.move_ids.quantity, 3.0)
        # the trace: ledger and chatter say who did what
        ledger = self.env["multichannel.ledger"].search([("order_id", "=", old.id), ("new_value", "=", new_sale.name)])
        self.assertEqual(len(ledger), 1)
        self.assertEqual((ledger.result, ledger.old_value), ("ok", old_sale.name))
        self.assertIn("Channel salesman", ledger.answer)
        self.assertTrue(old.message_ids.filtered(lambda m: new.name in (m.body or "") and new_sale.name in m.body))
        self.assertTrue(new.message_ids.filtered(lambda m: old.name in (m.body or "") and old_sale.name in m.body))
        self.assertTrue(old_sale.message_ids.filtered(lambda m: new_sale.name in (m.body or "")))
        # read again by the next poll: the same order, nothing flagged, nothing imported twice
        self.assertFalse(self._receive(other))
        self.assertFalse(new.content_changed)
        self.assertEqual(
            self.env["sale.order"].search_count([("multichannel_channel_id", "=", self.channel.id)]),
            2,
        )
        self.assertEqual(self._targets(), (98, 7))
        with self.assertRaises(UserError):
            old.action_import_as_new_order()
        with self.assertRaises(UserError):
            new.action_import_as_new_order()

    def test_statuses_go_with_the_new_sale_order_only(self):
        old, _other = self._flagged("8002")
        old_sale = old.sale_order_id
        new = self.env["multichannel.order"].browse(old.action_import_as_new_order()["res_id"])
        old_sale._action_cancel()  # the merchant cancels the order the channel replaced
        self.assertEqual(old_sale.state, "cancel")
        self.assertFalse(old.status_pending or new.status_pending)
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(self.remote.statuses, [], "cancelling the old sale order never cancels the channel's order")
        picking = new.sale_order_id.picking_ids
        picking.move_ids.quantity = 3
        picking.button_validate()
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(self.remote.statuses, [("8002", "shipped")])

    def test_a_changed_order_that_cannot_be_imported_waits_to_be_fixed(self):
        first = self._receive(order_data("8003"))
        ghost = {"listing_external_id": "ext-ghost", "name": "Ghost", "quantity": 4, "unit_price": 10.0}
        broken = order_data("8003", lines=[ghost], total=None)
        self._receive(broken)
        self.assertTrue(first.content_changed)
        new = self.env["multichannel.order"].browse(first.action_import_as_new_order()["res_id"])
        self.assertEqual(new.state, "error", "kept To Fix with its reason, nothing lost")
        self.assertIn("ext-ghost", new.error)
        self.assertFalse(new.sale_order_id)
        self.assertEqual(first.replaced_by_id, new)
        self.assertIn(new, self.env["multichannel.order"].search(TO_FIX_DOMAIN))
