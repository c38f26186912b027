from odoo import models


class StockLocation(models.Model):
    _inherit = "stock.location"

    def write(self, vals):
        result = super().write(vals)
        if "location_id" in vals:
            # under another parent, a location takes its stock into a channel's sources or out
            # of them, and no quant is written (Odoo rewrites the locations' parent_path only)
            quants = self.env["stock.quant"].sudo().search([("location_id", "child_of", self.ids)])
            self.env["multichannel.sync.request"]._queue_stock_at_commit(quants.product_id.ids)
        return result
