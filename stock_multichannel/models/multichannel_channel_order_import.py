"""Reading the channel's orders since its watermark, each stored on its own; a preview of what an import would bring."""

import logging
import time
from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import UserError

from ..const import LONG_HOLDS_PER_RUN, ORDER_COMMIT_SECONDS, SLOW_CALL_SECONDS
from ..lib.adapter import TRANSLATION_ERRORS, ChannelError, TransportError
from ..lib.messages import translated
from ..lib.orders import OrderDataError, import_preview
from ..lib.transactions import CONCURRENT_ERRORS

_logger = logging.getLogger(__name__)


class MultichannelChannel(models.Model):
    _inherit = "multichannel.channel"

    def _import_orders(self, auto_commit=False):
        """Fetch orders changed since the watermark and import each on its own.

        Returns whether every channel's orders were read (another worker importing them
        at the same moment counts as read).
        """
        all_read = True
        for channel in self:
            if not channel._try_lock("order"):
                continue
            try:
                fetched = channel._call(channel._get_adapter().fetch_orders, channel.order_watermark)
            except (TransportError, ChannelError) as error:
                channel._note_error(self.env._("Order import failed: %s", translated(self.env, error)))
                if isinstance(error, TransportError):
                    channel._back_off("order", error)
                all_read = False
                continue
            except TRANSLATION_ERRORS as error:  # an answer of a shape nobody expected
                _logger.warning("%s: unreadable answer to the order read", channel.name, exc_info=True)
                channel._note_error(
                    self.env._(
                        "Order import failed: the channel's answer could not be read (%s).",
                        f"{type(error).__name__}: {error}",
                    )
                )
                all_read = False
                continue
            with self.env["multichannel.order"]._noting_skipped() as skipped:
                if not channel._receive_orders(fetched.orders, auto_commit):
                    continue  # another worker took the channel's orders over, from the watermark
            watermark = fetched.watermark or channel.order_watermark
            if skipped:
                _logger.info("%s: orders %s read again at the next import", channel.name, ", ".join(sorted(skipped)))
                watermark = channel.order_watermark
            channel.sudo().write(
                {
                    "order_watermark": watermark,
                    "order_imported_at": fields.Datetime.now(),
                }
            )
            channel._recovered("order")
            channel._list_long_holds()
            channel._commit(auto_commit)
        return all_read

    def _list_long_holds(self):
        """Orders held unpaid for longer than the channel allows go to Orders to Fix (an
        abandoned bank transfer would keep its units off every channel for ever); those
        listed already are looked at again (the limit may have been raised or set to 0)."""
        self.ensure_one()
        Order = self.env["multichannel.order"].sudo()
        mine = [("channel_id", "=", self.id), ("state", "=", "pending")]
        held = Order.browse()
        if self.hold_warning_days > 0:
            limit = fields.Datetime.now() - timedelta(days=self.hold_warning_days)
            overdue = ["|", ("order_date", "<", limit), "&", ("order_date", "=", False), ("create_date", "<", limit)]
            held = Order.search([*mine, ("hold_attention", "=", False), *overdue], order="id", limit=LONG_HOLDS_PER_RUN)
        # then those listed already, the least recently looked at first (each look writes them)
        held |= Order.search(
            [*mine, ("hold_attention", "=", True)], order="write_date, id", limit=LONG_HOLDS_PER_RUN - len(held)
        )
        for order in held:
            try:
                with self.env.cr.savepoint():
                    order._lock()
                    # read again under the lock: another worker (a webhook, a button) may
                    # have imported or settled it since the search
                    order.invalidate_recordset()
                    if order.state != "pending":
                        continue
                    data = order._normalized()
                    if data["status"] == "pending":
                        order._hold(data)
            except CONCURRENT_ERRORS:
                continue  # another worker imports it right now: listed at the next run if still held
            except OrderDataError:
                continue  # held with data it can no longer read: left as it is
            except Exception:  # noqa: BLE001 - one order never keeps the others, or other channels, from their run
                _logger.warning("%s: held order %s could not be looked at", self.name, order.name, exc_info=True)

    def _receive_orders(self, orders, auto_commit):
        """Store and import each of ``orders`` on its own (a savepoint each), committing
        what was imported every ``ORDER_COMMIT_SECONDS``.

        The stock changes of the orders between two commits are queued in one statement
        just before the commit, which wakes the push: the push never waits for this
        transaction's wake-up while it imports. A run failing between two commits loses
        only the record of the orders imported since: the watermark is written after
        them, so the next run reads them again and asks the channel to acknowledge them
        again (an order the channel shows taken already counts as acknowledged). False
        when, at a commit, another worker took the channel's order lock.
        """
        orders = iter(orders)
        while True:
            with self.env["multichannel.sync.request"]._holding_stock():
                all_received, failure = self._receive_until_due(orders, auto_commit)
            if failure:
                # an order that could not even be stored fails the run, as it did when each
                # order was committed on its own: the orders before it are kept
                self._commit(auto_commit)
                raise failure
            if all_received:
                return True
            if not self._commit_keeping_lock("order", auto_commit):
                _logger.info("%s: another worker goes on with the orders", self.name)
                return False

    def _receive_until_due(self, orders, auto_commit):
        """Receive the next ``orders`` until a commit is due: ``ORDER_COMMIT_SECONDS`` after
        the last one, or right after an order whose calls to the channel took
        ``SLOW_CALL_SECONDS`` or more (the next order's calls would hold its rows as long).
        All of them without ``auto_commit`` (one transaction in REPEATABLE READ, which a
        concurrent write aborts). Between two orders of one commit, forget what other
        transactions write (``_forget_what_others_write``).

        Returns (whether none is left, the error of an order that failed the run): such an
        order is rolled back alone, in a savepoint of its own.
        """
        Order = self.env["multichannel.order"].sudo()
        started = time.monotonic()
        for data in orders:
            if not auto_commit:
                Order._receive(self, data)
                continue
            on_calls = self._seconds_on_calls()
            try:
                with self.env.cr.savepoint():
                    Order._receive(self, data)
            except Exception as error:  # noqa: BLE001 - raised again once the orders before it are kept
                return False, error
            slow_calls = self._seconds_on_calls() - on_calls >= SLOW_CALL_SECONDS
            if slow_calls or time.monotonic() - started >= ORDER_COMMIT_SECONDS:
                return False, None
            Order._forget_what_others_write()
        return True, None

    def action_preview_order_import(self):
        """Read what an order import would bring now, and say it, without storing anything."""
        self._check_operator_rights()
        self.ensure_one()
        try:
            fetched = self._call(self._get_adapter().fetch_orders, self.order_watermark)
        except (TransportError, ChannelError, *TRANSLATION_ERRORS) as error:
            raise UserError(
                self.env._("The channel's orders could not be read: %s", translated(self.env, error))
            ) from None
        known = set(self.env["multichannel.order"].sudo().search([("channel_id", "=", self.id)]).mapped("external_id"))
        since = fields.Datetime.to_string(self.order_import_since) if self.order_import_since else ""
        counts = import_preview(fetched.orders, since, known)
        message = self.env._(
            "An order import now would read %(read)s orders from %(name)s: %(new)s new sales to import, "
            "%(held)s held until paid, %(history)s placed before %(since)s kept as history (never sold, no stock "
            "taken), %(settled)s already shipped, finalized or cancelled on the channel (never sold), "
            "%(known)s already in Odoo, %(unreadable)s unreadable (kept to fix).",
            name=self.name,
            since=self.order_import_since or self.env._("the start"),
            **counts,
        )
        return self._notify(message, kind="info")

    def action_import_orders(self):
        self._check_operator_rights()
        return self._run_and_report(self._import_orders, self.env._("Orders imported."), kinds={"order"})
