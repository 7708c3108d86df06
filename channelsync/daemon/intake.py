"""The intake: platform messages ring a channel's doorbell; polling stays the truth.

One HTTP server on its own address (``[intake] host``/``port``, meant to sit
behind a reverse proxy; /healthz and /metrics stay on 127.0.0.1), one path per
channel: ``POST /intake/<channel>`` (and ``GET`` for platforms that verify the
URL that way). For each request, in order:

1. an unknown channel, or one without intake enabled: 404, counted;
2. a body larger than the receiver's ``max_body`` is refused unread (413), as is
   one without a Content-Length (411); reads time out after the receiver's
   ``deadline`` so a slow sender cannot hold a thread;
3. the channel's ``Receiver.verify`` checks the signature or token (no
   platform call, no store write: the answer is due within the platform's
   deadline);
4. each doorbell in the message is checked for age (``max_age``, both ways)
   and replay (its ``message_id`` seen within twice that);
5. fresh doorbells ring the channel's worker, which polls as soon as it can;
   a burst rings once (see ``sync/doorbell.py``).

A stale or replayed message is answered like an accepted one (platforms retry,
and WooCommerce switches a webhook off after repeated failures) but rings
nothing; a bad signature is answered 401. Every outcome is counted
(``intake_ledger.py``). Listener receivers (Taobao TMC) run in threads here too,
reconnecting with back-off, and feed the same checks.
"""

from __future__ import annotations

import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping
from urllib.parse import parse_qsl, urlsplit

import httpx
import structlog

from channelsync.config.settings import Config
from channelsync.daemon.intake_ledger import IntakeLedger
from channelsync.sdk.errors import UserError
from channelsync.sdk.intake import Bell, IntakeRejected, IntakeRequest, Receiver, Reply
from channelsync.store import utcnow

log = structlog.get_logger("channelsync.daemon.intake")

PREFIX = "/intake/"
MAX_CONCURRENT = 32  # requests verified at once; more are answered 503 (the platforms retry)
Ring = Callable[[str, list[Bell]], None]


def build_receivers(config: Config, intake_types: Mapping[str, type[Receiver]]) -> dict[str, Receiver]:
    """One receiver per enabled channel whose intake is on."""
    out = {}
    for name, cfg in config.channels.items():
        cls = intake_types.get(cfg.plugin)
        if cfg.enabled and cfg.intake.enabled and cls is not None:
            out[name] = cls(name, cfg.intake.settings)
    return out


class Intake:
    """The checks every message goes through, webhook or listener; no I/O of its own."""

    def __init__(self, config: Config, receivers: dict[str, Receiver], ring: Ring,
                 ledger: IntakeLedger | None = None) -> None:
        self.config = config
        self.receivers = receivers
        self.ring = ring
        self.ledger = ledger or IntakeLedger()

    def max_age(self, channel: str) -> float:
        return self.config.channels[channel].intake.max_age or self.receivers[channel].max_age

    def receiver(self, path: str) -> tuple[str | None, Receiver]:
        """The channel named by the path and its receiver; IntakeRejected when there is none."""
        name = path[len(PREFIX):].strip("/") if path.startswith(PREFIX) else None
        if name and name in self.receivers:
            return name, self.receivers[name]
        if name and name in self.config.channels:
            raise IntakeRejected("disabled", f"intake is not enabled for channel {name!r}")
        raise IntakeRejected("unknown_channel", f"no channel at {path[:80]!r}")

    def deliver(self, channel: str, bells: list[Bell]) -> int:
        """Stale and replayed doorbells are counted and dropped; the rest ring. Returns how many rang."""
        now, clock = utcnow(), time.monotonic()
        age = self.max_age(channel)
        fresh = []
        for bell in bells:
            if bell.sent_at is not None and abs((now - bell.sent_at).total_seconds()) > age:
                self.ledger.rejected(channel, "stale", f"message {bell.message_id[:40]} sent {bell.sent_at.isoformat()}",
                                     now)
            elif self.ledger.is_replay(channel, bell.message_id, clock, 2 * age):
                self.ledger.rejected(channel, "replay", f"message {bell.message_id[:40]} seen before", now)
            else:
                fresh.append(bell)
        if fresh:
            self.ledger.accepted(channel, now, len(fresh))
            log.debug("intake_rang", channel=channel, messages=len(fresh),
                      orders=[b.order_id for b in fresh if b.order_id][:5])
            self.ring(channel, fresh)
        return len(fresh)

    def handle(self, method: str, target: str, headers: Mapping[str, str],
               read_body: Callable[[int], bytes]) -> Reply:
        """One HTTP request -> its answer. Never raises."""
        split = urlsplit(target)
        channel = None
        request = IntakeRequest(method, split.path, {}, headers, b"", utcnow())
        try:
            channel, receiver = self.receiver(split.path)
            if method not in ("GET", "POST"):
                raise IntakeRejected("method", f"{method} is not accepted (POST, or GET to verify the URL)")
            length = headers.get("content-length")
            if length is None and method == "POST":
                raise IntakeRejected("size", "no Content-Length (chunked bodies are not accepted)", status=411)
            size = int(length or 0) if (length or "0").isdigit() else -1
            if size < 0 or size > receiver.max_body:
                raise IntakeRejected("size", f"body of {length} bytes (at most {receiver.max_body})")
            request = IntakeRequest(method, split.path, dict(parse_qsl(split.query, keep_blank_values=True)),
                                    headers, read_body(size) if size else b"", utcnow())
            verified = receiver.verify(request)
            self.deliver(channel, verified.bells)
            return verified.reply or receiver.accepted(request)
        except IntakeRejected as exc:
            self.ledger.rejected(channel, exc.reason, exc.detail, utcnow())
            log.info("intake_rejected", channel=channel, reason=exc.reason, detail=exc.detail)
            if channel is None or channel not in self.receivers:
                return Reply(exc.status, f"rejected: {exc.reason}\n".encode())
            return self.receivers[channel].rejected(request, exc)
        except Exception as exc:  # a receiver's bug or a body it did not expect: never the server's death
            self.ledger.rejected(channel, "malformed", type(exc).__name__, utcnow())
            log.warning("intake_unreadable", channel=channel, error=type(exc).__name__)
            return Reply(400, b"rejected: malformed\n")


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        self.timeout = self.server.read_timeout  # socket timeout: a slow sender gets cut off
        super().setup()

    def _serve(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        if not self.server.slots.acquire(blocking=False):  # a flood gets 503s, not a thread each
            reply = Reply(503, b"busy\n")
        else:
            try:
                reply = self.server.intake.handle(self.command, self.path, headers, self.rfile.read)
            finally:
                self.server.slots.release()
        if reply.status >= 400:
            self.close_connection = True  # an unread body must not be taken for the next request
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            if self.close_connection:
                self.send_header("Connection", "close")  # so the sender does not reuse it
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:  # the sender is gone (or timed out): nothing to tell it
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve  # noqa: N815 - the stdlib's names

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - outcomes are logged by Intake
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], intake: Intake, read_timeout: float) -> None:
        self.intake = intake
        self.read_timeout = read_timeout
        self.slots = threading.BoundedSemaphore(MAX_CONCURRENT)
        super().__init__(address, _Handler)


class IntakeServer:
    """Serves ``Intake.handle`` over HTTP in a thread, and runs the listener receivers."""

    def __init__(self, intake: Intake, host: str = "127.0.0.1", port: int = 0,
                 transport: httpx.BaseTransport | None = None) -> None:
        deadline = min([r.deadline for r in intake.receivers.values()] or [5.0])
        self.intake = intake
        self.httpd = _Server((host, port), intake, read_timeout=max(1.0, deadline - 1.0))
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="intake-server", daemon=True)
        self.stopping = threading.Event()
        self.transport = transport
        self.listeners = [threading.Thread(target=self._listen, args=(name, r), name=f"intake-{name}", daemon=True)
                          for name, r in intake.receivers.items() if r.kind == "listener"]

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, channel: str) -> str:
        return f"{self.base_url}{PREFIX}{channel}"

    def start(self) -> "IntakeServer":
        self.thread.start()
        for t in self.listeners:
            t.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        for t in self.listeners:
            t.join(timeout=2)  # a long poll in flight is not waited for: the thread is a daemon thread

    def _listen(self, channel: str, receiver: Receiver) -> None:
        """Keep the listener connected: reconnect after 1, 2, 4 … 60 s (jittered) while it fails."""
        ledger, backoff = self.intake.ledger, 1.0
        http = httpx.Client(timeout=httpx.Timeout(10.0, read=60.0), transport=self.transport)
        try:
            while not self.stopping.is_set():
                started, got = time.monotonic(), []

                def deliver(bells: list[Bell], got: list = got) -> None:
                    if bells:
                        got.append(len(bells))
                    ledger.connected(channel, True)
                    self.intake.deliver(channel, bells)

                try:
                    receiver.listen(http, deliver, self.stopping)
                    error = "connection closed"
                except Exception as exc:  # the platform or the network: reconnect, never die
                    error = f"{type(exc).__name__}: {exc}"[:200]
                ledger.connected(channel, False)
                if self.stopping.is_set():
                    break
                if got or time.monotonic() - started > 60:
                    backoff = 1.0  # it worked for a while: the next failure starts the back-off afresh
                log.warning("intake_listener_reconnecting", channel=channel, error=error, in_seconds=backoff)
                self.stopping.wait(backoff * random.uniform(0.8, 1.2))
                backoff = min(backoff * 2, 60.0)
        finally:
            http.close()


def start(config: Config, intake_types: Mapping[str, type[Receiver]], ring: Ring) -> IntakeServer | None:
    """The running intake server, or None when no channel has intake enabled."""
    receivers = build_receivers(config, intake_types)
    if not receivers:
        return None
    try:
        server = IntakeServer(Intake(config, receivers, ring), config.intake.host, config.intake.port).start()
    except OSError as exc:
        raise UserError(f"intake: cannot listen on {config.intake.host}:{config.intake.port} ({exc.strerror or exc}); "
                        "choose another [intake] port or host") from None
    log.info("intake_started", url=server.base_url, channels=sorted(receivers))
    return server
