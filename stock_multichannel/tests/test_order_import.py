from odoo import Command
from odoo.tests import tagged

from .common import MultichannelCase, order_data


@tagged("post_install", "-at_install")
class TestOrderImport(MultichannelCase):
    def _receive(self, data):
        return self.env["multichannel.order"]._receive(self.channel, data)

    def test_a_good_order_becomes_a_confirmed_sale_order(self):
        data = order_data("1001", discounts=[{"name": "Voucher", "amount": 20.0, "tax_rate": 19.0}], total=226.1)
        order = self._receive(data)
        self.assertEqual(order.state, "done", order.error)
        sale = order.sale_order_id
        self.assertEqual(sale.state, "sale")
        self.assertEqual(sale.multichannel_channel_id, self.channel)
        self.assertEqual(sale.multichannel_external_ref, "1001")
        self.assertEqual(sale.team_id, self.channel.team_id)
        self.assertEqual(sale.client_order_ref, "Test Marketplace M-1001")
        self.assertEqual(sale.partner_id.email, "ana@example.com")
        self.assertEqual(sale.partner_id.country_id, self.env.ref("base.ro"))
        chair_line = sale.order_line.filtered(lambda line: line.product_id == self.chair)
        self.assertEqual((chair_line.product_uom_qty, chair_line.price_unit), (2, 100.0))
        self.assertEqual(chair_line.tax_id, self.tax19)
        shipping = sale.order_line.filtered(lambda line: line.product_id == self.channel.shipping_product_id)
        self.assertEqual(shipping.price_unit, 10.0)
        discount = sale.order_line.filtered(lambda line: line.product_id == self.channel.discount_product_id)
        self.assertEqual(discount.price_unit, -20.0)
        self.assertAlmostEqual(sale.amount_total, 226.1)
        self.assertFalse(sale.multichannel_total_mismatch)
        self.assertFalse(sale.multichannel_oversold)
        self.assertEqual(sale.picking_ids.move_ids.quantity, 2, "stock reserved at once")
        self.assertFalse(order.pending_quantities)
        ledger = self.env["multichannel.ledger"].search([("order_id", "=", order.id)])
        self.assertEqual((ledger.kind, ledger.result, ledger.new_value), ("order", "ok", sale.name))

    def test_the_order_ships_from_the_channels_warehouse(self):
        second = self.env["stock.warehouse"].create({"name": "Outlet", "code": "OUT2"})
        self._set_stock(self.desk, 4, second.lot_stock_id)
        outlet = self.env["multichannel.channel"].create(
            {"name": "Outlet channel", "warehouse_ids": [(6, 0, second.ids)], "pricelist_id": self.pricelist.id}
        )
        self._listing(self.desk, "outlet-desk", channel=outlet)
        order = self.env["multichannel.order"]._receive(
            outlet,
            order_data(
                "W-1",
                total=None,
                lines=[{"listing_external_id": "outlet-desk", "quantity": 3, "unit_price": 250, "tax_rate": 19}],
            ),
        )
        sale = order.sale_order_id
        self.assertEqual(sale.warehouse_id, second)
        self.assertEqual(sale.picking_ids.location_id, second.lot_stock_id)
        self.assertFalse(sale.multichannel_oversold, "reserved from the outlet's own stock")

    def test_an_order_read_twice_is_imported_once(self):
        first = self._receive(order_data("1002"))
        again = self._receive(order_data("1002"))
        self.assertFalse(again, "already imported: nothing to do")
        self.assertEqual(self.env["sale.order"].search_count([("multichannel_external_ref", "=", "1002")]), 1)
        self.assertEqual(self.env["multichannel.order"].search_count([("external_id", "=", "1002")]), 1)
        self.assertEqual(first.state, "done")

    def test_customer_found_again_and_delivery_address_as_child(self):
        first = self._receive(order_data("1003")).sale_order_id
        second = self._receive(
            order_data(
                "1004",
                shipping_address={
                    "name": "Ana at work",
                    "street": "Bd. Eroilor 5",
                    "city": "Cluj",
                    "zip": "400002",
                    "country_code": "RO",
                },
            )
        ).sale_order_id
        self.assertEqual(second.partner_id, first.partner_id)
        self.assertEqual(second.partner_shipping_id.parent_id, first.partner_id)
        self.assertEqual(second.partner_shipping_id.type, "delivery")
        self.assertEqual(second.partner_shipping_id.street, "Bd. Eroilor 5")

    def test_a_shared_customers_delivery_address_of_another_company_is_not_used(self):
        """A contact of every company, buying on a channel of each: the address made for
        the first company's order made the second company's order fail ("Incompatible companies")."""
        customer = self.env["res.partner"].create(
            {"name": "Ana Pop", "email": "ana.shared@example.com", "street": "Str. Lalelelor 1", "city": "Cluj"}
        )
        self.assertFalse(customer.company_id)
        other, channel = self._channel_of_another_company("Sofia Co", "Sofia shop")
        self._listing(self.chair, "sofia-chair", channel=channel)
        at_work = {"name": "Ana at work", "street": "Bd. Eroilor 5", "city": "Cluj", "zip": "400002"}

        def bought(on_channel, external_id, listing):
            line = {"listing_external_id": listing, "quantity": 1, "unit_price": 100.0, "tax_rate": None}
            data = order_data(external_id, lines=[line], shipping=[], total=None, shipping_address=at_work)
            data["customer"] = dict(data["customer"], email="ana.shared@example.com")
            order = self.env["multichannel.order"]._receive(on_channel, data)
            self.assertEqual(order.state, "done", order.error)
            return order.sale_order_id

        here = bought(self.channel, "SHARED-1", "ext-chair")
        there = bought(channel, "SHARED-2", "sofia-chair")
        self.assertEqual((here.partner_id, there.partner_id), (customer, customer))
        self.assertEqual(here.partner_shipping_id.company_id, self.company)
        self.assertEqual(there.partner_shipping_id.company_id, other)
        self.assertEqual(there.partner_shipping_id.street, "Bd. Eroilor 5")

    def test_a_company_customer(self):
        sale = self._receive(
            order_data(
                "1005",
                customer={
                    "name": "Ion Ionescu",
                    "company": "Birouri SRL",
                    "is_company": True,
                    "vat": "RO123456",
                    "street": "Str. Fabricii 3",
                    "city": "Iasi",
                    "country_code": "RO",
                },
            )
        ).sale_order_id
        self.assertTrue(sale.partner_id.is_company)
        self.assertEqual((sale.partner_id.name, sale.partner_id.vat), ("Birouri SRL", "RO123456"))

    def test_a_customer_buying_for_their_firm_is_invoiced_to_the_firm(self):
        """eMAG hashes a customer's e-mail: the same person buying privately, then for their
        firm (legal entity, VAT code), then privately again."""
        private = self._receive(order_data("1005-P1")).sale_order_id
        firm_customer = dict(order_data()["customer"], company="Pop Consult SRL", is_company=True, vat="RO7654321")
        firm = self._receive(order_data("1005-F1", customer=firm_customer)).sale_order_id
        self.assertNotEqual(firm.partner_invoice_id, private.partner_invoice_id)
        self.assertEqual(
            (firm.partner_invoice_id.name, firm.partner_invoice_id.vat, firm.partner_invoice_id.is_company),
            ("Pop Consult SRL", "RO7654321", True),
        )
        self.assertEqual(
            self._receive(order_data("1005-F2", customer=firm_customer)).sale_order_id.partner_id, firm.partner_id
        )
        self.assertEqual(self._receive(order_data("1005-P2")).sale_order_id.partner_id, private.partner_id)
        # its VAT code typed otherwise: the same firm (Odoo's VAT module stores it compacted)
        typed = dict(firm_customer, vat="ro 7654321")
        self.assertEqual(
            self._receive(order_data("1005-F2b", customer=typed)).sale_order_id.partner_id, firm.partner_id
        )
        # the same person buying for another firm: that firm, never the first one
        other_firm = dict(firm_customer, company="Alfa Trade SRL", vat="RO1112223")
        alfa = self._receive(order_data("1005-F3", customer=other_firm)).sale_order_id.partner_id
        self.assertEqual((alfa.name, alfa.vat), ("Alfa Trade SRL", "RO1112223"))
        # a contact made by hand as a person, holding the firm's VAT number: the firm is it
        by_hand = (
            self.env["res.partner"]
            .with_context(no_vat_validation=True)
            .create({"name": "Beta (typed by hand)", "vat": "RO9998887"})
        )
        beta = dict(firm_customer, company="Beta SRL", vat="RO9998887", email="beta@example.com")
        self.assertEqual(self._receive(order_data("1005-F4", customer=beta)).sale_order_id.partner_id, by_hand)

    def test_a_company_customer_whose_vat_number_odoo_would_refuse_is_imported(self):
        """eMAG takes a customer's VAT code as typed: Odoo's VAT check (base_vat, in every
        European company's Odoo) would refuse it, and the order would never come in."""
        base_vat = self.env["ir.module.module"].search([("name", "=", "base_vat")])
        self.assertEqual(base_vat.state, "installed", "the test run installs it (setup/test.py)")
        sale = self._receive(
            order_data(
                "1005-VAT",
                customer={
                    "name": "Ion Ionescu",
                    "company": "Ateliere SRL",
                    "is_company": True,
                    "vat": "RO1234567890123",
                    "street": "Str. Fabricii 5",
                    "city": "Iasi",
                    "country_code": "RO",
                },
            )
        ).sale_order_id
        self.assertEqual((sale.partner_id.name, sale.partner_id.vat), ("Ateliere SRL", "RO1234567890123"))

    def test_a_percentage_rule_of_the_pricelist_is_not_taken_off_again(self):
        """With Odoo's Discounts setting on, a percentage rule shows as a line discount:
        the channel's price is already the discounted one."""
        self.env.user.groups_id += self.env.ref("sale.group_discount_per_so_line")
        self._price_rule(self.chair, percent_off=10)
        sale = self._receive(
            order_data(
                "1005-DISCOUNT",
                lines=[{"listing_external_id": "ext-chair", "quantity": 2, "unit_price": 90.0, "tax_rate": 19.0}],
                shipping=[],
                total=214.2,
            )
        ).sale_order_id
        self.assertEqual((sale.order_line.price_unit, sale.order_line.discount), (90.0, 0.0))
        self.assertAlmostEqual(sale.amount_total, 214.2)
        self.assertFalse(sale.multichannel_total_mismatch)

    def _sale_tax(self, name, rate, **values):
        return self.env["account.tax"].create(
            dict(
                {
                    "name": name,
                    "amount": rate,
                    "amount_type": "percent",
                    "type_tax_use": "sale",
                    "price_include_override": "tax_excluded",
                },
                **values,
            )
        )

    def test_net_prices_finer_than_a_cent_come_to_what_the_customer_paid(self):
        """eMAG sells 99.99 with 19% VAT as a net 84.0252 (4 decimals, so the price with VAT
        is exact): rounded to Odoo's 84.03, five of them make 499.98, where the customer
        paid 499.95. With a tax of that rate included in the price, the line is the price
        paid, and the order comes to the channel's total."""
        lines = [dict(order_data()["lines"][0], quantity=5, unit_price=84.0252, tax_rate=19.0)]
        shipping = [{"name": "Courier", "amount": 13.437, "tax_rate": 19.0}]  # 15.99 with VAT
        rounded = self._receive(order_data("FINE-1", lines=lines, shipping=shipping, total=515.94)).sale_order_id
        self.assertEqual(rounded.order_line.mapped("price_unit"), [84.03, 13.44])
        self.assertTrue(rounded.multichannel_total_mismatch, "no tax included in prices: rounded, and flagged")
        included = self._sale_tax("VAT 19% included", 19.0, price_include_override="tax_included")
        sale = self._receive(order_data("FINE-2", lines=lines, shipping=shipping, total=515.94)).sale_order_id
        self.assertEqual(sale.order_line.mapped("price_unit"), [99.99, 15.99])
        self.assertEqual(sale.order_line.tax_id, included)
        self.assertAlmostEqual(sale.amount_total, 515.94)
        self.assertFalse(sale.multichannel_total_mismatch)
        whole = self._receive(order_data("FINE-3", total=249.9)).sale_order_id
        self.assertEqual(whole.order_line.tax_id, self.tax19, "a price in cents keeps its tax")

    def _receive_at_20_percent(self, external_id, **overrides):
        """Two chairs and the shipping, the channel charging 20%: the sale order."""
        lines = [dict(order_data()["lines"][0], tax_rate=20.0)]
        shipping = [{"name": "Courier", "amount": 10.0, "tax_rate": 20.0}]
        return self._receive(
            order_data(external_id, lines=lines, shipping=shipping, total=252.0, **overrides)
        ).sale_order_id

    def test_a_line_takes_its_products_own_tax_of_the_rate(self):
        """Several taxes of one rate (goods and services, cash-basis VAT): the product's."""
        self._sale_tax("VAT 19% services", 19.0, sequence=0)
        cash_basis = self._sale_tax("VAT 19% cash basis", 19.0, sequence=50)
        self.chair.taxes_id = cash_basis
        sale = self._receive(order_data("TAX-OWN", total=249.9)).sale_order_id
        chair_line = sale.order_line.filtered(lambda line: line.product_id == self.chair)
        self.assertEqual(chair_line.tax_id, cash_basis)
        self.assertFalse(sale.multichannel_total_mismatch)

    def test_oss_a_foreign_customer_gets_the_taxes_of_the_fiscal_position(self):
        """A Bulgarian customer under OSS: eMAG charged 20%. Odoo's OSS makes a 20% tax per
        country (Austria's before Bulgaria's): the line takes the product's tax mapped by
        the customer's fiscal position, the shipping (no tax of its own) that position's 20%."""
        austria = self._sale_tax("20% AT VAT", 20.0, sequence=1000)
        bulgaria = self._sale_tax("20% BG VAT", 20.0, sequence=1000)
        self.assertLess(austria.id, bulgaria.id)
        oss_bg = self.env["account.fiscal.position"].create(
            {
                "name": "OSS B2C Bulgaria",
                "auto_apply": True,
                "country_id": self.env.ref("base.bg").id,
                "tax_ids": [Command.create({"tax_src_id": self.tax19.id, "tax_dest_id": bulgaria.id})],
            }
        )
        self.chair.taxes_id = self.tax19
        customer = dict(
            order_data()["customer"],
            name="Ivan Petrov",
            phone="+359 800 000 001",
            country_code="BG",
            city="Sofia",
            email="ivan@example.com",
        )
        sale = self._receive_at_20_percent("TAX-OSS", customer=customer)
        self.assertEqual(sale.fiscal_position_id, oss_bg)
        self.assertEqual(sale.order_line.mapped("tax_id"), bulgaria)
        self.assertAlmostEqual(sale.amount_total, 252.0)

    def test_prices_with_tax_where_the_companys_taxes_exclude_it(self):
        """A shop's prices with tax, and the company's 19% excluding it (a Romanian chart):
        the line goes without the tax, not kept out of Odoo."""
        lines = [dict(order_data()["lines"][0], unit_price=119.0)]
        shipping = [{"name": "Courier", "amount": 11.9, "tax_rate": 19.0}]
        order = self._receive(
            order_data("TAX-TURNED", lines=lines, shipping=shipping, prices_include_tax=True, total=249.9)
        )
        self.assertEqual(order.state, "done", order.error)
        sale = order.sale_order_id
        self.assertEqual(sale.order_line.mapped("price_unit"), [100.0, 10.0])
        self.assertEqual(sale.order_line.tax_id, self.tax19)
        self.assertAlmostEqual(sale.amount_total, 249.9)

    def test_a_tax_of_another_country_than_the_positions_is_never_taken(self):
        """Odoo refuses an invoice whose taxes are of another country than the one its
        fiscal position declares in (its foreign VAT's, else the company's)."""
        bulgaria = self.env.ref("base.bg")
        group = self.env["account.tax.group"].create({"name": "BG VAT", "country_id": bulgaria.id})
        self._sale_tax("20% BG (registered there)", 20.0, country_id=bulgaria.id, tax_group_id=group.id, sequence=0)
        lines = [dict(order_data()["lines"][0], tax_rate=20.0)]
        order = self._receive(order_data("TAX-COUNTRY", lines=lines, shipping=[], total=240.0))
        self.assertEqual(order.state, "error")
        self.assertIn("No sales tax of 20.0% (price excluded)", order.error)
        domestic = self._sale_tax("20% domestic", 20.0, sequence=50)
        self.assertEqual(domestic.country_id, self.company.account_fiscal_country_id)
        order.action_retry()
        self.assertEqual(order.sale_order_id.order_line.tax_id, domestic)

    def test_the_channels_fiscal_position_when_odoo_finds_none_for_the_customer(self):
        bulgaria = self._sale_tax("20% BG VAT", 20.0, sequence=1000)
        self._sale_tax("20% services", 20.0, sequence=1)
        position = self.env["account.fiscal.position"].create(
            {
                "name": "eMAG Bulgaria",
                "tax_ids": [Command.create({"tax_src_id": self.tax19.id, "tax_dest_id": bulgaria.id})],
            }
        )
        self.channel.fiscal_position_id = position
        self.chair.taxes_id = self.tax19
        sale = self._receive_at_20_percent("TAX-CHANNEL")
        self.assertEqual(sale.fiscal_position_id, position)
        self.assertEqual(sale.order_line.mapped("tax_id"), bulgaria)

    def test_a_channel_of_a_branch_uses_its_parent_companys_taxes(self):
        """Odoo 18's branches use their parent company's taxes."""
        branch = self.env["res.company"].create({"name": "Cluj branch", "parent_id": self.company.id})
        self.env.user.company_ids += branch
        channel = self._channel(
            "Branch shop",
            "manual",
            company_id=branch.id,
            pricelist_id=self.pricelist.copy({"company_id": branch.id}).id,
            warehouse_ids=[Command.set(self.env["stock.warehouse"].search([("company_id", "=", branch.id)]).ids)],
        )
        self._listing(self.chair, "branch-chair", channel=channel)
        order = self.env["multichannel.order"]._receive(
            channel, order_data("BRANCH-1", lines=[dict(order_data()["lines"][0], listing_external_id="branch-chair")])
        )
        self.assertEqual(order.state, "done", order.error)
        self.assertEqual(order.sale_order_id.order_line.mapped("tax_id"), self.tax19)

    def test_lines_found_by_sku_when_the_listing_id_is_unknown(self):
        order = self._receive(
            order_data(
                "1006",
                lines=[{"listing_external_id": "999", "sku": "DESK", "quantity": 1, "unit_price": 250, "tax_rate": 19}],
                total=309.4,
            )
        )
        self.assertEqual(order.state, "done", order.error)
        self.assertEqual(order.sale_order_id.order_line[0].product_id, self.desk)

    def test_prices_including_tax(self):
        tax_included = self.env["account.tax"].create(
            {
                "name": "VAT 19% incl",
                "amount": 19.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
            }
        )
        order = self._receive(
            order_data(
                "1007",
                prices_include_tax=True,
                total=250.0,
                lines=[{"listing_external_id": "ext-chair", "quantity": 2, "unit_price": 119.0, "tax_rate": 19}],
                shipping=[{"amount": 12.0, "tax_rate": 19}],
            )
        )
        sale = order.sale_order_id
        self.assertEqual(sale.order_line[0].tax_id, tax_included)
        self.assertAlmostEqual(sale.amount_total, 250.0)

    def test_a_bad_order_is_kept_with_its_error_and_retried_after_the_fix(self):
        lamp = self._product("Floor lamp", "LAMP-X", 40.0)
        self._set_stock(lamp, 5)
        bad = order_data(
            "2001",
            lines=[
                {
                    "listing_external_id": "ext-lamp",
                    "sku": "LAMP-MISSING",
                    "name": "Floor lamp",
                    "quantity": 1,
                    "unit_price": 40,
                    "tax_rate": 19,
                }
            ],
            total=59.5,
        )
        self.remote.orders = [bad, order_data("2002")]
        self.channel._import_orders()
        bad_order = self.env["multichannel.order"].search([("external_id", "=", "2001")])
        good_order = self.env["multichannel.order"].search([("external_id", "=", "2002")])
        self.assertEqual(good_order.state, "done", "a bad order does not stop the others")
        self.assertEqual(bad_order.state, "error")
        self.assertIn("no listing with external ID ext-lamp or SKU LAMP-MISSING", bad_order.error)
        self.assertFalse(bad_order.sale_order_id)
        self.assertEqual(bad_order.payload["lines"][0]["sku"], "LAMP-MISSING", "the payload is kept")
        self.assertFalse(
            self.env["sale.order"].search([("multichannel_external_ref", "=", "2001")]), "nothing partial was created"
        )
        # the fix: list the lamp on the channel under the channel's id
        self._listing(lamp, "ext-lamp")
        bad_order.action_retry()
        self.assertEqual(bad_order.state, "done", bad_order.error)
        self.assertEqual(
            bad_order.sale_order_id.order_line.filtered(lambda line: line.product_id == lamp).product_uom_qty, 1
        )
        self.assertEqual(bad_order.attempts, 2)

    def test_malformed_values_are_reported(self):
        order = self._receive(
            order_data("2003", lines=[{"listing_external_id": "ext-chair", "quantity": "two", "unit_price": "1O0"}])
        )
        self.assertEqual(order.state, "error")
        self.assertIn("lines[1].quantity: not a number ('two')", order.error)
        self.assertIn("lines[1].unit_price: not a number ('1O0')", order.error)

    def test_missing_address(self):
        order = self._receive(order_data("2004", customer={"name": "No Address", "email": "x@example.com"}))
        self.assertEqual(order.state, "error")
        self.assertIn("The delivery address lacks: street, city", order.error)

    def test_unknown_tax_rate(self):
        order = self._receive(
            order_data(
                "2005", lines=[{"listing_external_id": "ext-chair", "quantity": 1, "unit_price": 100, "tax_rate": 7.5}]
            )
        )
        self.assertEqual(order.state, "error")
        self.assertIn("No sales tax of 7.5%", order.error)

    def test_a_different_currency_is_refused(self):
        order = self._receive(order_data("2006", currency="RON"))
        self.assertEqual(order.state, "error")
        self.assertIn("RON", order.error)

    def test_an_order_without_id_is_still_stored(self):
        order = self._receive({"status": "open", "lines": "garbage"})
        self.assertEqual(order.state, "error")
        self.assertIn("external_id: missing", order.error)
        self.assertEqual(order.payload["lines"], "garbage")

    def test_an_order_without_id_read_again_is_stored_once_and_holds_nothing(self):
        """It can never be imported nor told apart from a second read: each read held its
        units anew, and every channel's stock fell at every poll."""
        available = self.channel._available_quantities(self.chair)[self.chair.id]
        data = order_data("")
        first, again = self._receive(data), self._receive(dict(data))
        self.assertEqual(first, again, "stored once")
        self.assertEqual(first.state, "error")
        self.assertIn("external_id: missing", first.error)
        self.assertFalse(first.pending_quantities)
        self.assertEqual(self.channel._available_quantities(self.chair)[self.chair.id], available)

    def test_total_mismatch_is_flagged(self):
        order = self._receive(order_data("2007", total=999.0))
        self.assertEqual(order.state, "done")
        self.assertTrue(order.sale_order_id.multichannel_total_mismatch)
        self.assertIn("999.0", order.warning)

    def test_oversold_order_is_flagged(self):
        order = self._receive(
            order_data(
                "3001",
                lines=[{"listing_external_id": "ext-desk", "quantity": 13, "unit_price": 250, "tax_rate": 19}],
                total=None,
            )
        )
        sale = order.sale_order_id
        self.assertTrue(sale.multichannel_oversold)
        self.assertEqual(sale.multichannel_oversold_qty, 3)
        activity = sale.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertIn("Oversold", activity.summary)
        self.assertEqual(activity.user_id, self.channel.user_id)
        self.assertEqual(self.channel.oversell_count, 1)
        self.assertIn(sale, self.env["sale.order"].search([("multichannel_oversold", "=", True)]))

    def test_a_pending_order_is_held_then_imported(self):
        order = self._receive(order_data("4001", status="pending"))
        self.assertEqual(order.state, "pending")
        self.assertFalse(order.sale_order_id)
        self.assertEqual(order.pending_quantities, {str(self.chair.id): 2.0})
        self.assertEqual(self._receive(order_data("4001", status="open")), order)
        self.assertEqual(order.state, "done")
        self.assertFalse(order.pending_quantities)

    def test_a_held_order_follows_its_listing_matched_to_another_product(self):
        """An order held (unpaid) keeps its units off every channel: matched anew (the listing
        corrected to another product, or listed only now), they were still held on the old
        product, and the new one shown in full everywhere."""
        lamp = self._product("Lamp", "LAMP", 20.0, 5)
        table = self._product("Table", "TABLE", 300.0, 1)
        lines = [{"listing_external_id": "ext-table", "sku": "T-1", "quantity": 1, "unit_price": 300.0}]
        order = self._receive(order_data("4011", status="pending", lines=lines, total=None))
        self.assertFalse(order.pending_quantities, "no listing matches its line yet")
        listing = self._listing(lamp, "ext-table")  # listed under the wrong product first
        self.env.cr.flush()  # matched again once, when the transaction commits
        self.assertEqual(order.pending_quantities, {str(lamp.id): 1.0})
        self.assertEqual(listing.target_qty, 4)
        listing.product_id = table
        self.env.cr.flush()
        self.assertEqual(order.pending_quantities, {str(table.id): 1.0})
        listing.invalidate_recordset()
        self.assertEqual(listing.target_qty, 0, "its one table is the customer's")
        self.assertFalse(self.channel._pending_quantities(lamp).get(lamp.id), "the lamp is free again")
        listing.unlink()
        self.env.cr.flush()
        self.assertFalse(order.pending_quantities)
        table.default_code = "T-1"  # its line is matched by the internal reference now
        self.env.cr.flush()
        self.assertEqual(order.pending_quantities, {str(table.id): 1.0})

    def test_an_internal_reference_matches_the_held_orders_of_every_company_that_may_sell_it(self):
        """Written by a user with only this company switched on: the other company's held
        order, whose line names that reference, kept holding nothing."""
        _other, channel = self._channel_of_another_company("Sofia refs", "Sofia shop")
        table = self._product("Table", "TABLE", 300.0, 1)
        lines = [{"listing_external_id": "sofia-table", "sku": "T-2", "quantity": 1, "unit_price": 300.0}]
        order = self.env["multichannel.order"]._receive(
            channel, order_data("4012", status="pending", lines=lines, shipping=[], total=None)
        )
        self.assertFalse(order.pending_quantities, "nothing matches its line yet")
        table.with_context(allowed_company_ids=self.company.ids).default_code = "T-2"
        self.env.cr.flush()
        self.assertEqual(order.pending_quantities, {str(table.id): 1.0})

    def test_an_order_arriving_cancelled_is_not_created(self):
        order = self._receive(order_data("4002", status="cancelled"))
        self.assertEqual(order.state, "skipped")
        self.assertFalse(order.sale_order_id)

    def test_an_order_cancelled_then_paid_after_all_is_imported(self):
        order = self._receive(order_data("4005", status="cancelled"))
        self.assertEqual(order.state, "skipped")
        self.assertEqual(self._receive(order_data("4005", status="open")), order)
        self.assertEqual(order.state, "done", order.error)
        self.assertTrue(order.sale_order_id)

    def test_an_order_skipped_by_a_human_stays_skipped(self):
        order = self._receive(
            order_data("4006", lines=[{"listing_external_id": "nope", "sku": "NOPE", "quantity": 1, "unit_price": 1}])
        )
        order.action_skip()
        self.assertFalse(self._receive(order_data("4006")))
        self.assertEqual(order.state, "skipped")
        self.assertFalse(order.sale_order_id)

    def test_cancelled_on_the_channel_after_import(self):
        order = self._receive(order_data("4003"))
        sale = order.sale_order_id
        self._receive(order_data("4003", status="cancelled"))
        self.assertEqual(sale.state, "cancel")
        self.assertEqual(order.state, "cancelled")
        self.assertFalse(order.status_to_send, "the channel knows already: nothing to send back")

    def test_cancelled_on_the_channel_after_invoicing_asks_for_the_credit_note(self):
        """Odoo cancels a sale order's draft invoices only: a posted one would go on
        declaring a sale that never happened."""
        order = self._receive(order_data("4003-INV"))
        sale = order.sale_order_id
        invoice = sale._create_invoices()
        invoice.action_post()
        self._receive(order_data("4003-INV", status="cancelled"))
        self.assertEqual((sale.state, order.state, invoice.state), ("cancel", "cancelled", "posted"))
        activity = sale.activity_ids.filtered(lambda a: "credit note" in (a.summary or ""))
        self.assertEqual(activity.summary, "Cancelled on the channel after invoicing: make the credit note")
        self.assertIn(invoice.name, activity.note)
        credit_note = invoice._reverse_moves()
        credit_note.action_post()
        self.assertEqual(invoice.payment_state, "reversed")
        # cancelled before any invoice was posted: nothing to ask
        plain = self._receive(order_data("4003-DRAFT"))
        draft = plain.sale_order_id._create_invoices()
        self._receive(order_data("4003-DRAFT", status="cancelled"))
        self.assertEqual(draft.state, "cancel")
        self.assertFalse(plain.sale_order_id.activity_ids)

    def test_cancelled_on_the_channel_after_shipping_is_flagged(self):
        order = self._receive(order_data("4004"))
        sale = order.sale_order_id
        sale.picking_ids.move_ids.quantity = 2
        sale.picking_ids.button_validate()
        self._receive(order_data("4004", status="cancelled"))
        self.assertEqual(sale.state, "sale")
        self.assertIn("after it was shipped", order.warning)

    def test_orders_are_acknowledged_when_the_channel_wants_it(self):
        type(self.channel._get_adapter()).acknowledges_orders = True
        self.remote.orders = [order_data("5001")]
        self.channel._import_orders()
        self.channel._import_orders()
        self.assertEqual(self.remote.acknowledged, ["5001"])
        self.assertEqual(self.channel.order_watermark, "1")

    def test_an_order_imported_where_it_arrived_tracks_no_change_a_later_import_does(self):
        """As Odoo tracks no value set at creation: an order received and imported (or
        refused) in one transaction has no state change in its chatter; a retry has."""
        Order = self.env["multichannel.order"].with_context(tracking_disable=False)

        def state_changes(order):
            self.env.cr.flush()  # the tracking is written by the pre-commit hooks
            return order.message_ids.tracking_value_ids.filtered(lambda value: value.field_id.name == "state")

        imported = Order._receive(self.channel, order_data("6001"))
        self.assertEqual(imported.state, "done", imported.error)
        self.assertFalse(state_changes(imported))
        lamp = self._product("Desk lamp", "LAMP-T", 30.0)
        self._set_stock(lamp, 3)
        line = {
            "listing_external_id": "ext-lamp-t",
            "name": "Desk lamp",
            "quantity": 1,
            "unit_price": 30,
            "tax_rate": 19,
        }
        refused = Order._receive(self.channel, order_data("6002", lines=[line], total=47.6))
        self.assertEqual(refused.state, "error")
        self.assertFalse(state_changes(refused))
        self._listing(lamp, "ext-lamp-t")
        refused.with_context(tracking_disable=False).action_retry()
        self.assertEqual(refused.state, "done", refused.error)
        change = state_changes(refused)
        self.assertEqual((change.old_value_char, change.new_value_char), ("To Fix", "Imported"))
