import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.addons.stock_multichannel.lib.adapter import CALL_ERRORS, as_channel_error
from odoo.addons.stock_multichannel.lib.messages import translated
from odoo.exceptions import AccessError, UserError

from ..const import INVOICE_BATCH, INVOICE_STATES, MAX_INVOICE_ATTEMPTS

_logger = logging.getLogger(__name__)


class AccountMove(models.Model):
    _inherit = "account.move"

    emag_invoice_state = fields.Selection(
        INVOICE_STATES,
        "eMAG Invoice",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The invoice's PDF attached to its eMAG order(s) with order/attachments/save.",
    )
    emag_invoice_error = fields.Text("eMAG Invoice Error", readonly=True, copy=False)
    emag_invoice_attempts = fields.Integer(readonly=True, copy=False)
    emag_invoice_next_try = fields.Datetime(readonly=True, copy=False)
    emag_invoice_sent_at = fields.Datetime("Sent to eMAG", readonly=True, copy=False)
    emag_invoice_sent_refs = fields.Json(readonly=True, copy=False, help="eMAG orders the PDF is attached to.")

    def _emag_orders(self):
        """The imported eMAG channel orders this invoice or credit note bills."""
        self.ensure_one()
        sales = (
            self.sudo().line_ids.sale_line_ids.order_id | self.sudo().reversed_entry_id.line_ids.sale_line_ids.order_id
        )
        return sales.filtered(
            lambda s: s.multichannel_channel_id.channel_type == "emag" and s.multichannel_order_id.external_id
        ).multichannel_order_id

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        to_send = posted.filtered(
            lambda m: m.move_type in ("out_invoice", "out_refund") and m.state == "posted" and m._emag_orders()
        )
        if to_send:
            for move in to_send.sudo():
                move._portal_ensure_token()  # committed with the posting: the URL works when eMAG fetches it
            to_send.sudo().write(
                {
                    "emag_invoice_state": "pending",
                    "emag_invoice_error": False,
                    "emag_invoice_attempts": 0,
                    "emag_invoice_next_try": fields.Datetime.now(),
                }
            )
            # once per transaction, not while a wake-up is pending, notified on a kept connection
            self.env["multichannel.channel"]._trigger_realtime("emag_invoice")
        return posted

    @api.model
    def _cron_emag_send_invoices(self, auto_commit=True):
        """Attach each posted invoice's PDF to its eMAG order(s); one try per run, never a sleep."""
        # the wake-ups asked for until now are this run's; an invoice posted after asks for
        # the next run. Committed before the search, which then sees every invoice they woke for
        self.env["multichannel.channel"]._consume_wakeups("emag_invoice", auto_commit)
        moves = self.sudo().search(
            [
                ("emag_invoice_state", "in", ("pending", "error")),
                ("emag_invoice_next_try", "<=", fields.Datetime.now()),
            ],
            limit=INVOICE_BATCH,
        )
        for move in moves:
            if not move.access_token:
                move._portal_ensure_token()
                if auto_commit:
                    self.env.cr.commit()  # pylint: disable=invalid-commit
            move._emag_send_invoice()
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        waiting = self.sudo().search(
            [("emag_invoice_state", "in", ("pending", "error")), ("emag_invoice_next_try", "!=", False)],
            order="emag_invoice_next_try",
            limit=1,
        )
        if waiting:
            self.env["multichannel.channel"]._wake_at("emag_invoice", waiting.emag_invoice_next_try)

    def _emag_send_invoice(self):
        """Attach the PDF to each eMAG order of the move not attached yet; note the outcome
        on the invoice and on the channel orders (first failure, success, giving up)."""
        self.ensure_one()
        move = self.sudo()
        url = move._emag_pdf_url()
        done = set(move.emag_invoice_sent_refs or [])
        errors = []
        for order in move._emag_orders().filtered(lambda o: o.external_id not in done):
            try:
                answer = order.channel_id._get_adapter().send_invoice(order.external_id, move.name, url)
            except CALL_ERRORS as error:
                errors.append((order, f"{order.name}: {translated(self.env, as_channel_error(error))}"))
                continue
            done.add(order.external_id)
            order.message_post(body=answer)
        values = {"emag_invoice_sent_refs": sorted(done)}
        if not errors:
            move.write(
                dict(
                    values,
                    emag_invoice_state="sent",
                    emag_invoice_error=False,
                    emag_invoice_next_try=False,
                    emag_invoice_sent_at=fields.Datetime.now(),
                )
            )
            move.message_post(body=self.env._("Attached to its eMAG order(s)."))
            return True
        attempts = move.emag_invoice_attempts + 1
        giving_up = attempts >= MAX_INVOICE_ATTEMPTS
        move.write(
            dict(
                values,
                emag_invoice_state="error",
                emag_invoice_error="\n".join(text for _order, text in errors),
                emag_invoice_attempts=attempts,
                # retried with back-off; after MAX_INVOICE_ATTEMPTS only by the button
                emag_invoice_next_try=False
                if giving_up
                else fields.Datetime.now() + timedelta(minutes=min(360, 2**attempts)),
            )
        )
        if attempts == 1 or giving_up:
            note = (
                self.env._("%(invoice)s could not be attached on eMAG; no more automatic tries: %(error)s")
                if giving_up
                else self.env._("%(invoice)s could not be attached on eMAG yet, it is tried again: %(error)s")
            )
            for order, text in errors:
                order.message_post(body=note % {"invoice": move.name, "error": text})
        _logger.info("%s: sending to eMAG failed (try %s): %s", move.name, attempts, "; ".join(t for _o, t in errors))
        return False

    def _emag_pdf_url(self):
        """The invoice's PDF at a public URL: the portal route with the invoice's access token."""
        self.ensure_one()
        return self.get_base_url() + self.get_portal_url(report_type="pdf", download=True)

    def action_emag_send_invoice(self):
        """Send again now (from the invoice form)."""
        if not self.env.user.has_group("stock_multichannel.group_multichannel_manager"):
            raise AccessError(self.env._("Only a Multichannel Administrator sends invoices to a channel."))
        self.check_access("write")
        for move in self:
            if move.state != "posted" or not move._emag_orders():
                raise UserError(self.env._("Only a posted invoice of an eMAG order is sent to eMAG."))
        for move in self:
            move._emag_send_invoice()
        return True
