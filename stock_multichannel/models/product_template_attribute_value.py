from odoo import models


class ProductTemplateAttributeValue(models.Model):
    _inherit = "product.template.attribute.value"

    def write(self, vals):
        result = super().write(vals)
        if "price_extra" in vals:
            self.env["multichannel.sync.request"]._queue(
                "price", "variant price change", product_ids=self.ptav_product_variant_ids.ids
            )
        return result
