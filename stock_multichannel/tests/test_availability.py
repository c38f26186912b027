import math

from odoo import Command
from odoo.tests import tagged

from .common import MultichannelCase, order_data


@tagged("post_install", "-at_install")
class TestAvailability(MultichannelCase):
    def _odoo_free_qty(self, product, warehouses=None):
        warehouses = warehouses or self.channel.warehouse_ids
        return product.with_context(warehouse_id=warehouses.ids).free_qty

    def _target(self, listing):
        return self.channel._stock_targets(listing)[listing.id]

    def assertMatchesOdoo(self, listing, expected):
        free_qty = self._odoo_free_qty(listing.product_id)
        self.assertEqual(self._target(listing), math.floor(free_qty))
        self.assertEqual(self._target(listing), expected)

    def test_plain_stock(self):
        self.assertMatchesOdoo(self.chair_listing, 100)
        self.assertMatchesOdoo(self.desk_listing, 10)

    def test_reservations_are_not_free(self):
        self._deliver(self.chair, 30, validate=False)
        self.assertMatchesOdoo(self.chair_listing, 70)

    def test_done_deliveries_leave_stock(self):
        self._deliver(self.desk, 4)
        self.assertMatchesOdoo(self.desk_listing, 6)

    def test_multi_step_delivery(self):
        self.warehouse.delivery_steps = "pick_ship"
        customer = self.env["res.partner"].create({"name": "Buyer"})
        order = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "warehouse_id": self.warehouse.id,
                "order_line": [Command.create({"product_id": self.chair.id, "product_uom_qty": 12})],
            }
        )
        order.action_confirm()
        self.assertMatchesOdoo(self.chair_listing, 88)
        pick = order.picking_ids.filtered(lambda p: p.picking_type_id == self.warehouse.pick_type_id)
        pick.move_ids.quantity = 12
        pick.button_validate()
        # the chairs wait in the output location, reserved for the shipment
        self.assertMatchesOdoo(self.chair_listing, 88)

    def test_several_warehouses(self):
        second = self.env["stock.warehouse"].create({"name": "Second", "code": "WH2"})
        self._set_stock(self.chair, 15, second.lot_stock_id)
        self.assertMatchesOdoo(self.chair_listing, 100)
        self.channel.warehouse_ids = [Command.link(second.id)]
        both = self.warehouse | second
        self.assertEqual(self._target(self.chair_listing), math.floor(self._odoo_free_qty(self.chair, both)))
        self.assertEqual(self._target(self.chair_listing), 115)

    def test_internal_location_as_source(self):
        shelf = self.env["stock.location"].create({"name": "Shelf", "location_id": self.stock_location.id})
        self._set_stock(self.desk, 5, shelf)
        self.channel.write({"warehouse_ids": [Command.clear()], "location_ids": [Command.set(shelf.ids)]})
        self.assertEqual(self._target(self.desk_listing), 5)
        self.assertEqual(self._target(self.desk_listing), self.desk.with_context(location=shelf.id).free_qty)

    def test_archived_product(self):
        self.desk.active = False
        self.assertMatchesOdoo(self.desk_listing.with_context(active_test=False), 10)

    def test_unit_of_measure_other_than_units(self):
        kg = self.env.ref("uom.product_uom_kgm")
        cable = self._product("Cable", "CABLE", 3.0, uom_id=kg.id, uom_po_id=kg.id)
        listing = self._listing(cable, "ext-cable")
        self._set_stock(cable, 12.75)
        self.assertEqual(self._odoo_free_qty(cable), 12.75)
        self.assertMatchesOdoo(listing, 12)

    def test_orders_known_but_not_reserved_are_subtracted(self):
        self.env["multichannel.order"]._receive(
            self.channel,
            order_data(
                "PENDING-1",
                status="pending",
                lines=[{"listing_external_id": "ext-chair", "quantity": 6, "unit_price": 100}],
            ),
        )
        self.assertEqual(self._target(self.chair_listing), 94)
        self.assertEqual(self._odoo_free_qty(self.chair), 100, "Odoo itself has reserved nothing yet")

    def test_policy_on_top(self):
        self.channel.write({"stock_held_back": 10, "stock_percent": 50.0, "stock_max": 40})
        self.assertEqual(self._target(self.chair_listing), 40)
        self.assertEqual(self._target(self.desk_listing), 0)
        self.channel.stock_max = 0
        self.assertEqual(self._target(self.chair_listing), 45)

    def test_bulk_computation_does_not_grow_with_the_listings(self):
        products = [self._product(f"Bulk {i}", f"BULK{i}", 10.0) for i in range(40)]
        listings = self.env["multichannel.product.binding"].browse(
            [self._listing(product, f"ext-bulk-{i}").id for i, product in enumerate(products)]
        )
        for product in products:
            self._set_stock(product, 3)

        def queries(some_listings):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            targets = self.channel._stock_targets(some_listings)
            self.assertEqual(set(targets.values()), {3})
            return self.env.cr.sql_log_count - before

        self.assertEqual(queries(listings[:4]), queries(listings))
