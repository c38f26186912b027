from odoo import api, models


def _kit_products(boms):
    kits = boms.filtered(lambda b: b.type == "phantom")
    return kits.product_id | kits.filtered(lambda b: not b.product_id).product_tmpl_id.product_variant_ids


class MrpBom(models.Model):
    _inherit = "mrp.bom"

    def _multichannel_kits_changed(self, products=None):
        products = (products or self.env["product.product"]) | _kit_products(self)
        if products:
            self.env["multichannel.product.binding"]._request_stock_sync_at_commit(products.ids)

    @api.model_create_multi
    def create(self, vals_list):
        boms = super().create(vals_list)
        boms._multichannel_kits_changed()
        return boms

    def write(self, vals):
        before = _kit_products(self)
        result = super().write(vals)
        self._multichannel_kits_changed(before)
        return result

    def unlink(self):
        self._multichannel_kits_changed()
        return super().unlink()


class MrpBomLine(models.Model):
    _inherit = "mrp.bom.line"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.bom_id._multichannel_kits_changed()
        return lines

    def write(self, vals):
        result = super().write(vals)
        self.bom_id._multichannel_kits_changed()
        return result

    def unlink(self):
        self.bom_id._multichannel_kits_changed()
        return super().unlink()
