from unittest.mock import patch

from odoo import Command
from odoo.addons.stock_multichannel.tests.common import MultichannelCase, order_data
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestKits(MultichannelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lamp = cls._product("Lamp", "LAMP", 30.0)
        cls._set_stock(cls.lamp, 40)
        # the home office set: two chairs and a desk
        cls.office_set = cls._product("Home office set", "SET", 500.0)
        cls.office_bom = cls._kit(cls.office_set, [(cls.chair, 2), (cls.desk, 1)])
        cls.set_listing = cls._listing(cls.office_set, "ext-set")

    @classmethod
    def _kit(cls, product, parts, quantity=1.0):
        return cls.env["mrp.bom"].create(
            {
                "product_tmpl_id": product.product_tmpl_id.id,
                "product_id": product.id,
                "type": "phantom",
                "product_qty": quantity,
                "bom_line_ids": [Command.create({"product_id": p.id, "product_qty": q}) for p, q in parts],
            }
        )

    def _targets(self):
        listings = self.env["multichannel.product.binding"].search([("channel_id", "=", self.channel.id)])
        listings.invalidate_recordset(["target_qty"])
        return {listing.product_id.default_code: listing.target_qty for listing in listings}

    def _forget_requests(self):
        self._changes_committed()
        self.env["multichannel.sync.request"].search([]).unlink()
        self.env.cr.execute("DELETE FROM multichannel_stock_change")

    def _requested(self):
        self.env["multichannel.sync.request"]._fan_out_stock_changes()
        requests = self.env["multichannel.sync.request"].search([("kind", "=", "stock")])
        return set(requests.binding_id.product_id.mapped("default_code"))

    def test_a_kit_shows_what_its_scarcest_component_allows(self):
        self.assertEqual(self._targets()["SET"], 10, "100 chairs make 50 sets, 10 desks make 10")
        self._set_stock(self.desk, 90)
        self.assertEqual(self._targets()["SET"], 50)
        self._set_stock(self.chair, -99)
        self.assertEqual(self._targets()["SET"], 0, "one chair is not a set")

    def test_a_kit_built_in_batches_counts_per_kit(self):
        pair = self._product("Two lamps", "PAIR", 50.0)
        self._kit(pair, [(self.lamp, 4)], quantity=2.0)  # the bill makes two pairs from four lamps
        self._listing(pair, "ext-pair")
        self.assertEqual(self._targets()["PAIR"], 20)

    def test_a_kit_inside_a_kit_counts_its_components(self):
        bundle = self._product("Set with lamp", "BUNDLE", 540.0)
        self._kit(bundle, [(self.office_set, 1), (self.lamp, 5)])
        self._listing(bundle, "ext-bundle")
        self._set_stock(self.desk, 90)
        self.assertEqual(self._targets()["BUNDLE"], 8, "40 lamps make 8 bundles; chairs allow 50")

    def test_a_component_moving_queues_its_kits(self):
        self._forget_requests()
        self._deliver(self.desk, 4)
        self._changes_committed()
        self.assertEqual(self._requested(), {"DESK", "SET"})
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-set"], 6)
        self.assertEqual(self.remote.stock["ext-desk"], 6)

    def test_a_product_in_no_kit_is_queued_without_looking_for_kits(self):
        """Most products are in no kit: one statement tells, and the queue leaves out the
        two searches for their kits and components; a kit's component, a kit, and a kit
        of every variant of a product still count as they should, an archived kit not."""
        self._listing(self.lamp, "ext-lamp")
        Product = type(self.env["product.product"])
        Queue = self.env["multichannel.sync.request"]
        looked = []
        original = Product._multichannel_kits_using

        def kits_using(products):
            looked.append(products)
            return original(products)

        def queued_at_commit(product):
            self._forget_requests()
            self._deliver(product, 1)
            with patch.object(Product, "_multichannel_kits_using", kits_using):
                self._changes_committed()
            return self._requested()

        self.assertEqual(queued_at_commit(self.lamp), {"LAMP"})
        self.assertEqual(looked, [], "in no kit: no search for kits")
        self.assertEqual(queued_at_commit(self.desk), {"DESK", "SET"})
        self.assertEqual(len(looked), 1, "a kit's component: its kits looked for")
        self.assertTrue(Queue._any_in_kits(self.office_set.ids), "a kit")
        self.office_bom.active = False
        self.assertFalse(Queue._any_in_kits((self.desk | self.office_set).ids), "an archived kit counts for none")
        self.office_bom.write({"active": True, "product_id": False})  # a kit of every variant of the set
        self.assertTrue(Queue._any_in_kits(self.office_set.ids))

    def test_changing_the_bill_of_materials_queues_the_kit(self):
        self._forget_requests()
        self.office_bom.bom_line_ids.filtered(lambda line: line.product_id == self.desk).product_qty = 2
        self._changes_committed()
        self.assertIn("SET", self._requested())
        self.assertEqual(self._targets()["SET"], 5)

    def test_a_component_tracked_from_now_on_queues_its_kits(self):
        """A new component, added to the bill while untracked (Odoo's default), counts
        for nothing; tracked, it has no stock yet: the kit can make none."""
        manual = self._product("Assembly manual", "MANUAL", 0.0, is_storable=False)
        self._kit(self.lamp, [(manual, 1)])
        lamp_listing = self._listing(self.lamp, "ext-lamp")
        self.assertEqual(self.channel._stock_targets(lamp_listing)[lamp_listing.id], 0, "a kit of nothing tracked")
        self._forget_requests()
        manual.is_storable = True
        self._changes_committed()
        self.assertIn("LAMP", self._requested())
        self.assertEqual(self._targets()["LAMP"], 0)
        self._set_stock(manual, 7)
        self.assertEqual(self._targets()["LAMP"], 7)

    def test_a_units_ratio_changed_where_only_kits_use_it_queues_them(self):
        """Odoo lets a unit's ratio change while only bills of materials use it."""
        pack = self.env["uom.uom"].create(
            {
                "name": "Pack (test)",
                "category_id": self.env.ref("uom.product_uom_categ_unit").id,
                "uom_type": "bigger",
                "factor_inv": 4.0,
            }
        )
        lamps = self._product("Lamp set", "LAMPSET", 90.0)
        self._kit(lamps, [(self.lamp, 1)]).bom_line_ids.product_uom_id = pack  # a pack of 4 lamps
        self._listing(lamps, "ext-lampset")
        self.assertEqual(self._targets()["LAMPSET"], 10, "40 lamps: 10 packs of 4")
        self._forget_requests()
        pack.factor_inv = 5.0
        self._changes_committed()
        self.assertIn("LAMPSET", self._requested())
        self.assertEqual(self._targets()["LAMPSET"], 8)

    def test_a_kits_unit_changed_queues_it(self):
        """A kit keeps no move of its own (they are exploded into its components'): Odoo
        lets its unit change, and a bill counts kits in it."""
        pair = self.env["uom.uom"].create(
            {
                "name": "Pair (test)",
                "category_id": self.env.ref("uom.product_uom_categ_unit").id,
                "uom_type": "bigger",
                "factor_inv": 2.0,
            }
        )
        self.assertEqual(self._targets()["SET"], 10)
        self._forget_requests()
        self.office_set.write({"uom_id": pair.id, "uom_po_id": pair.id})
        self._changes_committed()
        self.assertIn("SET", self._requested())
        self.assertEqual(self._targets()["SET"], 5, "10 desks make 5 pairs of sets")
        self._forget_requests()
        pair.factor_inv = 5.0  # the kit's unit's ratio: Odoo lets it change, no move uses it
        self._changes_committed()
        self.assertIn("SET", self._requested())
        self.assertEqual(self._targets()["SET"], 2, "10 desks make 2 packs of 5 sets")

    def test_kits_ordered_but_not_reserved_take_their_components(self):
        self._forget_requests()
        lines = [{"listing_external_id": "ext-set", "quantity": 3, "unit_price": 500, "tax_rate": 19}]
        order = self.env["multichannel.order"]._receive(
            self.channel, order_data("K-1", lines=lines, status="pending", total=None)
        )
        self.assertEqual(order.state, "pending")
        self._changes_committed()
        self.assertTrue({"CHAIR", "DESK", "SET"} <= self._requested(), "the components' listings move too")
        targets = self._targets()
        self.assertEqual(targets["CHAIR"], 94)
        self.assertEqual(targets["DESK"], 7)
        self.assertEqual(targets["SET"], 7)

    def test_a_kit_held_on_another_companys_channel_queues_the_components_of_its_bill(self):
        """The set is a kit in both companies, of other components: held on the second
        company's channel, it takes that company's lamps, and their listings must move (the
        first bill found, of either company, was the one queued)."""
        other, channel = self._channel_of_another_company("Sofia kits", "Sofia shop")
        self._set_stock(self.lamp, 40, location=channel.warehouse_ids.lot_stock_id)
        self._kit(self.office_set, [(self.lamp, 2)]).company_id = other
        lamps_there = self._listing(self.lamp, "sofia-lamp", channel=channel)
        self._listing(self.office_set, "sofia-set", channel=channel)
        self._forget_requests()
        lines = [{"listing_external_id": "sofia-set", "quantity": 3, "unit_price": 500, "tax_rate": None}]
        order = self.env["multichannel.order"]._receive(
            channel, order_data("K-SOFIA", lines=lines, status="pending", shipping=[], total=None)
        )
        self.assertEqual(order.state, "pending")
        self._changes_committed()
        self.assertIn("LAMP", self._requested(), "the lamps' listings move")
        lamps_there.invalidate_recordset(["target_qty"])
        self.assertEqual(lamps_there.target_qty, 34)

    def test_a_bill_archived_or_a_component_removed_frees_what_held_kits_took(self):
        """3 sets held: 94 chairs and 7 desks shown. The bill archived (or the desk taken off
        it), the held sets take no more of them: only the set was queued, and the chairs and
        desks went on showing less than Odoo has."""
        lines = [{"listing_external_id": "ext-set", "quantity": 3, "unit_price": 500, "tax_rate": 19}]
        held = order_data("K-2", lines=lines, status="pending", total=None)
        self.env["multichannel.order"]._receive(self.channel, held)
        self.assertEqual((self._targets()["CHAIR"], self._targets()["DESK"]), (94, 7))
        self._forget_requests()
        self.office_bom.bom_line_ids.filtered(lambda line: line.product_id == self.desk).unlink()
        self._changes_committed()
        self.assertTrue({"DESK", "SET"} <= self._requested(), "the desk is no longer taken by the sets")
        self.assertEqual(self._targets()["DESK"], 10)
        self._forget_requests()
        self.office_bom.active = False
        self._changes_committed()
        self.assertTrue({"CHAIR", "SET"} <= self._requested())
        self.assertEqual(self._targets()["CHAIR"], 100)

    def test_an_imported_kit_order_reserves_its_components(self):
        lines = [{"listing_external_id": "ext-set", "quantity": 3, "unit_price": 500, "tax_rate": 19}]
        order = self.env["multichannel.order"]._receive(self.channel, order_data("K-2", lines=lines, total=None))
        self.assertEqual(order.state, "done", order.error)
        sale = order.sale_order_id
        self.assertEqual(sale.state, "sale")
        self.assertFalse(sale.multichannel_oversold)
        moves = sale.picking_ids.move_ids
        self.assertEqual({m.product_id.default_code: m.product_uom_qty for m in moves}, {"CHAIR": 6, "DESK": 3})
        targets = self._targets()
        self.assertEqual((targets["CHAIR"], targets["DESK"], targets["SET"]), (94, 7, 7))

    def test_too_many_kits_are_flagged_as_oversold(self):
        lines = [{"listing_external_id": "ext-set", "quantity": 12, "unit_price": 500, "tax_rate": 19}]
        order = self.env["multichannel.order"]._receive(self.channel, order_data("K-3", lines=lines, total=None))
        self.assertTrue(order.sale_order_id.multichannel_oversold)
        self.assertEqual(order.sale_order_id.multichannel_oversold_qty, 2, "two desks missing")

    def test_stock_cover_counts_kits_as_their_components(self):
        customer = self.env["res.partner"].create({"name": "Walk-in"})
        order = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "order_line": [Command.create({"product_id": self.office_set.id, "product_uom_qty": 3})],
            }
        )
        order.action_confirm()
        self.env.flush_all()
        rows = self.env["multichannel.stock.cover.report"].search(
            [("product_id", "in", (self.office_set | self.chair | self.desk).ids)]
        )
        self.assertEqual({row.product_id.default_code: row.sold_qty for row in rows}, {"CHAIR": 6, "DESK": 3})

    def test_stock_cover_keeps_a_product_another_company_makes_a_kit_of(self):
        """A kit only in the other company, stocked and sold as it is here: it vanished
        from this company's cover, and from its replenishment."""
        other = self.env["res.company"].create({"name": "Sofia cover"})
        self._kit(self.lamp, [(self.chair, 1)]).company_id = other
        customer = self.env["res.partner"].create({"name": "Walk-in"})
        order = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "order_line": [Command.create({"product_id": self.lamp.id, "product_uom_qty": 2})],
            }
        )
        order.action_confirm()
        self.env.flush_all()
        rows = self.env["multichannel.stock.cover.report"].search([("product_id", "=", self.lamp.id)])
        self.assertEqual([(row.company_id, row.sold_qty) for row in rows], [(self.company, 2)])
