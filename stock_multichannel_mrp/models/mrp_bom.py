from odoo import api, models


class MrpBom(models.Model):
    _inherit = "mrp.bom"

    def _multichannel_kit_products(self):
        """The variants these kit bills make: their variant, else every variant of their template."""
        kits = self.filtered(lambda b: b.type == "phantom")
        return kits.product_id | kits.filtered(lambda b: not b.product_id).product_tmpl_id.product_variant_ids

    def _multichannel_kit_parts(self):
        """The kits these bills make and the components they take: a bill archived, removed or
        edited changes what the held or unreserved kit orders take of each."""
        kits = self.filtered(lambda b: b.type == "phantom")
        return kits._multichannel_kit_products() | kits.bom_line_ids.product_id

    def _multichannel_kits_changed(self, products=None):
        products = (products or self.env["product.product"]) | self._multichannel_kit_products()
        if products:
            self.env["multichannel.sync.request"]._queue_stock_at_commit(products.ids)

    @api.model_create_multi
    def create(self, vals_list):
        boms = super().create(vals_list)
        boms._multichannel_kits_changed()
        return boms

    def write(self, vals):
        before = self._multichannel_kit_parts()
        result = super().write(vals)
        self._multichannel_kits_changed(before)
        return result

    def unlink(self):
        self._multichannel_kits_changed(self._multichannel_kit_parts())
        return super().unlink()
