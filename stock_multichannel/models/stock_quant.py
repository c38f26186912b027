from odoo import api, models

WATCHED = {"quantity", "reserved_quantity", "location_id", "product_id"}


class StockQuant(models.Model):
    _inherit = "stock.quant"

    @api.model_create_multi
    def create(self, vals_list):
        quants = super().create(vals_list)
        quants._multichannel_request_sync()
        return quants

    def write(self, vals):
        if WATCHED.intersection(vals):
            self._multichannel_request_sync()  # the product before a product change
            result = super().write(vals)
            self._multichannel_request_sync()
            return result
        return super().write(vals)

    def _multichannel_request_sync(self):
        # deferred to commit time: a stock operation pays only a set update here
        if self:
            self.env["multichannel.sync.request"]._queue_stock_at_commit(self.product_id.ids)
