from odoo import models

# what a unit's ratio is made of (Odoo 18)
RATIO_FIELDS = {"factor", "factor_inv", "uom_type", "category_id"}


class UomUom(models.Model):
    _inherit = "uom.uom"

    def write(self, vals):
        result = super().write(vals)
        if RATIO_FIELDS.intersection(vals):
            # Odoo refuses a new ratio while stock or moves use the unit, not while only
            # kits' bills do: what the kits can make changes without a quant written
            lines = self.env["mrp.bom.line"].sudo().search([("product_uom_id", "in", self.ids)])
            # a bill counts kits in the kit's own unit too (a kit keeps no move of its own)
            boms = lines.bom_id | self.env["mrp.bom"].sudo().search(
                ["|", ("product_uom_id", "in", self.ids), ("product_tmpl_id.uom_id", "in", self.ids)]
            )
            boms._multichannel_kits_changed()
        return result
