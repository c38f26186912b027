"""Status back to the channel: shipped or cancelled in Odoo, sent to the channel by its cron."""

import time

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..const import ORDER_STATUSES
from ..lib.adapter import CALL_ERRORS, TransportError, as_channel_error
from ..lib.messages import translated
from ..lib.transactions import CONCURRENT_ERRORS


class MultichannelOrder(models.Model):
    _inherit = "multichannel.order"

    status_to_send = fields.Selection(ORDER_STATUSES, readonly=True, copy=False)
    status_sent = fields.Selection(ORDER_STATUSES, readonly=True, copy=False)
    status_pending = fields.Boolean(compute="_compute_status_pending", store=True, index=True)
    status_error = fields.Text(readonly=True, copy=False)
    status_sent_at = fields.Datetime(readonly=True, copy=False)

    @api.depends("status_to_send", "status_sent")
    def _compute_status_pending(self):
        for order in self:
            order.status_pending = bool(order.status_to_send) and order.status_to_send != order.status_sent

    def _queue_status(self, status):
        """Ask for ``status`` to be sent; called from whoever ships or cancels, so as the engine."""
        orders = self.sudo().filtered(lambda o: o.status_sent != status)
        if orders:
            orders.write({"status_to_send": status, "status_error": False})
            self.env["multichannel.channel"]._trigger_realtime("status")

    @api.model
    def _send_statuses(self, auto_commit=False):
        # an archived channel (or one switched off on a database copy) sends nothing
        orders = self.sudo().search([("status_pending", "=", True), ("channel_id.active", "=", True)], order="id")
        # the channel refused the last try of some (an order it shows in another state): they
        # go after the others, which a pile of them would otherwise keep waiting for the budget
        orders.sorted(lambda order: bool(order.status_error))._send_status(auto_commit)

    def _send_status(self, auto_commit=False):
        unreachable = self.env["multichannel.channel"]  # after a temporary fault, the channel's next orders wait
        for order in self:
            channel = order.channel_id
            if channel in unreachable or channel._over_budget():
                continue
            try:
                with self.env.cr.savepoint():
                    order._lock()
            except CONCURRENT_ERRORS:
                continue
            status = order.status_to_send
            started = time.monotonic()
            try:
                answer = channel._call(
                    channel._get_adapter().send_order_status, order.external_id, status, order.payload
                )
            except CALL_ERRORS as error:
                if isinstance(error, TransportError):
                    unreachable |= channel
                error = as_channel_error(error)
                order.status_error = self.env._(
                    "Sending status %(status)s failed: %(error)s", status=status, error=translated(self.env, error)
                )
                self.env["multichannel.ledger"]._log_order(
                    order, "status", "failed", str(error), old_value=order.status_sent or "", new_value=status
                )
            else:
                self.env["multichannel.ledger"]._log_order(
                    order,
                    "status",
                    "ok",
                    answer or "",
                    old_value=order.status_sent or "",
                    new_value=status,
                    duration_ms=int((time.monotonic() - started) * 1000),
                )
                order.write({"status_sent": status, "status_error": False, "status_sent_at": fields.Datetime.now()})
                if status == "cancelled":  # the channel puts the order's units back on its shelf
                    order._request_stock_sync(set(order._ordered_quantities()), channel_moved=True)
            channel._commit(auto_commit)

    def action_send_status(self):
        self._check_can_handle()
        if self.sudo().channel_id.filtered(lambda channel: not channel.active):
            raise UserError(self.env._("The channel is archived: it sends nothing to the channel any more."))
        self.sudo().filtered("status_pending")._send_status()
        return True
