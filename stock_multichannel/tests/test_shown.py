"""What the channel shows equals Odoo's availability after every kind of event."""

from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, fields
from odoo.tests import tagged

from ..lib.adapter import TransportError
from .common import MultichannelCase, order_data


def chair_order(external_id, quantity=1):
    return order_data(
        external_id,
        total=None,
        shipping=[],
        lines=[{"listing_external_id": "ext-chair", "quantity": quantity, "unit_price": 100.0, "tax_rate": 19.0}],
    )


@tagged("post_install", "-at_install")
class TestChannelMovesItsOwnStock(MultichannelCase):
    """The fake channel lowers its own stock on a sale, as eMAG and WooCommerce do."""

    def setUp(self):
        super().setUp()
        self.adapter_class.lowers_stock_on_order = True
        self.channel.retry_attempts = 1
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-chair"], 100)

    def _sell_on_channel(self, external_id, quantity=1):
        self.remote.stock["ext-chair"] -= quantity
        self.remote.orders.append(chair_order(external_id, quantity))

    def _channel_order(self, external_id):
        return self.env["multichannel.order"].search(
            [("channel_id", "=", self.channel.id), ("external_id", "=", external_id)]
        )

    def _push(self):
        self._changes_committed()
        self.channel._push("stock")

    def test_a_sale_cancelled_in_odoo_gives_the_channel_its_unit_back(self):
        self._sell_on_channel("C-1")
        self.channel._import_orders()
        sale = self._channel_order("C-1").sale_order_id
        self.assertEqual(sale.state, "sale")
        sale._action_cancel()  # before any push: Odoo's target is back to what it last sent
        self._push()
        self.assertEqual(self.remote.stock["ext-chair"], 100, "the channel shows the 100 chairs again")
        self.assertFalse(self.chair_listing.stock_pending)
        self.assertFalse(self.chair_listing.stock_moved_by_channel)

    def test_a_receipt_after_a_channel_sale_reaches_the_channel(self):
        self._sell_on_channel("C-2")
        self.channel._import_orders()
        self._set_stock(self.chair, 1)  # 101 on hand, 1 reserved: the target is 100 again
        self._push()
        self.assertEqual(self.remote.stock["ext-chair"], 100)

    def test_maximum_shown_stays_shown_after_each_sale(self):
        self.channel.stock_max = 5
        self._push()
        self.assertEqual(self.remote.stock["ext-chair"], 5)
        for number in range(6):
            self._sell_on_channel(f"M-{number}")
            self.channel._import_orders()
            self._push()
            self.assertEqual(self.remote.stock["ext-chair"], 5, f"after sale {number + 1}")
        self.assertEqual(self.chair_listing.target_qty, 5)

    def test_a_push_never_overwrites_a_sale_odoo_has_not_imported(self):
        self._sell_on_channel("R-1")  # the channel shows 99; Odoo does not know the sale yet
        self._set_stock(self.chair, 1)  # a receipt: 101 in Odoo
        self._push()
        self.assertTrue(self._channel_order("R-1").sale_order_id)
        self.assertEqual(self.remote.stock["ext-chair"], 100, "101 received minus the channel's sale, never 101")

    def test_when_orders_cannot_be_read_only_lower_quantities_are_sent(self):
        self._set_stock(self.chair, 5)
        self._set_stock(self.desk, -3)
        self.remote.faults = [TransportError("orders unreachable")]
        self._push()
        self.assertEqual(self.remote.stock["ext-desk"], 7, "going down can never undo a channel's sale")
        self.assertEqual(self.remote.stock["ext-chair"], 100, "going up waits until the orders are read")
        self.assertTrue(self.chair_listing.stock_pending)
        self._push()
        self.assertEqual(self.remote.stock["ext-chair"], 105)
        self.assertFalse(self.chair_listing.stock_pending)


@tagged("post_install", "-at_install")
class TestPricesTheChannelGets(MultichannelCase):
    def setUp(self):
        super().setUp()
        # the dated prices' run commits its retry before it works; the test keeps its transaction
        self.patch(self.env.cr, "commit", lambda: None)

    def test_a_price_the_channel_would_refuse_is_kept_back(self):
        self.patch(
            self.adapter_class,
            "price_problem",
            lambda adapter, update: "outside the channel's price band" if update.price > 200 else "",
        )
        self.channel._push("price")
        self.assertNotIn("ext-desk", self.remote.prices)
        self.assertEqual(self.desk_listing.state, "error")
        self.assertEqual(self.desk_listing.last_error, "outside the channel's price band")
        self.assertEqual(self.remote.prices["ext-chair"], 100.0, "the rest of the batch is sent")

    def test_a_price_that_changes_with_time_alone_reaches_the_channel(self):
        self.channel._push("stock")
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 250.0)
        # a rule written long ago starts today: nothing is written now, nothing noticed it
        self._price_rule(self.desk, fixed_price=199.0)
        self.env.cr.execute("DELETE FROM multichannel_sync_request")
        self.remote.calls.clear()
        self.channel._push("price")
        self.assertEqual(self.remote.calls, [], "no change was detected")
        self.env["multichannel.channel"]._cron_recheck_prices()
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 199.0)
        self.assertEqual(sum(size for method, size in self.remote.calls if method == "price"), 1, "only the desk")

    def _dated_prices_triggers(self):
        cron = self.env.ref("stock_multichannel.ir_cron_dated_prices")
        triggers = self.env["ir.cron.trigger"].search(
            [("cron_id", "=", cron.id), ("call_at", ">", fields.Datetime.now())]
        )
        return sorted(triggers.mapped("call_at"))

    def _price_requests(self):
        self.env.cr.execute("SELECT count(*) FROM multichannel_sync_request WHERE kind = 'price'")
        return self.env.cr.fetchone()[0]

    def test_a_rule_reaches_the_channel_when_it_starts_and_leaves_it_when_it_ends(self):
        self.channel._push("stock")
        self.channel._push("price")
        now = fields.Datetime.now()
        start, end = now + timedelta(hours=2), now + timedelta(hours=5)
        # a promotion written today for tonight, and an old one over long ago
        self._price_rule(self.chair, fixed_price=80.0).write(
            {"date_start": now - timedelta(days=30), "date_end": now - timedelta(days=20)}
        )
        self._price_rule(self.desk, fixed_price=199.0).write({"date_start": start, "date_end": end})
        self.assertEqual(self._dated_prices_triggers(), [start], "the first moment to come")
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 250.0, "not before it starts")
        self._changes_committed()

        with freeze_time(start + timedelta(minutes=1)):
            self.env["multichannel.channel"]._cron_queue_dated_prices()
            self.assertEqual(self._dated_prices_triggers(), [end + timedelta(seconds=1)], "its end comes next")
            self.remote.calls.clear()
            self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 199.0)
        self.assertEqual(sum(size for method, size in self.remote.calls if method == "price"), 1, "only the desk")
        self._changes_committed()

        with freeze_time(end):
            self.env["multichannel.channel"]._cron_queue_dated_prices()
            self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 199.0, "Odoo applies it until its end, to the second")
        with freeze_time(end + timedelta(seconds=1)):
            self.env["multichannel.channel"]._cron_queue_dated_prices()
            self.assertEqual(self._dated_prices_triggers(), [], "nothing more to come")
            self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 250.0)

    def test_a_moment_runs_that_failed_missed_is_queued_by_the_next_one_that_succeeds(self):
        self.channel._push("stock")
        self.channel._push("price")
        now = fields.Datetime.now()
        start = now + timedelta(hours=1)
        self._price_rule(self.desk, fixed_price=199.0).date_start = start
        Channel = self.env["multichannel.channel"]
        with freeze_time(now):
            Channel._cron_queue_dated_prices()
            self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 250.0, "not before it starts")
        self._changes_committed()
        # the runs from its start on fail for hours (the database restarting, say); Odoo
        # moves the cron's last call at each all the same
        for hours in (0, 1, 2, 3):
            with (
                freeze_time(start + timedelta(hours=hours, minutes=1)),
                patch.object(type(Channel), "_next_dated_price", side_effect=OSError),
                self.assertRaises(OSError),
                self.env.cr.savepoint(),
            ):
                Channel.with_context(lastcall=start + timedelta(hours=hours - 1))._cron_queue_dated_prices()
        with freeze_time(start + timedelta(hours=4)):
            Channel.with_context(lastcall=start + timedelta(hours=3, minutes=1))._cron_queue_dated_prices()
            self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 199.0)

    def test_a_currency_rate_reaches_the_channel_on_its_day(self):
        company_currency = self.company.currency_id
        self.assertNotEqual(company_currency, self.euro, "the channel's pricelist converts")
        self.channel._push("stock")
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 250.0)
        Rate = self.env["res.currency.rate"]
        today = fields.Date.today()
        Rate.create({"currency_id": self.euro.id, "name": today, "rate": 2.0, "company_id": self.company.id})
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 500.0, "a rate in effect at once")
        self._changes_committed()

        tomorrow = today + timedelta(days=1)
        with freeze_time(fields.Datetime.to_datetime(tomorrow) - timedelta(hours=12)):  # whenever the test runs
            Rate.create({"currency_id": self.euro.id, "name": tomorrow, "rate": 1.5, "company_id": self.company.id})
            self.assertEqual(self._price_requests(), 0, "not before its day")
            self.assertEqual(self._dated_prices_triggers(), [fields.Datetime.to_datetime(tomorrow)])
        with freeze_time(fields.Datetime.to_datetime(tomorrow) + timedelta(minutes=1)):
            self.env["multichannel.channel"]._cron_queue_dated_prices()
            self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 375.0)

    def test_a_rule_asks_for_its_own_run_whatever_comes_earlier(self):
        """A run another transaction asked for, earlier, may start before this one commits:
        it would not see the rule, nor ask for a run at its start."""
        now = fields.Datetime.now()
        cron = self.env.ref("stock_multichannel.ir_cron_dated_prices")
        cron._trigger(now + timedelta(hours=1))
        start = now + timedelta(hours=3)
        self._price_rule(self.desk, fixed_price=199.0).date_start = start
        self.assertEqual(self._dated_prices_triggers(), [now + timedelta(hours=1), start])

    def test_a_rate_changed_or_removed_reaches_the_channel(self):
        self.channel._push("stock")
        Rate = self.env["res.currency.rate"]
        rate = Rate.create({"currency_id": self.euro.id, "name": fields.Date.today(), "rate": 2.0})
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 500.0)
        rate.rate = 1.2
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 300.0)
        rate.unlink()
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 250.0)

    def test_a_rate_reaches_a_pricelist_based_on_one_in_its_currency(self):
        """The channel's pricelist prices from a pricelist in RON: RON's rate converts them."""
        self.channel._push("stock")
        ron = self.env.ref("base.RON")
        ron.active = True
        in_ron = self.env["product.pricelist"].create({"name": "RON list", "currency_id": ron.id})
        self.env["product.pricelist.item"].create(
            {"pricelist_id": in_ron.id, "applied_on": "3_global", "compute_price": "fixed", "fixed_price": 1000.0}
        )
        self.env["product.pricelist.item"].create(
            {
                "pricelist_id": self.pricelist.id,
                "applied_on": "0_product_variant",
                "product_id": self.desk.id,
                "compute_price": "formula",
                "base": "pricelist",
                "base_pricelist_id": in_ron.id,
            }
        )
        Rate = self.env["res.currency.rate"]
        Rate.create({"currency_id": ron.id, "name": fields.Date.today(), "rate": 5.0})
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 200.0, "1000 RON at 5 RON a euro")
        self._changes_committed()
        Rate.search([("currency_id", "=", ron.id), ("rate", "=", 5.0)]).rate = 4.0
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 250.0, "at 4 RON a euro")

    def test_a_rule_for_one_product_queues_only_its_listings(self):
        self.channel._push("stock")
        self.channel._push("price")
        self._changes_committed()
        Request = self.env["multichannel.sync.request"]
        rule = self._price_rule(self.desk, fixed_price=199.0)
        self.assertEqual(Request.search([("kind", "=", "price")]).binding_id, self.desk_listing)
        self.env.cr.execute("DELETE FROM multichannel_sync_request")
        rule.write({"applied_on": "0_product_variant", "product_id": self.chair.id})
        requests = Request.search([("kind", "=", "price")])
        self.assertEqual(requests.binding_id, self.desk_listing | self.chair_listing, "the one it leaves too")
        self.channel._push("price")
        self.assertEqual((self.remote.prices["ext-desk"], self.remote.prices["ext-chair"]), (250.0, 199.0))
        self._changes_committed()
        self.env.cr.execute("DELETE FROM multichannel_sync_request")
        rule.write({"applied_on": "3_global", "product_id": False})
        requests = Request.search([("kind", "=", "price")])
        self.assertEqual(requests.binding_id, self.desk_listing | self.chair_listing, "every product's")

    def test_a_rule_moved_to_another_pricelist_leaves_the_channel(self):
        rule = self._price_rule(self.desk, fixed_price=199.0)
        self.channel._push("stock")
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 199.0)
        self._changes_committed()
        rule.pricelist_id = self.env["product.pricelist"].create({"name": "Another", "currency_id": self.euro.id})
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 250.0)

    def test_a_pricelist_given_another_currency_reprices_its_channels(self):
        ron = self.env.ref("base.RON")
        ron.active = True
        self.env["res.currency.rate"].create({"currency_id": ron.id, "name": fields.Date.today(), "rate": 5.0})
        self.channel._push("stock")
        self.channel._push("price")
        self._changes_committed()
        self.pricelist.currency_id = ron
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 1250.0)

    def test_a_companys_default_for_prices_with_tax_resends_its_channels_prices(self):
        """Taxes that leave it to their company include the price, or no longer."""
        self.channel._push("stock")
        self.channel._push("price")
        self._changes_committed()
        branch = self.env["res.company"].create({"name": "Branch (prices)", "parent_id": self.company.id})
        warehouse = self.env["stock.warehouse"].search([("company_id", "=", branch.id)], limit=1)
        shared = self.env["product.pricelist"].create(
            {"name": "Shared", "currency_id": self.euro.id, "company_id": False}
        )
        theirs = self._channel(
            "Branch marketplace",
            "manual",
            company_id=branch.id,
            warehouse_ids=[Command.set(warehouse.ids)],
            pricelist_id=shared.id,
        )
        branch_listing = self._listing(self.desk, "branch-desk", channel=theirs)
        self._changes_committed()
        self.company.account_price_include = self.company.account_price_include  # the same: nothing
        self.assertFalse(self.env["multichannel.sync.request"].search([("kind", "=", "price")]))
        self.company.account_price_include = "tax_included"
        requests = self.env["multichannel.sync.request"].search([("kind", "=", "price")])
        self.assertEqual(requests.binding_id, self.chair_listing | self.desk_listing | branch_listing, "its branches'")
        self.assertTrue(all(requests.mapped("channel_moved")), "sent again whatever was sent")

    def test_a_channel_of_another_company_converts_at_its_companys_rates(self):
        other = self.env["res.company"].create({"name": "Other Co (rates)", "currency_id": self.company.currency_id.id})
        warehouse = self.env["stock.warehouse"].search([("company_id", "=", other.id)], limit=1)
        pricelist = self.env["product.pricelist"].create(
            {"name": "Theirs EUR", "currency_id": self.euro.id, "company_id": other.id}
        )
        theirs = self._channel(
            "Their marketplace",
            "manual",
            company_id=other.id,
            warehouse_ids=[Command.set(warehouse.ids)],
            pricelist_id=pricelist.id,
        )
        self._listing(self.desk, "their-desk", channel=theirs)
        self.env["res.currency.rate"].create(
            {"currency_id": self.euro.id, "name": fields.Date.today(), "rate": 2.0, "company_id": other.id}
        )
        theirs._push("price")
        self.assertEqual(self.remote.prices["their-desk"], 500.0, "not at the rate of the user's company")
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 250.0)

    def test_a_rate_of_another_currency_queues_nothing(self):
        self.channel._push("price")
        self._changes_committed()
        ron = self.env.ref("base.RON")
        ron.active = True
        self.env["res.currency.rate"].create({"currency_id": ron.id, "name": fields.Date.today(), "rate": 5.0})
        self.assertEqual(self._price_requests(), 0)

    def test_a_zero_price_never_reaches_the_channel(self):
        self.channel._push("stock")
        self.chair.lst_price = 0.0
        self.channel._push("price")
        self.assertNotIn("ext-chair", self.remote.prices)
        self.assertEqual(self.chair_listing.state, "error")
        self.assertIn("No price to send", self.chair_listing.last_error)
        self.assertTrue(self.chair_listing.price_pending, "sent once it has a price")
        self.assertEqual(self.remote.prices["ext-desk"], 250.0, "the other listings go on")
        self.chair.lst_price = 120.0
        self._changes_committed()
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-chair"], 120.0)
        self.assertEqual(self.chair_listing.state, "synced")


@tagged("post_install", "-at_install")
class TestDriftAudit(MultichannelCase):
    def setUp(self):
        super().setUp()
        for number in range(5):
            product = self._product(f"Lamp {number}", f"LAMP{number}", 20.0)
            self._set_stock(product, 3)
            self._listing(product, f"ext-lamp-{number}")
        self.channel._push("stock")
        self.channel._push("price")
        self.remote.calls.clear()

    def _drift(self):
        return self.env["multichannel.ledger"].search([("channel_id", "=", self.channel.id), ("kind", "=", "drift")])

    def test_a_hand_edit_on_the_channel_is_found_and_fixed(self):
        self.remote.stock["ext-chair"] = 3  # someone edited the offer on the channel
        self.remote.prices["ext-desk"] = 1.0
        self.assertFalse(self.channel._audit(budget_seconds=60), "finished within its budget")
        self.assertEqual((self.channel.audit_read_count, self.channel.audit_drift_count), (7, 2))
        drift = self._drift()
        chair_drift = drift.filtered(lambda line: line.binding_id == self.chair_listing)
        self.assertEqual((chair_drift.old_value, chair_drift.new_value), ("100", "3"))
        self.assertIn("shows 3", chair_drift.answer)
        self.assertTrue(drift.filtered(lambda line: line.binding_id == self.desk_listing))
        self.assertFalse([call for call in self.remote.calls if call[0] in ("stock", "price")], "reading sends nothing")
        self.channel._push("stock")
        self.channel._push("price")
        self.assertEqual(self.remote.stock["ext-chair"], 100)
        self.assertEqual(self.remote.prices["ext-desk"], 250.0)
        stock_sent = sum(size for method, size in self.remote.calls if method == "stock")
        self.assertEqual(stock_sent, 1, "only the drifted listing is sent again")
        self.assertEqual(self.channel.audit_fixed_count, 2)

    def test_the_audit_leaves_a_refused_stock_in_error(self):
        """The channel shows the quantity it kept when it refused the new one: no drift, and
        the listing stays in error (the audit made it pending, out of the Errors filter)."""
        self._set_stock(self.desk, 7)
        self.env.flush_all()
        self.desk_listing.sudo().stock_pending = True
        self.remote.refuse["ext-desk"] = "Offer locked by campaign Black Friday"
        self.channel.with_context(multichannel_cron=True)._push("stock")
        self.remote.prices["ext-desk"] = 1.0
        self.channel._audit(budget_seconds=60)
        self.assertEqual((self.desk_listing.state, self.desk_listing.error_kind), ("error", "stock"))
        drift = self._drift().filtered(lambda line: line.binding_id == self.desk_listing)
        self.assertEqual(drift.mapped("old_value"), ["250.0"], "the price drifted, not the stock it refused")

    def test_the_audit_resumes_where_it_stopped(self):
        self.remote.stock["ext-lamp-4"] = 0
        runs = 0
        while self.channel._audit(budget_seconds=0):  # one page a run
            runs += 1
            self.assertTrue(self.channel.audit_cursor)
        self.assertEqual(runs, 3, "7 listings, 2 a page: 4 pages in 4 runs")
        self.assertFalse(self.channel.audit_cursor)
        self.assertTrue(self.channel.audit_finished_at)
        self.assertEqual(self.remote.calls.count(("shown", 0)), 4, "no page read twice")
        self.assertEqual((self.channel.audit_read_count, self.channel.audit_drift_count), (7, 1))

    def test_the_cron_comes_back_until_the_audit_is_done(self):
        self.env["ir.config_parameter"].set_param("stock_multichannel.audit_budget_seconds", 0)
        cron = self.env.ref("stock_multichannel.ir_cron_audit")
        # the cron commits after each page; the test's transaction must stay open
        self.patch(self.env.cr, "commit", lambda: None)
        self.env["multichannel.channel"]._cron_audit()
        self.assertTrue(self.channel.audit_cursor)
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]), "resumes soon, not tomorrow")
        for _run in range(3):
            self.env["multichannel.channel"]._cron_audit()
        self.assertFalse(self.channel.audit_cursor)
        finished = self.channel.audit_finished_at
        self.env["multichannel.channel"]._cron_audit()
        self.assertEqual(self.channel.audit_finished_at, finished, "a finished channel waits for the next day")

    def test_one_listing_compared_from_its_form(self):
        self.remote.stock["ext-desk"] = 60
        self.desk_listing.action_compare_with_channel()
        self.assertTrue(self.desk_listing.stock_pending)
        self.assertTrue(self.desk_listing.stock_moved_by_channel)
        self.assertEqual(len(self._drift()), 1)
        self.assertEqual(self.remote.calls, [("shown", 0)])
