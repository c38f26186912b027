import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.addons.stock_multichannel.lib.adapter import ChannelError, TransportError

_logger = logging.getLogger(__name__)

BATCH = 50
MAX_ATTEMPTS = 8  # then polling, the backstop, brings the order


class MultichannelEmagCallback(models.Model):
    """An order eMAG named in a callback, waiting to be read (once, whatever the callbacks)."""

    _name = "multichannel.emag.callback"
    _description = "eMAG Callback (order to read)"
    _order = "id"

    channel_id = fields.Many2one("multichannel.channel", required=True, ondelete="cascade", index=True, readonly=True)
    order_ref = fields.Char("eMAG Order ID", required=True, readonly=True)
    received_at = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    next_try_at = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now, index=True)
    attempts = fields.Integer(readonly=True)
    error = fields.Text(readonly=True)

    _sql_constraints = [
        ("order_uniq", "unique(channel_id, order_ref)", "This eMAG order is already waiting to be read."),
    ]

    @api.model
    def _request(self, channel, order_ref):
        """Remember to read ``order_ref`` of ``channel`` and wake the cron. Idempotent:
        callbacks repeated before the read make one request (due now)."""
        self.env.cr.execute(
            """
            INSERT INTO multichannel_emag_callback (channel_id, order_ref, received_at, next_try_at, attempts,
                                                    create_uid, write_uid, create_date, write_date)
            VALUES (%(channel)s, %(ref)s, %(now)s, %(now)s, 0, %(uid)s, %(uid)s, %(now)s, %(now)s)
            ON CONFLICT (channel_id, order_ref) DO UPDATE SET next_try_at = %(now)s, write_date = %(now)s
            """,
            {"channel": channel.id, "ref": order_ref, "now": fields.Datetime.now(), "uid": self.env.uid},
        )
        self.env.ref("stock_multichannel_emag.ir_cron_emag_callbacks").sudo()._trigger()

    @api.model
    def _cron_read_orders(self, auto_commit=True):
        """Read each order named by a callback and hand it to the core's import.

        One try per request and run, never a sleep: a temporary fault puts the request
        back with a delay and wakes the cron then.
        """
        Order = self.env["multichannel.order"].sudo()
        requests = self.sudo().search([("next_try_at", "<=", fields.Datetime.now())], limit=BATCH)
        for request in requests:
            self.env.cr.execute(
                "SELECT id FROM multichannel_emag_callback WHERE id = %s FOR UPDATE SKIP LOCKED", (request.id,)
            )
            if not self.env.cr.fetchone():
                continue  # another worker reads it
            channel = request.channel_id
            try:
                data = channel._get_adapter().fetch_order(request.order_ref)
            except (TransportError, ChannelError) as error:
                request._retry_later(error)
            else:
                if data is None:
                    _logger.info("%s: eMAG has no order %s of the seller's", channel.name, request.order_ref)
                else:
                    Order._receive(channel, data)
                request.unlink()
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        self._wake_for_next()

    def _retry_later(self, error):
        self.ensure_one()
        attempts = self.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            _logger.warning(
                "%s: eMAG order %s could not be read after %s tries (%s); the next poll imports it",
                self.channel_id.name,
                self.order_ref,
                attempts,
                error,
            )
            self.unlink()
            return
        delay = timedelta(seconds=min(3600, 15 * 2 ** (attempts - 1)))
        self.write({"attempts": attempts, "error": str(error), "next_try_at": fields.Datetime.now() + delay})

    @api.model
    def _wake_for_next(self):
        waiting = self.sudo().search([], order="next_try_at", limit=1)
        if waiting:
            self.env.ref("stock_multichannel_emag.ir_cron_emag_callbacks").sudo()._trigger(waiting.next_try_at)
