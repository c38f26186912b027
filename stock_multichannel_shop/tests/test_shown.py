"""What the shop shows equals Odoo's availability after every kind of event (on the simulator,
which lowers its stock when an order is processing and restores it on a cancellation, as
WooCommerce does)."""

from odoo.addons.stock_multichannel.const import TO_FIX_DOMAIN
from odoo.addons.stock_multichannel.lib.adapter import ItemResult
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .common import ShopSetup


@tagged("post_install", "-at_install")
class TestShopShowsOdoosAvailability(ShopSetup, TransactionCase):
    def setUp(self):
        super().setUp()
        self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(self.chair_id), 20)

    def _push(self):
        self.env.cr.flush()  # the commit of what happened: its sync requests are queued
        self.channel._push("stock")

    def _sale_of(self, placed):
        return (
            self.env["multichannel.order"]
            .search([("channel_id", "=", self.channel.id), ("external_id", "=", str(placed["id"]))])
            .sale_order_id
        )

    def test_a_sale_cancelled_in_odoo_then_on_the_shop(self):
        placed = self.sim.place_order([(self.chair_id, 0, 1, 100.0)])
        self.assertEqual(self.sim.stock_of(self.chair_id), 19)
        self.channel._import_orders()
        self._sale_of(placed)._action_cancel()  # Odoo's target is 20 again, what it last sent
        self._push()
        self.assertEqual(self.sim.stock_of(self.chair_id), 20)
        self.env["multichannel.order"]._send_statuses()  # the shop cancels it and restores the unit: 21
        self.assertEqual(self.sim.stock_of(self.chair_id), 21)
        self._push()  # at once, not when the shop's orders are read next
        self.assertEqual(self.sim.stock_of(self.chair_id), 20)
        self.assertEqual(self.chair_listing.target_qty, 20)

    def test_a_refund_restocking_a_unit_in_the_shop_is_set_back(self):
        """The shop's admin refunds one of two chairs and ticks "Restock refunded items":
        the shop counts the chair back on its shelf, while Odoo has not received it back
        (the return is made in Odoo when it arrives). The order stays processing."""
        placed = self.sim.place_order([(self.chair_id, 0, 2, 100.0)])
        self.channel._import_orders()
        self._push()
        self.assertEqual(self.sim.stock_of(self.chair_id), 18)
        refund_id = self.sim.refund(
            placed["id"], "119.00", restock={placed["line_items"][0]["id"]: 1}, reason="one chair scratched"
        )
        self.assertEqual(self.sim.stock_of(self.chair_id), 19)
        self.assertEqual(self.sim.orders[placed["id"]]["status"], "processing")
        self.channel._import_orders()
        self._push()
        self.assertEqual(self.sim.stock_of(self.chair_id), 18, "what Odoo has")
        sale = self._sale_of(placed)
        self.assertEqual(sale.state, "sale", "a partial refund cancels nothing")
        # the money went back to the customer: the people of the sale order are told, once
        order = self.env["multichannel.order"].search([("external_id", "=", str(placed["id"]))])
        told = f"refunded 119.00 EUR of order {order.name} (refund {refund_id}: one chair scratched)"
        self.assertEqual(len(sale.message_ids.filtered(lambda m: told in (m.body or ""))), 1)
        self.assertEqual(sale.activity_ids.summary, "Refund on the channel: make the credit note")
        self.channel._import_orders()  # read again (the polls' overlap): nothing said twice
        self.assertEqual(len(sale.message_ids.filtered(lambda m: told in (m.body or ""))), 1)
        self.assertEqual(len(sale.activity_ids), 1)

    def test_a_refund_made_before_the_import_is_told_too(self):
        placed = self.sim.place_order([(self.chair_id, 0, 2, 100.0)])
        refund_id = self.sim.refund(placed["id"], "20.00", reason="late delivery")
        self.channel._import_orders()
        sale = self._sale_of(placed)
        self.assertEqual(sale.state, "sale")
        self.assertEqual(len(sale.activity_ids), 1)
        self.assertIn("refunded 20.00 EUR", sale.activity_ids.note)
        self.assertIn(f"(refund {refund_id}: late delivery)", sale.activity_ids.note)
        self.channel._import_orders()
        self.assertEqual(len(sale.activity_ids), 1, "told once")

    def test_a_refunded_order_keeps_its_units_off_the_shop_and_gives_them_back_in_odoo(self):
        """Refunding the whole order makes it refunded, which gives no stock back in the
        shop (as the real shop does); Odoo cancels the sale, and the push shows the units again."""
        placed = self.sim.place_order([(self.chair_id, 0, 2, 100.0)])
        self.channel._import_orders()
        self.sim.refund(placed["id"], placed["total"])
        self.assertEqual(self.sim.stock_of(self.chair_id), 18)
        self.assertEqual(self.sim.orders[placed["id"]]["status"], "refunded")
        self.channel._import_orders()
        self.assertEqual(self._sale_of(placed).state, "cancel")
        self._push()
        self.assertEqual(self.sim.stock_of(self.chair_id), 20)

    def test_an_order_reopened_after_its_cancellation_keeps_its_units_off_the_shop(self):
        """A bank transfer not paid in time: cancelled in the shop, and in Odoo; then paid
        after all, the shop sells it again and takes its chair back off the shelf. Odoo
        holds the chair again and asks a human to import the order anew."""
        placed = self.sim.place_order([(self.chair_id, 0, 1, 100.0)])
        self.channel._import_orders()
        sale = self._sale_of(placed)
        self.sim.set_order_status(placed["id"], "cancelled")
        self.channel._import_orders()
        self._push()
        self.assertEqual((sale.state, self.sim.stock_of(self.chair_id)), ("cancel", 20))
        self.sim.set_order_status(placed["id"], "processing")  # paid late
        self.assertEqual(self.sim.stock_of(self.chair_id), 19)
        self.channel._import_orders()
        self._push()
        self.assertEqual(self.sim.stock_of(self.chair_id), 19, "the paid chair is not sold twice")
        order = self.env["multichannel.order"].search([("external_id", "=", str(placed["id"]))])
        self.assertTrue(order.content_changed)
        self.assertIn("open again after its sale order was cancelled", order.error)
        with self.assertRaisesRegex(UserError, "no sale order of Odoo holds its products"):
            order.action_mark_handled()  # would free the paid chair for another customer
        self.assertEqual(order.pending_quantities, {str(self.chair.id): 1.0})
        order.action_import_as_new_order()
        self.assertEqual(order.replaced_by_id.sale_order_id.state, "sale")
        self._push()
        self.assertEqual(self.sim.stock_of(self.chair_id), 19)

    def test_an_order_reopened_then_cancelled_again_frees_its_units(self):
        """Reopened as pending to send the customer a payment link, never paid, cancelled again."""
        placed = self.sim.place_order([(self.chair_id, 0, 1, 100.0)])
        self.channel._import_orders()
        self.sim.set_order_status(placed["id"], "cancelled")
        self.channel._import_orders()
        self.sim.set_order_status(placed["id"], "pending")
        self.channel._import_orders()
        order = self.env["multichannel.order"].search([("external_id", "=", str(placed["id"]))])
        self.assertEqual((order.content_changed, order.pending_quantities), (True, {str(self.chair.id): 1.0}))
        self.sim.set_order_status(placed["id"], "cancelled")
        self.channel._import_orders()
        self.assertEqual((order.content_changed, order.pending_quantities, order.error), (False, False, False))
        self._push()
        self.assertEqual(self.sim.stock_of(self.chair_id), 20)

    def test_an_order_awaiting_its_bank_transfer_is_held_not_shipped(self):
        placed = self.sim.place_order([(self.chair_id, 0, 2, 100.0)], status="on-hold")
        self.channel._import_orders()
        order = self.env["multichannel.order"].search([("external_id", "=", str(placed["id"]))])
        self.assertEqual((order.state, order.sale_order_id), ("pending", self.env["sale.order"]))
        self._push()
        self.assertEqual(self.sim.stock_of(self.chair_id), 18, "its units counted while it waits")
        self.sim.set_order_status(placed["id"], "processing")  # the transfer arrived
        self.channel._import_orders()
        self.assertEqual(order.state, "done", order.error)
        self._push()
        self.assertEqual(self.sim.stock_of(self.chair_id), 18)

    def _to_fix(self):
        return self.env["multichannel.order"].search([("channel_id", "=", self.channel.id), *TO_FIX_DOMAIN])

    def test_an_order_held_unpaid_too_long_is_listed_to_fix(self):
        """A bank transfer never paid would keep its chairs off every channel for ever: past
        the channel's limit the held order is listed for a human, once, until it moves."""
        placed = self.sim.place_order([(self.chair_id, 0, 2, 100.0)], status="on-hold")
        self.sim.orders[placed["id"]]["date_created_gmt"] = "2026-01-05T10:00:00"  # a while ago
        self.channel.order_import_since = "2026-01-01 00:00:00"
        self.channel.hold_warning_days = 0
        self.channel._import_orders()
        order = self.env["multichannel.order"].search([("external_id", "=", str(placed["id"]))])
        self.assertEqual((order.state, order.hold_attention, order.error), ("pending", False, False))
        self.assertNotIn(order, self._to_fix())
        self.channel.hold_warning_days = 7
        self.channel._import_orders()  # nothing new on the shop: the run still looks at its held orders
        self.assertEqual((order.state, order.hold_attention), ("pending", True))
        self.assertIn(order, self._to_fix())
        self.assertIn("Held unpaid since 2026-01-05 10:00:00 (UTC), more than 7 days", order.error)
        messages = order.message_ids.filtered(lambda m: "Held unpaid" in (m.body or ""))
        self.channel._import_orders()
        self.assertEqual(order.message_ids.filtered(lambda m: "Held unpaid" in (m.body or "")), messages, "said once")
        self._push()
        self.assertEqual(self.sim.stock_of(self.chair_id), 18, "still held: the customer may pay yet")
        self.channel.hold_warning_days = 0  # the merchant decides such orders need no look
        self.channel._import_orders()
        self.assertEqual((order.state, order.hold_attention, order.error), ("pending", False, False))
        self.assertNotIn(order, self._to_fix())
        self.channel.hold_warning_days = 7
        self.channel._import_orders()
        self.assertTrue(order.hold_attention)
        self.sim.set_order_status(placed["id"], "processing")  # paid after all
        self.channel._import_orders()
        self.assertEqual((order.state, order.hold_attention, order.error), ("done", False, False))
        self.assertNotIn(order, self._to_fix())

    def test_held_orders_past_one_runs_share_are_listed_at_the_next_runs(self):
        from odoo.addons.stock_multichannel.models import multichannel_channel_order_import

        self.patch(multichannel_channel_order_import, "LONG_HOLDS_PER_RUN", 1)
        self.channel.order_import_since = "2026-01-01 00:00:00"
        self.channel.hold_warning_days = 0
        placed = [self.sim.place_order([(self.chair_id, 0, 1, 100.0)], status="on-hold") for _i in range(2)]
        for order in placed:
            self.sim.orders[order["id"]]["date_created_gmt"] = "2026-01-05T10:00:00"
        self.channel._import_orders()
        orders = self.env["multichannel.order"].search([("external_id", "in", [str(o["id"]) for o in placed])])
        self.channel.hold_warning_days = 7
        self.channel._list_long_holds()
        self.assertEqual(len(orders.filtered("hold_attention")), 1)
        self.channel._list_long_holds()
        self.assertEqual(len(orders.filtered("hold_attention")), 2, "the one listed already does not take the turn")

    def test_a_held_order_imported_meanwhile_by_another_worker_is_left_alone(self):
        """The look at long holds searches, then locks each order: an order another worker
        (a webhook, a button) imported in between must not be set back to held."""
        placed = self.sim.place_order([(self.chair_id, 0, 1, 100.0)], status="on-hold")
        self.sim.orders[placed["id"]]["date_created_gmt"] = "2026-01-05T10:00:00"
        self.channel.order_import_since = "2026-01-01 00:00:00"
        self.channel.hold_warning_days = 0
        self.channel._import_orders()
        order = self.env["multichannel.order"].search([("external_id", "=", str(placed["id"]))])
        self.channel.hold_warning_days = 7
        Order = type(order)
        lock = Order._lock

        def imported_meanwhile(records):
            lock(records)
            # what the other worker committed just before the lock was taken
            self.env.cr.execute("UPDATE multichannel_order SET state = 'done' WHERE id IN %s", [tuple(records.ids)])

        self.patch(Order, "_lock", imported_meanwhile)
        self.channel._list_long_holds()
        order.invalidate_recordset()
        self.assertEqual((order.state, order.hold_attention, order.error), ("done", False, False))

    def test_an_order_held_in_a_plugins_status_is_listed_to_fix_at_once(self):
        placed = self.sim.place_order([(self.chair_id, 0, 1, 100.0)], status="pending")
        self.sim.set_order_status(placed["id"], "partial-payment")  # a deposit plugin's status
        self.channel._import_orders()
        order = self.env["multichannel.order"].search([("external_id", "=", str(placed["id"]))])
        self.assertEqual((order.state, order.hold_attention), ("pending", True))
        self.assertIn("in the status 'partial-payment', which its connector does not know", order.error)
        self.assertIn(order, self._to_fix())
        self._push()
        self.assertEqual(self.sim.stock_of(self.chair_id), 19, "its unit held meanwhile")
        order.action_skip()  # a human decides it is no sale
        self.assertEqual((order.state, order.hold_attention, order.error), ("skipped", False, False))
        self.assertNotIn(order, self._to_fix())
        self._push()
        self.assertEqual(self.sim.stock_of(self.chair_id), 20)

    def test_maximum_shown(self):
        self.channel.stock_max = 5
        self._push()
        for _sale in range(3):
            self.sim.place_order([(self.chair_id, 0, 1, 100.0)])
            self.assertEqual(self.sim.stock_of(self.chair_id), 4)
            self.channel._import_orders()  # the order cron or the webhook
            self._push()
            self.assertEqual(self.sim.stock_of(self.chair_id), 5)

    def _polo_sharing_its_parents_stock(self):
        """A polo in S (5 in stock) and M (7) whose stock the shop keeps on the parent product."""
        polo_s = self._product("Polo S", "POLO-S", 25.0, 5)
        polo_m = self._product("Polo M", "POLO-M", 25.0, 7)
        polo_id, (s_id, m_id) = self.sim.add_variable("POLO", [("POLO-S", 0), ("POLO-M", 0)], stock_on_parent=0)
        listings = self._listing(polo_s, s_id, parent=polo_id) | self._listing(polo_m, m_id, parent=polo_id)
        listings.external_stock_on_parent = True
        return polo_id, polo_s, polo_m, listings

    def test_parent_stock_is_the_scarcest_variation_whatever_changed(self):
        polo_id, polo_s, polo_m, _listings = self._polo_sharing_its_parents_stock()
        self._push()
        self.assertEqual(self.sim.stock_of(polo_id), 5)
        self._set_stock(polo_m, 10)  # only M changed: 17 M, still 5 S
        self._push()
        self.assertEqual(self.sim.stock_of(polo_id), 5, "never more than the 5 small ones")
        self._set_stock(polo_s, 10)
        self._push()
        self.assertEqual(self.sim.stock_of(polo_id), 15)

    def test_a_variation_leaving_its_parents_stock_leaves_the_others_shown(self):
        """The parent showed the 5 small polos; the small one no longer synced, archived or
        removed, it shows the 7 medium ones: they were not sent until their own stock moved."""
        polo_id, _polo_s, _polo_m, (s_listing, m_listing) = self._polo_sharing_its_parents_stock()
        for leaving in ("unsynced", "archived", "removed"):
            with self.subTest(leaving=leaving):
                s_listing.write({"active": True, "stock_sync": True})
                self._push()
                self.assertEqual(self.sim.stock_of(polo_id), 5)
                self.assertFalse(m_listing.stock_pending)
                s_listing.write({"stock_sync": True, "external_stock_on_parent": True})  # a listing import
                self.env.cr.flush()
                self.env.cr.execute("SELECT count(*) FROM multichannel_stock_change")
                self.assertEqual(self.env.cr.fetchone()[0], 0, "nobody left: nothing queued")
                if leaving == "unsynced":
                    s_listing.stock_sync = False
                elif leaving == "archived":
                    s_listing.active = False
                else:
                    s_listing.unlink()
                self._push()
                self.assertEqual(self.sim.stock_of(polo_id), 7)

    def test_parent_stock_is_the_scarcest_even_sent_one_variation_per_batch(self):
        polo_id, polo_s, _polo_m, listings = self._polo_sharing_its_parents_stock()
        self.patch(type(self.channel._get_adapter()), "batch_size", 1)
        self._push()
        self.assertEqual(self.sim.stock_of(polo_id), 5)
        self.assertEqual(set(listings.mapped("pushed_qty")), {5})
        self._set_stock(polo_s, 10)  # only S changed: M (7) is now the scarcest
        self._push()
        self.assertEqual(self.sim.stock_of(polo_id), 7)
        self.assertEqual(set(listings.mapped("pushed_qty")), {7})

    def test_a_variation_switched_to_its_own_stock_is_pushed_there(self):
        """The shop's admin gives the small polo its own stock (9 typed in by hand): the
        push to the parent would never set it again. The audit sees the switch, and the
        push sets the variation's own quantity, and the parent's to the medium ones'."""
        polo_id, _polo_s, _polo_m, (s_listing, m_listing) = self._polo_sharing_its_parents_stock()
        self.channel.binding_ids.price_sync = False  # stock only
        self._push()
        self.assertEqual(self.sim.stock_of(polo_id), 5)
        s_id = int(s_listing.external_id)
        self.sim.variations[s_id].update(manage_stock=True, stock_quantity=9)
        self.assertFalse(self.channel._audit(budget_seconds=60))
        self.assertFalse(s_listing.external_stock_on_parent)
        self.assertTrue(m_listing.external_stock_on_parent)
        drift = self.env["multichannel.ledger"].search(
            [("channel_id", "=", self.channel.id), ("kind", "=", "drift"), ("binding_id", "=", s_listing.id)]
        )
        self.assertEqual(
            sorted((line.old_value, line.new_value) for line in drift),
            [("5", "9"), (f"stock on product {polo_id}", "stock of its own")],
        )
        self._push()
        self.assertEqual(self.sim.stock_of(polo_id, s_id), 5, "the small polos Odoo has, on the variation itself")
        self.assertEqual(self.sim.stock_of(polo_id), 7, "the parent now shows the medium ones only")
        self.assertFalse(self.channel._audit(budget_seconds=60))
        self.assertEqual(self.channel.audit_drift_count, 0)

    def test_a_variation_switched_to_its_parents_stock_is_pushed_there(self):
        """The other way round: the small shirt now uses its parent's stock (3 typed in on the
        parent). The push sends the parent the shirt's quantity instead of giving the
        variation its own stock back."""
        self.channel.binding_ids.price_sync = False  # stock only
        shirt = self.sim.products[self.shirt_id]
        shirt.update(manage_stock=True, stock_quantity=3)
        self.sim.variations[self.shirt_s_id].update(manage_stock="parent", stock_quantity=None)
        self.assertFalse(self.channel._audit(budget_seconds=60))
        self.assertTrue(self.shirt_s_listing.external_stock_on_parent)
        self.assertFalse(self.shirt_m_listing.external_stock_on_parent)
        self._push()
        self.assertEqual(self.sim.variations[self.shirt_s_id]["manage_stock"], "parent", "as the shop keeps it")
        self.assertEqual(self.sim.stock_of(self.shirt_id), 5)
        self.assertEqual(self.sim.stock_of(self.shirt_id, self.shirt_m_id), 7)
        self.assertFalse(self.channel._audit(budget_seconds=60))
        self.assertEqual(self.channel.audit_drift_count, 0)

    def test_an_answer_for_the_variation_is_not_taken_for_its_parent(self):
        """The shop was found keeping the small shirt's stock on its parent while a quantity
        was on its way to the variation: the variation's answer says nothing of the parent."""
        listing = self.shirt_s_listing.sudo()
        sent_at = {listing.id: listing.address_version}
        listing.external_stock_on_parent = True
        listing.external_stock_on_parent = True  # written again: no second move
        self.assertEqual(listing.address_version, sent_at[listing.id] + 1)
        listing._apply_push_results("stock", [(listing, 5)], {listing.id: ItemResult(listing.id, True)}, {}, sent_at)
        self.assertTrue(listing.stock_pending, "to be sent to the parent")
        self.assertFalse(listing.stock_pushed_at)

    def test_the_audit_finds_a_hand_edit_and_fixes_it(self):
        self.sim.products[self.chair_id]["stock_quantity"] = 2  # edited in the shop's admin
        self.assertFalse(self.channel._audit(budget_seconds=60))
        drift = self.env["multichannel.ledger"].search([("channel_id", "=", self.channel.id), ("kind", "=", "drift")])
        chair_drift = drift.filtered(lambda line: line.binding_id == self.chair_listing)
        self.assertEqual((chair_drift.old_value, chair_drift.new_value), ("20", "2"))
        self._push()
        self.assertEqual(self.sim.stock_of(self.chair_id), 20)

    def test_a_shop_selling_past_the_stock_odoo_sent_is_set_back(self):
        """Backorders allowed, or the stock no longer kept, in the shop's admin: the shop
        would sell chairs Odoo does not have. The audit finds it at the same quantity and
        the push makes the shop keep Odoo's quantity again, without backorders."""
        (self.chair_listing | self.shirt_s_listing | self.shirt_m_listing).price_sync = False  # stock only
        chair = self.sim.products[self.chair_id]
        shirt_s = self.sim.variations[self.shirt_s_id]
        chair["backorders"] = "notify"
        shirt_s.update(manage_stock=False, stock_quantity=None)
        self.assertFalse(self.channel._audit(budget_seconds=60))
        drift = self.env["multichannel.ledger"].search([("channel_id", "=", self.channel.id), ("kind", "=", "drift")])
        found = {line.binding_id: (line.old_value, line.new_value) for line in drift}
        self.assertEqual(found[self.chair_listing], ("20", "20 (backorders allowed)"))
        self.assertEqual(found[self.shirt_s_listing], ("5", "no stock kept"))
        self.assertNotIn(self.shirt_m_listing, found)
        self._push()
        self.assertEqual((chair["backorders"], chair["stock_quantity"]), ("no", 20))
        self.assertEqual((shirt_s["manage_stock"], shirt_s["stock_quantity"], shirt_s["backorders"]), (True, 5, "no"))
        self.assertFalse(self.channel._audit(budget_seconds=60))
        drift_lines = [("channel_id", "=", self.channel.id), ("kind", "=", "drift")]
        self.assertEqual(self.env["multichannel.ledger"].search_count(drift_lines), 2, "nothing drifts any more")

    def test_a_zero_price_never_reaches_the_shop(self):
        self.chair.lst_price = 0.0
        self.channel._push("price")
        self.assertEqual(self.sim.products[self.chair_id]["regular_price"], "100.00", "the shop keeps its price")
        self.assertEqual(self.chair_listing.state, "error")
        self.assertIn("No price to send", self.chair_listing.last_error)
