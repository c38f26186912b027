"""An order the channel sends again: its status followed (a cancellation), different content flagged for a human."""

from odoo import models

from ..lib.messages import translated
from ..lib.orders import OrderDataError, content_difference, normalize_order


class MultichannelOrder(models.Model):
    _inherit = "multichannel.order"

    def _apply_channel_update(self, payload):
        """A later read of an imported order: follow a cancellation made on the channel;
        any change re-sends the order's listings (a refund that put units back on the
        channel's shelf, say, which Odoo has not received back).

        The same id with other products, customer or date is not an update but another
        order (an id the channel reused) or one edited after it was imported: it is kept
        aside for a human, never written over what the sale order was made from.
        """
        stored = self.payload
        difference = self.sale_order_id and content_difference(stored, payload)
        if not difference and self._reopened_after_cancel(stored, payload):
            difference = self.env._("the order open again after its sale order was cancelled (paid late, say)")
        if difference:
            self._flag_changed(payload, difference)
            return
        # read again unchanged (the overlap of two polls), the order moved nothing; else what the
        # channel shows of its products may have moved with it (a refund restocking units, a
        # status giving them back): they are sent again
        moved = payload != stored
        if moved:
            self.payload = payload
            self._request_stock_sync(set(self._ordered_quantities()), channel_moved=True)
        try:
            status = normalize_order(payload)["status"]
        except OrderDataError:
            return
        if status == self.channel_status:
            return
        self.channel_status = status
        if not moved:  # a status change the order stored already (handled by a human since)
            self._request_stock_sync(set(self._ordered_quantities()), channel_moved=True)
        if status != "cancelled" or self.state != "done":
            return
        sale = self.sale_order_id
        shipped = sale.picking_ids.filtered(lambda p: p.state == "done" and p.location_dest_id.usage == "customer")
        if not shipped and sale.state != "cancel":
            sale.with_context(multichannel_from_channel=True, disable_cancel_warning=True)._action_cancel()
            self.write({"state": "cancelled"})
            self.message_post(body=self.env._("Cancelled on the channel: sale order %s cancelled.", sale.name))
        elif shipped:
            message = self.env._("Cancelled on the channel after it was shipped: handle the return.")
            self.warning = message
            sale.activity_schedule(
                "mail.mail_activity_data_todo", summary=message, user_id=(self.channel_id.user_id or self.env.user).id
            )

    def _reopened_after_cancel(self, stored, payload):
        """The channel sells again an order whose cancellation Odoo followed (a payment that
        came after all): its units are the channel's again, for a human to import anew (once:
        a human who marked it handled took the reopened order as the stored one)."""
        if self.state != "cancelled" or self.sale_order_id.state != "cancel":
            return False
        try:
            before, now = normalize_order(stored)["status"], normalize_order(payload)["status"]
        except OrderDataError:
            return False
        return before == "cancelled" and now in ("open", "pending")

    def _flag_changed(self, payload, difference):
        if self.content_changed and self.changed_payload == payload:
            return
        message = self.env._(
            "The channel sent order %(ref)s again with %(difference)s. Sale order %(sale)s was left as it "
            "was: if the channel's order is another sale under the same id, import it as a new order; if it is "
            "this sale changed, correct the sale order by hand, then mark this order as handled.",
            ref=self.external_id,
            difference=translated(self.env, difference),
            sale=self.sale_order_id.name,
        )
        previous = set((self.pending_quantities or {}).keys())
        self.write({"content_changed": True, "changed_payload": payload, "error": message})
        # the other order took the channel's units: they stay held until a human settles it
        quantities = self._ordered_quantities(payload)
        self.pending_quantities = dict(quantities) or False
        self._request_stock_sync(previous | set(quantities), channel_moved=True)
        self.message_post(body=message)
        self.env["multichannel.ledger"]._log_order(self, "order", "refused", message)

    def action_mark_handled(self):
        """A human settled an order the channel sent again different: its new content is now the stored one."""
        self._check_can_import()
        for order in self.sudo().filtered("content_changed"):
            order._request_stock_sync((order.pending_quantities or {}).keys())
            order.write(
                {
                    "payload": order.changed_payload,
                    "changed_payload": False,
                    "content_changed": False,
                    "error": False,
                    "pending_quantities": False,
                }
            )
            order.message_post(body=self.env._("Marked as handled by %s.", self.env.user.name))
        return True
