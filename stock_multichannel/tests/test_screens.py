from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import MultichannelCase, order_data


@tagged("post_install", "-at_install")
class TestStaleness(MultichannelCase):
    """What waits for a schedule is shown as waiting, and what a slow schedule costs is said."""

    def setUp(self):
        super().setUp()
        self._changes_committed()
        self.channel._push("stock")
        self.channel._push("price")

    def test_a_listing_waiting_for_its_schedule_is_pending_not_synced(self):
        self.assertEqual(self.chair_listing.sync_status, "synced")
        self.assertEqual(self.channel.pending_count, 0)
        self._deliver(self.chair, 3)
        self._changes_committed()
        self.chair_listing.invalidate_recordset()
        self.channel.invalidate_recordset()
        self.assertEqual(self.chair_listing.state, "synced", "the engine has not looked at it yet")
        self.assertEqual(self.chair_listing.sync_status, "pending")
        self.assertEqual(self.desk_listing.sync_status, "synced")
        self.assertEqual(self.channel.pending_count, 1, "the dashboard counts it")
        Binding = self.env["multichannel.product.binding"]
        mine = [("channel_id", "=", self.channel.id)]
        self.assertEqual(Binding.search([*mine, ("queued", "=", True)]), self.chair_listing)
        self.assertEqual(Binding.search([*mine, ("queued", "=", False)]), self.desk_listing)
        pending = self.channel.action_view_pending()
        self.assertEqual(Binding.search(pending["domain"]), self.chair_listing)
        self.channel._push("stock")
        self.chair_listing.invalidate_recordset()
        self.channel.invalidate_recordset()
        self.assertEqual(self.chair_listing.sync_status, "synced")
        self.assertEqual(self.channel.pending_count, 0)

    def test_held_orders_are_counted_on_the_dashboard(self):
        self.env["multichannel.order"]._receive(self.channel, order_data("H-1", status="pending"))
        self.env["multichannel.order"]._receive(self.channel, order_data("H-2"))
        self.channel.invalidate_recordset()
        self.assertEqual(self.channel.held_order_count, 1)
        held = self.channel.action_view_held_orders()
        self.assertEqual(self.env["multichannel.order"].search(held["domain"]).external_id, "H-1")

    def test_a_slower_schedule_warns_of_the_oversell_window_and_shows_the_next_run(self):
        self.channel.write({"stock_schedule": "realtime", "order_schedule": "realtime"})
        self.assertFalse(self.channel.schedule_warning)
        self.assertFalse(self.channel.next_stock_run)
        self.channel.write({"stock_schedule": "5min", "order_schedule": "hourly"})
        self.assertIn("every 5 minutes", self.channel.schedule_warning)
        self.assertIn("may keep selling units that are gone for up to 5 minutes", self.channel.schedule_warning)
        self.assertIn("Orders are read every 60 minutes", self.channel.schedule_warning)
        pushed = self.channel.stock_pushed_at
        self.assertEqual(self.channel.next_stock_run, pushed + timedelta(minutes=5))
        self.channel.write({"stock_schedule": "off"})
        self.assertIn("never sent", self.channel.schedule_warning)
        self.channel.write({"order_schedule": "custom", "order_interval": 15})
        self.assertIn("every 15 minutes", self.channel.schedule_warning)
        self.assertLessEqual(self.channel.next_order_run, fields.Datetime.now() + timedelta(minutes=15))

    def test_the_dashboard_says_its_figures_in_words(self):
        quiet = self.env["multichannel.channel"].create(
            {"name": "Quiet Channel", "channel_type": "manual", "pricelist_id": self.pricelist.id}
        )
        self.assertEqual(quiet.latency_text, "No stock change sent in the last 24 hours")
        self.env["multichannel.ledger"].create(
            [
                {"channel_id": quiet.id, "kind": "stock", "result": "ok", "latency_ms": ms}
                for ms in (1200, 1300, 1400, 1900)
            ]
        )
        quiet.invalidate_recordset()
        self.assertRegex(quiet.latency_text, r"in 1\.\d s usually, 1\.\d s at the slowest \(1 in 20\)")
        self.assertNotIn("p95", quiet.latency_text)
        self.assertRegex(self.channel.latency_text, r"in \d+ ms usually", "this test's pushes are quick")


@tagged("post_install", "-at_install")
class TestMenus(MultichannelCase):
    """Every screen and report is reachable from Sales and Inventory, without the Sales app installed."""

    SCREENS = (
        "action_multichannel_dashboard",
        "action_multichannel_channel",
        "action_multichannel_product_binding",
        "action_multichannel_order",
        "action_multichannel_order_to_fix",
        "action_multichannel_unmatched_offer",
        "action_multichannel_sale_orders",
        "action_multichannel_sales_by_channel",
        "action_multichannel_best_sellers",
        "action_multichannel_shipped",
        "action_multichannel_availability",
        "action_multichannel_stock_cover",
        "action_multichannel_oversell_incidents",
        "action_multichannel_invoices_by_channel",
    )

    def _user(self, login, *groups):
        return self.env["res.users"].create(
            {
                "name": login,
                "login": login,
                "groups_id": [Command.set([self.env.ref(group).id for group in groups])],
            }
        )

    def _reachable_actions(self, user, root):
        """{action xml id: menu path} of the menus ``user`` sees under ``root``."""
        Menu = self.env["ir.ui.menu"].with_user(user)
        visible = Menu._visible_menu_ids()
        reachable = {}
        for menu in Menu.search([("id", "child_of", root.id)]):
            chain, ok = menu, True
            while chain:
                ok = ok and chain.id in visible and chain.active
                chain = chain.parent_id
            if ok and menu.action:
                xmlid = menu.action.sudo().get_external_id().get(menu.action.id, "")
                reachable[xmlid.split(".")[-1]] = menu.complete_name
        return reachable

    def test_every_screen_from_sales_and_from_inventory(self):
        user = self._user(
            "mc_menu_user",
            "stock_multichannel.group_multichannel_user",
            "sales_team.group_sale_salesman",
            "stock.group_stock_user",
            "account.group_account_invoice",
        )
        self.assertTrue(self.env.ref("sale.sale_menu_root").active, "Sales shown without sale_management")
        for root in ("sale.sale_menu_root", "stock.menu_stock_root"):
            reachable = self._reachable_actions(user, self.env.ref(root))
            missing = [screen for screen in self.SCREENS if screen not in reachable]
            self.assertFalse(missing, f"not reachable from {root}")
            self.assertTrue(reachable["action_multichannel_order_to_fix"].endswith("Multichannel/Orders to Fix"))

    def test_accountants_find_channel_reports_under_invoicing(self):
        accountant = self._user("mc_accountant", "account.group_account_invoice")
        reachable = self._reachable_actions(accountant, self.env.ref("account.menu_finance_reports"))
        self.assertIn("action_multichannel_invoices_by_channel", reachable)
        self.assertFalse(self._reachable_actions(accountant, self.env.ref("sale.sale_menu_root")))
        invoices = self.env.ref("stock_multichannel.action_multichannel_invoices_by_channel")
        self.env[invoices.res_model].with_user(accountant).search(safe_eval(invoices.domain), limit=1)

    def test_uninstalling_leaves_the_sales_menu_as_odoo_ships_it(self):
        from ..hooks import uninstall_hook

        uninstall_hook(self.env)
        sales_app = self.env["ir.module.module"].search([("name", "=", "sale_management")]).state == "installed"
        self.assertEqual(self.env.ref("sale.sale_menu_root").active, sales_app)
        self.env.cr.execute(
            """
            SELECT to_regproc('multichannel_wake_cron'),
                   to_regclass('multichannel_cron_wakeup'),
                   (SELECT count(*) FROM pg_class WHERE relkind = 'S' AND relname LIKE 'multichannel_cron_wakeup%%'),
                   to_regproc('multichannel_rate_take'),
                   to_regclass('multichannel_rate_window'),
                   to_regclass('multichannel_res_partner_email_index'),
                   to_regclass('multichannel_res_partner_phone_index'),
                   to_regclass('multichannel_stock_change'),
                   to_regclass('multichannel_push_under_way')
            """
        )
        self.assertEqual(
            self.env.cr.fetchone(),
            (None, None, 0, None, None, None, None, None, None),
            "nothing of the addon's left in SQL",
        )

    def test_every_list_explains_its_empty_state(self):
        for screen in self.SCREENS + ("action_multichannel_ledger",):
            action = self.env.ref(f"stock_multichannel.{screen}")
            self.assertIn("o_view_nocontent_", action.help or "", screen)

    def test_orders_to_fix_cannot_be_created_by_hand(self):
        view = self.env["multichannel.order"].get_views([(False, "list"), (False, "form")])["views"]
        self.assertIn('create="false"', view["list"]["arch"])
        self.assertIn('create="false"', view["form"]["arch"])


@tagged("post_install", "-at_install")
class TestReportsTellTheTruth(MultichannelCase):
    def _channel_in(self, name, currency):
        pricelist = self.env["product.pricelist"].create({"name": name, "currency_id": currency.id})
        channel = self.env["multichannel.channel"].create(
            {
                "name": name,
                "channel_type": "manual",
                "warehouse_ids": [Command.set(self.warehouse.ids)],
                "pricelist_id": pricelist.id,
                "customer_country_id": self.env.ref("base.ro").id,
            }
        )
        self._listing(self.chair, f"{name}-chair", channel=channel)
        return channel

    def test_shown_quantities_are_never_added_up_across_channels(self):
        self._channel_in("Second", self.euro)
        self._channel_in("Third", self.euro)
        self._changes_committed()
        for channel in self.env["multichannel.channel"].search([]):
            channel._push("stock")
        action = self.env.ref("stock_multichannel.action_multichannel_availability")
        groups = self.env[action.res_model]._read_group(
            [("product_id", "=", self.chair.id)], ["product_id"], ["pushed_qty:max"]
        )
        self.assertEqual(groups, [(self.chair, 100)])
        self.assertEqual(self.env[action.res_model]._fields["pushed_qty"].aggregator, "max")
        pivot = self.env.ref("stock_multichannel.multichannel_product_binding_view_list_availability")
        self.assertNotIn("sum=", pivot.arch)

    def test_best_sellers_rank_products_by_units_without_services(self):
        receive = self.env["multichannel.order"]._receive
        desks = [{"listing_external_id": "ext-desk", "quantity": 3, "unit_price": 250.0, "tax_rate": 19.0}]
        receive(self.channel, order_data("B-1"))  # 2 chairs and shipping
        receive(self.channel, order_data("B-2", lines=desks, total=None))
        receive(self.channel, order_data("B-3", total=None))
        self.env.flush_all()
        action = self.env.ref("stock_multichannel.action_multichannel_best_sellers")
        groups = self.env["sale.report"]._read_group(
            [*safe_eval(action.domain), ("multichannel_channel_id", "=", self.channel.id)],
            ["product_id"],
            ["product_uom_qty:sum"],
            order="product_uom_qty:sum desc",
        )
        self.assertEqual(groups, [(self.chair, 4.0), (self.desk, 3.0)], "no shipping line among the best sellers")
        graph = self.env.ref("stock_multichannel.sale_report_view_graph_best_sellers")
        self.assertIn('type="bar"', graph.arch)
        self.assertIn('order="desc"', graph.arch)
        sales = self.env.ref("stock_multichannel.action_multichannel_sales_by_channel")
        self.assertIn("'graph_mode': 'bar'", sales.context)

    def test_money_of_several_currencies_is_never_added_up(self):
        ron = self.env.ref("base.RON")
        ron.active = True
        self.env["res.currency.rate"].create({"currency_id": ron.id, "rate": 5.0, "company_id": self.company.id})
        lei = self._channel_in("Lei Market", ron)
        self.env["multichannel.order"]._receive(self.channel, order_data("C-1"))
        self.env["multichannel.order"]._receive(lei, order_data("C-2", currency="RON", total=None))
        self.env.flush_all()
        action = self.env.ref("stock_multichannel.action_multichannel_sale_orders")
        self.assertNotIn("sum=", self.env.ref("stock_multichannel.sale_order_view_list_multichannel").arch)
        self.assertEqual(
            set(self.env["sale.order"].search(safe_eval(action.domain)).mapped("currency_id.name")), {"EUR", "RON"}
        )
        # Sales by Channel: one currency, the company's (sale.report converts each order at its rate)
        report = self.env["sale.report"]
        self.assertEqual(report.new({}).currency_id, self.company.currency_id)
        rows = dict(
            report._read_group(
                [("multichannel_channel_id", "in", (self.channel | lei).ids)],
                ["multichannel_channel_id"],
                ["price_subtotal:sum"],
            )
        )
        self.assertAlmostEqual(rows[lei], 210.0 / 5, msg="210 lei at 5 lei a unit of the company's currency")
        listing = self.env["multichannel.product.binding"].search([("channel_id", "=", lei.id)])
        self.assertEqual(listing.currency_id, ron, "a listing's prices say their currency")


@tagged("post_install", "-at_install")
class TestConnect(MultichannelCase):
    def test_actions_wait_for_a_saved_channel_with_a_connector(self):
        self.assertTrue(self.channel.is_configured)
        self.assertFalse(self.env["multichannel.channel"].new({"name": "New", "channel_type": "manual"}).is_configured)
        arch = self.env["multichannel.channel"].get_views([(False, "form")])["views"]["form"]["arch"]
        for action in ("action_push_stock", "action_push_prices", "action_import_orders", "action_import_listings"):
            self.assertRegex(arch, rf'name="{action}"[^>]*invisible="not is_configured"')
        self.assertLess(arch.index('name="connect"'), arch.index('name="stock"'), "Connect is the first tab")

    def test_a_successful_test_clears_the_old_problem(self):
        self.channel._note_error("Stock run failed: the channel did not answer")
        self.channel.action_test_connection()
        self.assertFalse(self.channel.last_error)


@tagged("post_install", "-at_install")
class TestFirstImportPreview(MultichannelCase):
    def test_the_preview_counts_what_an_import_would_bring_and_stores_nothing(self):
        self.channel.order_import_since = "2026-06-01 00:00:00"
        self.remote.orders = [
            order_data("P-1", date="2026-05-20 10:00:00"),  # the account's history
            order_data("P-2", date="2026-05-21 10:00:00", status="closed"),  # history too: before the date
            order_data("P-3", date="2026-06-02 10:00:00", status="closed"),  # shipped on the channel
            order_data("P-4", date="2026-06-03 10:00:00", status="cancelled"),
            order_data("P-5", date="2026-06-04 10:00:00", status="pending"),
            order_data("P-6", date="2026-06-05 10:00:00"),
            {"external_id": "P-7", "error": "unreadable order (KeyError: 'id')"},
        ]
        action = self.channel.action_preview_order_import()
        message = action["params"]["message"]
        self.assertIn("would read 7 orders", message)
        self.assertIn("1 new sales to import", message)
        self.assertIn("1 held until paid", message)
        self.assertIn("2 placed before 2026-06-01 00:00:00 kept as history", message)
        self.assertIn("2 already shipped, finalized or cancelled", message)
        self.assertIn("1 unreadable", message)
        self.assertFalse(self.env["multichannel.order"].search([("channel_id", "=", self.channel.id)]))
        self.assertEqual(self.remote.acknowledged, [], "nothing acknowledged on the channel")
        self.assertFalse(self.channel.order_watermark, "the next import reads the same orders")
        self.env["multichannel.order"]._receive(self.channel, order_data("P-6", date="2026-06-05 10:00:00"))
        self.assertIn("1 already in Odoo", self.channel.action_preview_order_import()["params"]["message"])

    def test_only_channel_administrators_preview(self):
        user = self.env["res.users"].create(
            {
                "name": "Channel user",
                "login": "mc_preview_user",
                "groups_id": [Command.set(self.env.ref("stock_multichannel.group_multichannel_user").ids)],
            }
        )
        with self.assertRaises(AccessError):
            self.channel.with_user(user).action_preview_order_import()
