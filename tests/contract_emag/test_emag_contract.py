import contextlib
import threading
import time

import pytest

from odoo.addons.stock_multichannel.lib.adapter import TransportError
from odoo.addons.stock_multichannel_emag.api import translate
from odoo.addons.stock_multichannel_emag.api.client import EmagClient
from odoo.addons.stock_multichannel_emag.api.ratelimit import AnswerWindowLimiter
from odoo.addons.stock_multichannel_emag.simulator.emag_simulator import EmagSimulator

USER, PASSWORD = "contract", "pw-contract"


@pytest.fixture
def sim():
    simulator = EmagSimulator(username=USER, password=PASSWORD).start()
    yield simulator
    simulator.stop()


def client_for(sim, **options):
    client = EmagClient(sim.base_url, USER, PASSWORD, **options)
    # a limiter of this test's own (the process-wide one is shared by account)
    client.limiters = {kind: AnswerWindowLimiter(limit) for kind, limit in (("order", 12), ("other", 3))}
    return client


# ----------------------------------------------------------------------
# rate limit measured from the answers
# ----------------------------------------------------------------------
class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.waits = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.waits.append(round(seconds, 3))
        self.now += seconds


def test_the_window_starts_at_the_answer_not_at_the_send():
    fake = FakeTime()
    limiter = AnswerWindowLimiter(3, window=1.0, clock=fake.clock, sleep=fake.sleep)
    for _index in range(3):
        with limiter.slot():
            fake.now += 0.4  # each answer takes 0.4 s: answers at 0.4, 0.8, 1.2
    started = fake.now
    with limiter.slot():
        pass
    # the 4th waits one window after the FIRST ANSWER (0.4 -> 1.4), not after its send (0 -> 1.0)
    assert fake.now == pytest.approx(1.4, abs=0.01)
    assert fake.now - started == pytest.approx(0.2, abs=0.01)


def test_requests_in_flight_hold_their_slot():
    fake = FakeTime()
    limiter = AnswerWindowLimiter(2, window=1.0, clock=fake.clock, sleep=None)
    limiter.acquire()
    limiter.acquire()
    polls = []

    def sleep(seconds):  # both requests still in flight: the 3rd polls until an answer is back
        polls.append(seconds)
        fake.now += seconds
        if len(polls) == 3:
            fake.now = 5.0
            limiter.release()  # the first answer arrives at 5 s

    limiter.sleep = sleep
    limiter.acquire()
    assert fake.now == pytest.approx(6.0, abs=0.01), "one window after that answer"


def test_a_late_first_request_never_draws_a_429(sim):
    """The first request of a burst is delayed on its way (0.35 s): a limiter counting
    from the send would let the 4th arrive within a second of the 1st."""
    client = client_for(sim)
    sim.transit_delays.append(("vat/read", 0.35))
    for _index in range(7):
        client.call("vat/read")
    assert [e["status"] for e in sim.log] == [200] * 7, "no 429"
    assert sim.max_rate("other") <= 3
    stamps = [e["time"] for e in sim.log]
    assert stamps[3] - stamps[0] >= 1.0, "the server saw the 1st and the 4th a full second apart"


def test_concurrent_clients_of_one_account_share_the_limit(sim):
    shared = AnswerWindowLimiter(3)
    clients = []
    for _index in range(3):
        client = EmagClient(sim.base_url, USER, PASSWORD)
        client.limiters = {"order": AnswerWindowLimiter(12), "other": shared}
        clients.append(client)
    threads = [threading.Thread(target=lambda c=c: [c.call("vat/read") for _i in range(3)]) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sim.log) == 9
    assert not [e for e in sim.log if e["status"] == 429]
    assert sim.max_rate("other") <= 3


def test_a_timed_out_request_still_counts(sim):
    client = client_for(sim, timeout=0.3)
    sim.add_fault("timeout", "vat/read", delay=0.6)
    with pytest.raises(TransportError):
        client.call("vat/read")
    assert client.limiters["other"].in_flight == 0
    assert len(client.limiters["other"].answers) == 1, "the give-up holds the slot for a window"


# ----------------------------------------------------------------------
# refusals matched by the offer ids the answer names
# ----------------------------------------------------------------------
def test_refusal_objects_name_their_offer():
    refused, unattributed = translate.refused_items(
        [{"id": 2, "message": "Stock cannot be changed in warehouse 1 during the campaign"}], [1, 2, 3]
    )
    assert refused == {2: "Stock cannot be changed in warehouse 1 during the campaign"}
    assert unattributed == []


def test_numbers_in_free_text_are_not_taken_for_offers():
    refused, unattributed = translate.refused_items(["Invalid stock for warehouse 1 (max 65535)"], [1, 2])
    assert refused == {}, "warehouse 1 is not offer 1"
    assert unattributed == ["Invalid stock for warehouse 1 (max 65535)"]
    refused, _ = translate.refused_items(["Offer 2 does not exist; create it with product_offer/save"], [1, 2])
    assert list(refused) == [2]


def test_item_level_results_win():
    results = [{"id": 1, "isError": False, "messages": []}, {"id": 3, "isError": True, "messages": ["price 1 low"]}]
    refused, unattributed = translate.refused_items([], [1, 2, 3], results)
    assert refused == {3: "price 1 low"}
    assert unattributed == []


def test_a_message_naming_no_offer_is_kept_apart(sim):
    sim.add_offer(1, stock=0)
    sim.add_offer(2, stock=0, sale_price=100.0)
    sim.add_fault("message", "offer/save", text="Warehouse 1 is being re-indexed")
    envelope = client_for(sim).save("offer", [translate.stock_item(1, 5, 1), {"id": 2, "sale_price": 900.0}])
    refused, unattributed = translate.refused_items(envelope.raw_messages, [1, 2], envelope.results)
    assert list(refused) == [2] and "must lie between" in refused[2]
    assert unattributed == ["Warehouse 1 is being re-indexed"]


def test_a_stock_change_during_a_campaign_is_a_400_naming_it(sim):
    """As eMAG documents it: HTTP 400, the message names the campaign, nothing of the
    request is saved; the connector's client reads it as a refusal, not a fault."""
    from odoo.addons.stock_multichannel_emag.api.client import EmagApiError

    sim.add_offer(1, stock=0)
    sim.add_offer(2, stock=0, campaign="Black Friday")
    with pytest.raises(EmagApiError, match="Black Friday"):
        client_for(sim).save("offer", [translate.stock_item(1, 5, 1), translate.stock_item(2, 5, 1)])
    assert sim.requests_to("offer/save")[-1]["status"] == 400
    assert (sim.stock_of(1), sim.stock_of(2)) == (0, 0)
    client_for(sim).save("offer", [{"id": 2, "sale_price": 110.0}])  # a price alone is not a stock change
    assert sim.offers[2]["sale_price"] == 110.0


def test_a_refusal_without_emags_envelope_is_still_a_refusal(sim):
    """Which body a 400 has is not documented (eMAG's 429 has no envelope): read either way,
    it stays a refusal of what was sent, naming the campaign, which the push isolates."""
    from odoo.addons.stock_multichannel_emag.api.client import EmagApiError

    sim.bare_http_errors = True
    sim.add_offer(2, stock=0, campaign="Black Friday")
    with pytest.raises(EmagApiError, match="Black Friday"):
        client_for(sim).save("offer", [translate.stock_item(2, 5, 1)])
    assert sim.requests_to("offer/save")[-1]["status"] == 400


# ----------------------------------------------------------------------
# dates and types
# ----------------------------------------------------------------------
def test_local_order_dates_become_utc():
    assert translate.utc_date("2026-07-01 12:00:00", "Europe/Bucharest") == "2026-07-01 09:00:00"  # summer, +3
    assert translate.utc_date("2026-01-15 12:00:00", "Europe/Bucharest") == "2026-01-15 10:00:00"  # winter, +2
    assert translate.utc_date("2026-01-15 12:00:00", "Europe/Budapest") == "2026-01-15 11:00:00"
    assert translate.utc_date("", "Europe/Bucharest") == ""
    assert translate.utc_date("yesterday", "Europe/Bucharest") == "yesterday", "left for the core to refuse"
    order = translate.normalize_order({"id": 1, "status": 1, "date": "2026-07-01 00:30:00"}, "RON", 21, "Europe/Sofia")
    assert order["date"] == "2026-06-30 21:30:00"


def test_order_types_on_the_simulator(sim):
    sim.add_offer(11, "CHAIR", stock=10)
    own = sim.place_order([(11, 1)])
    by_emag = sim.place_order([(11, 4)], order_type=2)
    assert sim.stock_of(11) == 9, "an order fulfilled by eMAG leaves the seller's stock alone"
    client = client_for(sim)
    assert [o["id"] for o in client.read_all("order", status=1)] == [own["id"]], "type 3 is the default"
    assert [o["id"] for o in client.read_all("order", status=1, type=2)] == [by_emag["id"]]
    assert translate.is_seller_fulfilled(own) and not translate.is_seller_fulfilled(by_emag)


# ----------------------------------------------------------------------
# simulator: callbacks and attachments
# ----------------------------------------------------------------------
def test_callbacks_call_the_seller_url(sim):
    seller = EmagSimulator().start()  # any HTTP server will do as the "seller": it answers 405 to GET
    try:
        sim.add_offer(11, stock=5)
        sim.callbacks_async = False
        url = f"http://127.0.0.1:{seller.port}/hook?channel=ro"
        sim.callback_urls = {"order": url, "cancellation": url, "return": url}
        placed = sim.place_order([(11, 1)])
        sim.customer_cancel(placed["id"])
        assert [(c["event"], c["url"]) for c in sim.callback_log] == [
            ("order", f"{url}&order_id={placed['id']}"),
            ("cancellation", f"{url}&order_id={placed['id']}"),
        ]
        assert sim.callback_log[0]["status"] == 405
    finally:
        seller.stop()


def test_attachments_must_be_a_downloadable_pdf(sim):
    from odoo.addons.stock_multichannel_emag.api.client import EmagApiError

    sim.add_offer(11, stock=5)
    placed = sim.place_order([(11, 1)])
    client = client_for(sim)
    item = {"order_id": placed["id"], "name": "INV/1", "url": f"{sim.base_url}/missing.pdf", "type": 1}
    with pytest.raises(EmagApiError, match="could not be downloaded"):
        client.save("order/attachments", [item])
    with pytest.raises(EmagApiError, match="type 7"):
        client.save("order/attachments", [dict(item, type=7)])
    sim.verify_attachment_urls = False
    client.save("order/attachments", [item])
    assert sim.orders[placed["id"]]["attachments"] == [{"name": "INV/1", "url": item["url"], "type": 1}]
    assert sim.log[-1]["class"] == "order", "attachments count as order resources (12 req/s)"


def test_the_demo_configures_callbacks_through_the_control_endpoint(sim):
    """What setup/demo_data.py does: POST /_sim/callbacks; then each sale calls the URL
    in the background (as eMAG: the customer never waits for the seller's server)."""
    import json
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    calls = []

    class Seller(BaseHTTPRequestHandler):
        def do_GET(self):
            calls.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    seller = ThreadingHTTPServer(("127.0.0.1", 0), Seller)
    threading.Thread(target=seller.serve_forever, daemon=True).start()
    try:
        control = sim.base_url.rsplit("/api-3", 1)[0]
        url = f"http://127.0.0.1:{seller.server_address[1]}/multichannel/emag/1/secret"

        def post(path, data):
            request = urllib.request.Request(
                f"{control}{path}", json.dumps(data).encode(), {"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=5) as answer:
                return json.loads(answer.read())

        assert post("/_sim/callbacks", dict.fromkeys(("order", "cancellation", "return"), url)) == {
            "order": url,
            "cancellation": url,
            "return": url,
        }
        post("/_sim/offers", {"offer_id": 11, "stock": 5})
        placed = post("/_sim/orders", {"lines": [[11, 1]]})
        by_emag = post("/_sim/orders", {"lines": [[11, 1]], "type": 2})
        assert by_emag["type"] == 2 and sim.stock_of(11) == 4
        deadline = time.monotonic() + 5
        # the simulator logs a callback once the seller's answer is read, a moment after the seller saw it
        while (len(calls) < 2 or len(sim.callback_log) < 2) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sorted(calls) == sorted(f"/multichannel/emag/1/secret?order_id={o['id']}" for o in (placed, by_emag))
        assert {entry["status"] for entry in sim.callback_log} == {200}
    finally:
        seller.shutdown()
        seller.server_close()


# ----------------------------------------------------------------------
# simulator: what the chaos scenario injects
# ----------------------------------------------------------------------
def test_going_over_the_limit_is_told_apart_from_an_injected_429(sim):
    sim.add_fault("429", "vat/read")
    client = client_for(sim)
    client.limiters = {kind: AnswerWindowLimiter(100) for kind in ("order", "other")}  # no limiter of ours
    with pytest.raises(TransportError):
        client.call("vat/read")
    assert sim.throttled() == []
    for _call in range(3):
        with contextlib.suppress(TransportError):
            client.call("vat/read")
    assert len(sim.throttled()) == 1, "the 4th request within a second (3 req/s) goes over eMAG's limit"


def test_an_answer_of_the_wrong_type_and_an_order_changed_by_its_acknowledgement(sim):
    sim.add_offer(11, "CHAIR", stock=5)
    placed = sim.place_order([(11, 1)])
    sim.add_fault("wrong_type", "order/read")
    client = client_for(sim)
    assert isinstance(client.call("order/read", {"id": placed["id"]}).results, dict)
    sim.acknowledge_changes[placed["id"]] = {"shipping_tax": "not a number"}
    assert client.call("order/read", {"id": placed["id"]}).results[0]["shipping_tax"] == 15.0, "not before"
    client.call(f"order/acknowledge/{placed['id']}")
    order = client.call("order/read", {"id": placed["id"]}).results[0]
    assert (order["status"], order["shipping_tax"]) == (2, "not a number")
