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

    def _multichannel_request_sync(self, any_state=False):
        """A channel sale order holds its lines' units until its delivery does (see the
        channels' pending quantities), draft or confirmed: its edits move what every channel
        may sell, and no quant is written for them. ``any_state``: a cancelled one too (the
        order's state is what changes)."""
        held = self.sudo().filtered(
            lambda line: line.order_id.multichannel_channel_id and (any_state or line.order_id.state != "cancel")
        )
        if held:
            self.env["multichannel.sync.request"]._queue_stock_at_commit(held.product_id.ids)
