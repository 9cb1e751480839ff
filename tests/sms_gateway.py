"""A local SMS gateway for the tests: an ``http.server`` on 127.0.0.1 in a thread of the
test process, which records each JSON POST and answers with the status the test chose."""

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    gateway: str


@dataclass
class Gateway:
    """What the server received, shared by its handler threads. ``statuses``: the
    answers to the next requests, in order (then ``default_status``); ``delay``: seconds
    before each answer."""

    name: str = "gateway"
    statuses: list[int] = field(default_factory=list)
    default_status: int = 202
    delay: float = 0.0
    # Withhold the answer to the request after the first ``hold_after`` ones until
    # ``released`` is set: the gateway has the message, the sender has not heard so.
    hold_after: int | None = None
    held: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    held_reference: str = ""
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def answer_for(self, received: Received) -> tuple[int, bool]:
        """The status to answer, and whether to hold the answer first."""
        with self.lock:
            self.received.append(received)
            hold = (
                self.hold_after is not None
                and not self.held.is_set()
                and len(self.received) > self.hold_after
            )
            if hold:
                self.held_reference = str(received.body.get("reference"))
                self.held.set()
            return (self.statuses.pop(0) if self.statuses else self.default_status), hold

    def references(self) -> Counter[str]:
        with self.lock:
            return Counter(str(r.body.get("reference")) for r in self.received)


def _handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            received = Received(self.path, dict(self.headers.items()), body, gateway.name)
            status, hold = gateway.answer_for(received)
            if gateway.delay:
                time.sleep(gateway.delay)
            if hold:
                gateway.released.wait(timeout=60)
            payload = json.dumps({"status": "queued" if status < 300 else "error"}).encode()
            try:
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender was killed (or gave up) while the answer was held

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the tests read ``received``; no lines on stderr

    return Handler


@contextmanager
def running_gateway(gateway: Gateway | None = None) -> Iterator[Gateway]:
    gateway = gateway or Gateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gateway))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}/v1/messages"
    try:
        yield gateway
    finally:
        gateway.released.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
