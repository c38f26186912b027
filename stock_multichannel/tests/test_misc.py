import psycopg2

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import MultichannelCase, order_data


@tagged("post_install", "-at_install")
class TestChannelSetup(MultichannelCase):
    def test_a_new_channel_gets_a_sales_team_and_defaults(self):
        channel = self.env["multichannel.channel"].create({"name": "Web Shop"})
        self.assertEqual(channel.team_id.name, "Web Shop")
        self.assertTrue(channel.warehouse_ids)
        self.assertTrue(channel.pricelist_id)
        self.assertEqual(channel.shipping_product_id, self.env.ref("stock_multichannel.product_channel_shipping"))

    def test_a_channel_without_connector_says_so(self):
        channel = self.env["multichannel.channel"].create({"name": "Fair stand"})
        self._listing(self.chair, "stand-chair", channel=channel)
        from ..models.multichannel_channel_connection import MultichannelChannel

        # no connector for this type: the core's own dispatch (restored after the test)
        self.patch(type(channel), "_adapter_class", MultichannelChannel._adapter_class)
        channel._push("stock")
        self.assertIn("No connector", channel.last_error)

    def test_listing_uniqueness(self):
        unique = psycopg2.errors.UniqueViolation
        with self.assertRaises(unique), self.cr.savepoint(), self.assertLogs("odoo.sql_db", "ERROR"):
            self._listing(self.chair, "ext-other")
        with self.assertRaises(unique), self.cr.savepoint(), self.assertLogs("odoo.sql_db", "ERROR"):
            self._listing(self._product("Stool", "STOOL", 10), "ext-chair")

    def test_policy_bounds(self):
        with (
            self.assertRaises(psycopg2.errors.CheckViolation),
            self.cr.savepoint(),
            self.assertLogs("odoo.sql_db", "ERROR"),
        ):
            self.channel.stock_percent = 120
            self.channel.flush_recordset()
        with self.assertRaises(ValidationError):
            self.channel.write({"warehouse_ids": [Command.clear()]})

    def test_bulk_listing_wizard(self):
        stool = self._product("Stool", "STOOL", 10)
        wizard = (
            self.env["multichannel.list.products"]
            .with_context(active_model="product.product", active_ids=(self.chair | stool).ids)
            .create({"channel_id": self.channel.id})
        )
        action = wizard.action_list()
        created = self.env["multichannel.product.binding"].search(action["domain"])
        self.assertEqual(created.product_id, stool, "the chair was listed already")
        self.assertEqual(created.external_sku, "STOOL")
        self.assertTrue(created.stock_pending and created.price_pending)

    def test_counters(self):
        self.remote.refuse["ext-desk"] = "refused"
        self.channel._push("stock")
        self.channel.invalidate_recordset()
        self.assertEqual(self.channel.listing_count, 2)
        self.assertEqual(self.channel.error_count, 1)
        self.assertEqual(self.channel.pending_count, 2, "prices not pushed yet")

    def test_ledger_clean_up_keeps_recent_lines(self):
        self.channel._push("stock")
        lines = self.env["multichannel.ledger"].search([("channel_id", "=", self.channel.id)])
        self.assertEqual(len(lines), 2)
        self.env.cr.execute(
            "UPDATE multichannel_ledger SET create_date = now() - interval '100 days' WHERE id = %s", (lines[0].id,)
        )
        self.channel.ledger_retention_days = 90
        self.env["multichannel.ledger"]._clean_up()
        self.assertEqual(self.env["multichannel.ledger"].search([("channel_id", "=", self.channel.id)]), lines[1])

    def test_odoo_own_sale_orders_enter_no_index_of_the_addon(self):
        """Every index the addon puts on sale orders is partial (the channels' orders only),
        its unique one included; the ledger's is by channel, kind, result and date."""
        self.env.cr.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = 'sale_order' AND indexdef LIKE '%%multichannel%%'"
        )
        indexes = dict(self.env.cr.fetchall())
        self.assertEqual(len(indexes), 4, indexes)
        self.assertEqual([name for name, definition in indexes.items() if " WHERE " not in definition], [])
        self.assertIn("CREATE UNIQUE INDEX", indexes["sale_order_multichannel_external_unique_index"])
        self.env.cr.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'multichannel_ledger'")
        definitions = sorted(row[0].split(" USING ")[1] for row in self.env.cr.fetchall())
        self.assertEqual(
            definitions, ["btree (channel_id, kind, result, create_date)", "btree (id)", "btree (product_id)"]
        )

    def test_a_channel_order_is_imported_once_whatever_the_other_sale_orders(self):
        self.remote.orders = [order_data("7001")]
        self.channel._import_orders()
        sale = self.env["sale.order"].search([("multichannel_external_ref", "=", "7001")])
        self.assertEqual(len(sale), 1)
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            self.env.cr.savepoint(),
            self.assertLogs("odoo.sql_db", "ERROR"),
        ):
            sale.copy(
                {
                    "multichannel_channel_id": sale.multichannel_channel_id.id,
                    "multichannel_external_ref": "7001",
                    "multichannel_order_id": sale.multichannel_order_id.id,
                }
            )
            self.env.flush_all()
        # Odoo's own sale orders, all without a channel, never conflict
        self.env["sale.order"].create([{"partner_id": self.env.user.partner_id.id} for _i in range(2)])
        self.env.flush_all()


@tagged("post_install", "-at_install")
class TestAccess(MultichannelCase):
    def test_other_company_users_do_not_see_the_channel(self):
        user = self._other_company_user("other-mc")
        self.assertFalse(self.env["multichannel.channel"].with_user(user).search([("id", "=", self.channel.id)]))

    def test_users_cannot_change_channels(self):
        user = self.env["res.users"].create(
            {
                "name": "Seller",
                "login": "seller-mc",
                "groups_id": [Command.set([self.env.ref("stock_multichannel.group_multichannel_user").id])],
            }
        )
        self.assertEqual(self.channel.with_user(user).name, "Test Marketplace")
        with self.assertRaises(AccessError):
            self.channel.with_user(user).write({"stock_percent": 10})


@tagged("post_install", "-at_install")
class TestListingImport(MultichannelCase):
    def test_an_offer_matched_on_a_later_run_leaves_offers_to_match(self):
        from ..lib.adapter import ExternalOffer

        self.remote.offers = [ExternalOffer("505", sku="RUG", name="Rug")]
        self.assertEqual(self.channel._import_listings()["unmatched"], 1)
        rug = self._product("Rug", "RUG", 40)
        self.assertEqual(self.channel._import_listings()["created"], 1)
        self.assertFalse(
            self.env["multichannel.unmatched.offer"].search([("channel_id", "=", self.channel.id)]),
            "listed now: no longer waiting for a human",
        )
        self.assertEqual(self.channel._import_listings()["matched"], 1, "and matched by its id from then on")
        self.assertEqual(self.env["multichannel.product.binding"].search([("external_id", "=", "505")]).product_id, rug)

    def test_an_order_held_for_an_offer_listed_by_the_import_holds_its_product(self):
        from ..lib.adapter import ExternalOffer

        lines = [{"listing_external_id": "606", "quantity": 2, "unit_price": 40.0}]
        held = self.env["multichannel.order"]._receive(
            self.channel, order_data("H-606", status="pending", lines=lines, total=None)
        )
        self.assertFalse(held.pending_quantities)
        carpet = self._product("Carpet", "CARPET", 40, 5)
        # the chair's listing is written too (another SKU): the orders are matched again once
        self.remote.offers = [ExternalOffer("606", sku="CARPET", name="Carpet"), ExternalOffer("ext-chair", sku="C-2")]
        matched = []
        Order = type(self.env["multichannel.order"])
        match_again = Order._match_held_units_again

        def counted(order, channels):
            matched.append(channels)
            return match_again(order, channels)

        self.patch(Order, "_match_held_units_again", counted)
        self.assertEqual(self.channel._import_listings(), {"matched": 1, "created": 1, "unmatched": 0})
        self.env.cr.flush()
        self.assertEqual(held.pending_quantities, {str(carpet.id): 2.0})
        self.assertEqual(matched, [self.channel], "once for the whole import")

    def test_offers_are_matched_by_id_sku_then_barcode(self):
        from ..lib.adapter import ExternalOffer

        stool = self._product("Stool", "STOOL", 10, barcode="5940000000017")
        lamp = self._product("Lamp", "LAMP", 20)
        self.remote.offers = [
            ExternalOffer("ext-chair", sku="CHAIR-EMAG"),  # already listed: updated
            ExternalOffer("501", sku="LAMP", name="Lamp"),  # by internal reference
            ExternalOffer("502", sku="", barcode="5940000000017", name="Stool"),  # by barcode
            ExternalOffer("503", sku="NOPE", name="Unknown sofa"),  # nothing matches
            ExternalOffer("504", sku="DESK", name="Second desk offer"),  # desk is listed already
        ]
        counts = self.channel._import_listings()
        self.assertEqual(counts, {"matched": 1, "created": 2, "unmatched": 2})
        self.assertEqual(self.chair_listing.external_sku, "CHAIR-EMAG")
        listings = self.env["multichannel.product.binding"].search([("channel_id", "=", self.channel.id)])
        self.assertEqual(listings.filtered(lambda b: b.external_id == "501").product_id, lamp)
        self.assertEqual(listings.filtered(lambda b: b.external_id == "502").product_id, stool)
        unmatched = self.env["multichannel.unmatched.offer"].search([("channel_id", "=", self.channel.id)])
        self.assertEqual(sorted(unmatched.mapped("external_id")), ["503", "504"])
        self.assertIn("already listed", unmatched.filtered(lambda o: o.external_id == "504").reason)
        # a human links the sofa offer to a product
        sofa = self._product("Sofa", "SOFA", 500)
        offer = unmatched.filtered(lambda o: o.external_id == "503")
        offer.product_id = sofa
        offer.action_link()
        self.assertTrue(
            self.env["multichannel.product.binding"].search(
                [("channel_id", "=", self.channel.id), ("external_id", "=", "503"), ("product_id", "=", sofa.id)]
            )
        )
        self.assertFalse(offer.exists())
        # importing again changes nothing
        self.assertEqual(self.channel._import_listings()["created"], 0)


@tagged("post_install", "-at_install")
class TestReporting(MultichannelCase):
    def test_sales_analysis_groups_by_channel(self):
        from .common import order_data

        shop = self.env["multichannel.channel"].create({"name": "Shop", "pricelist_id": self.pricelist.id})
        self.env["multichannel.order"]._receive(self.channel, order_data("R-1"))
        self.env["multichannel.order"]._receive(self.channel, order_data("R-2"))
        self.env["multichannel.order"]._receive(shop, order_data("R-3", total=None, shipping=[]))
        self.env.flush_all()
        groups = dict(
            self.env["sale.report"]._read_group(
                [("multichannel_channel_id", "in", (self.channel | shop).ids)],
                ["multichannel_channel_id"],
                ["price_subtotal:sum"],
            )
        )
        self.assertAlmostEqual(groups[self.channel], 2 * 210.0)  # two chairs at 100 + shipping 10, twice
        self.assertAlmostEqual(groups[shop], 200.0)

    def test_product_form_shows_each_channel(self):
        template = self.chair.product_tmpl_id
        self.assertEqual(template.multichannel_binding_ids, self.chair_listing)
        other = self.env["multichannel.channel"].create({"name": "Second"})
        listing = self._listing(self.chair, "second-chair", channel=other)
        template.invalidate_recordset()
        self.assertEqual(template.multichannel_binding_ids, self.chair_listing | listing)
