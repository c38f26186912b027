from odoo import api, fields, models


class MultichannelListProducts(models.TransientModel):
    """Bulk action: list the selected products on a channel."""

    _name = "multichannel.list.products"
    _description = "List Products on a Channel"

    channel_id = fields.Many2one("multichannel.channel", required=True)
    product_ids = fields.Many2many("product.product", string="Products", domain="[('type', '=', 'consu')]")
    stock_sync = fields.Boolean("Sync Stock", default=True)
    price_sync = fields.Boolean("Sync Price", default=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        model, ids = self.env.context.get("active_model"), self.env.context.get("active_ids") or []
        if model == "product.product":
            values["product_ids"] = [fields.Command.set(ids)]
        elif model == "product.template":
            variants = self.env["product.template"].browse(ids).product_variant_ids
            values["product_ids"] = [fields.Command.set(variants.ids)]
        return values

    def action_list(self):
        self.ensure_one()
        already = (
            self.env["multichannel.product.binding"]
            .with_context(active_test=False)
            .search([("channel_id", "=", self.channel_id.id), ("product_id", "in", self.product_ids.ids)])
            .product_id
        )
        new = self.product_ids.filtered(lambda p: p.type == "consu") - already
        listings = self.env["multichannel.product.binding"].create(
            [
                {
                    "channel_id": self.channel_id.id,
                    "product_id": product.id,
                    "stock_sync": self.stock_sync,
                    "price_sync": self.price_sync,
                }
                for product in new
            ]
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "multichannel.product.binding",
            "name": self.env._("New Listings on %s", self.channel_id.name),
            "view_mode": "list,form",
            "domain": [("id", "in", listings.ids)],
        }
