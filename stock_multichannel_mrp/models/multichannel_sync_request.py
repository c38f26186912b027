from odoo import api, models


class MultichannelSyncRequest(models.Model):
    _inherit = "multichannel.sync.request"

    @api.model
    def _queue(self, kind, cause, product_ids=(), pricelist_ids=(), **kwargs):
        """A component's stock moves its kits; a kit ordered moves its components (and their kits)."""
        if kind == "stock" and product_ids:
            products = self.env["product.product"].browse(product_ids)
            components = {c for parts in products._multichannel_kit_components().values() for c in parts}
            products |= self.env["product.product"].browse(components)
            product_ids = sorted(set((products | products._multichannel_kits_using()).ids))
        return super()._queue(kind, cause, product_ids=product_ids, pricelist_ids=pricelist_ids, **kwargs)
