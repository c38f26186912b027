from odoo import fields, models
from odoo.tools import SQL


class MultichannelSyncRequest(models.Model):
    """Queue of "this listing needs a push" written by stock and price changes.

    Stock operations only ever INSERT here (no update of listing rows, so they never
    wait on, or conflict with, a push in progress). The push engine turns the rows
    into pending listings and deletes them. One row per listing and kind per
    transaction: ``transaction_id`` (the top-level transaction, the same in its
    savepoints) lets a transaction see what it queued already.
    """

    _name = "multichannel.sync.request"
    _description = "Channel Sync Request"
    _log_access = False

    binding_id = fields.Many2one("multichannel.product.binding", required=True, ondelete="cascade", index=True)
    kind = fields.Selection([("stock", "Stock"), ("price", "Price")], required=True)
    cause = fields.Char()
    requested_at = fields.Datetime(help="When the change was committed: the start of the push latency.")
    channel_moved = fields.Boolean(
        help="The channel changed this listing's stock by itself (an order): what it shows is no longer "
        "what Odoo last sent."
    )

    def init(self):
        # bigint: PostgreSQL's 64-bit transaction id, which an Odoo Integer (int4) cannot hold
        self.env.cr.execute(SQL("ALTER TABLE multichannel_sync_request ADD COLUMN IF NOT EXISTS transaction_id bigint"))
