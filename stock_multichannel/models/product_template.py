from odoo import api, fields, models

# a pricelist's rules may be by category: a product moved to another one may take another price
PRICE_FIELDS = {"list_price", "lst_price", "categ_id"}


class ProductTemplate(models.Model):
    _inherit = "product.template"

    multichannel_binding_ids = fields.Many2many(
        "multichannel.product.binding", compute="_compute_multichannel_binding_ids", string="Channel Listings"
    )

    @api.depends("product_variant_ids.multichannel_binding_ids")
    def _compute_multichannel_binding_ids(self):
        for template in self:
            template.multichannel_binding_ids = template.product_variant_ids.multichannel_binding_ids

    def write(self, vals):
        result = super().write(vals)
        if {"is_storable", "uom_id"}.intersection(vals):
            # a kit's component tracked from now on (or no longer) changes what the kit can
            # make; the product's own quantity is nil either way (Odoo allows the switch
            # only then); a kit counts in its unit, which Odoo lets change (its own moves
            # are exploded into its components')
            products = self.with_context(active_test=False).product_variant_ids
            self.env["multichannel.sync.request"]._queue_stock_at_commit(products.ids)
        if "taxes_id" in vals:
            products = self.with_context(active_test=False).product_variant_ids
            self.env["multichannel.sync.request"]._queue_prices_again(products.ids, "tax change")
        elif PRICE_FIELDS.intersection(vals):
            products = self.with_context(active_test=False).product_variant_ids
            self.env["multichannel.sync.request"]._queue("price", "price change", product_ids=products.ids)
        return result
