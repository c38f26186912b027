from collections import defaultdict

from odoo import models
from odoo.tools import float_is_zero

# kits inside kits deeper than this are not followed
MAX_KIT_DEPTH = 10


class ProductProduct(models.Model):
    _inherit = "product.product"

    def _multichannel_kit_components(self, company=None):
        """{kit id: {component id: units of the component in one kit}} for the kits among these.

        Kits inside kits are opened down to their stocked components, as Odoo
        delivers them; components that are not stocked do not limit a kit.
        """
        boms = (
            self.env["mrp.bom"].sudo()._bom_find(self, company_id=company.id if company else False, bom_type="phantom")
        )
        kits = {}
        for kit, bom in boms.items():
            if not bom:
                continue
            kits_per_bom = bom.product_uom_id._compute_quantity(bom.product_qty, kit.uom_id, round=False)
            _boms, lines = bom.explode(kit, 1.0)
            parts = defaultdict(float)
            for line, exploded in lines:
                component = line.product_id
                if not component.is_storable or float_is_zero(
                    exploded["qty"], precision_rounding=line.product_uom_id.rounding
                ):
                    continue
                units = line.product_uom_id._compute_quantity(exploded["qty"], component.uom_id, round=False)
                parts[component.id] += units / kits_per_bom
            kits[kit.id] = dict(parts)
        return kits

    def _multichannel_components_anywhere(self):
        """The components of these kits in every company's bill, inside kits too: which bill
        explodes a kit depends on the company of the channel or move (a component of a bill
        no company uses is taken too: queuing it sends nothing that did not change)."""

        def components(kits):
            bills = (
                self.env["mrp.bom"]
                .sudo()
                .search(
                    [
                        ("type", "=", "phantom"),
                        "|",
                        ("product_id", "in", kits.ids),
                        "&",
                        ("product_id", "=", False),
                        ("product_tmpl_id", "in", kits.product_tmpl_id.ids),
                    ]
                )
            )
            return bills.bom_line_ids.product_id

        return self._multichannel_through_kits(components)

    def _multichannel_kits_using(self):
        """The kits that contain any of these products, directly or inside another kit."""

        def kits(parts):
            lines = (
                self.env["mrp.bom.line"]
                .sudo()
                .search(
                    [("product_id", "in", parts.ids), ("bom_id.type", "=", "phantom"), ("bom_id.active", "=", True)]
                )
            )
            return lines.bom_id._multichannel_kit_products()

        return self._multichannel_through_kits(kits)

    def _multichannel_through_kits(self, step):
        """The products ``step`` (products → products, one bill away) reaches from these,
        kits inside kits down to ``MAX_KIT_DEPTH``, these left out."""
        reached, frontier = self.browse(), self
        for _depth in range(MAX_KIT_DEPTH):
            frontier = step(frontier) - reached - self
            if not frontier:
                break
            reached |= frontier
        return reached
