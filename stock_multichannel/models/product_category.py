from odoo import models


class ProductCategory(models.Model):
    _inherit = "product.category"

    def write(self, vals):
        result = super().write(vals)
        if "parent_id" in vals:
            # a pricelist's rules by category apply to the categories under it too
            products = (
                self.env["product.product"]
                .sudo()
                .with_context(active_test=False)
                .search([("categ_id", "child_of", self.ids)])
            )
            self.env["multichannel.sync.request"]._queue("price", "category change", product_ids=products.ids)
        return result
