import math

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

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

    def _channel_sale(self, external_id, product_code, quantity):
        """A channel order imported and confirmed: its sale order."""
        order = self.env["multichannel.order"]._receive(
            self.channel,
            order_data(
                external_id,
                lines=[{"listing_external_id": f"ext-{product_code}", "quantity": quantity, "unit_price": 100}],
                shipping=[],
                total=100.0 * quantity,
            ),
        )
        self.assertTrue(order.sale_order_id, order.error)
        self.assertEqual(order.sale_order_id.state, "sale")
        return order.sale_order_id

    def test_a_channel_sale_reserved_by_hand_still_takes_its_units(self):
        """A delivery type reserving by hand (or by date) leaves a confirmed channel order's
        units free in Odoo: every channel would sell them again."""
        self.warehouse.out_type_id.reservation_method = "manual"
        sale = self._channel_sale("MANUAL-1", "chair", 2)
        self.assertFalse(sale.picking_ids.move_ids.quantity, "nothing reserved yet")
        self.assertEqual(self._odoo_free_qty(self.chair), 100)
        self.assertEqual(self._target(self.chair_listing), 98)
        sale.picking_ids.action_assign()
        self.assertEqual(self._target(self.chair_listing), 98, "reserved now: counted once")
        sale.picking_ids.do_unreserve()
        self.assertEqual(self._target(self.chair_listing), 98, "unreserved: still sold")
        sale.picking_ids.action_assign()
        sale.picking_ids.move_ids.quantity = 2
        sale.picking_ids.button_validate()
        self.assertEqual(self._target(self.chair_listing), 98)

    def test_a_channel_sale_delivered_from_a_warehouse_without_the_units_takes_them(self):
        second = self.env["stock.warehouse"].create({"name": "Second", "code": "WH2"})
        lamp = self._product("Lamp", "LAMP", 40.0)
        lamp_listing = self._listing(lamp, "ext-lamp")
        self._set_stock(lamp, 5, second.lot_stock_id)
        self.channel.warehouse_ids = [Command.link(second.id)]
        self.assertEqual(self._target(lamp_listing), 5)
        sale = self._channel_sale("WH2-1", "lamp", 1)
        self.assertEqual(sale.warehouse_id, self.warehouse, "delivered from the channel's first warehouse")
        self.assertEqual(sale.picking_ids.move_ids.state, "confirmed", "no lamp there to reserve")
        self.assertEqual(self._target(lamp_listing), 4)

    def test_a_later_delivery_step_is_not_counted_twice(self):
        self.warehouse.delivery_steps = "pick_ship"
        self.warehouse.pick_type_id.reservation_method = "manual"
        sale = self._channel_sale("STEPS-1", "chair", 3)
        pick = sale.picking_ids.filtered(lambda p: p.picking_type_id == self.warehouse.pick_type_id)
        self.assertEqual(self._target(self.chair_listing), 97)
        pick.action_assign()
        pick.move_ids.quantity = 3
        pick.button_validate()
        ship = sale.picking_ids - pick
        self.assertEqual(ship.move_ids.move_orig_ids, pick.move_ids)
        self.assertEqual(self._target(self.chair_listing), 97, "waiting in the output, reserved for the shipment")
        ship.do_unreserve()
        self.assertEqual(ship.move_ids.state, "confirmed", "unreserved")
        self.assertEqual(self._target(self.chair_listing), 97, "the shipment's units are in the output, not sold twice")

    def _validate(self, picking, quantity, backorder):
        """Validate ``picking`` with ``quantity`` of its one move done, keeping the rest in a
        backorder or dropping it, as the user answers Odoo's backorder question."""
        picking.move_ids.quantity = quantity
        answer = picking.button_validate()
        if answer is True:  # all done: no question
            return
        wizard = Form(self.env[answer["res_model"]].with_context(**answer["context"])).save()
        if backorder:
            wizard.process()
        else:
            wizard.process_cancel_backorder()

    def test_a_delivery_step_done_in_part_counts_each_unit_once(self):
        """Chairs picked in part wait in the output for the shipment; the rest wait in the
        stock for the pick's backorder. Wherever they are, reserved or not, they are sold."""
        self.warehouse.delivery_steps = "pick_ship"
        sale = self._channel_sale("PART-1", "chair", 5)
        pick = sale.picking_ids.filtered(lambda p: p.picking_type_id == self.warehouse.pick_type_id)
        self.assertEqual(self._target(self.chair_listing), 95)
        self._validate(pick, 3, backorder=True)
        pick_backorder = sale.picking_ids.filtered(lambda p: p.backorder_id == pick)
        ship = sale.picking_ids.filtered(lambda p: p.picking_type_id == self.warehouse.out_type_id)
        self.assertEqual(pick_backorder.move_ids.product_uom_qty, 2)
        self.assertEqual((ship.move_ids.product_uom_qty, ship.move_ids.quantity), (3, 3))
        self.assertEqual(self._target(self.chair_listing), 95, "2 reserved in the stock, 3 in the output")
        ship.do_unreserve()
        self.assertEqual(ship.move_ids.quantity, 0, "the 3 picked chairs are free in the output")
        self.assertEqual(self._target(self.chair_listing), 95, "the 3 picked chairs are sold all the same")
        pick_backorder.do_unreserve()
        self.assertEqual(self._target(self.chair_listing), 95, "nothing reserved, 5 sold")
        pick_backorder.action_assign()
        ship.action_assign()
        self._validate(ship, 2, backorder=True)
        self.assertEqual(self._target(self.chair_listing), 95, "2 delivered, 3 still sold")
        ship_backorder = sale.picking_ids.filtered(lambda p: p.backorder_id == ship)
        ship_backorder.do_unreserve()
        self.assertEqual(self._target(self.chair_listing), 95, "1 free in the output, 2 in the stock: sold")
        self._validate(pick_backorder, 2, backorder=False)
        self.assertEqual(self._target(self.chair_listing), 95, "all picked, 3 in the output")
        open_ships = sale.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))
        open_ships.action_assign()
        for ship in open_ships:
            self._validate(ship, ship.move_ids.product_uom_qty, backorder=False)
        self.assertEqual(sale.order_line.qty_delivered, 5)
        self.assertEqual(self._target(self.chair_listing), 95)
        self.assertEqual(self._target(self.chair_listing), math.floor(self._odoo_free_qty(self.chair)))

    def test_a_draft_channel_sale_counts_in_the_products_unit(self):
        self.channel.order_auto_confirm = False
        dozen = self.env.ref("uom.product_uom_dozen")
        order = self.env["multichannel.order"]._receive(
            self.channel,
            order_data(
                "DOZEN-1",
                lines=[{"listing_external_id": "ext-chair", "quantity": 1, "unit_price": 100}],
                shipping=[],
                total=100.0,
            ),
        )
        order.sale_order_id.order_line.product_uom = dozen
        self.assertEqual(self._target(self.chair_listing), 88)

    def test_a_draft_channel_sale_still_sold_on_the_channel_is_cancelled_not_deleted(self):
        """Deleted, it freed the units the channel still sells, and the channel was never told."""
        self.channel.order_auto_confirm = False
        order = self.env["multichannel.order"]._receive(self.channel, order_data("DRAFT-1", total=None))
        sale = order.sale_order_id
        self.assertEqual((order.state, sale.state), ("done", "draft"))
        self.assertEqual(self._target(self.chair_listing), 98)
        with self.assertRaisesRegex(UserError, "still sold there: cancel it"):
            sale.unlink()
        self.assertEqual(self._target(self.chair_listing), 98, "its units stay held")
        sale.action_cancel()
        self.assertEqual(order.status_to_send, "cancelled", "the channel is told")
        self.assertEqual(self._target(self.chair_listing), 100)
        sale.unlink()
        self.assertFalse(order.sale_order_id)

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
