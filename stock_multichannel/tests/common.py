import base64
import logging
import os
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from unittest import SkipTest
from unittest.mock import patch
from urllib.parse import urlsplit

from odoo import Command
from odoo.tests import TransactionCase
from odoo.tests.common import ChromeBrowser, _find_executable, _super_send, websocket
from odoo.tools import config

from ..lib import cron_wakeup
from ..lib.adapter import ChannelAdapter, FetchedOrders, ItemResult, ShownItem, ShownPage
from ..lib.http_sessions import forget_sessions

_logger = logging.getLogger(__name__)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class FakeRemote:
    """The far side of the test adapter: what a channel would hold and answer."""

    def __init__(self):
        self.stock = {}
        self.prices = {}
        self.regular_prices = {}
        self.refuse = {}  # external id -> refusal message
        self.unanswered = set()  # external ids the channel's answer says nothing of
        self.faults = []  # exceptions raised by the next calls, one per call
        self.calls = []  # (method, number of items)
        self.orders = []
        self.offers = []
        self.acknowledged = []
        self.statuses = []

    def fault(self, method, size=0):
        self.calls.append((method, size))
        if self.faults:
            raise self.faults.pop(0)


def connect_manual_channels(channel_class, adapter):
    """Patchers giving channels of type "manual" ``adapter``, as a connector addon does
    for its own type (see ``multichannel.channel._adapter_class``)."""
    adapter_class, connected_types = channel_class._adapter_class, channel_class._connected_types

    def manual_adapter_class(channel):
        return adapter if channel.channel_type == "manual" else adapter_class(channel)

    def with_manual(model):
        return [*connected_types(model), "manual"]

    return [
        patch.object(channel_class, "_adapter_class", manual_adapter_class),
        patch.object(channel_class, "_connected_types", with_manual),
    ]


class FakeAdapter(ChannelAdapter):
    """Implements the adapter contract against a FakeRemote, in memory."""

    batch_size = 3
    remote = None

    def _push(self, method, updates, store, value):
        if len(updates) > self.batch_size:
            raise AssertionError(f"batch of {len(updates)} exceeds {self.batch_size}")
        self.remote.fault(method, len(updates))
        results = []
        for update in updates:
            if update.external_id in self.remote.unanswered:
                continue
            if update.external_id in self.remote.refuse:
                results.append(ItemResult(update.key, False, self.remote.refuse[update.external_id]))
            else:
                store[update.external_id] = value(update)
                results.append(ItemResult(update.key, True, answer="saved"))
        return results

    def push_stock(self, updates):
        return self._push("stock", updates, self.remote.stock, lambda u: u.quantity)

    def push_prices(self, updates):
        results = self._push("price", updates, self.remote.prices, lambda u: u.price)
        self.remote.regular_prices.update({u.external_id: u.regular_price for u in updates})
        return results

    def fetch_offers(self):
        self.remote.fault("offers")
        return list(self.remote.offers)

    def fetch_orders(self, watermark):
        self.remote.fault("orders")
        return FetchedOrders(list(self.remote.orders), watermark=str(len(self.remote.orders)))

    def acknowledge_order(self, external_id):
        self.remote.fault("acknowledge")
        self.remote.acknowledged.append(external_id)

    def send_order_status(self, external_id, status, payload):
        self.remote.fault("status")
        self.remote.statuses.append((external_id, status))
        return f"order {external_id} now {status}"

    def test_connection(self):
        self.remote.fault("test")
        return "connected"

    shown_page_size = 2

    def read_shown(self, cursor=None, external_ids=None):
        self.remote.fault("shown")
        ids = sorted(external_ids if external_ids is not None else set(self.remote.stock) | set(self.remote.prices))
        start = int(cursor or 0)
        page = ids if external_ids is not None else ids[start : start + self.shown_page_size]
        items = [ShownItem(i, self.remote.stock.get(i), self.remote.prices.get(i)) for i in page]
        more = external_ids is None and start + self.shown_page_size < len(ids)
        return ShownPage(items, str(start + self.shown_page_size) if more else None)


class LocalSimulatorMixin:
    """For connector tests talking to simulators on 127.0.0.1.

    Odoo's test runner raises every HTTP timeout below 10 s to 10 s; requests to the
    local simulators keep the timeout the connector set, so timeouts are really tested.
    """

    @classmethod
    def _request_handler(cls, session, request, /, **kw):
        if urlsplit(request.url).hostname == "127.0.0.1":
            return _super_send(session, request, **kw)
        return super()._request_handler(session, request, **kw)

    @classmethod
    def _start_simulator(cls, simulator):
        """``simulator`` serving on 127.0.0.1 for the class's tests, stopped after them."""
        cls.addClassCleanup(simulator.stop)
        cls.addClassCleanup(forget_sessions)  # run first: no kept-alive connection outlives the stop
        return simulator.start()

    @classmethod
    def _set_stock(cls, product, quantity, location=None):
        """A stock change as its commit leaves it: its sync requests queued for the push."""
        quant = super()._set_stock(product, quantity, location)
        cls.env.cr.flush()
        return quant


def order_data(external_id="1001", lines=None, **overrides):
    data = {
        "external_id": external_id,
        "name": f"M-{external_id}",
        "status": "open",
        "currency": "EUR",
        "prices_include_tax": False,
        "customer": {
            "name": "Ana Pop",
            "email": "ana@example.com",
            "phone": "+40 700 000 001",
            "street": "Str. Lalelelor 1",
            "city": "Cluj",
            "zip": "400001",
            "country_code": "RO",
        },
        "lines": lines
        if lines is not None
        else [
            {
                "external_id": "L1",
                "listing_external_id": "ext-chair",
                "sku": "CHAIR",
                "name": "Office chair",
                "quantity": 2,
                "unit_price": 100.0,
                "tax_rate": 19.0,
            },
        ],
        "shipping": [{"name": "Courier", "amount": 10.0, "tax_rate": 19.0}],
        "discounts": [],
        "total": 250.0,
        "payment_method": "card",
    }
    data.update(overrides)
    return data


class CapturedLogs(logging.Handler):
    """Everything logged anywhere, at every level, while active."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))

    def __enter__(self):
        root = logging.getLogger()
        self.previous_level = root.level
        root.addHandler(self)
        root.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc):
        root = logging.getLogger()
        root.removeHandler(self)
        root.setLevel(self.previous_level)


class ChannelFixtures:
    """What every addon's tests start from: a warehouse, a pricelist in the channel's
    currency, a sales tax, storable products and their listings on ``cls.channel``."""

    #: the sales taxes of the products ``_product`` creates
    sale_taxes = None

    @classmethod
    def _set_up_basics(cls, currency_ref, pricelist_name, tax_rate=None, tax_name=None):
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.currency = cls.env.ref(currency_ref)
        cls.currency.active = True
        cls.warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.company.id)], limit=1)
        cls.stock_location = cls.warehouse.lot_stock_id
        cls.pricelist = cls.env["product.pricelist"].create({"name": pricelist_name, "currency_id": cls.currency.id})
        cls.sale_taxes = cls.env["account.tax"]
        if tax_rate is not None:
            cls.sale_taxes = cls.env["account.tax"].create(
                {
                    "name": tax_name or f"VAT {tax_rate:g}% (test)",
                    "amount": tax_rate,
                    "amount_type": "percent",
                    "type_tax_use": "sale",
                    "price_include_override": "tax_excluded",
                    "company_id": cls.company.id,
                }
            )

    @classmethod
    def _channel(cls, name, channel_type, **values):
        """A channel selling from the warehouse at the pricelist, retrying at once in tests."""
        return cls.env["multichannel.channel"].create(
            dict(
                {
                    "name": name,
                    "channel_type": channel_type,
                    "warehouse_ids": [Command.set(cls.warehouse.ids)],
                    "pricelist_id": cls.pricelist.id,
                    "retry_delay": 0.05,
                },
                **values,
            )
        )

    @classmethod
    def _product(cls, name, code, price, quantity=0, **values):
        product = cls.env["product.product"].create(
            dict(
                {
                    "name": name,
                    "default_code": code,
                    "list_price": price,
                    "is_storable": True,
                    "taxes_id": [Command.set(cls.sale_taxes.ids)],
                },
                **values,
            )
        )
        if quantity:
            cls.env["stock.quant"]._update_available_quantity(product, cls.stock_location, quantity)
        return product

    @classmethod
    def _listing(cls, product, external_id, channel=None, parent=None, **values):
        return cls.env["multichannel.product.binding"].create(
            dict(
                {
                    "channel_id": (channel or cls.channel).id,
                    "product_id": product.id,
                    "external_id": False if external_id is False else str(external_id),
                    "external_parent_id": str(parent) if parent else False,
                },
                **values,
            )
        )

    @classmethod
    def _set_stock(cls, product, quantity, location=None):
        return cls.env["stock.quant"]._update_available_quantity(product, location or cls.stock_location, quantity)

    @classmethod
    def _price_rule(cls, product, fixed_price=None, percent_off=None):
        """A rule of the channel's pricelist for ``product``: a fixed price or a discount."""
        values = (
            {"compute_price": "fixed", "fixed_price": fixed_price}
            if fixed_price is not None
            else {"compute_price": "percentage", "percent_price": percent_off}
        )
        return cls.env["product.pricelist.item"].create(
            dict(values, pricelist_id=cls.pricelist.id, applied_on="0_product_variant", product_id=product.id)
        )


class MultichannelCase(ChannelFixtures, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._set_up_basics("base.EUR", "Channel EUR")
        cls.euro = cls.currency
        cls.tax19 = cls.env["account.tax"].create(
            {
                "name": "VAT 19% test",
                "amount": 19.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_excluded",
                "company_id": cls.company.id,
            }
        )
        cls.chair = cls._product("Office chair", "CHAIR", 100.0)
        cls.desk = cls._product("Desk", "DESK", 250.0)
        cls.channel = cls.env["multichannel.channel"].create(
            {
                "name": "Test Marketplace",
                "channel_type": "manual",
                "warehouse_ids": [Command.set(cls.warehouse.ids)],
                "pricelist_id": cls.pricelist.id,
                "retry_delay": 0.0,
                "stock_schedule": "5min",
                "customer_country_id": cls.env.ref("base.ro").id,
            }
        )
        cls.chair_listing = cls._listing(cls.chair, "ext-chair")
        cls.desk_listing = cls._listing(cls.desk, "ext-desk")
        cls._set_stock(cls.chair, 100)
        cls._set_stock(cls.desk, 10)

    def setUp(self):
        super().setUp()
        self.remote = FakeRemote()
        adapter = type("BoundFakeAdapter", (FakeAdapter,), {"remote": self.remote})
        self.adapter_class = adapter
        for patcher in connect_manual_channels(type(self.env["multichannel.channel"]), adapter):
            patcher.start()
            self.addCleanup(patcher.stop)

    def _channel_of_another_company(self, company_name, channel_name):
        """(a company the user may work in, a channel of it selling from its own warehouse)."""
        company = self.env["res.company"].create({"name": company_name})
        self.env.user.company_ids += company
        warehouse = self.env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
        channel = self._channel(
            channel_name,
            "manual",
            company_id=company.id,
            pricelist_id=self.pricelist.copy({"company_id": company.id}).id,
            warehouse_ids=[Command.set(warehouse.ids)],
            customer_country_id=self.env.ref("base.ro").id,
        )
        return company, channel

    def _other_company_user(self, login):
        """A multichannel user of another company only."""
        other = self.env["res.company"].create({"name": f"Other Co ({login})"})
        return self.env["res.users"].create(
            {
                "name": login,
                "login": login,
                "company_id": other.id,
                "company_ids": [Command.set(other.ids)],
                "groups_id": [Command.set(self.env.ref("stock_multichannel.group_multichannel_user").ids)],
            }
        )

    def _changes_committed(self):
        """What a commit does: run the pre-commit hooks that queue sync requests; what comes
        next is another transaction's (the queue keeps one row per listing and transaction)."""
        self.env.cr.flush()
        self.env.cr.execute(
            """
            UPDATE multichannel_sync_request SET transaction_id = NULL WHERE transaction_id = txid_current();
            UPDATE multichannel_stock_change SET transaction_id = NULL WHERE transaction_id = txid_current();
            """
        )

    def _wake_ups_after_commit(self):
        """The crons (ids) the transaction's commit will have the notifier thread wake."""
        return [
            func.args[1]
            for func in self.env.cr.postcommit._funcs
            if isinstance(func, partial) and func.func is cron_wakeup.wake_cron_soon
        ]

    def _deliver(self, product, quantity, validate=True):
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": self.warehouse.out_type_id.id,
                "location_id": self.stock_location.id,
                "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                "move_ids": [
                    Command.create(
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "product_uom": product.uom_id.id,
                            "location_id": self.stock_location.id,
                            "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        if validate:
            picking.move_ids.quantity = quantity
            picking.button_validate()
        return picking


class BrowserTourMixin:
    """For tours in headless Chromium (``HttpCase``): a screenshot of each tour's last page in
    the run's log folder, and Chromium required where the browser tests must run (CI)."""

    @classmethod
    def _require_browser_in_ci(cls):
        """Where the browser test must run (CI), a missing Chromium fails instead of skipping."""
        if not os.environ.get("SMC_REQUIRE_BROWSER"):
            return
        try:
            _find_executable()
        except SkipTest as missing:
            raise AssertionError(f"SMC_REQUIRE_BROWSER is set: {missing}") from missing
        if websocket is None:
            raise AssertionError("SMC_REQUIRE_BROWSER is set: websocket-client is not installed")

    @contextmanager
    def _screenshot_when_done(self, name):
        """Save the page as it is when the tour ends, before Odoo closes the browser."""
        folder = Path(config["screenshots"]) / self.env.cr.dbname / "stock_multichannel"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        path.unlink(missing_ok=True)
        original_stop = ChromeBrowser.stop

        def stop(browser):
            shot = browser._websocket_request("Page.captureScreenshot", timeout=20)
            path.write_bytes(base64.b64decode(shot["data"]))
            original_stop(browser)

        with patch.object(ChromeBrowser, "stop", stop):
            yield path
        _logger.info("Screenshot of the %s saved in %s", name.replace("_", " "), path)

    def _assert_screenshot(self, path):
        content = path.read_bytes()
        self.assertEqual(content[:8], PNG_SIGNATURE)
        self.assertGreater(len(content), 20_000, "a blank page would be a few kilobytes")
