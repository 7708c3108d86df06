"""The sandbox sends each platform's messages to <intake>/intake/<example channel name>, signed."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sim import sandbox
from channelsync.testing import wait_for


def test_buyer_actions_in_the_sandbox_post_signed_messages_to_the_intake():
    got = []

    class Capture(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            got.append((self.path.split("?")[0], {k.lower(): v for k, v in self.headers.items()},
                        self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    types = channel_types(make_manager())
    running = sandbox.start(types, ports={p: 0 for p in tuple(sandbox.DEFAULT_PORTS)},
                            intake=f"http://127.0.0.1:{httpd.server_address[1]}")
    try:
        for r in running.values():
            r.simulator.seed("A", 3, 100)
            r.simulator.place_order([("A", 1)])
        wait_for(lambda: len(got) == 3, 20, "a message from each webhook platform")
        assert sorted(path for path, _, _ in got) == ["/intake/jd-pop", "/intake/web", "/intake/wx-shop"]
        web = next(h for path, h, _ in got if path == "/intake/web")
        assert web["x-wc-webhook-topic"] == "order.created" and web["x-wc-webhook-signature"]
        assert len(running["taobao"].simulator.held.queue) == 1  # TMC holds it for the daemon's listener
    finally:
        sandbox.stop(running)
        httpd.shutdown()
        httpd.server_close()
