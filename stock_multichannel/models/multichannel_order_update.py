"""An order the channel sends again: its status followed (a cancellation), different content flagged for a human."""

from odoo import models
from odoo.exceptions import UserError

from ..lib.messages import translated
from ..lib.orders import OrderDataError, content_difference, normalize_order


class MultichannelOrder(models.Model):
    _inherit = "multichannel.order"

    def _apply_channel_update(self, payload):
        """A later read of an imported order: follow a cancellation made on the channel; a
        status or stock marks that moved (a refund that put units back on the channel's
        shelf, say, which Odoo has not received back) re-send the order's listings.

        The same id with other products, customer or date is not an update but another
        order (an id the channel reused) or one edited after it was imported: it is kept
        aside for a human, never written over what the sale order was made from.
        """
        stored = self.payload
        normalized, before = self._normalized_or_none(payload), self._normalized_or_none(stored)
        if normalized:  # told whatever else happens to the order (flagged for a human, say)
            self._tell_channel_news(normalized, known=(before, self._normalized_or_none(self.changed_payload)))
        difference = self.sale_order_id and content_difference(stored, payload)
        if not difference and self._reopened_after_cancel(stored, payload):
            difference = self.env._("the order open again after its sale order was cancelled (paid late, say)")
        if difference:
            self._flag_changed(payload, difference)
            return
        if self.content_changed:
            self._unflag_changed()  # the channel went back to what the sale order was made from
        if payload != stored:  # else read again unchanged (the overlap of two polls): nothing to write
            self.payload = payload
        if normalized:
            self._follow_channel_status(normalized, before)

    def _follow_channel_status(self, normalized, before):
        """The order's status on the channel (``normalized``, the stored order's read before
        it: ``before``), followed: a cancellation cancels the sale order not shipped yet."""
        status = normalized["status"]
        status_moved = status != self.channel_status
        if status_moved:
            self.channel_status = status
        if status_moved or normalized["stock_marks"] != (before["stock_marks"] if before else ""):
            self._request_stock_sync(set(self._ordered_quantities()), channel_moved=True)  # it may give units back
        if not status_moved or status != "cancelled" or self.state != "done":
            return
        sale = self.sale_order_id
        shipped = sale.picking_ids.filtered(lambda p: p.state == "done" and p.location_dest_id.usage == "customer")
        if not shipped and sale.state != "cancel":
            sale.with_context(multichannel_from_channel=True, disable_cancel_warning=True)._action_cancel()
            self.write({"state": "cancelled"})
            self.message_post(body=self.env._("Cancelled on the channel: sale order %s cancelled.", sale.name))
            # Odoo cancels the draft invoices only: a posted one still declares the sale
            invoiced = sale.invoice_ids.filtered(
                lambda move: (
                    move.move_type == "out_invoice" and move.state == "posted" and move.payment_state != "reversed"
                )
            )
            if invoiced:
                self._tell_sale(
                    self.env._("Cancelled on the channel after invoicing: make the credit note"),
                    self.env._(
                        "Order %(ref)s was cancelled on the channel after it was invoiced: sale order %(sale)s is "
                        "cancelled, invoice %(invoices)s is still posted. Make its credit note.",
                        ref=self.name,
                        sale=sale.name,
                        invoices=", ".join(invoiced.mapped("name")),
                    ),
                )
        elif shipped:
            message = self.env._("Cancelled or returned on the channel after it was shipped: handle the return.")
            self.warning = message
            sale.activity_schedule(
                "mail.mail_activity_data_todo", summary=message, user_id=(self.channel_id.user_id or self.env.user).id
            )

    def _tell_channel_news(self, normalized, known=()):
        """What the channel did with the order that none of the ``known`` orders (normalised,
        or None) had, said
        on the sale order with an activity for the channel's responsible: money given back
        (the credit note is theirs: which lines, and whether the goods came back, Odoo cannot
        know), a customer's request to cancel (ship it or not is theirs too)."""
        sale = self.sale_order_id
        if not sale:
            return
        known = [before for before in known if before]
        told = {refund["external_id"] for before in known for refund in before["refunds"]}
        cancel_asked = any(before["cancel_requested"] for before in known)
        for refund in normalized["refunds"]:
            if refund["external_id"] in told:
                continue
            message = self.env._(
                "The channel refunded %(amount)s %(currency)s of order %(ref)s (refund %(refund)s%(reason)s). "
                "No credit note was made: make one for what was given back.",
                amount="?" if refund["amount"] is None else f"{refund['amount']:.2f}",
                currency=normalized["currency"],
                ref=self.name,
                refund=refund["external_id"],
                reason=f": {refund['reason']}" if refund["reason"] else "",
            )
            self._tell_sale(self.env._("Refund on the channel: make the credit note"), message)
        still_sold = normalized["status"] in ("open", "pending") and sale.state != "cancel"
        if normalized["cancel_requested"] and not cancel_asked and still_sold:
            message = self.env._(
                "The customer asked to cancel order %(ref)s on the channel (%(request)s). Cancel sale order "
                "%(sale)s if it is not shipped yet (the channel is told), or answer the request on the channel.",
                ref=self.name,
                request=normalized["cancel_requested"],
                sale=sale.name,
            )
            self._tell_sale(self.env._("Cancellation asked on the channel"), message)

    def _tell_sale(self, summary, message, result="ok"):
        sale = self.sale_order_id
        sale.message_post(body=message)
        sale.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=summary,
            note=message,
            user_id=(self.channel_id.user_id or self.env.user).id,
        )
        self.env["multichannel.ledger"]._log_order(self, "order", result, message)

    @staticmethod
    def _normalized_or_none(payload):
        """``payload`` normalised, or None when there is none or it cannot be read."""
        if not payload:
            return None
        try:
            return normalize_order(payload)
        except OrderDataError:
            return None

    def _reopened_after_cancel(self, stored, payload):
        """The channel sells again an order cancelled there and in Odoo (a payment that came
        after all): its units are the channel's again, for a human to import anew (once: a
        human who marked it handled took the reopened order as the stored one)."""
        if self.state not in ("done", "cancelled") or self.sale_order_id.state not in (False, "cancel"):
            return False
        try:
            before, now = normalize_order(stored)["status"], normalize_order(payload)["status"]
        except OrderDataError:
            return False
        return before == "cancelled" and now in ("open", "pending")

    def _unflag_changed(self):
        """The channel sends the order as it was imported again (a reopened order cancelled
        again, an edit undone): nothing is left for a human, the units it held are freed."""
        previous = set((self.pending_quantities or {}).keys())
        self.write({"content_changed": False, "changed_payload": False, "error": False, "pending_quantities": False})
        self._request_stock_sync(previous | set(self._ordered_quantities()), channel_moved=True)
        self.message_post(body=self.env._("The channel sends the order as it was imported again: nothing to handle."))

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
        normalized = self._normalized_or_none(payload)
        if normalized and normalized["status"] == "cancelled" and self.sale_order_id.state != "cancel":
            message += " " + self.env._(
                "It is cancelled on the channel: marking it as handled cancels sale order %s too, unless it "
                "is shipped.",
                self.sale_order_id.name,
            )
        self.write({"content_changed": True, "changed_payload": payload, "error": message})
        # the other order took the channel's units: they stay held until a human settles it,
        # unless the channel cancelled it (its shelf got back what it restocked)
        held = self._held_quantities(payload)
        self._hold_units(held, channel_moved=True)
        if not held:
            self._request_stock_sync(set(self._ordered_quantities(payload)), channel_moved=True)
        self.message_post(body=message)
        self.env["multichannel.ledger"]._log_order(self, "order", "refused", message)

    def action_mark_handled(self):
        """A human settled an order the channel sent again different: its new content is now the stored one."""
        self._check_can_import()
        for order in self.sudo().filtered("content_changed"):
            if order._reopened_after_cancel(order.payload, order.changed_payload):
                # its units would be freed while the channel sells the order: sold twice
                raise UserError(
                    self.env._(
                        "Order %s is open again on the channel and no sale order of Odoo holds its products: "
                        "Import it as a New Order, or confirm its cancelled sale order again first.",
                        order.name,
                    )
                )
            order._request_stock_sync((order.pending_quantities or {}).keys())
            before = order._normalized_or_none(order.payload)
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
            normalized = order._normalized_or_none(order.payload)
            if normalized:  # the channel's status came with the content kept aside (a cancellation)
                order._follow_channel_status(normalized, before)
        return True
