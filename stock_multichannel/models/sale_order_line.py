from odoo import api, models

# what a draft channel sale order's line takes from the channels' availability
PENDING_FIELDS = {"product_id", "product_uom_qty", "product_uom"}


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines._multichannel_request_sync()
        return lines

    def write(self, vals):
        if not PENDING_FIELDS.intersection(vals):
            return super().write(vals)
        self._multichannel_request_sync()  # the product before a product change
        result = super().write(vals)
        self._multichannel_request_sync()
        return result

    def unlink(self):
        self._multichannel_request_sync()
        return super().unlink()

    def _multichannel_request_sync(self):
        """A draft channel sale order holds its lines' units until confirmed (see the
        channels' pending quantities): its edits move what every channel may sell."""
        pending = self.filtered(
            lambda line: line.order_id.multichannel_channel_id and line.order_id.state in ("draft", "sent")
        )
        if pending:
            self.env["multichannel.sync.request"]._queue_stock_at_commit(pending.product_id.ids)
