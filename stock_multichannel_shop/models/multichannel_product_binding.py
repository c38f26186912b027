from odoo import fields, models

from ..adapter import ShopListingExtra


class MultichannelProductBinding(models.Model):
    _inherit = "multichannel.product.binding"

    external_stock_on_parent = fields.Boolean(
        "Stock on Parent", copy=False, help="The shop keeps this variation's stock on its parent product."
    )

    def _address_fields(self):
        # the stock then goes to the other item (the parent product, or the variation)
        return (*super()._address_fields(), "external_stock_on_parent")

    def _extras(self, kind):
        extras = super()._extras(kind)
        for listing in self.filtered("external_stock_on_parent"):
            extras[listing.id] = ShopListingExtra(
                parent_id=extras[listing.id].parent_id, tax=extras[listing.id].tax, stock_on_parent=True
            )
        return extras
