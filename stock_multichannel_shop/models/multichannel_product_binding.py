from odoo import api, fields, models

from ..adapter import ShopListingExtra

# a variation sharing its parent's stock leaves the group when one of these changes
SHARING_FIELDS = frozenset({"stock_sync", "active", "external_stock_on_parent", "external_parent_id"})


class MultichannelProductBinding(models.Model):
    _inherit = "multichannel.product.binding"

    external_stock_on_parent = fields.Boolean(
        "Stock on Parent", copy=False, help="The shop keeps this variation's stock on its parent product."
    )

    def write(self, vals):
        if not SHARING_FIELDS.intersection(vals):
            return super().write(vals)
        before = {listing.id: listing._sharing_group() for listing in self}
        result = super().write(vals)
        self._renew_what_siblings_show(
            {before[listing.id] for listing in self if before[listing.id] not in (None, listing._sharing_group())}
        )
        return result

    def unlink(self):
        groups = {listing._sharing_group() for listing in self} - {None}
        result = super().unlink()
        self.browse()._renew_what_siblings_show(groups)
        return result

    def _sharing_group(self):
        """(channel id, parent id) whose quantity this listing shares on the parent, or None."""
        shares = self.external_stock_on_parent and self.external_parent_id and self.stock_sync and self.active
        return (self.channel_id.id, self.external_parent_id) if shares else None

    def _renew_what_siblings_show(self, groups):
        """A variation left the quantity it shared with its siblings (its stock sync
        unticked, archived, removed, kept on its own): the parent shows the scarcest of the
        others from now on, so they are queued again. Else the parent went on showing what
        the one that left had (none, say) until a sibling's own stock moved."""
        for channel_id, parent_id in groups:
            siblings = self.sudo()._sharing_the_parents(channel_id, [parent_id])
            self.env["multichannel.sync.request"]._queue_stock_at_commit(siblings.product_id.ids)

    @api.model
    def _sharing_the_parents(self, channel_id, parent_ids):
        """The listings of channel ``channel_id`` (archived ones aside) sharing the quantity
        their parent products ``parent_ids`` keep."""
        return self.with_context(active_test=True).search(
            [
                ("channel_id", "=", channel_id),
                ("stock_sync", "=", True),
                ("external_stock_on_parent", "=", True),
                ("external_parent_id", "in", list(parent_ids)),
            ]
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
