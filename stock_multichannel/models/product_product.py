from odoo import api, fields, models


class ProductProduct(models.Model):
    _inherit = "product.product"

    multichannel_binding_ids = fields.One2many("multichannel.product.binding", "product_id", "Channel Listings")

    def write(self, vals):
        result = super().write(vals)
        if "standard_price" in vals and self._multichannel_priced_by_cost():
            # an average cost moves at each receipt: only when a channel's price follows it
            self.env["multichannel.sync.request"]._queue("price", "cost change", product_ids=self.ids)
        if "default_code" in vals:
            # an order's line is matched by the internal reference last: the orders still
            # holding units of the channels that may sell it (any company's, for a product of
            # all; not only those of the companies the user has switched on) match theirs again
            every_company = any(not product.company_id for product in self)
            domain = [] if every_company else [("company_id", "child_of", self.company_id.ids)]
            channels = self.env["multichannel.channel"].sudo().search([("active", "=", True), *domain])
            self.env["multichannel.product.binding"]._match_held_units_again(channels)
        return result

    @api.model
    def _multichannel_priced_by_cost(self):
        """Whether a channel's pricelist has a price following the products' cost: of the
        company whose cost this is (a cost is per company, and so are a channel's prices)."""
        channels = self.env["multichannel.channel"].sudo().search([("company_id", "=", self.env.company.id)])
        return channels.pricelist_id._multichannel_costs_count()
