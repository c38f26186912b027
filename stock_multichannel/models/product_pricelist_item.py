from odoo import api, models


class ProductPricelistItem(models.Model):
    _inherit = "product.pricelist.item"

    @api.model_create_multi
    def create(self, vals_list):
        items = super().create(vals_list)
        items._multichannel_request_sync()
        return items

    def write(self, vals):
        result = super().write(vals)
        self._multichannel_request_sync()
        return result

    def unlink(self):
        self._multichannel_request_sync()
        return super().unlink()

    def _multichannel_request_sync(self):
        """Every listing priced by a pricelist these items touch, directly or as a base."""
        pricelists = self.pricelist_id
        dependants = (
            self.env["product.pricelist.item"]
            .sudo()
            .search([("base", "=", "pricelist"), ("base_pricelist_id", "in", pricelists.ids)])
            .pricelist_id
        )
        self.env["multichannel.sync.request"]._queue(
            "price", "pricelist change", pricelist_ids=(pricelists | dependants).ids
        )
