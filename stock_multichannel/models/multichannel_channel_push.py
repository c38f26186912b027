"""The push engine: what changed of stock or price is sent to the channel, batch by batch, and its answer recorded."""

import logging
import time
from datetime import timedelta

from odoo import fields, models
from odoo.tools import SQL, float_compare, split_every

from ..const import (
    BUSY_RETRY_SECONDS,
    CRON_BUDGET_SECONDS,
    PUSH_CHUNK_SIZE,
    PUSH_COMMIT_SECONDS,
    SLOW_CALL_SECONDS,
    UNANSWERED_CALL_CAUSE,
)
from ..lib.adapter import TRANSLATION_ERRORS, ChannelError, PriceUpdate, StockUpdate, TransportError
from ..lib.messages import translated

_logger = logging.getLogger(__name__)


class HeldListings:
    """The listings a push holds (their rows locked) since its last commit.

    Always taken in the order of their ids, as every push and drain takes them: two pushes
    writing the same listings (a stock push and a price push) wait for each other, never
    deadlock. A set that would go below what is held already is taken after a commit.

    A commit empties Odoo's cache, so the listings are read again after it: ``addresses``
    keeps where each was ({id: ``address_version``}) when its value was worked out.
    """

    def __init__(self, channel, kind, auto_commit):
        self.channel, self.kind, self.auto_commit = channel, kind, auto_commit
        self.held, self.highest = set(), 0
        self.committed_at = time.monotonic()
        self.addresses = {}
        self.under_way = None  # the token of the note of the push's calls under way
        self.lost = False  # the channel's lock, to another worker at a commit

    def still_there(self, listing):
        """Whether ``listing`` is where it was when its value was worked out."""
        return listing.address_version == self.addresses[listing.id]

    def hold(self, ids):
        """Lock the listings ``ids`` not held yet; False when the channel's lock was lost."""
        new = sorted(set(ids) - self.held)
        if not new:
            return True
        if new[0] < self.highest and not self.commit():
            return False
        self.channel.env["multichannel.product.binding"].browse(new)._lock_in_order()
        self.held.update(new)
        self.highest = max(self.highest, new[-1])
        return True

    def due(self):
        return time.monotonic() - self.committed_at >= PUSH_COMMIT_SECONDS

    def before_calls(self):
        """Note the push's calls under way, committed before the first of them (see
        ``_note_calls_under_way``); False when the channel's lock was lost. Nothing without
        ``auto_commit``: a button's push is one transaction, which leaves nothing behind."""
        if self.under_way or not self.auto_commit:
            return True
        requests = self.channel.env["multichannel.sync.request"].sudo()
        self.under_way = requests._note_calls_under_way(self.channel, self.kind)
        return self.commit()

    def calls_ended(self):
        # not once the lock is lost: the worker that took it may hold the note (taken over)
        if self.under_way and not self.lost:
            self.channel.env["multichannel.sync.request"].sudo()._calls_ended(self.channel, self.kind, self.under_way)

    def commit(self):
        """Commit the work done so far and take the channel's lock again: False when another
        worker took it in between (that worker goes on). Nothing without ``auto_commit``
        (a user's button: one transaction)."""
        if not self.auto_commit:
            return True
        kept = self.channel._commit_keeping_lock(self.kind, self.auto_commit)
        self.held, self.highest = set(), 0
        self.committed_at = time.monotonic()
        self.lost = not kept
        return kept


class OneItemFaults:
    """A push's search for listings that alone make the channel fail a whole batch (a shop
    plugin's fatal error on saving one product answers HTTP 500 for its batch).

    Such a batch is sent again by halves; a listing failing alone is a suspect. Suspects
    are the cause only once the channel answers a call made after them (else the channel
    may have started failing every call): then they go to error. ``MAX_UNANSWERED`` failed
    calls in a row mean the channel fails every call, and the push stops as for any fault;
    suspects left at the end of the push are settled by sending again the last listing
    the channel took (``known_good``)."""

    MAX_UNANSWERED = 20  # a descent to one listing and back is about 2·log2(100) calls

    def __init__(self):
        self.unanswered = 0  # server errors since the channel last answered
        # (listing, target, regular price, address version sent to, error): failed alone, not
        # confirmed yet
        self.suspects = []
        self.known_good = None  # (listing, target) of the last batch the channel took


class MultichannelChannel(models.Model):
    _inherit = "multichannel.channel"

    def _push(self, kind, force=False, auto_commit=False, cause=None):
        """Push what changed of ``kind`` ('stock' or 'price') to each channel.

        Only listings marked pending (or all with ``force``) whose target differs from
        what the channel shows are sent. Results are written per listing; a refused
        listing keeps its error and stays pending (a scheduled push sends it again once its
        value moves or an hour later, see ``_without_standing_refusals``); a persistent
        transport fault stops this channel's run with everything still pending.
        """
        if kind == "stock":
            left = self.env["multichannel.sync.request"].sudo()._fan_out_stock_changes()
            if left:
                # held by a push still going (a button's): what this run was woken for comes
                # with its commit, and the run after this one takes it
                self._come_back_in_a_moment(kind)
            self._commit(auto_commit)  # the other channels' requests are theirs from now on
        for channel in self:
            try:
                orders_known, orders_unread = True, False
                # one "now" for the requests due later: one that falls due between the
                # look for pending work and the drain would be sent with no import before it
                due_by = self.env["multichannel.sync.request"]._due_by()
                if kind == "stock" and channel._adapter_class().lowers_stock_on_order:
                    if force or channel._has_pending("stock", due_by, holding=channel._holds_refusals(force)):
                        orders_known = channel._read_orders_before_the_stock_push(auto_commit)
                    else:
                        # nothing waited but refusals held back: their values are not read
                        # before it is known whether one moved (see _push_channel)
                        orders_unread = True
                if not channel._try_lock(kind):
                    _logger.info("%s: %s push already running elsewhere, skipped", channel.name, kind)
                    # that push may have drained before what this run was woken for
                    channel._come_back_in_a_moment(kind)
                    continue
                channel._push_channel(
                    kind,
                    force,
                    auto_commit,
                    cause,
                    only_lower=not orders_known,
                    due_by=due_by,
                    orders_unread=orders_unread,
                )
            except ChannelError as error:  # no connector installed for the channel's type
                channel._note_error(translated(self.env, error))
            channel._commit(auto_commit)

    def _read_orders_before_the_stock_push(self, auto_commit):
        """Import the channel's orders before its stock push: whether they are all in Odoo's
        stock now. Not while another worker imports them: the sales it read are in Odoo's
        stock only once it commits them, and a quantity going up sent meanwhile would undo
        them on the channel (it lowered its stock by itself). That push sends what goes down,
        and a run in a moment the rest."""
        with self._noting_busy() as busy:
            read = self._import_orders(auto_commit=auto_commit)
        if (self.id, "order") not in busy:
            return read
        self._come_back_in_a_moment("stock")
        return False

    def _come_back_in_a_moment(self, kind):
        """A scheduled run that found another worker in its way runs again in a moment."""
        if self.env.context.get("multichannel_cron"):
            self._wake_at(kind, fields.Datetime.now() + timedelta(seconds=BUSY_RETRY_SECONDS))

    @staticmethod
    def _batch_bounds(kind, to_send, size):
        """``to_send`` reordered, and the (start, end) of each batch of at most ``size``:
        listings the channel refused last time (in error) go in batches of their own, after
        the others. A batch refused as a whole is searched by halves; with a listing that is
        still refused (a marketplace campaign, a product the channel crashes on) in it, the
        good listings would be sent over and over at every push, and wait for it."""
        good, refused = [], []
        for pair in to_send:
            (refused if pair[0]._refused_for(kind) else good).append(pair)

        def spans(offset, count):
            return [(offset + start, offset + min(start + size, count)) for start in range(0, count, size)]

        return good + refused, spans(0, len(good)) + spans(len(good), len(refused))

    def _holds_refusals(self, force):
        """Whether this push holds back the refusals that stand (see ``_without_standing_refusals``):
        a scheduled one; a push by hand, or forced, sends them at once."""
        return not force and bool(self.env.context.get("multichannel_cron"))

    def _has_pending(self, kind, due_by, holding=False):
        """Whether a push of ``kind`` has anything to look at: queued requests (due by
        ``due_by``) or pending listings (not counting the refusals held back, with ``holding``)."""
        self.ensure_one()
        self.env["multichannel.product.binding"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT EXISTS(SELECT 1 FROM multichannel_sync_request r
                                JOIN multichannel_product_binding b ON b.id = r.binding_id
                               WHERE b.channel_id = %(channel)s AND r.kind = %(kind)s
                                 AND (r.due_at IS NULL OR r.due_at <= %(now)s))
                    OR EXISTS(SELECT 1 FROM multichannel_product_binding
                               WHERE channel_id = %(channel)s AND active AND %(sync)s AND %(pending)s
                                 -- a refusal held back: a move of its value queues a request
                                 AND (NOT %(holding)s OR %(error)s IS NULL OR %(retry_at)s IS NULL
                                      OR %(retry_at)s <= %(now)s))
                """,
                channel=self.id,
                kind=kind,
                sync=SQL.identifier(f"{kind}_sync"),
                pending=SQL.identifier(f"{kind}_pending"),
                error=SQL.identifier(f"{kind}_error"),
                retry_at=SQL.identifier(f"{kind}_retry_at"),
                holding=holding,
                now=due_by,
            )
        )
        return self.env.cr.fetchone()[0]

    def _push_channel(self, kind, force, auto_commit, cause, only_lower=False, due_by=None, orders_unread=False):
        """Push one channel's pending listings of ``kind``.

        ``only_lower``: the channel's latest orders could not be read, so a quantity it
        lowered by itself may be unknown to Odoo; only quantities going down are sent
        (they can never undo such a sale), the rest waits for the next run.
        ``orders_unread``: they were not read, nothing but held refusals waiting; a refused
        quantity that moved since, or a change come meanwhile, is sent only going down too,
        and going up once the next run has read the orders (a refusal still held: at its
        retry time).
        ``due_by``: requests due later than that wait (see ``_drain``).
        """
        requests = self.env["multichannel.sync.request"].sudo()
        stopped_ago = requests._calls_left_under_way(self, kind)
        if stopped_ago is not None:
            self._push_again_after_a_stopped_run(kind, stopped_ago)
        requests._drain(self, kind, due_by)
        held, faults = HeldListings(self, kind, auto_commit), OneItemFaults()
        # before the first call: the listings the drain marked pending stay locked until a
        # commit, and the requests it made for the other channels unseen by their pushes
        if not held.commit():
            return False
        done = self._push_pending(kind, force, cause, held, faults, only_lower, due_by, orders_unread)
        held.calls_ended()
        return done

    def _push_again_after_a_stopped_run(self, kind, began_ago):
        """The last push of ``kind`` stopped in the middle of the calls it began ``began_ago``
        seconds ago (its worker killed, its transaction failed): a call it made may still
        reach the channel, over what this run sends. The listings it left pending (those it
        may have sent among them) are pushed again once such a call can no longer arrive, as
        after a call that got no answer; not the refusals held back (a scheduled push does
        not send them), nor anything once its calls are long past."""
        late = self._get_adapter().late_arrival_seconds
        # its calls were made within a cron's budget, the last one waiting at most its timeout
        if began_ago > CRON_BUDGET_SECONDS + 2 * late:
            return
        now = fields.Datetime.now()
        pending = (
            self.env["multichannel.product.binding"]
            .sudo()
            .search(
                [
                    ("channel_id", "=", self.id),
                    (f"{kind}_sync", "=", True),
                    (f"{kind}_pending", "=", True),
                    "|",
                    (f"{kind}_retry_at", "=", False),
                    (f"{kind}_retry_at", "<=", now),
                ]
            )
        )
        _logger.info(
            "%s: the last %s push stopped in the middle of its calls; %d pending listings are sent again later",
            self.name,
            kind,
            len(pending),
        )
        if pending:
            self._push_again_once_arrived(kind, pending.ids, late)

    def _push_pending(self, kind, force, cause, held, faults, only_lower, due_by, orders_unread):
        """The listings of ``_push_channel``, batch by batch; False when the push stops early."""
        Binding = self.env["multichannel.product.binding"].sudo()
        pending_field, sync_field = f"{kind}_pending", f"{kind}_sync"
        domain = [("channel_id", "=", self.id), (sync_field, "=", True)]
        if not force:
            domain.append((pending_field, "=", True))
        bindings = Binding.search(domain, order="id")
        if kind == "stock":
            bindings = self._with_shared_stock(bindings)
        adapter = None
        # where each listing was when its value was worked out: after a commit (which reads
        # the listings again) one moved since, to another id or product, is neither sent that
        # value nor settled by it; pending, it goes at the next run
        for chunk in split_every(PUSH_CHUNK_SIZE, bindings.ids, Binding.browse):
            # read before the targets (which read the products in SQL): an older version can
            # only keep a listing from being settled, never settle it wrongly
            held.addresses.update((listing.id, listing.address_version) for listing in chunk)
            to_send, unchanged, regular = self._split_changed(kind, chunk, force)
            if not held.hold(unchanged.ids):
                return False
            unchanged.filtered(held.still_there)._mark_settled(kind)
            if self._holds_refusals(force):
                to_send = self._without_standing_refusals(kind, to_send, regular, due_by)
            if only_lower or orders_unread:
                to_send = [(listing, target) for listing, target in to_send if target < listing.pushed_qty]
            if to_send and adapter is None:
                adapter = self._get_adapter()
                if not held.before_calls():
                    return False
            to_send = self._refuse_missing_prices(to_send, held) if kind == "price" else to_send
            if to_send is None:
                return False
            to_send, bounds = self._batch_bounds(kind, to_send, adapter.batch_size if adapter else 1)
            ids = [listing.id for listing, _target in to_send]
            for start, end in bounds:
                # after a commit (which empties the cache) the listings still to send are
                # read again together, not batch by batch
                listings = Binding.browse(ids[start:end]).with_prefetch(ids[start:])
                batch = list(zip(listings, (target for _listing, target in to_send[start:end]), strict=True))
                called_at = time.monotonic()
                if not self._push_batch(kind, adapter, batch, cause, regular, held, faults):
                    return False
                # what the channel accepted is recorded this often and when the push ends (a
                # run failing in between rolls back only the record of what it sent since:
                # those listings stay pending and are sent again), and after a slow call:
                # the next one would hold the listings written meanwhile as long
                slow = time.monotonic() - called_at >= SLOW_CALL_SECONDS
                if (slow or held.due()) and not held.commit():
                    return False
                if self._over_budget():
                    self._trigger_realtime(kind)  # the next run goes on with what is left
                    return False
        if faults.suspects:
            # failed alone after the channel last answered: does it answer now?
            if faults.known_good:
                probe = [faults.known_good]
                probe_regular = self._regular_prices(probe[0][0]) if kind == "price" else {}
                if not self._push_batch(kind, adapter, probe, cause, probe_regular, held, faults):
                    return False
            if faults.suspects:
                self._stop_on_fault(kind, faults.suspects[-1][-1])
                return False
        if not only_lower:
            self.sudo()[f"{kind}_pushed_at"] = fields.Datetime.now()
        self._recovered(kind)
        return True

    def _with_shared_stock(self, bindings):
        """``bindings`` with every listing whose shown quantity depends on one of them.

        A connector whose channel keeps one quantity for several listings (the shop's
        variations sharing their parent's stock) extends it, and ``_shown_stock_targets``,
        so that those listings are always looked at together.
        """
        return bindings

    def _split_changed(self, kind, bindings, force):
        """(listings to send with their targets, listings already up to date, their regular prices).

        Regular prices (the list price sent with a price: eMAG's recommended price, the
        shop's regular price) are computed for a price push only, empty for stock.
        """
        if kind == "stock":
            targets, regular = self._shown_stock_targets(bindings), {}
        else:
            targets, regular = self._price_targets(bindings), self._regular_prices(bindings)
        to_send, unchanged = [], bindings.browse()
        for binding in bindings:
            target = targets[binding.id]
            if (
                not force
                and not binding._refused_for(kind)
                and self._shown(kind, binding, target, regular.get(binding.id))
            ):
                unchanged |= binding
            else:
                to_send.append((binding, target))
        return to_send, unchanged, regular

    def _without_standing_refusals(self, kind, to_send, regular, now=None):
        """``to_send`` less the listings the channel refused lately with the same value: a
        scheduled push would only be refused again (and find each of them by halves, at a
        call each). They stay pending and in error; the cron wakes when the first is due again."""
        now = now or fields.Datetime.now()
        standing = {
            listing.id: listing[f"{kind}_retry_at"]
            for listing, target in to_send
            if listing._refusal_stands(kind, target, now, regular.get(listing.id))
        }
        if not standing:
            return to_send
        self._wake_by(kind, min(standing.values()))
        return [(listing, target) for listing, target in to_send if listing.id not in standing]

    def _shown_stock_targets(self, bindings):
        """{listing id: quantity the channel should show}, for many listings at once: the
        policy's target (see ``_with_shared_stock`` for channels that share one quantity)."""
        return self._stock_targets(bindings)

    def _refuse_missing_prices(self, to_send, held):
        """A zero, negative or missing price never leaves Odoo: the listing goes to error instead.

        Returns the listings to send, or None when the push must stop (its lock lost).
        """
        currency = self.pricelist_id.currency_id
        good, refused = [], []
        for listing, target in to_send:
            if float_compare(target, 0.0, precision_rounding=currency.rounding) > 0:
                good.append((listing, target))
            else:
                refused.append((listing, target))
        if refused and not held.hold([listing.id for listing, _target in refused]):
            return None
        for listing, target in refused:
            listing._refused(
                "price",
                self.env._(
                    "No price to send: the channel pricelist gives %(price)s %(currency)s for %(product)s. "
                    "Set a sale price or a pricelist rule.",
                    price=target,
                    currency=currency.name,
                    product=listing.product_id.display_name,
                ),
            )
        return good

    def _shown(self, kind, binding, target, regular):
        """Whether the channel already shows ``target`` for this listing (and, for a price,
        the same regular price).

        What Odoo last sent is what the channel shows until the channel moves its stock by
        itself (an order): that listing is then re-sent, whatever Odoo sent before.
        """
        if not binding[f"{kind}_pushed_at"]:
            return False
        if kind == "stock":
            return not binding.stock_moved_by_channel and binding.pushed_qty == target
        rounding = self.pricelist_id.currency_id.rounding
        return (
            float_compare(binding.pushed_price, target, precision_rounding=rounding) == 0
            and float_compare(binding.pushed_regular_price, regular, precision_rounding=rounding) == 0
        )

    def _push_batch(self, kind, adapter, batch, cause, regular_prices, held, faults):
        """Send one batch and write the channel's answers; ``held``: the push's
        :class:`HeldListings`, which takes the batch's listings before anything of them is
        written; ``faults``: its :class:`OneItemFaults`. False when the push must stop here."""
        # a listing moved since its value was worked out (read again after a commit: to another
        # id, another product) is not sent it; pending, it goes at the next run
        batch = [(listing, target) for listing, target in batch if held.still_there(listing)]
        if not batch:
            return True
        batch_ids = [listing.id for listing, _target in batch]
        # where each one goes, as sent: a commit before its answer is written re-reads the
        # listings, and a user may have moved one meanwhile
        sent_to = {listing.id: held.addresses[listing.id] for listing, _target in batch}
        extras = self.env["multichannel.product.binding"].union(*(b for b, _t in batch))._extras(kind)
        if kind == "stock":
            updates = [
                StockUpdate(b.id, b.external_id or "", b.external_sku or "", int(t), extras[b.id]) for b, t in batch
            ]
            send = adapter.push_stock
        else:
            currency = self.pricelist_id.currency_id.name
            updates = [
                PriceUpdate(
                    b.id, b.external_id or "", b.external_sku or "", t, currency, regular_prices[b.id], extras[b.id]
                )
                for b, t in batch
            ]
            send = adapter.push_prices
            # the connector's own rules (a marketplace's price band): refused before sending
            problems = {update.key: adapter.price_problem(update) for update in updates}
            if any(problems.values()):
                if not held.hold(batch_ids):
                    return False
                for listing, _target in batch:
                    if problems[listing.id]:
                        listing._refused(kind, translated(self.env, problems[listing.id]))
                batch = [(listing, target) for listing, target in batch if not problems[listing.id]]
                updates = [update for update in updates if not problems[update.key]]
                if not batch:
                    return True
        started = time.monotonic()
        unanswered = []  # tries the channel may still apply, over what is sent after them
        try:
            results = self._call(send, updates, on_unanswered=unanswered.append)
        except (TransportError, ChannelError) as error:
            duration = int((time.monotonic() - started) * 1000)
            if isinstance(error, TransportError) and error.maybe_applied:
                unanswered.append(error)
            self.env["multichannel.ledger"]._log_push(self, kind, batch, {}, cause, duration, failure=str(error))
            if unanswered:
                self._push_again_once_arrived(kind, [listing.id for listing, _t in batch], adapter.late_arrival_seconds)
            if isinstance(error, TransportError) and error.may_be_one_item:
                faults.unanswered += 1
                if faults.unanswered < faults.MAX_UNANSWERED:
                    if len(batch) > 1:
                        return self._push_by_halves(kind, adapter, batch, cause, regular_prices, held, faults)
                    # held now, in the order of ids; written once the channel answers a later call
                    listing, target = batch[0]
                    faults.suspects.append(
                        (listing, target, regular_prices.get(listing.id), sent_to[listing.id], error)
                    )
                    return held.hold(batch_ids)
            self._stop_on_fault(kind, error)
            return False
        except TRANSLATION_ERRORS as error:
            # the connector could not translate one of the listings (an external id typed by
            # hand, say): find it by halves; it alone goes to error, the others are sent
            if len(batch) > 1:
                return self._push_by_halves(kind, adapter, batch, cause, regular_prices, held, faults)
            listing = batch[0][0]
            _logger.warning("%s: listing %s cannot be sent", self.name, listing.display_name, exc_info=True)
            if not held.hold([listing.id]):
                return False
            listing._refused(
                kind,
                self.env._(
                    "This listing cannot be sent to the channel (%(type)s: %(error)s): check its external ID.",
                    type=type(error).__name__,
                    error=error,
                ),
            )
            return True
        duration = int((time.monotonic() - started) * 1000)
        if unanswered:  # a try before the one answered
            self._push_again_once_arrived(kind, [listing.id for listing, _t in batch], adapter.late_arrival_seconds)
        by_key = {result.key: result for result in results}
        self.env["multichannel.ledger"]._log_push(self, kind, batch, by_key, cause, duration)
        if not held.hold(batch_ids):
            return False  # sent, not recorded: pending still, for the worker that took the channel
        self.env["multichannel.product.binding"]._apply_push_results(kind, batch, by_key, regular_prices, sent_to)
        faults.unanswered, faults.known_good = 0, batch[-1]
        suspects, faults.suspects = faults.suspects, []
        return all(self._failed_alone(kind, *suspect, held) for suspect in suspects)

    def _push_by_halves(self, kind, adapter, batch, cause, regular_prices, held, faults):
        """Send ``batch`` again as two batches, to find the listing that fails it; the second
        waits for the first (False: the push stops there)."""
        middle = len(batch) // 2
        return self._push_batch(
            kind, adapter, batch[:middle], cause, regular_prices, held, faults
        ) and self._push_batch(kind, adapter, batch[middle:], cause, regular_prices, held, faults)

    def _stop_on_fault(self, kind, error):
        """The channel failed a call of ``kind``'s push: say so and, for a temporary fault,
        come back later."""
        message = self.env._(
            "%(kind)s push failed: %(error)s", kind=self._kind_label(kind), error=translated(self.env, error)
        )
        self._note_error(message)
        if isinstance(error, TransportError):
            self._back_off(kind, error)

    def _failed_alone(self, kind, listing, target, regular, sent_to, error, held):
        """The channel fails every call carrying ``listing`` (sending ``target``), and answers
        the others: it goes to error. It stays pending: the pushes send it again (see
        ``_refused``) and look for it by halves, until the product is mended on the channel or
        its sync switched off. False when the push must stop here."""
        if not held.hold([listing.id]):
            return False
        if not self.env["multichannel.product.binding"]._still_sent_there(kind, {listing.id: sent_to}):
            return True  # moved, or no longer synced, since: this failure is not its own
        _logger.warning("%s: the channel fails every %s call carrying listing %s", self.name, kind, listing.id)
        listing._refused(
            kind,
            self.env._(
                "The channel failed on this listing alone (%(error)s) and took the others: look at this "
                "product on the channel (an extension's error when saving it, say).",
                error=translated(self.env, error),
            ),
            target,
            regular,
        )
        return True

    def _push_again_once_arrived(self, kind, listing_ids, seconds):
        """A call carrying these listings got no answer: the channel may still apply it, later
        than what is sent after it (a request delayed on its way, still being worked on), and
        show its older values while Odoo takes them as replaced. They are pushed once more
        when such a call can no longer arrive (in ``seconds``, the connector's
        ``late_arrival_seconds``), whatever the channel is thought to show then. The retry
        after the fault comes first, as usual."""
        due = (
            self.env["multichannel.sync.request"]
            .sudo()
            ._queue_again_in(kind, listing_ids, seconds, UNANSWERED_CALL_CAUSE)
        )
        self._wake_at(kind, due)

    def action_push_stock(self):
        self._check_operator_rights()
        return self._run_and_report(
            lambda: self._push("stock", cause="manual"), self.env._("Stock pushed."), kinds={"stock"}
        )

    def action_push_prices(self):
        self._check_operator_rights()
        return self._run_and_report(
            lambda: self._push("price", cause="manual"), self.env._("Prices pushed."), kinds={"price"}
        )

    def action_reconcile(self):
        self._check_operator_rights()
        return self._run_and_report(
            self._reconcile, self.env._("Every listing was sent again."), kinds={"stock", "price"}, forced=True
        )

    def _reconcile(self, auto_commit=False):
        """Send every listing's quantity and price again, changed or not.

        Catches drift made on the channel's side (a manual edit there, a lost update).
        """
        for kind in ("stock", "price"):
            self._push(kind, force=True, auto_commit=auto_commit, cause="reconcile")
