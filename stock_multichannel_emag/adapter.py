"""The eMAG adapter: the core's contract translated to eMAG's API."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from odoo.addons.stock_multichannel.lib.adapter import (
    ChannelAdapter,
    ChannelError,
    ExternalOffer,
    FetchedOrders,
    ItemResult,
    ListingExtra,
    ShownItem,
    ShownPage,
    TransportError,
)
from odoo.addons.stock_multichannel.lib.messages import translatable

from .api import translate
from .api.client import ITEMS_PER_PAGE, EmagApiError


@dataclass
class EmagVat:
    """A product's own VAT, for eMAG's net prices."""

    rate: float  # percent
    price_includes_tax: bool  # whether Odoo's price of the product includes it
    vat_id: int = None  # eMAG's id of the rate (None: the channel's)


@dataclass
class NewEmagOffer:
    """An offer eMAG does not have yet, created (product_offer/save) with its quantity and prices."""

    quantity: int
    price: float
    regular_price: float
    name: str = ""
    part_number: str = ""
    part_number_key: str = ""  # eMAG's catalogue key, to attach the offer
    ean: str = ""


@dataclass
class EmagListingExtra(ListingExtra):
    vat: EmagVat = None  # None: the channel's VAT rate, prices taken as without VAT
    new_offer: NewEmagOffer = None  # set while the offer is to be created on eMAG


_lt = translatable(__name__)

OVERLAP = timedelta(minutes=5)
FIRST_LOOK_BACK = timedelta(days=1)
MAX_WINDOW = timedelta(days=28)  # "at most one month": the shortest month
MAX_WINDOWS_PER_FETCH = 13  # a year of changes per fetch; the next fetch goes on from there


class EmagAdapter(ChannelAdapter):
    batch_size = 50
    acknowledges_orders = True
    #: a new order lowers the offer's stock on eMAG (its estimated_stock holds unacknowledged orders)
    lowers_stock_on_order = True

    def __init__(self, channel):
        super().__init__(channel)
        self.client = channel._emag_client()
        self.settings = channel._emag_settings()

    @property
    def late_arrival_seconds(self):
        # a call eMAG kept for the whole timeout without answering may be on its way as long again
        return 2 * self.client.timeout

    # ------------------------------------------------------------------
    # offers
    # ------------------------------------------------------------------
    def push_stock(self, updates):
        warehouse = self.settings["warehouse_id"]
        return self._push(updates, lambda offer, u: translate.stock_item(offer, u.quantity, warehouse))

    @staticmethod
    def _listing_vat(extra):
        return extra.vat if isinstance(extra, EmagListingExtra) else None

    def _vat(self, extra):
        """(rate in percent, whether the Odoo price includes it) of one product.

        From the product's own sales taxes (handed over by the listing); the channel's
        VAT rate, with prices taken as without VAT, for a product without a sales tax.
        """
        vat = self._listing_vat(extra)
        if vat:
            return vat.rate, vat.price_includes_tax
        return self.settings["vat_rate"], False

    def price_problem(self, update):
        return self._vat_problem(update.extra)

    def _vat_problem(self, extra):
        """A price netted at a VAT rate the platform does not have would be sold with eMAG's
        own rate on top of it (a 21% Romanian product on eMAG Hungary: 27% added, the
        customer paying 5% more than the pricelist says): refused, the stock still sent.
        Not checked before Test Connection read the platform's rates."""
        rates = self.settings["vat_ids"]
        rate, _included = self._vat(extra)
        if not rates or f"{round(rate, 2):g}" in rates:
            return ""
        return _lt(
            "%(platform)s has no VAT rate of %(rate)s%% (its rates: %(rates)s): the price would be netted at "
            "that rate and eMAG would add its own. Give the product a sales tax at one of these rates, or map "
            "its tax to one in the channel's Fiscal Position (or, without a sales tax, give the channel one of "
            "these VAT rates).",
            platform=self.settings["platform"],
            rate=f"{rate:g}",
            rates=", ".join(f"{r}%" for r in sorted(rates, key=float, reverse=True)),
        )

    def push_prices(self, updates):
        settings = self.settings

        def item(offer, update):
            rate, included = self._vat(update.extra)
            sale = translate.without_vat(update.price, rate, included)
            regular = translate.without_vat(update.regular_price, rate, included)
            item = translate.price_item(offer, sale, regular, settings["min_percent"], settings["max_percent"])
            vat = self._listing_vat(update.extra)
            if vat and vat.vat_id:
                item["vat_id"] = vat.vat_id  # the product's rate, so eMAG adds the right VAT
            return item

        return self._push(updates, item)

    def _push(self, updates, build):
        results, existing, creations = [], [], []
        for update in updates:
            offer = translate.offer_id(update.external_id)
            if offer is None:
                results.append(
                    ItemResult(
                        update.key, False, _lt("%(id)r is not an eMAG offer id", id=update.external_id), refused=False
                    )
                )
            elif isinstance(update.extra, EmagListingExtra) and update.extra.new_offer:
                problem = self._creation_problem(offer, update.extra)  # no call made: sent again
                clash = None if problem else self._offer_clash(offer, update.extra.new_offer)
                if problem or clash:
                    # the clash was read from eMAG (a call): held back as a refusal of eMAG's
                    results.append(ItemResult(update.key, False, problem or clash, refused=bool(clash)))
                else:
                    creations.append((update, self._creation_item(offer, update.extra)))
            else:
                existing.append((update, build(offer, update)))
        if existing:
            results += self._save_offers("offer", existing)
        if creations:
            results += self._save_offers("product_offer", creations)
        return results

    def _creation_problem(self, offer, extra):
        """Why the offer ``offer`` must not be created from ``extra``, or None.

        A creation goes out with the stock push, so a missing price is refused here as the
        price push refuses it (no call made).
        """
        new = extra.new_offer
        if not new.price or new.price <= 0:
            return _lt("the product has no price above 0 in the channel's pricelist: the offer is not created")
        return self._vat_problem(extra)

    def _offer_clash(self, offer, new):
        """Why eMAG's offer ``offer`` must not be created as ``new``, or None: eMAG has it
        already, of another product (another part number), and ``product_offer/save`` on it
        would give that offer this product's price and stock."""
        found = self.client.call("product_offer/read", {"id": offer}).results or []
        existing = found[0] if isinstance(found, list) and found and isinstance(found[0], dict) else None
        if existing and str(existing.get("part_number") or "") != new.part_number:
            return _lt(
                "eMAG already has an offer %(id)s, of another product (part number %(part)r, %(name)s): set another "
                "offer id on this listing, or link that offer to its own product",
                id=offer,
                part=str(existing.get("part_number") or ""),
                name=str(existing.get("name") or ""),
            )
        return None

    def _creation_item(self, offer, extra):
        settings, new = self.settings, extra.new_offer
        rate, included = self._vat(extra)
        sale = translate.without_vat(new.price, rate, included)
        regular = translate.without_vat(new.regular_price, rate, included)
        item = translate.price_item(offer, sale, regular, settings["min_percent"], settings["max_percent"])
        item.update(translate.stock_item(offer, new.quantity, settings["warehouse_id"]))
        item.update(
            {
                "status": 1,
                "vat_id": (extra.vat and extra.vat.vat_id) or settings["vat_id"],
                "name": new.name,
                "part_number": new.part_number,
                "handling_time": [{"warehouse_id": settings["warehouse_id"], "value": settings["handling_time"]}],
            }
        )
        if new.part_number_key:
            item["part_number_key"] = new.part_number_key
        if new.ean:
            item["ean"] = [new.ean]
        return item

    def _save_offers(self, resource, pairs):
        """Save; a batch refused as a whole is split in halves until the bad offer is alone."""
        items = [item for _update, item in pairs]
        try:
            envelope = self.client.save(resource, items)
        except EmagApiError as error:
            if resource == "product_offer" and self._all_saved(pairs):
                return [
                    ItemResult(u.key, True, answer="saved (eMAG reported a documentation error)") for u, _i in pairs
                ]
            if len(pairs) == 1:
                return [ItemResult(pairs[0][0].key, False, str(error))]
            half = len(pairs) // 2
            return self._save_offers(resource, pairs[:half]) + self._save_offers(resource, pairs[half:])
        refused, unattributed = translate.refused_items(
            envelope.raw_messages, [item["id"] for item in items], envelope.results
        )
        results = []
        for update, item in pairs:
            if item["id"] in refused:
                results.append(ItemResult(update.key, False, refused[item["id"]], answer=refused[item["id"]]))
            elif unattributed:
                # eMAG said something it did not tie to an offer: whether this one was
                # saved is unknown, so it is not reported saved (it is sent again)
                message = "eMAG answered with a message naming no offer: " + "; ".join(unattributed)
                results.append(ItemResult(update.key, False, message, answer=message, refused=False))
            else:
                results.append(ItemResult(update.key, True, answer="saved"))
        return results

    def _all_saved(self, pairs):
        """eMAG may answer isError although product_offer/save stored the offers: look."""
        for _update, item in pairs:
            found = self.client.call("product_offer/read", {"id": item["id"]}).results or []
            if not found or not isinstance(found[0], dict) or not self._holds(found[0], item):
                return False
        return True

    @staticmethod
    def _holds(offer, item):
        """Whether eMAG's ``offer`` holds what ``item`` sent: its price, VAT and stock. The
        price alone passed a refusal of the whole request (an offer in a campaign, whose
        stock eMAG keeps) when the offer had that price already."""
        if translate.money(offer.get("sale_price") or 0) != item["sale_price"]:
            return False
        if "vat_id" in item and offer.get("vat_id") != item["vat_id"]:
            return False
        sent = {entry["warehouse_id"]: entry["value"] for entry in item.get("stock") or []}
        kept = {
            entry.get("warehouse_id"): entry.get("value")
            for entry in offer.get("stock") or []
            if isinstance(entry, dict)
        }
        if kept:
            return all(kept.get(warehouse) == value for warehouse, value in sent.items())
        return not sent or offer.get("general_stock") == sum(sent.values())

    def fetch_offers(self):
        offers = self.client.read_all("product_offer")
        return [
            ExternalOffer(
                external_id=str(offer.get("id")),
                sku=str(offer.get("part_number") or ""),
                barcode=str((offer.get("ean") or [""])[0] or ""),
                name=str(offer.get("name") or ""),
                quantity=offer.get("general_stock"),
                price=offer.get("sale_price"),
            )
            for offer in offers
            if isinstance(offer, dict) and offer.get("id")
        ]

    def read_shown(self, cursor=None, external_ids=None):
        """What eMAG shows now (for the drift audit): one page of product_offer/read, its
        stock as the seller set it and eMAG lowered it on orders (``general_stock``), and
        its net sale price."""
        if external_ids is not None:
            offers = []
            for offer_id in external_ids:
                offers += self.client.call("product_offer/read", {"id": int(offer_id)}).results or []
            return ShownPage([self._shown(offer) for offer in offers if isinstance(offer, dict)])
        page = int(cursor or 1)
        offers = self.client.call("product_offer/read", {"currentPage": page, "itemsPerPage": ITEMS_PER_PAGE})
        offers = [offer for offer in offers.results or [] if isinstance(offer, dict)]
        return ShownPage(
            [self._shown(offer) for offer in offers], str(page + 1) if len(offers) == ITEMS_PER_PAGE else None
        )

    @staticmethod
    def _shown(offer):
        stock = offer.get("general_stock")
        if stock is None:
            stock = sum(int(line.get("value") or 0) for line in offer.get("stock") or [] if isinstance(line, dict))
        try:
            price = float(offer["sale_price"]) if offer.get("sale_price") not in (None, "") else None
        except (TypeError, ValueError):
            price = None
        return ShownItem(str(offer.get("id")), int(stock), price)

    def price_as_shown(self, price, extra):
        """eMAG shows the net price sent (up to 4 decimals), VAT taken off as the push does."""
        rate, included = self._vat(extra)
        return translate.without_vat(price, rate, included)

    # ------------------------------------------------------------------
    # orders
    # ------------------------------------------------------------------
    def translate_order(self, order):
        settings = self.settings
        return translate.normalize_order(order, settings["currency"], settings["vat_rate"], settings["timezone"])

    def fetch_orders(self, watermark):
        """New orders, plus orders modified since the watermark (to catch cancellations).

        Only orders fulfilled by the seller (type 3) are read: an order fulfilled by
        eMAG (type 2) ships from eMAG's warehouse, never from the merchant's, so it is
        left out (not imported, no stock reserved, never finalized by Odoo).
        """
        now = datetime.now(ZoneInfo(self.settings["timezone"])).replace(tzinfo=None)  # eMAG's local time
        since = datetime.strptime(watermark, translate.DATE) - OVERLAP if watermark else now - FIRST_LOOK_BACK
        seller = translate.FULFILLED_BY_SELLER
        orders, unidentified = {}, []  # an item without an id (or not an order at all) is kept as it came

        def keep(order):
            order_id = order.get("id") if isinstance(order, dict) else None
            if order_id is None:
                unidentified.append(order)
            else:
                orders[order_id] = order

        for order in self.client.read_all("order", status=1, type=seller):
            keep(order)
        # eMAG reads at most a month of changes per request: a longer gap (a channel paused
        # for weeks) is read window after window, the watermark following the last one read
        end = now + timedelta(minutes=1)
        for _window in range(MAX_WINDOWS_PER_FETCH):
            before = min(since + MAX_WINDOW, end)
            modified = self.client.read_all(
                "order",
                type=seller,
                modifiedAfter=since.strftime(translate.DATE),
                modifiedBefore=before.strftime(translate.DATE),
            )
            for order in modified:
                keep(order)
            if before == end:
                reached = now
                break
            since = reached = before
        return FetchedOrders(
            [
                self.normalized_order(order)
                for order in [*orders.values(), *unidentified]
                if not self._emag_fulfilled(order)
            ],
            watermark=reached.strftime(translate.DATE),
        )

    @staticmethod
    def _emag_fulfilled(order):
        """Asked for type 3 only; should another type come anyway, it is still left out."""
        return isinstance(order, dict) and not translate.is_seller_fulfilled(order)

    def read_notified_order(self, order_ref, body=None):
        """A callback carries nothing but the order id: the order is read from eMAG."""
        return self.fetch_order(order_ref)

    def fetch_order(self, external_id):
        """One order read now (a callback named it), normalised; None when eMAG has no such
        order of the seller's (unknown id, or fulfilled by eMAG)."""
        found = [order for order in self._order_read(external_id) if not self._emag_fulfilled(order)]
        return self.normalized_order(found[0]) if found else None

    def _order_read(self, external_id):
        """The orders eMAG answers for ``external_id``: a list, or a temporary fault (an
        answer of another shape is a broken answer to read again, never an order)."""
        envelope = self.client.call("order/read", {"id": int(external_id), "type": translate.FULFILLED_BY_SELLER})
        found = envelope.results or []
        if not isinstance(found, list):
            raise TransportError(
                _lt("eMAG answered order/read with an unexpected shape (%(shape)s)", shape=type(found).__name__)
            )
        return found

    def _read_order(self, external_id):
        found = self._order_read(external_id)
        if not found:
            raise ChannelError(_lt("eMAG has no order %(order)s", order=external_id))
        return found[0]

    def send_invoice(self, external_id, name, url):
        """Attach the seller's invoice (or credit note) PDF at ``url`` to the order on eMAG.

        eMAG counts an attachment of type 1 as the order's invoice; a credit note (storno
        invoice) is an invoice document too and goes with the same type, under its own name.
        Not retried here: the caller's cron tries again later, and finds it attached when a
        try whose answer was lost attached it (order/read shows the order's attachments).
        """
        # a try whose answer was lost may have attached it: eMAG would show it twice
        for attachment in self._read_order(external_id).get("attachments") or []:
            if isinstance(attachment, dict) and (
                attachment.get("url") == url
                or (attachment.get("name") == name and attachment.get("type") == translate.INVOICE_ATTACHMENT)
            ):
                return _lt("%(name)s is attached to eMAG order %(order)s already", name=name, order=external_id)
        item = {"order_id": int(external_id), "name": name, "url": url, "type": translate.INVOICE_ATTACHMENT}
        self.client.save("order/attachments", [item], retry=False)
        return _lt("%(name)s attached to eMAG order %(order)s", name=name, order=external_id)

    def acknowledge_order(self, external_id):
        try:
            self.client.call(f"order/acknowledge/{int(external_id)}")
        except ChannelError as refusal:
            # acknowledged already (by a run rolled back after its call, say), which eMAG may
            # refuse to do again, or cancelled by the customer since it was read: the order as
            # read now says whether the seller has it, or that nobody does
            try:
                order = self._read_order(external_id)
            except ChannelError:
                order = {}
            if translate.order_status(order) not in (*translate.ACKNOWLEDGED, translate.CANCELED):
                raise refusal from None
            return self.normalized_order(order)
        return self.normalized_order(self._read_order(external_id))  # the customer may have cancelled meanwhile

    def send_order_status(self, external_id, status, payload):
        """Finalize (4) or cancel (0) the order as read now; skip when eMAG is there already.

        order/save is not idempotent and needs the whole order, so the order is read
        again first — after a timeout the engine's retry lands here and finds it done.
        """
        order = self._read_order(external_id)
        current = translate.order_status(order)
        name = translate.STATUS_NAMES.get(current, current)
        if status == "shipped":
            if current in (translate.FINALIZED, 5):
                return _lt("already %(status)s on eMAG", status=name)
            if current == translate.CANCELED:
                raise ChannelError(_lt("the order is canceled on eMAG and cannot be finalized"))
            target = translate.FINALIZED
        elif status == "cancelled":
            if current == translate.CANCELED:
                return _lt("already canceled on eMAG")
            if current in (translate.FINALIZED, 5):
                raise ChannelError(_lt("the order is %(status)s on eMAG and cannot be canceled", status=name))
            target = translate.CANCELED
        else:
            raise ChannelError(_lt("unknown status %(status)r", status=status))
        if current == 1:
            self.client.call(f"order/acknowledge/{int(external_id)}")
            order = self._read_order(external_id)
        order = dict(order, status=target)
        if target == translate.CANCELED:
            order["reason_cancellation"] = self.settings["cancel_reason"]
        self.client.save("order", [order], retry=False)
        return _lt(
            "eMAG order %(order)s: %(old)s -> %(new)s", order=external_id, old=name, new=translate.STATUS_NAMES[target]
        )

    def vat_rates(self):
        """{rate in percent: eMAG vat_id}."""
        rates = self.client.call("vat/read").results or []
        return {round(float(r["vat_rate"]) * 100, 2): r["vat_id"] for r in rates if isinstance(r, dict)}

    def test_connection(self):
        rates = self.vat_rates()
        listed = ", ".join(f"{rate:g}% (id {vat_id})" for rate, vat_id in sorted(rates.items()))
        return _lt("Connected to eMAG. VAT rates: %(rates)s.", rates=listed or _lt("none"))
