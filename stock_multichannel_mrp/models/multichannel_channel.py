from odoo import models


class MultichannelChannel(models.Model):
    _inherit = "multichannel.channel"

    def _available_quantities(self, products):
        """A kit is available as many times as its scarcest component allows."""
        Product = self.env["product.product"]
        kits = products._multichannel_kit_components(self.company_id)
        if not kits:
            return super()._available_quantities(products)
        components = Product.browse({component for parts in kits.values() for component in parts})
        available = super()._available_quantities((products - Product.browse(list(kits))) | components)
        for kit_id, parts in kits.items():
            available[kit_id] = min(
                (max(available.get(component, 0.0), 0.0) / units for component, units in parts.items()),
                default=0.0,
            )
        return available

    def _pending_quantities(self, products):
        """Kits ordered but not reserved yet take their components."""
        pending = super()._pending_quantities(products | products._multichannel_kits_using())
        ordered = self.env["product.product"].browse([product_id for product_id, qty in pending.items() if qty])
        for kit_id, parts in ordered._multichannel_kit_components(self.company_id).items():
            for component, units in parts.items():
                pending[component] += pending[kit_id] * units
        return pending
