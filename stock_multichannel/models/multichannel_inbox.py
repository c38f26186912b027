import logging
import time
from datetime import timedelta

from odoo import api, fields, models

from ..const import CRON_BUDGET_SECONDS
from ..lib.adapter import ChannelError, TransportError
from ..lib.messages import translated
from ..lib.transactions import CONCURRENT_ERRORS, read_committed

_logger = logging.getLogger(__name__)

BATCH = 50
#: then the notification is dropped: the order still arrives by the next poll
MAX_ATTEMPTS = 8


class MultichannelInbox(models.Model):
    """An order a channel notified (an eMAG callback, a shop webhook), kept until a cron
    imports it, so that the channel gets its answer at once and a slow or failing import
    never makes it wait, time out or retry."""

    _name = "multichannel.inbox"
    _description = "Channel Notification (order to import)"
    _order = "id"

    channel_id = fields.Many2one("multichannel.channel", required=True, ondelete="cascade", index=True, readonly=True)
    order_ref = fields.Char("Channel Order ID", readonly=True)
    body = fields.Text(readonly=True, help="The notification as received, when it carries the order itself.")
    received_at = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    next_try_at = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now, index=True)
    attempts = fields.Integer(readonly=True)
    error = fields.Text(readonly=True)

    @api.model
    def _receive_later(self, channel, order_ref, body=None):
        """Keep the notification and wake the cron. A notification that only names an
        order already waiting to be read adds nothing: it makes that one due now."""
        waiting = (
            not body
            and order_ref
            and self.sudo().search(
                [("channel_id", "=", channel.id), ("order_ref", "=", order_ref), ("body", "=", False)], limit=1
            )
        )
        if waiting:
            waiting.next_try_at = fields.Datetime.now()
        else:
            self.sudo().create({"channel_id": channel.id, "order_ref": order_ref or False, "body": body or False})
        # once per transaction, not while a wake-up is pending, notified on a kept connection
        self.env["multichannel.channel"]._trigger_realtime("inbox")

    @api.model
    def _cron_process(self, auto_commit=True):
        """Import each waiting notification's order on its own, oldest first, within the
        cron's time budget; what is left is handed to the next run at once."""
        deadline = time.monotonic() + CRON_BUDGET_SECONDS
        Order = self.env["multichannel.order"].sudo().with_context(multichannel_raise_concurrent=True)
        # the wake-ups asked for until now are this run's; a notification committed after
        # asks for the next run (read_committed commits first: the search sees every one)
        self.env["multichannel.channel"]._consume_wakeups("inbox", auto_commit)
        with read_committed(self.env.cr, auto_commit):
            waiting = self.sudo().search([("next_try_at", "<=", fields.Datetime.now())], limit=BATCH)
            for notification in waiting:
                if time.monotonic() >= deadline:
                    break
                self.env.cr.execute(
                    "SELECT id FROM multichannel_inbox WHERE id = %s FOR UPDATE SKIP LOCKED", (notification.id,)
                )
                if not self.env.cr.fetchone():
                    continue  # another worker has it
                notification._process(Order)
                if auto_commit:
                    self.env.cr.commit()  # pylint: disable=invalid-commit
            self._wake_for_next()

    def _process(self, Order):
        self.ensure_one()
        channel = self.channel_id.with_context(multichannel_cron=True)
        if not channel.active:
            self.unlink()  # an archived channel imports nothing
            return
        try:
            with self.env.cr.savepoint():
                data = channel._call(channel._get_adapter().read_notified_order, self.order_ref, self.body or None)
                if data is not None:
                    Order._receive(channel, data)
        except (TransportError, ChannelError) as error:
            self._retry_later(error)
            return
        except CONCURRENT_ERRORS:
            # another worker is storing the same order: read it again once it is done
            self.next_try_at = fields.Datetime.now() + timedelta(seconds=5)
            return
        except Exception as error:  # noqa: BLE001 - one notification never stops the others
            _logger.warning("%s: notified order %s could not be imported", channel.name, self.order_ref, exc_info=True)
            self._retry_later(error)
            return
        self.unlink()

    def _retry_later(self, error):
        attempts = self.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            _logger.warning(
                "%s: notified order %s could not be imported after %s tries (%s); the next poll imports it",
                self.channel_id.name,
                self.order_ref,
                attempts,
                error,
            )
            self.unlink()
            return
        delay = timedelta(seconds=min(3600, 15 * 2 ** (attempts - 1)))
        self.write(
            {"attempts": attempts, "error": translated(self.env, error), "next_try_at": fields.Datetime.now() + delay}
        )

    @api.model
    def _wake_for_next(self):
        """Wake the cron when the next notification is due (at once if some still are)."""
        waiting = self.sudo().search([], order="next_try_at", limit=1)
        if waiting:
            self.env["multichannel.channel"]._wake_at("inbox", waiting.next_try_at)
