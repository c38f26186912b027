from odoo import api, models
from odoo.tools import SQL


class MultichannelSyncRequest(models.Model):
    _inherit = "multichannel.sync.request"

    @api.model
    def _stock_products(self, product_ids):
        """A component's stock moves its kits; a kit ordered moves its components (and their kits)."""
        product_ids = super()._stock_products(product_ids)
        if product_ids and self._any_in_kits(product_ids):
            products = self.env["product.product"].browse(product_ids)
            products |= products._multichannel_components_anywhere()
            product_ids = sorted(set((products | products._multichannel_kits_using()).ids))
        return product_ids

    @api.model
    def _any_in_kits(self, product_ids):
        """Whether any of these products is a kit or a kit's component, in any company: one
        statement on every stock transaction, where looking for their kits and components
        takes two searches (most products are neither)."""
        self.env["mrp.bom"].flush_model(["active", "type", "product_id", "product_tmpl_id"])
        self.env["mrp.bom.line"].flush_model(["bom_id", "product_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT EXISTS(
                           SELECT 1 FROM mrp_bom b
                             JOIN product_product p ON p.id = ANY(%(products)s)
                            WHERE b.active AND b.type = 'phantom' AND b.product_tmpl_id = p.product_tmpl_id
                              AND (b.product_id IS NULL OR b.product_id = p.id))
                    OR EXISTS(
                           SELECT 1 FROM mrp_bom_line l
                             JOIN mrp_bom b ON b.id = l.bom_id
                            WHERE l.product_id = ANY(%(products)s) AND b.active AND b.type = 'phantom')
                """,
                products=list(product_ids),
            )
        )
        return self.env.cr.fetchone()[0]
