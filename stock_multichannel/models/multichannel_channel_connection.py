"""Talking to the channel: its connector chosen by type, the per-channel locks, retries and back-off."""

import logging
import time
import weakref
import zlib
from contextlib import contextmanager
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..const import MAX_BACK_OFF_SECONDS
from ..lib.adapter import ChannelError, TransportError
from ..lib.messages import translated
from ..lib.retry import call_with_retry

_logger = logging.getLogger(__name__)

# seconds each cursor's transactions have waited on channels (see _seconds_on_calls)
_SECONDS_ON_CALLS = weakref.WeakKeyDictionary()
# the (channel id, kind) locks each cursor found held by another worker (see _noting_busy)
_FOUND_BUSY = weakref.WeakKeyDictionary()


class MultichannelChannel(models.Model):
    _inherit = "multichannel.channel"

    is_configured = fields.Boolean(
        "Ready to Connect",
        compute="_compute_is_configured",
        help="Saved, with a connector installed for its type and what it needs to connect filled in.",
    )

    @api.depends("channel_type")
    def _compute_is_configured(self):
        connected = self._connected_types()
        for channel in self:
            channel.is_configured = bool(
                isinstance(channel.id, int) and channel.channel_type in connected and channel.sudo()._connection_ready()
            )

    def _connection_ready(self):
        """Whether what the connector needs to reach the channel is filled in (connectors extend it)."""
        return True

    def _adapter_class(self):
        """The connector's :class:`ChannelAdapter` for this channel's type. Each connector
        extends this method for its own type and calls ``super()`` for the others."""
        self.ensure_one()
        raise ChannelError(
            self.env._("No connector is installed for channels of type %(type)s.", type=self.channel_type)
        )

    @api.model
    def _connected_types(self):
        """The channel types whose connector is installed: each connector adds its own."""
        return []

    def _get_adapter(self):
        return self._adapter_class()(self)

    def _try_lock(self, kind):
        """Take the channel's ``kind`` lock for the current transaction.

        A transaction-level advisory lock: released at commit or rollback, so a
        worker that commits between batches takes it again before the next batch.
        False when another worker holds it.
        """
        self.ensure_one()
        self.env.cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", self._lock_key(kind, self.id))
        taken = self.env.cr.fetchone()[0]
        if not taken and self.env.cr in _FOUND_BUSY:
            _FOUND_BUSY[self.env.cr].add((self.id, kind))
        return taken

    @contextmanager
    def _noting_busy(self):
        """Within the block, collect the (channel id, kind) pairs whose lock another worker
        held, so that a button says its work was skipped instead of claiming it done."""
        cr = self.env.cr
        outer = _FOUND_BUSY.get(cr)
        found = _FOUND_BUSY[cr] = set()
        try:
            yield found
        finally:
            if outer is None:
                _FOUND_BUSY.pop(cr, None)
            else:  # a block inside another: what it found is the outer block's too
                outer.update(found)
                _FOUND_BUSY[cr] = outer

    def _busy_message(self, found, kinds, forced=False):
        """What a user reads about the runs of ``kinds`` skipped because another worker ran
        them; ``forced``: the user asked to send everything again, which that run does not."""
        what = {
            "stock": self.env._("stock push"),
            "price": self.env._("price push"),
            "order": self.env._("order import"),
            "audit": self.env._("comparison with the channel"),
        }
        if forced:
            message = self.env._(
                "%(channel)s: nothing sent again, another %(what)s of this channel (the schedule's or another "
                "user's) is still going on and sends only what changed. Try again once it is over."
            )
        else:
            message = self.env._(
                "%(channel)s: not done now, another %(what)s of this channel (the schedule's or another "
                "user's) is still going on. What was waiting goes with it or with the next run; try again in a "
                "moment."
            )
        return "\n".join(
            message % {"channel": self.browse(channel_id).name, "what": what.get(kind, kind)}
            for channel_id, kind in sorted(found)
            if kind in kinds
        )

    @api.model
    def _lock_key(self, kind, channel_id):
        """The two keys of channel ``channel_id``'s ``kind`` lock, as PostgreSQL's advisory locks take them."""
        return zlib.crc32(f"multichannel.{kind}".encode()) & 0x7FFFFFFF, channel_id

    def _call(self, func, *args, on_unanswered=None):
        """Call the adapter, retrying temporary faults with back-off.

        Inside a cron it tries once and never sleeps: a temporary fault sets the channel's
        "retry after" for that kind (see _back_off) and the cron comes back then, so one
        slow channel never holds a worker nor delays the other channels.
        ``on_unanswered(error)``: called for each try that failed and may still reach the
        channel, when another try follows (the last one's fault is raised).
        """
        self.ensure_one()
        started = time.monotonic()
        try:
            if self.env.context.get("multichannel_cron"):
                return func(*args)

            def log_retry(attempt, error, wait):
                _logger.info("%s: temporary fault (%s), try %s again in %.1fs", self.name, error, attempt + 1, wait)
                if on_unanswered and getattr(error, "maybe_applied", False):
                    on_unanswered(error)

            return call_with_retry(
                func, *args, attempts=max(1, self.retry_attempts), base_delay=self.retry_delay, on_retry=log_retry
            )
        finally:
            cr = self.env.cr
            _SECONDS_ON_CALLS[cr] = _SECONDS_ON_CALLS.get(cr, 0.0) + time.monotonic() - started

    @api.model
    def _seconds_on_calls(self):
        """How long this cursor has waited on channels so far: the difference between two
        readings is what the work between them spent in calls."""
        return _SECONDS_ON_CALLS.get(self.env.cr, 0.0)

    def _note_error(self, message):
        self.sudo().write({"last_error": message, "last_error_at": fields.Datetime.now()})

    def _back_off(self, kind, error):
        """After a temporary fault: come back for ``kind`` later, later each time it repeats.

        A channel that only asks to slow down (HTTP 429 with a hint) is not failing: it is
        come back to when it says, and the faults counted so far stay as they are (a rate
        limit never makes a channel wait minutes for its next stock update).
        """
        self.ensure_one()
        hint = min(getattr(error, "retry_after", None) or 0.0, MAX_BACK_OFF_SECONDS)
        failures = self[f"{kind}_failures"]
        if getattr(error, "rate_limited", False) and hint:
            wait = hint
        else:
            failures += 1
            wait = max(min(max(self.retry_delay, 1.0) * 2 ** (failures - 1), MAX_BACK_OFF_SECONDS), hint)
        _logger.info("%s: %s comes back in %.1fs (%s fault(s) in a row): %s", self.name, kind, wait, failures, error)
        retry_at = fields.Datetime.now() + timedelta(seconds=wait)
        self.sudo().write({f"{kind}_failures": failures, f"{kind}_retry_at": retry_at})
        self._wake_at(kind, retry_at)

    def _recovered(self, kind):
        if self[f"{kind}_failures"] or self[f"{kind}_retry_at"]:
            self.sudo().write({f"{kind}_failures": 0, f"{kind}_retry_at": False})

    def _commit(self, auto_commit):
        if auto_commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _commit_keeping_lock(self, kind, auto_commit):
        """Commit the work done so far and take the channel's ``kind`` lock again (the commit
        released it): False when another worker took it in between (that worker goes on).
        Nothing without ``auto_commit`` (a user's button: one transaction)."""
        if not auto_commit:
            return True
        self._commit(auto_commit)
        return self._try_lock(kind)

    def action_test_connection(self):
        self._check_operator_rights()
        self.ensure_one()
        try:
            message = self._get_adapter().test_connection()
        except (ChannelError, TransportError) as error:
            raise UserError(
                self.env._(
                    "Connection to %(name)s failed: %(error)s", name=self.name, error=translated(self.env, error)
                )
            ) from None
        if self.last_error:
            # the problem shown on the channel is from before: the connection works now
            self.sudo().write({"last_error": False, "last_error_at": False})
        return self._notify(translated(self.env, message) if message else self.env._("Connection works."))
