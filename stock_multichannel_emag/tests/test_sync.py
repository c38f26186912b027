import threading
import time
from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.addons.stock_multichannel.lib.clock import utc_now
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..adapter import EmagAdapter
from .common import PASSWORD, CapturedLogs, EmagCase


@tagged("post_install", "-at_install")
class TestEmagStockAndPrices(EmagCase):
    def _offer_saves(self):
        return [entry["items"] for entry in self.sim.requests_to("offer/save")]

    def test_full_then_delta_stock_push(self):
        products = [self._product(f"Lamp {i}", f"LAMP{i}", 50.0, i % 7) for i in range(118)]
        for index, product in enumerate(products):
            self.sim.add_offer(2000 + index, product.default_code)
            self._listing(product, 2000 + index)
        self.channel._push("stock")
        self.assertEqual(self._offer_saves(), [50, 50, 20])
        self.assertEqual(self.sim.stock_of(1001), 100)
        self.assertEqual(self.sim.stock_of(2005), 5)
        self.assertLessEqual(self.sim.max_rate("other"), 3, "never more than three calls in one second")
        self.assertFalse([e for e in self.sim.log if e["status"] == 429])
        # delta: two products change, one call with two offers
        self.sim.log.clear()
        self._set_stock(self.chair, -7)
        self._set_stock(products[3], 4)
        self.channel._push("stock")
        self.assertEqual(self._offer_saves(), [2])
        self.assertEqual((self.sim.stock_of(1001), self.sim.stock_of(2003)), (93, 7))
        # nothing changed: no call at all
        self.sim.log.clear()
        self.channel._push("stock")
        self.assertEqual(self.sim.log, [])

    def test_a_price_change_reaches_emag(self):
        self.channel._push("price")
        self.assertEqual(self.sim.offers[1001]["sale_price"], 500.0)
        self.sim.log.clear()
        self._price_rule(self.chair, percent_off=10.0)
        self.channel._push("price")
        offer = self.sim.offers[1001]
        self.assertEqual((offer["sale_price"], offer["recommended_price"]), (450.0, 500.0))
        self.assertEqual((offer["min_sale_price"], offer["max_sale_price"]), (360.0, 675.0))
        self.assertEqual(self._offer_saves(), [1], "only the chair's price changed")
        self.assertEqual(self.chair_listing.pushed_price, 450.0)

    def _tax(self, rate, included):
        return self.env["account.tax"].create(
            {
                "name": f"TVA {rate}% {'incl' if included else 'excl'} (test)",
                "amount": rate,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_included" if included else "tax_excluded",
            }
        )

    def test_a_vat_rate_the_platform_does_not_have_sends_no_price(self):
        """A Romanian 21% product on a platform whose rates are 27/18/5/0 (eMAG Hungary):
        netted at 21%, eMAG would add 27% on top. Refused with the platform's rates, the
        other products' prices and every stock sent."""
        self.sim.vat_rates = [{"vat_id": 7 + i, "vat_rate": r} for i, r in enumerate((0.27, 0.18, 0.05, 0.0))]
        self.channel.emag_vat_rate = 27.0
        self.channel.action_test_connection()
        vat21 = self._tax(21.0, True)
        self.chair.write({"list_price": 605.0, "taxes_id": [Command.set(vat21.ids)]})
        self.desk.write({"list_price": 1270.0, "taxes_id": [Command.set(self._tax(27.0, True).ids)]})
        before = self.sim.offers[1001]["sale_price"]
        self.channel._push("price")
        self.assertEqual(self.sim.offers[1001]["sale_price"], before, "no price netted at the wrong rate")
        self.assertEqual(self.chair_listing.state, "error")
        self.assertIn("has no VAT rate of 21% (its rates: 27%, 18%, 5%, 0%)", self.chair_listing.last_error)
        self.assertEqual((self.sim.offers[1002]["sale_price"], self.sim.offers[1002]["vat_id"]), (1000.0, 7))
        self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(1001), 100)
        # nor is an offer created at such a price (a creation goes with the stock push)
        stool = self._product("Stool", "STOOL", 121.0, 4, taxes_id=[Command.set(vat21.ids)])
        listing = self._listing(stool, False, emag_create_offer=True)
        self.channel._push("stock")
        self.assertNotIn(stool.id, self.sim.offers)
        self.assertIn("has no VAT rate of 21%", listing.last_error)
        self.assertEqual(self.sim.stock_of(1001), 100, "the rest of the push goes on")

    def test_the_channels_fiscal_position_maps_the_vat_the_platform_charges(self):
        """A Romanian company selling on eMAG Hungary under OSS: its 21% products are
        sold with Hungarian VAT. The channel's fiscal position maps the products' taxes,
        so the price goes net of 27% with eMAG's 27% id, and changing it re-sends every
        price."""
        self.sim.vat_rates = [{"vat_id": 7 + i, "vat_rate": r} for i, r in enumerate((0.27, 0.18, 0.05, 0.0))]
        self.channel.action_test_connection()
        vat21, vat27 = self._tax(21.0, False), self._tax(27.0, False)
        self.chair.write({"list_price": 500.0, "taxes_id": [Command.set(vat21.ids)]})
        self.channel._push("price")
        self.assertEqual(self.chair_listing.state, "error", "21% is no Hungarian rate")
        oss = self.env["account.fiscal.position"].create(
            {"name": "OSS B2C Hungary", "tax_ids": [Command.create({"tax_src_id": vat21.id, "tax_dest_id": vat27.id})]}
        )
        self.channel.fiscal_position_id = oss
        self.assertTrue(self.chair_listing.price_pending)
        self.channel._push("price")
        self.assertFalse(self.chair_listing.price_pending or self.chair_listing.last_error)
        self.assertEqual((self.sim.offers[1001]["sale_price"], self.sim.offers[1001]["vat_id"]), (500.0, 7))
        Request = self.env["multichannel.sync.request"]
        oss.tax_ids.tax_dest_id = self._tax(18.0, False)  # the mapping edited: 18% now
        request = Request.search([("binding_id", "=", self.chair_listing.id), ("kind", "=", "price")])
        self.assertTrue(request.channel_moved, "other taxes: sent again whatever was sent")
        self.channel._push("price")
        self.assertEqual(self.sim.offers[1001]["vat_id"], 8)
        oss.tax_ids.tax_dest_id.amount = 5.0  # the tax the position applies, edited in place
        self.channel._push("price")
        self.assertEqual(self.sim.offers[1001]["vat_id"], 9)
        self.channel.fiscal_position_id = False
        request = Request.search([("binding_id", "=", self.chair_listing.id), ("kind", "=", "price")])
        self.assertTrue(request.channel_moved)
        self.channel.fiscal_position_id = oss
        self.channel._push("price")
        oss.unlink()  # the channel's field emptied by the database: no write of it
        self.assertFalse(self.channel.fiscal_position_id)
        request = Request.search([("binding_id", "=", self.chair_listing.id), ("kind", "=", "price")])
        self.assertTrue(request.channel_moved, "deleted: sent again at the product's own rate")

    def test_net_prices_from_each_products_own_taxes(self):
        """Each product's own sales tax says whether its price includes VAT and at which
        rate; the channel's order flag plays no part."""
        self.channel.action_test_connection()  # reads eMAG's VAT ids: 21% -> 1, 11% -> 2
        self.channel.prices_include_tax = False  # the flag for orders: not used for prices
        self.chair.write({"list_price": 605.0, "taxes_id": [Command.set(self._tax(21.0, True).ids)]})
        self.desk.write({"list_price": 1110.0, "taxes_id": [Command.set(self._tax(11.0, True).ids)]})
        book = self._product("Book", "BOOK", 80.0, 5, taxes_id=[Command.set(self._tax(11.0, False).ids)])
        self.sim.add_offer(1003, "BOOK", sale_price=80.0)
        self._listing(book, 1003)
        self.channel._push("price")
        offers = self.sim.offers
        self.assertEqual((offers[1001]["sale_price"], offers[1001]["vat_id"]), (500.0, 1))
        self.assertEqual((offers[1002]["sale_price"], offers[1002]["vat_id"]), (1000.0, 2), "11%, not 21%")
        self.assertEqual((offers[1003]["sale_price"], offers[1003]["vat_id"]), (80.0, 2), "price without VAT")
        self.channel.prices_include_tax = True
        self.sim.log.clear()
        self.channel._push("price", force=True)
        self.assertEqual(len(self.sim.requests_to("offer/save")), 1, "sent again")
        self.assertEqual(offers[1003]["sale_price"], 80.0, "still the product's taxes that decide")

    def test_a_message_naming_no_offer_confirms_nothing(self):
        self.sim.add_fault("message", "offer/save", text="Warehouse 1 could not be updated")
        self.channel.with_context(multichannel_cron=True)._push("stock")
        listings = self.chair_listing | self.desk_listing
        self.assertEqual(set(listings.mapped("state")), {"error"})
        self.assertIn("naming no offer", self.chair_listing.last_error)
        self.assertTrue(all(listings.mapped("stock_pending")), "sent again on the next push")
        self.assertFalse(any(listings.mapped("stock_retry_at")), "not refused: whether saved is unknown")
        self.channel.with_context(multichannel_cron=True)._push("stock")
        self.assertEqual((self.chair_listing.pushed_qty, self.desk_listing.pushed_qty), (100, 10))

    def test_a_refused_offer_is_isolated(self):
        self.sim.offers[1002]["campaign"] = "Black Friday"
        self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(1001), 100)
        self.assertEqual(self.sim.stock_of(1002), 0)
        self.assertEqual(self.desk_listing.state, "error")
        self.assertIn("Black Friday", self.desk_listing.last_error)
        self.assertTrue(self.desk_listing.stock_pending)
        self.assertEqual(self.chair_listing.pushed_qty, 100)

    def test_offers_in_a_campaign_cost_no_call_until_they_may_pass(self):
        """A stock change during a campaign fails the whole call: each scheduled push looked
        for the offers in the campaign by halves again, about two calls per offer, out of
        the 3 requests a second the order import shares."""
        lamps = [self._product(f"Lamp {i}", f"LAMP{i}", 50.0, 3) for i in range(4)]
        for index, product in enumerate(lamps):
            self.sim.add_offer(3000 + index, campaign="Black Friday" if index % 2 else None)
            self._listing(product, 3000 + index)
        scheduled = self.channel.with_context(multichannel_cron=True)
        scheduled._push("stock")
        in_campaign = self.env["multichannel.product.binding"].search([("external_id", "in", ["3001", "3003"])])
        self.assertEqual(set(in_campaign.mapped("state")), {"error"})
        self.assertEqual([self.sim.stock_of(o) for o in (3000, 3002)], [3, 3])
        requests = len(self.sim.log)
        scheduled._push("stock")
        self.assertEqual(len(self.sim.log), requests, "the same stock would be refused again: no call at all")
        # its quantity went up since the refusal, and the run that took the change stopped
        # before sending it: the next run finds nothing waiting but the refusals held, reads
        # no orders, and so sends no quantity going up (it could undo a sale eMAG made)
        in_campaign[1].sudo().refused_qty = 2
        scheduled._push("stock")
        self.assertEqual([entry["path"] for entry in self.sim.log[requests:]], [], "no order read: none sent up")
        saves = len(self._offer_saves())
        self.sim.offers[3001]["campaign"] = None  # the campaign is over for one
        in_campaign.sudo().stock_retry_at = fields.Datetime.now() - timedelta(seconds=1)
        scheduled._push("stock")
        self.assertEqual(len(self._offer_saves()), saves + 3, "sent again by halves: 3001 passes, 3003 not")
        self.assertEqual(self.sim.stock_of(3001), 3)
        self.assertEqual(in_campaign.mapped("error_kind"), [False, "stock"])
        # by hand: sent at once, eMAG's orders read first (eMAG lowers its own stock when a
        # customer orders: a quantity sent without them could undo that sale)
        reads, saves = len(self.sim.requests_to("order/read")), len(self._offer_saves())
        self.channel._push("stock")
        self.assertGreater(len(self.sim.requests_to("order/read")), reads)
        self.assertEqual(len(self._offer_saves()), saves + 1)

    def test_a_refusal_without_emags_envelope_stops_no_other_offer(self):
        """A 400 in a body without eMAG's envelope (as its 429 comes) once stopped the whole
        push, on every run: the other offers were never sent."""
        self.sim.bare_http_errors = True
        self.sim.offers[1002]["campaign"] = "Black Friday"
        self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(1001), 100)
        self.assertEqual(self.chair_listing.pushed_qty, 100)
        self.assertEqual(self.desk_listing.state, "error")
        self.assertIn("Black Friday", self.desk_listing.last_error)
        self.assertFalse(self.channel.last_error)

    def test_a_batch_refused_as_a_whole_is_split(self):
        lamps = [self._product(f"Lamp {i}", f"LAMP{i}", 50.0, 3) for i in range(6)]
        for index, product in enumerate(lamps):
            self.sim.add_offer(3000 + index)
            self._listing(product, 3000 + index)
        self.sim.add_fault("reject_batch", offer_id=3004)
        self.channel._push("stock")
        bad = self.env["multichannel.product.binding"].search([("external_id", "=", "3004")])
        self.assertEqual(bad.state, "error")
        self.assertIn("Invalid data", bad.last_error)
        good = [3000, 3001, 3002, 3003, 3005]
        self.assertEqual([self.sim.stock_of(o) for o in good], [3] * 5)
        self.assertEqual(self.sim.stock_of(1001), 100)
        self.assertGreater(len(self._offer_saves()), 2, "split into smaller batches")
        # still refused at the next push: the good offers are not searched by halves with it
        # again (they went in one call, the refused one in a batch of its own)
        for product in lamps:
            self._set_stock(product, 1)
        self.env.cr.flush()
        saves = len(self._offer_saves())
        self.channel._push("stock")
        self.assertEqual([self.sim.stock_of(o) for o in good], [4] * 5)
        self.assertEqual(len(self._offer_saves()) - saves, 2)

    def test_recovery_after_faults(self):
        for kind in ("503", "malformed", "429"):
            self.sim.add_fault(kind, "offer/save")
        self.sim.add_fault("timeout", "offer/save", delay=1.5)
        self.channel.write({"emag_timeout": 0.5, "retry_attempts": 5})
        self.channel._push("stock")
        self.assertEqual((self.sim.stock_of(1001), self.sim.stock_of(1002)), (100, 10))
        self.assertFalse((self.chair_listing | self.desk_listing).filtered("stock_pending"))

    def _wait_until(self, condition, seconds=5.0):
        deadline = time.monotonic() + seconds
        while not condition():
            self.assertLess(time.monotonic(), deadline, "waited in vain")
            time.sleep(0.02)

    def _pushed_again_later(self, listing, kind="stock"):
        return self.env["multichannel.sync.request"].search(
            [("binding_id", "=", listing.id), ("kind", "=", kind), ("due_at", "!=", False)]
        )

    def _make_due(self):
        """As once the listings to push again are due (their time moved back, not waited for)."""
        self.env.cr.execute(
            "UPDATE multichannel_sync_request SET due_at = clock_timestamp() AT TIME ZONE 'UTC' - interval '1s' "
            "WHERE due_at IS NOT NULL"
        )

    def test_a_call_that_got_no_answer_cannot_undo_what_was_sent_after_it(self):
        """eMAG applies an offer/save Odoo gave up on after the retry that followed it:
        the desk shows the older quantity while Odoo takes the newer one as shown. The
        listing is sent again once such a call can no longer arrive."""
        self.channel.write({"emag_timeout": 0.5})
        self.assertEqual(EmagAdapter(self.channel).late_arrival_seconds, 1.0, "twice the timeout")
        self.patch(EmagAdapter, "late_arrival_seconds", 60.0)
        self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(1002), 10)
        cron = self.channel.with_context(multichannel_cron=True)
        self._set_stock(self.desk, -1)
        on_its_way = threading.Event()
        self.sim.add_fault("timeout", "offer/save", held=on_its_way)  # applied once the event is set
        self.addCleanup(on_its_way.set)
        before = utc_now()
        cron._push("stock")
        after = utc_now()
        self.assertTrue(self.desk_listing.stock_pending)
        again = self._pushed_again_later(self.desk_listing)
        self.assertEqual((len(again), again.channel_moved, again.cause), (1, True, "unanswered call"))
        self.assertTrue(before + timedelta(seconds=60) <= again.due_at <= after + timedelta(seconds=60))
        stock_cron = self.env.ref("stock_multichannel.ir_cron_push_stock")
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", stock_cron.id), ("call_at", ">=", again.due_at)]),
            "the stock push is woken then",
        )
        # the retry sends the newer quantity; then the call Odoo gave up on lands
        self._set_stock(self.desk, -1)
        cron._push("stock")
        self.assertEqual(self.sim.stock_of(1002), 8)
        on_its_way.set()
        self._wait_until(lambda: self.sim.stock_of(1002) == 9)
        self.assertFalse(self.desk_listing.stock_pending)
        self.assertEqual(self.desk_listing.pushed_qty, 8, "Odoo takes 8 as shown")
        self.sim.log.clear()
        cron._push("stock")
        self.assertEqual(self._offer_saves(), [], "not due yet")
        # once due, the desk is sent again though Odoo thinks eMAG shows its quantity
        self._make_due()
        cron._push("stock")
        self.assertEqual(self.sim.stock_of(1002), 8)
        self.assertEqual(self._offer_saves(), [1], "only the desk")
        self.assertFalse(self._pushed_again_later(self.desk_listing))
        line = self.env["multichannel.ledger"].search(
            [("binding_id", "=", self.desk_listing.id), ("kind", "=", "stock")], order="id desc", limit=1
        )
        self.assertEqual((line.cause, line.result, line.new_value), ("unanswered call", "ok", "8"))

    def test_a_listing_pushed_again_later_waits_for_its_time(self):
        """A listing to push again is left alone until it is due, then sent whatever the
        channel is thought to show (stock and price alike), on any schedule; a change
        queued meanwhile is sent at once."""
        self.channel.write({"stock_schedule": "hourly", "price_schedule": "hourly"})
        self.channel._push("stock")
        self.channel._push("price")
        Request = self.env["multichannel.sync.request"]
        self.sim.log.clear()
        for kind in ("stock", "price"):
            Request._queue_again_in(kind, self.chair_listing.ids, 3600, "unanswered call")
            self.channel._push(kind)
            self.assertFalse(self.channel._is_due(kind), "just pushed, nothing due")
        self.assertEqual(self.sim.log, [], "not due: nothing sent")
        self.assertEqual(len(self._pushed_again_later(self.chair_listing, "stock")), 1)
        self.assertEqual(self.chair_listing.sync_status, "pending", "a push is still to come")
        self._set_stock(self.chair, -1)
        self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(1001), 99, "a change is not held back by a later push")
        self.assertEqual(len(self._pushed_again_later(self.chair_listing, "stock")), 1)
        self.sim.offers[1001]["sale_price"] = 480.0  # what eMAG shows, unknown to Odoo
        self.sim.offers[1001]["stock"][0]["value"] = 3
        self._make_due()
        self.assertTrue(self.channel._is_due("stock") and self.channel._is_due("price"), "due whatever the schedule")
        self.sim.log.clear()
        self.channel._push("stock")
        self.channel._push("price")
        self.assertEqual((self.sim.stock_of(1001), self.sim.offers[1001]["sale_price"]), (99, 500.0))
        self.assertEqual(self._offer_saves(), [1, 1])
        self.assertFalse(
            self._pushed_again_later(self.chair_listing, "stock")
            | self._pushed_again_later(self.chair_listing, "price")
        )
        self.chair_listing.invalidate_recordset(["sync_status"])  # computed from the queue, read before
        self.assertEqual(self.chair_listing.sync_status, "synced")

    def test_a_retried_call_is_pushed_again_later_too(self):
        """A user's push retries within the call: the try that timed out may land after
        the one answered."""
        self.channel._push("stock")
        self._set_stock(self.desk, -1)
        self.channel.write({"emag_timeout": 0.3, "retry_attempts": 3, "retry_delay": 0.05})
        # applied, then answered after the client gave up (nothing left to land after the test)
        self.sim.add_fault("timeout", "offer/save", delay=0.5, after_processing=True)
        self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(1002), 9)
        self.assertEqual(len(self._pushed_again_later(self.desk_listing)), 1)
        self.assertEqual(len(self._pushed_again_later(self.chair_listing)), 0, "the chair did not change")

    def test_no_push_again_when_the_call_never_reached_emag(self):
        self.sim.add_fault("429", "offer/save")
        self.channel.with_context(multichannel_cron=True)._push("stock")
        self.assertTrue(self.desk_listing.stock_pending)
        self.assertFalse(self._pushed_again_later(self.desk_listing))

    def test_an_outage_loses_nothing(self):
        self.sim.add_fault("503", "offer/save", count=20)
        self.channel.retry_attempts = 3
        self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(1001), 0)
        self.assertTrue(self.chair_listing.stock_pending)
        self.assertIn("HTTP 503", self.channel.last_error)
        self.sim.faults.clear()
        self.channel._push("stock")
        self.assertEqual((self.sim.stock_of(1001), self.sim.stock_of(1002)), (100, 10))

    def test_a_new_offer_is_created(self):
        stool = self._product("Stool", "STOOL", 121.0, 4, barcode="5940000000123")
        listing = self._listing(stool, False, emag_create_offer=True)
        self.assertEqual(listing.external_id, str(stool.id))
        self.channel._push("stock")
        offer = self.sim.offers[stool.id]
        self.assertEqual(self.sim.stock_of(stool.id), 4)
        self.assertEqual((offer["sale_price"], offer["min_sale_price"], offer["max_sale_price"]), (121.0, 96.8, 181.5))
        self.assertEqual(offer["ean"], ["5940000000123"])
        self.assertFalse(listing.emag_create_offer)
        self.assertEqual(len(self.sim.requests_to("product_offer/save")), 1)

    def test_a_new_offer_never_overwrites_another_products_offer(self):
        """The seller has offer <stool's id> for another product already: creating the stool
        there would give that offer the stool's price and stock. The listing goes to error;
        the other offer is left as it was, and the rest of the push goes on."""
        stool = self._product("Stool", "STOOL", 10.0, 40)
        self.sim.add_offer(stool.id, "OTHER-PN", stock=2, sale_price=999.0, name="Other product")
        listing = self._listing(stool, False, emag_create_offer=True)
        self.channel._push("stock")
        other = self.sim.offers[stool.id]
        self.assertEqual((other["sale_price"], self.sim.stock_of(stool.id)), (999.0, 2))
        self.assertEqual(listing.state, "error")
        self.assertIn("OTHER-PN", listing.last_error)
        self.assertTrue(listing.stock_retry_at, "read from eMAG: the scheduled pushes hold it back")
        self.assertTrue(listing.emag_create_offer)
        self.assertEqual(self.sim.stock_of(1001), 100, "the chair's offer still sent")
        # the same product's offer (an earlier creation whose answer was lost) is saved again
        self.sim.offers[stool.id]["part_number"] = "STOOL"
        self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(stool.id), 40)
        self.assertFalse(listing.emag_create_offer)

    def test_a_creation_emag_saved_but_called_a_documentation_error_is_read_back_as_saved(self):
        stool = self._product("Stool", "STOOL", 121.0, 4)
        listing = self._listing(stool, False, emag_create_offer=True)
        self.sim.add_fault("doc_error", "product_offer/save")
        self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(stool.id), 4)
        self.assertEqual((listing.stock_pending, listing.emag_create_offer), (False, False), listing.last_error)
        self.assertNotEqual(listing.state, "error")

    def test_a_creation_refused_whole_is_not_taken_for_a_documentation_error(self):
        """The stool's offer exists already, of the same product (an earlier creation whose
        answer was lost), in a campaign: eMAG refuses its stock, with the whole request. Its
        price was the same already, and the read-back, comparing the price alone, took it
        for saved: Odoo counted 4 shown, eMAG kept 9."""
        stool = self._product("Stool", "STOOL", 121.0, 4)
        self.sim.add_offer(stool.id, "STOOL", stock=9, sale_price=121.0, campaign="Black Friday")
        listing = self._listing(stool, False, emag_create_offer=True)
        self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(stool.id), 9)
        self.assertEqual(listing.state, "error")
        self.assertIn("Black Friday", listing.last_error)

    def test_a_new_offer_without_a_price_is_not_created(self):
        """A creation goes with the stock push: a product priced 0 is refused there, as a
        price push refuses it, and no live offer at 0 appears on eMAG."""
        stool = self._product("Stool", "STOOL", 0.0, 4)
        listing = self._listing(stool, False, emag_create_offer=True)
        self.channel._push("stock")
        self.assertNotIn(stool.id, self.sim.offers)
        self.assertEqual(listing.state, "error")
        self.assertIn("no price above 0", listing.last_error)
        self.assertFalse(listing.stock_retry_at, "refused by Odoo, at no call: looked at again at each push")
        self.assertFalse(self.sim.requests_to("product_offer/save"))

    def test_a_new_offer_moved_while_its_batch_was_on_the_way_is_created_where_it_is_now(self):
        """A user set another offer id while the new offer was being created at the old one:
        the listing is not settled, and still creates its offer at its new id."""
        stool = self._product("Stool", "STOOL", 121.0, 4, barcode="5940000000123")
        listing = self._listing(stool, False, emag_create_offer=True)
        push_stock = EmagAdapter.push_stock

        def moved_meanwhile(adapter, updates):
            results = push_stock(adapter, updates)
            # committed by the user while the batch was on the way, as their write does (the
            # push's cache keeps the old id)
            self.env.cr.execute(
                "UPDATE multichannel_product_binding SET external_id = '7007', address_version = address_version + 1"
                " WHERE id = %s",
                [listing.id],
            )
            return results

        with patch.object(EmagAdapter, "push_stock", moved_meanwhile):
            self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(stool.id), 4, "created at the id it was sent to")
        listing.invalidate_recordset()
        self.assertEqual((listing.external_id, listing.emag_create_offer, listing.stock_pending), ("7007", True, True))
        self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(7007), 4)
        self.assertFalse(listing.emag_create_offer)
        self.assertFalse(listing.stock_pending)

    def test_listing_import(self):
        lamp = self._product("Lamp", "LAMP-9", 80.0, 0, barcode="5940000000999")
        self.sim.add_offer(4001, "LAMP-9")
        self.sim.add_offer(4002, "", ean=["5940000000999"])
        self.sim.add_offer(4003, "SOFA", name="Sofa")
        counts = self.channel._import_listings()
        self.assertEqual(counts, {"matched": 2, "created": 1, "unmatched": 2})
        self.assertEqual(
            self.env["multichannel.product.binding"]
            .search([("channel_id", "=", self.channel.id), ("external_id", "=", "4001")])
            .product_id,
            lamp,
        )
        unmatched = self.env["multichannel.unmatched.offer"].search([("channel_id", "=", self.channel.id)])
        self.assertEqual(sorted(unmatched.mapped("external_id")), ["4002", "4003"])

    def test_credentials_stay_secret(self):
        self.sim.offers[1002]["campaign"] = "Black Friday"
        self.sim.add_fault("503", "offer/save")
        with CapturedLogs() as logs:
            self.channel._push("stock")
            self.channel._push("price")
        self.channel.emag_password = "wrong-" + PASSWORD
        self.channel.flush_recordset()  # the test's own write is not the connector's business
        with CapturedLogs() as more_logs, self.assertRaises(UserError) as caught:
            self.channel.action_test_connection()
        lines = logs.lines + more_logs.lines
        self.assertTrue([line for line in lines if "offer/save" in line], "the capture saw the traffic")
        self.assertFalse([line for line in lines if PASSWORD in line])
        self.assertNotIn(PASSWORD, str(caught.exception))
        ledger = self.env["multichannel.ledger"].search([("channel_id", "=", self.channel.id)])
        self.assertTrue(ledger)
        self.assertFalse([line for line in ledger if PASSWORD in (line.answer or "") + (line.cause or "")])
        seller = self.env["res.users"].create(
            {
                "name": "Seller",
                "login": "emag-seller",
                "groups_id": [Command.set([self.env.ref("stock_multichannel.group_multichannel_manager").id])],
            }
        )
        channel = self.channel.with_user(seller)
        self.assertEqual(channel.name, "eMAG RO")
        self.assertNotIn("emag_password", channel.fields_get())
        with self.assertRaises(AccessError):
            channel.read(["emag_password"])

    def test_only_a_settings_administrator_points_the_credentials_elsewhere(self):
        seller = self.env["res.users"].create(
            {
                "name": "Seller",
                "login": "emag-url-seller",
                "groups_id": [Command.set([self.env.ref("stock_multichannel.group_multichannel_manager").id])],
            }
        )
        channel = self.channel.with_user(seller)
        url = self.channel.emag_base_url
        with self.assertRaises(AccessError):
            channel.write({"emag_base_url": "https://collector.example/api-3"})
        self.assertEqual(self.channel.emag_base_url, url)
        channel.write({"emag_base_url": "https://marketplace-api.emag.ro/api-3"})  # as choosing the platform does
        self.assertEqual(self.channel.emag_base_url, "https://marketplace-api.emag.ro/api-3", "eMAG's own address")

    def test_test_connection_messages(self):
        action = self.channel.action_test_connection()
        self.assertIn("21% (id 1)", action["params"]["message"])
        self.sim.api_rights = False
        with self.assertRaisesRegex(UserError, "API rights"):
            self.channel.action_test_connection()
        self.sim.api_rights = True
        self.sim.allowed_ips = {"10.9.9.9"}
        with self.assertRaisesRegex(UserError, "whitelisted"):
            self.channel.action_test_connection()

    def test_a_successful_test_clears_the_old_problem_and_actions_wait_for_credentials(self):
        self.channel._note_error("Stock run failed: could not reach eMAG")
        self.channel.action_test_connection()
        self.assertFalse(self.channel.last_error, "the banner is from before: cleared once the test succeeds")
        self.assertTrue(self.channel.is_configured)
        self.channel.emag_password = False
        self.assertFalse(self.channel.is_configured, "Push and Import stay hidden without the API password")
        self.assertFalse(self.env["multichannel.channel"].new({"channel_type": "emag"}).is_configured)

    def test_an_unreachable_emag_is_said_so_a_merchant_can_act(self):
        self.channel.emag_base_url = "http://127.0.0.1:9/api-3"  # nothing listens there
        self.channel.retry_attempts = 1
        with self.assertRaisesRegex(UserError, "could not reach eMAG at http://127.0.0.1:9/api-3 .*check the API URL"):
            self.channel.action_test_connection()

    def test_the_pricelist_currency_must_match_the_platform(self):
        from odoo.exceptions import ValidationError

        with self.assertRaisesRegex(ValidationError, "BGN"):
            self.channel.emag_platform = "bg"
