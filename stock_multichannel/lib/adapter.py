"""The contract between the core engine and a channel connector.

A connector addon subclasses :class:`ChannelAdapter`, hands it out for its channel
type by extending ``multichannel.channel._adapter_class`` (dispatch on the type field,
as Odoo's payment providers do on their code), and only translates to and from its API. The core
decides what to push, when, and what to do with the answers; it owns availability,
change detection, the ledger and order creation.

Everything an adapter receives and returns is plain data (the dataclasses below and
normalised order dicts, see :mod:`.orders`), so it can be tested without a database.
The adapter gets the channel record only to read its settings and credentials.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from .messages import translatable

_lt = translatable(__name__)


class TransportError(Exception):
    """A temporary fault: timeout, connection error, HTTP 429 or 5xx.

    The engine retries with back-off and, if the fault persists, keeps the work
    pending for the next run. ``retry_after`` (seconds) is the channel's own hint;
    ``rate_limited``: the channel only asked to slow down (HTTP 429), it is not failing.
    ``maybe_applied``: the request may have reached the channel, which may still apply
    it later (a timeout, an answer lost or unreadable, a gateway's 502/503/504); False
    when it certainly did not (refused before being read, never sent) or the channel
    itself finished with it (HTTP 500: what it did is done).
    ``http_status``: the channel's HTTP status, when it answered one.
    """

    def __init__(self, message, retry_after=None, rate_limited=False, maybe_applied=None, http_status=None):
        super().__init__(message)
        self.retry_after = retry_after
        self.rate_limited = rate_limited
        if maybe_applied is None:
            # a server error is the channel's last word on the request: nothing of it comes later
            maybe_applied = not rate_limited and http_status != 500
        self.maybe_applied = maybe_applied
        self.http_status = http_status

    @property
    def may_be_one_item(self):
        """The channel failed while working on the call (HTTP 500), not before it: one item
        of a batch can be the cause (a shop plugin's fatal error on saving one product).
        Gateways and maintenance (502, 503, 504) fail every call alike."""
        return self.http_status == 500


class ChannelError(Exception):
    """The channel refused a whole call (credentials, rights, malformed request).

    Not retried automatically; shown to a human.
    """


@dataclass(frozen=True)
class ProductTax:
    """A product's own percent sales taxes in the channel's company: what turns Odoo's
    price of it into a price with, or without, tax."""

    rate: float  # percent
    price_includes_tax: bool  # whether Odoo's price of the product includes it

    # in decimals: a float's 997.5 * 1.19 = 1187.0249999… would round a cent down
    def with_tax(self, price):
        price = Decimal(str(price))
        return price if self.price_includes_tax else price * (1 + Decimal(str(self.rate)) / 100)

    def without_tax(self, price):
        price = Decimal(str(price))
        return price / (1 + Decimal(str(self.rate)) / 100) if self.price_includes_tax else price


@dataclass
class ListingExtra:
    """What a connector needs to send one listing besides its ids and values, read by
    the listing model's ``_extras`` once per batch. A connector subclasses it with its
    own fields."""

    parent_id: str = ""  # the parent product on the channel, for variations
    tax: ProductTax = None  # prices only: the product's sales tax (None: it has none)


@dataclass
class StockUpdate:
    key: int  # the listing id, echoed back in the ItemResult
    external_id: str
    external_sku: str
    quantity: int
    extra: ListingExtra = field(default_factory=ListingExtra)


@dataclass
class PriceUpdate:
    key: int
    external_id: str
    external_sku: str
    price: float  # in the channel pricelist's currency, as the pricelist gives it
    currency: str
    regular_price: float = 0.0  # the product's list price in that currency (before pricelist discounts)
    extra: ListingExtra = field(default_factory=ListingExtra)


@dataclass
class ItemResult:
    """The channel's answer for one item of a batch."""

    key: int
    ok: bool
    message: str = ""
    answer: str = ""  # the raw answer worth keeping in the ledger (never credentials)
    # for an item not saved: whether the channel refused what was sent (the same call
    # would be refused again, so the scheduled pushes hold it back a while), or whether
    # it was saved is unknown / the cause may go by itself (sent again at the next push)
    refused: bool = True


@dataclass
class ExternalOffer:
    """A product or offer as it exists on the channel, for listing import."""

    external_id: str
    sku: str = ""
    barcode: str = ""
    name: str = ""
    parent_id: str = ""  # the parent product, for variations
    quantity: int = None
    price: float = None


@dataclass
class ShownItem:
    """What the channel shows of one listing now, as read back for the drift audit."""

    external_id: str
    quantity: int = None  # None: the channel keeps no quantity for it (sells it whatever Odoo has)
    price: float = None
    unlimited: bool = False  # the channel sells it past its quantity (backorders allowed)


@dataclass
class ShownPage:
    """One page of what the channel shows; ``cursor`` resumes the reading (None: the end)."""

    items: list
    cursor: str = None


@dataclass
class FetchedOrders:
    orders: list  # normalised order dicts (see orders.normalize_order)
    watermark: str = None  # opaque; handed back on the next fetch


# what malformed channel data makes a translation raise
TRANSLATION_ERRORS = (TypeError, ValueError, AttributeError, KeyError, IndexError, ArithmeticError)
# what a call about one record (an order's status, an invoice, a page) may raise: that
# record fails, with the error noted on it, and the run goes on with the others
CALL_ERRORS = (TransportError, ChannelError, *TRANSLATION_ERRORS)


def as_channel_error(error):
    """``error`` (one of ``CALL_ERRORS``) as the channel's: an answer the connector could
    not read (a 200 with ``null`` where an order was, say) becomes a refusal saying so."""
    if isinstance(error, TransportError | ChannelError):
        return error
    unreadable = f"{type(error).__name__}: {error}"
    return ChannelError(_lt("the channel's answer could not be read (%(error)s)", error=unreadable))


class ChannelAdapter:
    """Base class of channel connectors. Override what the channel supports."""

    #: at most this many items per push_stock / push_prices call
    batch_size = 50
    #: whether orders must be acknowledged on the channel once stored
    acknowledges_orders = False
    #: whether the channel lowers the stock it shows by itself when a customer orders.
    #: Then what it shows after an order is no longer what Odoo last sent: the core
    #: forgets the shown quantity of the order's listings when it stores or updates the
    #: order (so the next push re-sends Odoo's target), and imports the channel's orders
    #: right before each stock push (so a push never overwrites a sale Odoo has not seen).
    lowers_stock_on_order = False
    #: how long after a call that got no answer the channel may still apply it: a
    #: request delayed on its way, or still being worked on, overwrites what was sent
    #: after it. The push sends such a call's listings once more after this long.
    late_arrival_seconds = 120.0

    def __init__(self, channel):
        self.channel = channel

    def push_stock(self, updates):
        """Send quantities; return one :class:`ItemResult` per update.

        Raise :class:`TransportError` for temporary faults of the whole call and
        :class:`ChannelError` for a refusal of the whole call. A refusal of single
        items is reported in their ItemResult, never raised.
        """
        raise NotImplementedError

    def push_prices(self, updates):
        """Send prices; same contract as :meth:`push_stock`."""
        raise NotImplementedError

    def fetch_offers(self):
        """Return every :class:`ExternalOffer` of the seller on the channel."""
        raise NotImplementedError

    def fetch_orders(self, watermark):
        """Return :class:`FetchedOrders` changed since ``watermark`` (None: first run).

        Orders go through :meth:`normalized_order`."""
        raise NotImplementedError

    def translate_order(self, raw):
        """The channel's order ``raw`` (a dict) in the core's shape (see lib/orders)."""
        raise NotImplementedError

    def normalized_order(self, raw):
        """:meth:`translate_order`, never raising: what the translation cannot read comes
        back with an ``error``, so the core stores it for a human and the batch goes on."""
        if not isinstance(raw, dict):
            return {"external_id": "", "raw": raw, "error": f"not an order: {str(raw)[:200]!r}"}
        try:
            return self.translate_order(raw)
        except TRANSLATION_ERRORS as error:
            return {
                "external_id": str(raw.get("id") or ""),
                "raw": raw,
                "error": f"unreadable order ({type(error).__name__}: {error})",
            }

    def read_notified_order(self, order_ref, body=None):
        """The order a notification of the channel named (a callback, a webhook), in the
        core's shape, or None when there is nothing of the seller's to import.

        ``body`` is the notification as received when the channel sends the order itself
        (a signed webhook), else None and the order is read from the channel.
        """
        raise NotImplementedError

    def acknowledge_order(self, external_id):
        """Tell the channel the order is received; may return the re-read order."""
        return None

    def send_order_status(self, external_id, status, payload):
        """Report ``status`` ('shipped' or 'cancelled') of an order; return the answer text.

        ``payload`` is the order as last read from the channel.
        """
        raise NotImplementedError

    def read_shown(self, cursor=None, external_ids=None):
        """One :class:`ShownPage` of what the channel shows now, for the drift audit.

        ``cursor`` is None for the first page, then the page's ``cursor``; with
        ``external_ids`` only those listings are read (one page).
        """
        raise NotImplementedError

    def price_problem(self, update):
        """Why the channel would refuse this :class:`PriceUpdate` (its own rules), or ''."""
        return ""

    def price_as_shown(self, price, extra):
        """The price the channel shows once Odoo's ``price`` of a listing (``extra``: its
        :class:`ListingExtra` for prices) is saved, in the channel's own terms (with or
        without tax): what the drift audit compares with what it reads back."""
        return price

    def test_connection(self):
        """Return a short human message, or raise ChannelError / TransportError."""
        raise NotImplementedError
