import importlib.util
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import tagged
from odoo.tools.misc import file_path

from ..lib.adapter import ItemResult, TransportError
from ..models import multichannel_channel_push as push_module
from .common import MultichannelCase


@tagged("post_install", "-at_install")
class TestPush(MultichannelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.extra_listings = cls.env["multichannel.product.binding"]
        for index in range(5):
            product = cls._product(f"Lamp {index}", f"LAMP{index}", 20.0 + index)
            cls._set_stock(product, index + 1)
            cls.extra_listings |= cls._listing(product, f"ext-lamp-{index}")
        cls.listings = cls.chair_listing | cls.desk_listing | cls.extra_listings

    def test_batches_respect_the_adapter_size(self):
        self.channel._push("stock")
        self.assertEqual(self.remote.calls, [("stock", 3), ("stock", 3), ("stock", 1)])
        self.assertEqual(len(self.remote.stock), 7)
        self.assertEqual(self.remote.stock["ext-lamp-4"], 5)
        self.assertEqual(set(self.listings.mapped("state")), {"pending"}, "prices not pushed yet")
        self.channel._push("price")
        self.assertEqual(set(self.listings.mapped("state")), {"synced"})
        lines = self.env["multichannel.ledger"].search([("channel_id", "=", self.channel.id), ("kind", "=", "stock")])
        self.assertEqual(len(lines), 7)
        self.assertEqual(set(lines.mapped("result")), {"ok"})
        self.assertEqual(set(lines.mapped("old_value")), {""}, "never pushed before")

    def test_each_listing_keeps_its_own_pushed_values(self):
        # lamps 0 and 1 end with 3 units each, in the same batch: settled together, each right
        self._set_stock(self.extra_listings[0].product_id, 2)
        self._set_stock(self.extra_listings[1].product_id, 1)
        self.remote.refuse["ext-lamp-2"] = "refused"
        self.channel._push("stock")
        self.channel._push("price")
        self.listings.invalidate_recordset()
        shown = {listing.external_id: listing.pushed_qty for listing in self.listings}
        self.assertEqual(shown, {**self.remote.stock, "ext-lamp-2": 0})
        self.assertEqual((shown["ext-lamp-0"], shown["ext-lamp-1"]), (3, 3))
        prices = {listing.external_id: listing.pushed_price for listing in self.listings}
        self.assertEqual(prices, {**self.remote.prices, "ext-lamp-2": 0.0})
        self.assertEqual(self.extra_listings[2].state, "error")
        self.assertEqual(set((self.listings - self.extra_listings[2]).mapped("state")), {"synced"})

    def test_a_listing_without_an_external_id_is_settled_once_accepted(self):
        """A channel that finds its listings by SKU accepts one with an empty external id: it
        is settled like the others, not sent again at every run."""
        self.env.cr.execute(
            "UPDATE multichannel_product_binding SET external_id = '' WHERE id = %s", [self.desk_listing.id]
        )
        self.desk_listing.invalidate_recordset(["external_id"])
        self.channel._push("stock")
        self.assertEqual(self.remote.stock[""], 10)
        self.assertFalse(self.desk_listing.stock_pending)
        self.remote.calls.clear()
        self.channel._push("stock")
        self.assertEqual(self.remote.calls, [], "nothing left to send")

    def test_a_listing_moved_under_another_parent_while_its_batch_waits_stays_pending(self):
        """The push read the listing under one parent product, a user moved it under another
        before its batch was answered: not settled, sent again under its new parent."""
        self.desk_listing.external_parent_id = "parent-1"
        push_stock = self.adapter_class.push_stock

        def moved_meanwhile(adapter, updates):
            results = push_stock(adapter, updates)
            # committed by the user meanwhile, as their write does (the push's cache keeps the old parent)
            self.env.cr.execute(
                "UPDATE multichannel_product_binding SET external_parent_id = 'parent-2',"
                " address_version = address_version + 1 WHERE id = %s",
                [self.desk_listing.id],
            )
            return results

        self.patch(self.adapter_class, "push_stock", moved_meanwhile)
        self.channel._push("stock")
        self.desk_listing.invalidate_recordset()
        self.assertTrue(self.desk_listing.stock_pending)
        self.assertFalse(self.chair_listing.stock_pending)
        self.patch(self.adapter_class, "push_stock", push_stock)
        self.remote.calls.clear()
        self.channel._push("stock")
        self.assertEqual(self.remote.calls, [("stock", 1)])
        self.assertFalse(self.desk_listing.stock_pending)

    def test_a_listing_matched_anew_while_its_quantity_is_worked_out_is_not_sent_it(self):
        """The quantities are worked out from the products read in SQL: a listing matched to
        another product in the meantime was sent the old product's quantity and settled."""
        lamp = self._product("Desk lamp", "LAMP-DESK", 40.0)
        self._set_stock(lamp, 4)
        channel_class = type(self.channel)
        split_changed = channel_class._split_changed

        def matched_anew_meanwhile(channel, kind, bindings, force):
            split = split_changed(channel, kind, bindings, force)
            if self.desk_listing.product_id != lamp:
                self.desk_listing.product_id = lamp  # committed by a user while the quantities were read
            return split

        self.patch(channel_class, "_split_changed", matched_anew_meanwhile)
        self.channel._push("stock")
        self.assertNotIn("ext-desk", self.remote.stock, "not the desk's quantity")
        self.assertTrue(self.desk_listing.stock_pending)
        self.channel._push("stock")
        self.assertEqual((self.remote.stock["ext-desk"], self.desk_listing.stock_pending), (4, False))

    def test_a_batch_sends_no_listing_moved_since_its_value_was_worked_out(self):
        """A batch sent again by halves after a fault is read again after a commit: the half
        carrying a listing moved meanwhile does not send it the value worked out before."""
        held = push_module.HeldListings(self.channel, "stock", False)
        held.addresses = {self.chair_listing.id: self.chair_listing.address_version}
        held.addresses[self.desk_listing.id] = self.desk_listing.address_version - 1  # moved since
        batch = [(self.chair_listing, 8), (self.desk_listing, 9)]
        adapter, faults = self.channel._get_adapter(), push_module.OneItemFaults()
        self.assertTrue(self.channel._push_batch("stock", adapter, batch, "test", {}, held, faults))
        self.assertEqual(self.remote.stock, {"ext-chair": 8})
        self.assertEqual((self.chair_listing.stock_pending, self.desk_listing.stock_pending), (False, True))

    def test_a_run_after_one_stopped_in_its_calls_sends_again_what_it_may_have_sent(self):
        """Only what such a run may have sent, while its calls may still arrive."""
        Request = self.env["multichannel.sync.request"]

        def stopped_run(ago):
            self.env.cr.execute(
                "INSERT INTO multichannel_push_under_way (channel_id, kind, token, since)"
                " VALUES (%s, 'stock', 'dead', now() at time zone 'UTC' - make_interval(secs => %s))",
                [self.channel.id, ago],
            )

        def queued_again():
            return Request.search([("binding_id.channel_id", "=", self.channel.id), ("due_at", "!=", False)])

        self.remote.refuse["ext-desk"] = "Offer locked by campaign Black Friday"
        self.channel.with_context(multichannel_cron=True)._push("stock")
        self.assertTrue(self.desk_listing.stock_retry_at)
        # the stopped run had drained the chair's change (committed): pending, as it left it
        self.chair_listing.sudo().stock_pending = True
        stopped_run(3600)  # an hour ago: whatever it sent has arrived long since
        self.channel._push("stock")
        self.assertFalse(queued_again())
        self.chair_listing.sudo().stock_pending = True
        stopped_run(10)
        self.channel.with_context(multichannel_cron=True)._push("stock")
        again = queued_again()
        self.assertEqual(again.binding_id, self.chair_listing, "not the refusal held back: it was not sent")
        self.assertEqual(again.cause, "unanswered call")
        self.env.cr.execute("SELECT count(*) FROM multichannel_push_under_way")
        self.assertEqual(self.env.cr.fetchone()[0], 0, "taken over")

    def test_a_listing_moved_is_sent_anew_for_what_it_syncs_only(self):
        self.channel._push("stock")
        self.channel._push("price")
        self.desk_listing.price_sync = False
        self.desk_listing.external_id = "ext-desk-2"
        self.assertEqual((self.desk_listing.stock_pending, self.desk_listing.price_pending), (True, False))
        self.channel._push("stock")
        self.assertEqual(self.desk_listing.state, "synced", "nothing left waiting for good")

    def test_a_listing_import_marks_pending_only_the_listings_it_moves(self):
        self.channel._push("stock")
        self.channel._push("price")
        self.desk_listing.external_parent_id = "parent-1"
        self.assertTrue(self.desk_listing.stock_pending, "moved under a parent: sent again")
        self.channel._push("stock")
        self.channel._push("price")
        (self.chair_listing | self.desk_listing).write({"external_parent_id": "parent-1"})
        self.assertEqual((self.chair_listing.stock_pending, self.desk_listing.stock_pending), (True, False))
        self.assertFalse(self.desk_listing.price_pending, "the same parent written again moves nothing")

    def test_a_refused_item_does_not_fail_its_batch(self):
        self.remote.refuse["ext-desk"] = "Offer locked by campaign Black Friday"
        self.channel._push("stock")
        self.assertNotIn("ext-desk", self.remote.stock)
        self.assertEqual(self.remote.stock["ext-chair"], 100)
        self.assertEqual(len(self.remote.stock), 6)
        self.assertEqual(self.desk_listing.state, "error")
        self.assertTrue(self.desk_listing.stock_pending, "stays pending")
        self.assertIn("Black Friday", self.desk_listing.last_error)
        refused = self.env["multichannel.ledger"].search([("binding_id", "=", self.desk_listing.id)])
        self.assertEqual(refused.result, "refused")
        self.assertIn("Black Friday", refused.answer)
        # the next run sends only the refused one again, and it goes through once the campaign ends
        self.remote.calls.clear()
        del self.remote.refuse["ext-desk"]
        self.channel._push("stock")
        self.assertEqual(self.remote.calls, [("stock", 1)])
        self.assertEqual(self.remote.stock["ext-desk"], 10)
        self.assertFalse(self.desk_listing.last_error)

    def _due_again(self, listings, kind):
        """Move the ``kind`` refusals of ``listings`` back in time: their retry is due now."""
        listings.sudo()[f"{kind}_retry_at"] = fields.Datetime.now() - timedelta(seconds=1)

    def test_a_scheduled_push_sends_a_refused_listing_again_once_it_may_pass(self):
        """A listing the channel refused was sent again by every push, though the same call
        would be refused again (each try at a call of its own, out of the channel's quota)."""
        self.remote.refuse["ext-desk"] = "Offer locked by campaign Black Friday"
        scheduled = self.channel.with_context(multichannel_cron=True)
        scheduled._push("stock")
        retry_at = self.desk_listing.stock_retry_at
        self.assertEqual(self.desk_listing.state, "error")
        self.assertAlmostEqual(retry_at, fields.Datetime.now() + timedelta(hours=1), delta=timedelta(minutes=1))
        cron = self.env["ir.cron"].browse(self.channel._cron_id("stock"))
        wake_ups = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id), ("call_at", "=", retry_at)])
        self.assertEqual(len(wake_ups), 1, "asked for at the refusal, whenever the next push comes")
        self.remote.calls.clear()
        scheduled._push("stock")
        scheduled._push("stock")
        self.assertEqual(self.remote.calls, [], "the same quantity: it would be refused again")
        self.assertEqual((self.desk_listing.state, self.desk_listing.stock_pending), ("error", True))
        self.assertIn("Black Friday", self.desk_listing.last_error)
        wake_ups = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id), ("call_at", "=", retry_at)])
        self.assertEqual(len(wake_ups), 1, "the cron wakes when it is due, once")
        # its quantity moves: sent at once
        self.env["stock.quant"]._update_available_quantity(self.desk, self.warehouse.lot_stock_id, 1)
        self.env.flush_all()
        scheduled._push("stock")
        self.assertEqual(self.remote.calls, [("stock", 1)])
        self.assertEqual(self.desk_listing.refused_qty, 11)
        # the hour passed: sent again, and taken once the campaign is over
        self.remote.calls.clear()
        del self.remote.refuse["ext-desk"]
        scheduled._push("stock")
        self.assertEqual(self.remote.calls, [])
        self._due_again(self.desk_listing, "stock")
        scheduled._push("stock")
        self.assertEqual(self.remote.calls, [("stock", 1)])
        self.assertEqual(self.remote.stock["ext-desk"], 11)
        self.assertEqual((self.desk_listing.error_kind, self.desk_listing.stock_pending), (False, False))

    def test_a_refused_listing_moved_to_another_id_is_sent_there_at_once(self):
        """The fix of a refusal naming a wrong offer: the merchant types the right id."""
        self.remote.refuse["ext-desk"] = "No such offer"
        scheduled = self.channel.with_context(multichannel_cron=True)
        scheduled._push("stock")
        self.assertTrue(self.desk_listing.stock_retry_at)
        self.desk_listing.external_id = "ext-desk-right"
        self.remote.calls.clear()
        scheduled._push("stock")
        self.assertEqual(self.remote.calls, [("stock", 1)])
        self.assertEqual(self.remote.stock["ext-desk-right"], 10)
        self.assertFalse(self.desk_listing.stock_error)

    def test_writing_what_a_listing_has_keeps_its_refusal_held(self):
        """A CSV import or a multi-edit writes the sync, the state and the ids listings have:
        every refused listing it touched was sent once more."""
        self.remote.refuse["ext-desk"] = "Offer locked by campaign Black Friday"
        self.remote.refuse["ext-lamp-0"] = "Offer locked by campaign Black Friday"
        scheduled = self.channel.with_context(multichannel_cron=True)
        scheduled._push("stock")
        desk, lamp = self.desk_listing, self.extra_listings[0]
        held_until = desk.stock_retry_at
        self.assertTrue(held_until and lamp.stock_retry_at)
        lamp.stock_sync = False
        self.assertFalse(lamp.stock_pending)
        (desk | lamp).write({"stock_sync": True, "price_sync": True, "active": True})
        desk.write({"external_id": "ext-desk", "product_id": self.desk.id})
        self.assertEqual((desk.stock_retry_at, desk.stock_pending, desk.state), (held_until, True, "error"))
        self.assertEqual((lamp.stock_pending, lamp.stock_retry_at), (True, False), "ticked again: sent anew")
        self.remote.calls.clear()
        scheduled._push("stock")
        self.assertEqual(self.remote.calls, [("stock", 1)], "the lamp only")
        self.assertEqual(lamp.stock_error, "Offer locked by campaign Black Friday")
        self.assertEqual(desk.address_version, 0, "never moved")

    def test_an_item_the_channel_said_nothing_of_is_sent_again_at_the_next_push(self):
        self.remote.unanswered.add("ext-desk")
        scheduled = self.channel.with_context(multichannel_cron=True)
        scheduled._push("stock")
        self.assertIn("did not answer", self.desk_listing.last_error)
        self.assertFalse(self.desk_listing.stock_retry_at, "whether it was saved is unknown")
        self.remote.unanswered.clear()
        scheduled._push("stock")
        self.assertEqual(self.remote.stock["ext-desk"], 10)
        self.assertFalse(self.desk_listing.error_kind)

    def test_a_new_regular_price_is_sent_though_the_price_was_refused(self):
        self.channel.pricelist_id.item_ids = [
            Command.create({"applied_on": "0_product_variant", "product_id": self.desk.id, "fixed_price": 200.0})
        ]
        self.remote.refuse["ext-desk"] = "Price outside the allowed band"
        scheduled = self.channel.with_context(multichannel_cron=True)
        scheduled._push("price")
        self.assertEqual((self.desk_listing.refused_price, self.desk_listing.refused_regular_price), (200.0, 250.0))
        self.remote.calls.clear()
        scheduled._push("price")
        self.assertEqual(self.remote.calls, [])
        self.desk.list_price = 240.0  # the "was" price only
        self.env.flush_all()
        scheduled._push("price")
        self.assertEqual(self.remote.calls, [("price", 1)])

    def test_a_refusal_of_a_forced_push_waits_for_the_next_push(self):
        self.channel._push("stock")
        self.channel._push("price")
        self.remote.refuse["ext-desk"] = "Offer locked by campaign Black Friday"
        self.channel._reconcile()
        self.assertEqual((self.desk_listing.stock_pending, self.desk_listing.price_pending), (True, True))
        self.assertEqual(self.desk_listing.error_kind, "both")
        self.desk_listing.price_sync = False  # the merchant's answer for the price
        self.assertEqual((self.desk_listing.error_kind, self.desk_listing.state), ("stock", "error"))
        self.assertEqual(self.desk_listing.last_error, "Offer locked by campaign Black Friday")
        del self.remote.refuse["ext-desk"]
        self.remote.calls.clear()
        self.channel._push("stock")
        self.assertEqual(self.remote.calls, [("stock", 1)], "sent again though the forced push had it settled")
        self.assertEqual((self.desk_listing.state, self.desk_listing.error_kind), ("synced", False))

    def test_an_answer_for_where_a_listing_was_is_not_written_where_it_is(self):
        """A user corrects the external id while the batch is on its way, and a commit before
        the answer is written reads the listing anew: the answer is of the old id."""
        Binding = self.env["multichannel.product.binding"].sudo()
        desk = self.desk_listing
        self.channel._push("stock")
        old_address = {desk.id: desk.address_version}
        desk.external_id = "ext-desk-right"
        self.env.flush_all()
        Binding._apply_push_results(
            "stock", [(desk, 9)], {desk.id: ItemResult(desk.id, False, "No such offer")}, {}, old_address
        )
        self.assertFalse(desk.stock_error, "refused at the old id")
        Binding._apply_push_results("stock", [(desk, 9)], {desk.id: ItemResult(desk.id, True)}, {}, old_address)
        self.assertEqual((desk.stock_pending, desk.pushed_qty), (True, 10), "taken at the old id")
        # matched to another product meanwhile: the quantity taken was the other product's
        self.channel._push("stock")
        old_address = {desk.id: desk.address_version}
        lamp = self._product("Lamp", "LAMP-DESK", 40.0)
        desk.product_id = lamp
        desk.external_id = "ext-desk-right"  # the same id written again: no move
        self.env.flush_all()
        self.assertEqual(desk.address_version, old_address[desk.id] + 1)
        Binding._apply_push_results("stock", [(desk, 10)], {desk.id: ItemResult(desk.id, True)}, {}, old_address)
        self.assertTrue(desk.stock_pending, "the lamp's quantity is still to send")
        self.channel._push("stock")
        self.assertEqual((desk.stock_pending, desk.pushed_qty), (False, 0))

    def test_unticking_a_kind_leaves_the_other_ones_state(self):
        self.channel._push("stock")
        self.assertEqual((self.desk_listing.state, self.desk_listing.price_pending), ("pending", True))
        self.desk_listing.price_sync = False
        self.assertEqual((self.desk_listing.state, self.desk_listing.price_pending), ("synced", False))

    def test_a_push_by_hand_sends_a_refused_listing_at_once(self):
        self.remote.refuse["ext-desk"] = "Price outside the allowed band"
        self.channel.with_context(multichannel_cron=True)._push("price")
        self.assertEqual((self.desk_listing.error_kind, self.desk_listing.refused_price), ("price", 250.0))
        del self.remote.refuse["ext-desk"]
        self.remote.calls.clear()
        self.channel.action_push_prices()
        self.assertEqual(self.remote.calls, [("price", 1)])
        self.assertEqual((self.desk_listing.error_kind, self.desk_listing.price_pending), (False, False))

    def test_each_kind_keeps_its_own_refusal(self):
        """One error for both kinds: the latest refusal replaced the other's message, and
        the other kind, no longer seen as refused, was sent again at every push."""
        scheduled = self.channel.with_context(multichannel_cron=True)
        self.remote.refuse["ext-desk"] = "Stock locked by campaign Black Friday"
        scheduled._push("stock")
        self.remote.refuse["ext-desk"] = "Price outside the allowed band"
        scheduled._push("price")
        desk = self.desk_listing
        self.assertEqual((desk.state, desk.error_kind), ("error", "both"))
        self.assertEqual(desk.last_error, "Stock locked by campaign Black Friday\nPrice outside the allowed band")
        self.remote.calls.clear()
        scheduled._push("stock")
        scheduled._push("price")
        self.assertEqual(self.remote.calls, [], "both refusals stand")
        # the price goes through: the stock's refusal stays, with its own message
        del self.remote.refuse["ext-desk"]
        self._due_again(desk, "price")
        scheduled._push("price")
        scheduled._push("stock")
        self.assertEqual(self.remote.calls, [("price", 1)])
        self.assertEqual((desk.state, desk.error_kind), ("error", "stock"))
        self.assertEqual(desk.last_error, "Stock locked by campaign Black Friday")
        self.assertEqual((desk.price_error, desk.price_retry_at), (False, False))
        self._due_again(desk, "stock")
        scheduled._push("stock")
        self.assertEqual((desk.state, desk.error_kind, desk.last_error), ("synced", False, False))
        self.assertFalse(desk.stock_error)

    def test_listings_refused_before_the_kinds_were_apart_are_refused_for_their_kind(self):
        spec = importlib.util.spec_from_file_location(
            "post_migration", file_path("stock_multichannel/migrations/18.0.1.3.0/post-migration.py")
        )
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        self.channel._push("stock")
        self.channel._push("price")
        lamps = self.extra_listings[:3]
        unsynced, forced = self.extra_listings[3:5]
        unsynced.price_sync = False
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE multichannel_product_binding SET state = 'error', last_error = 'Refused', error_kind = kind"
            "  FROM unnest(%s, %s) AS v(id, kind) WHERE multichannel_product_binding.id = v.id",
            [[*lamps.ids, unsynced.id, forced.id], ["stock", "price", None, "price", "stock"]],
        )
        migration.migrate(self.env.cr, "18.0.1.2.0")
        self.env.invalidate_all()
        self.assertEqual(
            [(lamp._refused_for("stock"), lamp._refused_for("price"), lamp.error_kind) for lamp in lamps],
            [(True, False, "stock"), (False, True, "price"), (True, True, "both")],
        )
        self.assertEqual(
            (unsynced.state, unsynced.error_kind, unsynced.last_error), ("synced", False, False), "price not synced"
        )
        self.assertTrue(forced._refused_for("stock"), "a forced push's refusal: pending again, sent again")
        self.remote.calls.clear()
        self.channel._push("stock")
        self.assertEqual(self.remote.calls, [("stock", 3)], "the refused stocks sent again (at once by hand)")
        self.assertEqual(lamps.mapped("state"), ["synced", "error", "error"])
        self.assertEqual(forced.state, "synced")

    def _desk_price_refused_then_stock_accepted(self, price_sync=True):
        """The channel refuses the desk's new price, then accepts its new stock."""
        self.channel._push("stock")
        self.channel._push("price")
        self.remote.refuse["ext-desk"] = "Price outside the allowed band"
        self.desk.list_price += 5
        self.desk_listing.price_pending = True
        self.channel._push("price")
        self.assertEqual((self.desk_listing.state, self.desk_listing.error_kind), ("error", "price"))
        del self.remote.refuse["ext-desk"]
        self.desk_listing.price_sync = price_sync
        self.env["stock.quant"]._update_available_quantity(self.desk, self.warehouse.lot_stock_id, 1)
        self.desk_listing.stock_pending = True
        self.channel._push("stock")

    def test_a_refusal_stays_until_its_own_push_is_accepted(self):
        """Stock and price share one state and error: the other push's success cleared a
        refusal, and the listing left the Error filter while the channel still refused it."""
        self._desk_price_refused_then_stock_accepted()
        self.assertEqual(self.remote.stock["ext-desk"], 11)
        self.assertEqual(self.desk_listing.state, "error", "the price refusal stays")
        self.assertIn("allowed band", self.desk_listing.last_error)
        self.assertTrue(self.desk_listing.price_pending)
        self.remote.calls.clear()
        self.channel._push("stock")
        self.assertEqual(self.remote.calls, [], "nothing resent for stock: its stock was accepted")
        self.channel._push("price")
        self.assertEqual((self.desk_listing.state, self.desk_listing.last_error), ("synced", False))
        self.assertFalse(self.desk_listing.error_kind)

    def test_a_refusal_of_what_is_no_longer_synced_does_not_stay(self):
        self._desk_price_refused_then_stock_accepted(price_sync=False)  # the merchant's answer to a refusal
        self.assertEqual(self.remote.stock["ext-desk"], 11)
        self.assertNotEqual(self.desk_listing.state, "error", "no price push will ever clear it")

    def test_a_temporary_fault_is_retried(self):
        self.remote.faults = [TransportError("read timeout"), TransportError("HTTP 503")]
        self.channel._push("stock")
        self.assertEqual(len(self.remote.stock), 7)
        self.assertEqual(self.remote.calls[:3], [("stock", 3)] * 3, "the first batch was tried three times")
        self.assertFalse(self.listings.filtered("stock_pending"))

    def test_a_persistent_fault_keeps_everything_pending(self):
        self.channel.retry_attempts = 2
        self.remote.faults = [TransportError("HTTP 429", retry_after=0)] * 2
        self.channel._push("stock")
        self.assertEqual(self.remote.stock, {})
        self.assertEqual(len(self.listings.filtered("stock_pending")), 7)
        self.assertIn("HTTP 429", self.channel.last_error)
        failed = self.env["multichannel.ledger"].search([("channel_id", "=", self.channel.id)])
        self.assertEqual(set(failed.mapped("result")), {"failed"})
        # the channel is back: nothing was lost
        self.channel._push("stock")
        self.assertEqual(len(self.remote.stock), 7)
        self.assertFalse(self.listings.filtered("stock_pending"))

    def test_reconcile_sends_everything_again(self):
        self.channel._push("stock")
        self.remote.stock["ext-chair"] = 3  # someone edited the offer on the channel
        self.remote.calls.clear()
        self.channel._reconcile()
        self.assertEqual(self.remote.stock["ext-chair"], 100)
        self.assertIn(("stock", 3), self.remote.calls)
        self.assertEqual(sum(n for kind, n in self.remote.calls if kind == "stock"), 7)

    def test_an_inactive_listing_is_not_pushed(self):
        self.desk_listing.active = False
        self.channel._push("stock")
        self.assertNotIn("ext-desk", self.remote.stock)

    def test_changing_the_channels_policy_or_sources_reaches_the_channel(self):
        self.channel._push("stock")
        self.channel._push("price")
        self.assertEqual(self.remote.stock["ext-chair"], 100)
        self._changes_committed()
        self.channel.stock_max = 5  # no stock moved: only the channel's setting
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-chair"], 5)
        self.assertEqual(self.remote.stock["ext-lamp-4"], 5)
        self.assertEqual(self.remote.stock["ext-lamp-0"], 1, "below the maximum: unchanged")
        self.channel.write({"stock_max": 0, "stock_held_back": 2})
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual((self.remote.stock["ext-chair"], self.remote.stock["ext-lamp-0"]), (98, 0))
        other = self.env["stock.warehouse"].create({"name": "Empty", "code": "EMPT", "company_id": self.company.id})
        self.channel.warehouse_ids = other
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-chair"], 0, "sold from a warehouse with nothing in it")

    def test_a_new_pricelist_on_the_channel_reaches_the_channel(self):
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-chair"], 100.0)
        cheaper = self.env["product.pricelist"].create(
            {
                "name": "Channel sale",
                "currency_id": self.channel.currency_id.id,
                "item_ids": [(0, 0, {"applied_on": "3_global", "compute_price": "percentage", "percent_price": 10})],
            }
        )
        self._changes_committed()
        self.channel.pricelist_id = cheaper
        self._changes_committed()
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-chair"], 90.0)
