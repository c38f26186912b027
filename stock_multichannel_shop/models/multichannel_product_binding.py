from odoo import fields, models

from ..adapter import ShopListingExtra

# a variation sharing its parent's stock leaves the group when one of these changes
SHARING_FIELDS = frozenset({"stock_sync", "active", "external_stock_on_parent", "external_parent_id"})


class MultichannelProductBinding(models.Model):
    _inherit = "multichannel.product.binding"

    external_stock_on_parent = fields.Boolean(
        "Stock on Parent", copy=False, help="The shop keeps this variation's stock on its parent product."
    )

    def write(self, vals):
        sharing = self._sharing_parents() if SHARING_FIELDS.intersection(vals) else set()
        result = super().write(vals)
        self._renew_what_siblings_show(sharing)
        return result

    def unlink(self):
        sharing = self._sharing_parents()
        result = super().unlink()
        self.browse()._renew_what_siblings_show(sharing)
        return result

    def _sharing_parents(self):
        """(channel id, parent id) of these listings that share their parent's stock now."""
        return {
            (listing.channel_id.id, listing.external_parent_id)
            for listing in self
            if listing.external_stock_on_parent and listing.external_parent_id and listing.stock_sync and listing.active
        }

    def _renew_what_siblings_show(self, sharing):
        """A variation leaves the quantity it shared with its siblings (its stock sync
        unticked, archived, removed, kept on its own): the parent shows the scarcest of the
        others from now on, so they are pushed again. Else the parent went on showing what the
        one that left had (none, say) until a sibling's own stock moved."""
        for channel_id, parent_id in sharing:
            siblings = self.sudo().search(
                [
                    ("channel_id", "=", channel_id),
                    ("external_parent_id", "=", parent_id),
                    ("external_stock_on_parent", "=", True),
                    ("stock_sync", "=", True),
                    ("stock_pending", "=", False),
                ]
            )
            siblings.write({"stock_pending": True})
            siblings.filtered(lambda listing: listing.state == "synced").write({"state": "pending"})

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
