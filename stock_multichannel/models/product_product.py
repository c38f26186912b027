from odoo import fields, models


class ProductProduct(models.Model):
    _inherit = "product.product"

    multichannel_binding_ids = fields.One2many("multichannel.product.binding", "product_id", "Channel Listings")
