"""A pass-through HTTP proxy in front of the real schema registry that
stops time at one moment: once it has passed on a registration (POST)
whose body contains MATCH, and the registry accepted it, it creates
GATE_FILE and holds every later request until RELEASE_FILE exists. A
client that registers and then reads the id back (avro2kafka) is then
caught after the registry has the schema and before it produces anything
with it. An unreachable registry is answered 503, as a proxy would.

usage: registry_gate.py PORT UPSTREAM_URL MATCH GATE_FILE RELEASE_FILE
"""
import os
import sys
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, UPSTREAM, MATCH, GATE, RELEASE = sys.argv[1:6]
PORT = int(PORT)


class Gate(BaseHTTPRequestHandler):
    def hold(self):
        while os.path.exists(GATE) and not os.path.exists(RELEASE):
            time.sleep(0.05)

    def forward(self):
        self.hold()
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        req = urllib.request.Request(UPSTREAM + self.path, data=body,
                                     method=self.command)
        for h in ("Content-Type", "Accept", "Authorization"):
            if self.headers.get(h):
                req.add_header(h, self.headers[h])
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                code, data = r.status, r.read()
        except urllib.error.HTTPError as e:
            code, data = e.code, e.read()
        except OSError as e:
            code, data = 503, ('{"message": "%s"}' % e).encode()
        # The gate closes before the answer goes out, so the client's
        # next request finds it closed.
        if (self.command == "POST" and code == 200 and body is not None
                and MATCH.encode() in body and not os.path.exists(GATE)):
            with open(GATE, "wb") as f:
                f.write(data)
        self.send_response(code)
        self.send_header("Content-Type",
                         "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = forward

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Gate).serve_forever()
