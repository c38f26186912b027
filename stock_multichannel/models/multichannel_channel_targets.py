"""What each listing should show: free stock minus pending orders under the channel's policy; the pricelist's price."""

from collections import defaultdict

from odoo import fields, models
from odoo.tools import SQL, float_round

from ..lib.availability import apply_policy


class MultichannelChannel(models.Model):
    _inherit = "multichannel.channel"

    def _source_locations(self):
        self.ensure_one()
        return self.warehouse_ids.view_location_id | self.location_ids

    def _free_quantities(self, products):
        """{product id: free quantity (on hand minus reserved)} over the channel's sources.

        One grouped query over ``stock.quant``, the products passed as one array: what
        Odoo's ``free_qty`` sums in the channel's locations, for any number of products.
        """
        self.ensure_one()
        locations = self.env["stock.location"].sudo()._search([("id", "child_of", self._source_locations().ids)])
        Quant = self.env["stock.quant"].sudo()
        Quant.flush_model(["product_id", "location_id", "quantity", "reserved_quantity"])
        self.env.cr.execute(
            SQL(
                """
                SELECT product_id, SUM(quantity) - SUM(reserved_quantity)
                  FROM stock_quant
                 WHERE product_id = ANY(%s) AND location_id IN %s
                 GROUP BY product_id
                """,
                products.ids,
                locations.subselect(),
            )
        )
        return dict(self.env.cr.fetchall())

    def _pending_quantities(self, products):
        """{product id: quantity} of orders known to the channels but not reserved yet.

        Counts every channel of the company, not only this one: an order waiting on
        channel A takes units that channel B must not sell again.
        """
        self.ensure_one()
        pending = defaultdict(float)
        for order in (
            self.env["multichannel.order"]
            .sudo()
            .search(
                [
                    ("company_id", "=", self.company_id.id),
                    "|",
                    ("state", "in", ("received", "pending", "error")),
                    ("content_changed", "=", True),
                ]
            )
        ):
            for product_id, quantity in (order.pending_quantities or {}).items():
                pending[int(product_id)] += quantity
        # channel sale orders Odoo has not reserved yet, one grouped query each: those still
        # in draft (their lines, in the product's unit), and those confirmed whose delivery
        # does not hold the units (reserved by hand or by date, unreserved, delivered from a
        # warehouse without them): free stock counts those units, sold already
        self.env["sale.order.line"].flush_model(["order_id", "product_id", "product_uom", "product_uom_qty", "state"])
        self.env["sale.order"].flush_model(["multichannel_channel_id", "company_id"])
        self.env["product.template"].flush_model(["uom_id"])
        self.env["uom.uom"].flush_model(["factor"])
        self.env["stock.location"].flush_model(["usage"])
        self.env["stock.move"].flush_model(
            ["sale_line_id", "product_id", "product_qty", "product_uom_qty", "quantity", "state", "move_orig_ids"]
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT l.product_id, SUM(l.product_uom_qty / line_uom.factor * product_uom.factor)
                  FROM sale_order_line l
                  JOIN sale_order o ON o.id = l.order_id
                  JOIN uom_uom line_uom ON line_uom.id = l.product_uom
                  JOIN product_product p ON p.id = l.product_id
                  JOIN product_template t ON t.id = p.product_tmpl_id
                  JOIN uom_uom product_uom ON product_uom.id = t.uom_id
                 WHERE l.product_id = ANY(%(products)s) AND l.state IN ('draft', 'sent')
                   AND o.multichannel_channel_id IS NOT NULL AND o.company_id = %(company)s
                 GROUP BY l.product_id
                 UNION ALL
                -- each delivery move whose units are in its source (none of the moves
                -- bringing them is open: one still open counts them itself), its demand less
                -- what it holds, in the product's unit; one made to order waits for its purchase
                SELECT m.product_id,
                       SUM(GREATEST(m.product_qty - m.quantity * m.product_qty / NULLIF(m.product_uom_qty, 0), 0))
                  FROM stock_move m
                  JOIN sale_order_line l ON l.id = m.sale_line_id
                  JOIN sale_order o ON o.id = l.order_id
                  JOIN stock_location source ON source.id = m.location_id
                 WHERE m.product_id = ANY(%(products)s)
                   AND m.state IN ('confirmed', 'partially_available') AND source.usage = 'internal'
                   AND NOT EXISTS (
                       SELECT 1 FROM stock_move_move_rel r JOIN stock_move origin ON origin.id = r.move_orig_id
                        WHERE r.move_dest_id = m.id AND origin.state NOT IN ('done', 'cancel'))
                   AND o.multichannel_channel_id IS NOT NULL AND o.company_id = %(company)s
                 GROUP BY m.product_id
                """,
                products=products.ids,
                company=self.company_id.id,
            )
        )
        for product_id, quantity in self.env.cr.fetchall():
            pending[product_id] += quantity or 0.0
        return pending

    def _available_quantities(self, products):
        """{product id: free quantity minus what pending orders will take}, before the policy."""
        self.ensure_one()
        free = self._free_quantities(products)
        pending = self._pending_quantities(products)
        return {product_id: free.get(product_id, 0.0) - pending.get(product_id, 0.0) for product_id in products.ids}

    def _stock_targets(self, bindings):
        """{listing id: quantity to show}, for many listings of this channel at once."""
        self.ensure_one()
        # each listing's product read in one query, not through a record per listing
        Binding = self.env["multichannel.product.binding"].sudo()
        Binding.flush_model(["product_id"])
        stored = [binding_id for binding_id in bindings.ids if isinstance(binding_id, int)]
        self.env.cr.execute(SQL("SELECT id, product_id FROM multichannel_product_binding WHERE id = ANY(%s)", stored))
        product_of = dict(self.env.cr.fetchall())
        if len(stored) < len(bindings):  # listings being created in a form
            product_of.update({b.id: b.product_id.id for b in bindings if not isinstance(b.id, int)})
        available = self._available_quantities(self.env["product.product"].browse(set(product_of.values())))
        held_back, percent, maximum = self.stock_held_back, self.stock_percent, self.stock_max
        shown = {}  # the policy once per distinct available quantity: many products share one

        def policy(quantity):
            if quantity not in shown:
                shown[quantity] = apply_policy(quantity, held_back=held_back, percent=percent, maximum=maximum)
            return shown[quantity]

        return {binding_id: policy(available.get(product_of[binding_id], 0.0)) for binding_id in bindings.ids}

    def _price_targets(self, bindings):
        """{listing id: price from the channel pricelist}, rounded to its currency."""
        self.ensure_one()
        products = bindings.product_id.with_company(self.company_id)
        # converted at the rates of the channel's company, not of the user running the push
        prices = self.pricelist_id.with_company(self.company_id)._get_products_price(products, 1.0)
        currency = self.pricelist_id.currency_id
        return {
            binding.id: float_round(prices.get(binding.product_id.id, 0.0), precision_rounding=currency.rounding)
            for binding in bindings
        }

    def _regular_prices(self, bindings):
        """{listing id: the product's list price in the pricelist's currency}."""
        self.ensure_one()
        currency = self.pricelist_id.currency_id
        company = self.company_id
        # in the product's currency: its company's, or the main company's for a product of all
        return {
            binding.id: float_round(
                binding.product_id.currency_id._convert(
                    binding.product_id.lst_price, currency, company, fields.Date.today()
                ),
                precision_rounding=currency.rounding,
            )
            for binding in bindings
        }
