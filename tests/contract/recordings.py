"""The recordings of a real WooCommerce 9.2.5 (fixtures/), and a server replaying them."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "woocommerce-9.2.5"


def rest_log():
    with open(FIXTURES / "rest-log.jsonl") as log:
        return [json.loads(line) for line in log]


def deliveries():
    with open(FIXTURES / "webhook-deliveries.jsonl") as log:
        return [json.loads(line) for line in log]


def recorded_orders():
    """Every distinct (order id, status) the REST log shows, newest record last."""
    orders = {}
    for row in rest_log():
        if row["path"].startswith("store/"):
            continue
        body = row["body"]
        for order in body if isinstance(body, list) else [body]:
            if isinstance(order, dict) and "line_items" in order and "status" in order:
                orders[(order["id"], order["status"])] = order
    return orders


def order(order_id, status=None):
    matches = [o for (i, s), o in recorded_orders().items() if i == order_id and (status is None or s == status)]
    assert matches, (order_id, status)
    return matches[-1]


def row(index):
    return rest_log()[index]


class Replay:
    """An HTTP server answering with recorded rows, in the order given.

    Each request takes the next row; what was asked is kept in ``requests``."""

    def __init__(self, rows):
        self.rows = list(rows)
        self.requests = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                replay.requests.append(
                    {
                        "method": self.command,
                        "path": url.path,
                        "query": parse_qs(url.query, keep_blank_values=True),
                        "body": json.loads(body) if body else None,
                        "authorization": self.headers.get("Authorization"),
                    }
                )
                recorded = replay.rows.pop(0)
                payload = json.dumps(recorded["body"]).encode()
                self.send_response(recorded["status"])
                for key, value in (recorded.get("headers") or {}).items():
                    if key.lower() not in ("content-length", "content-type"):
                        self.send_header(key, value)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
