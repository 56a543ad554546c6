#!/usr/bin/env python3
"""A thin HTTP front end over one persistent chdb session (the ClickHouse
engine as a library, from PyPI's chdb-core), so that the tests can run
chload against a current ClickHouse: chdb cannot listen on a port itself.

It speaks the part of ClickHouse's HTTP interface that chload and the tests
use: query= in the URL or the body (a query in the URL continues with the
body, which for an INSERT is its data), ?setting=value parameters,
INSERT ... FORMAT <fmt> with a binary body, HTTP/1.1 keep-alive, the
`Code: N. DB::Exception: ...` error text with ClickHouse's HTTP status and
X-ClickHouse-Exception-Code, and /ping.

What it does not do (docs/chload.md, section 1):
- one statement at a time: requests from many connections are served in
  turn on the one session;
- no authentication: the only user is `default` without a password, as in
  the stack's 18.16 server; other credentials get Code 516;
- mutations run synchronously (chdb's mutations_sync=1; a server's default
  is 0);
- no asynchronous insert queue: with async_insert=1 an insert is still
  written before the answer;
- no sessions (session_id), no compression, no database= parameter, no
  query cancellation.

usage: chdb_http.py --data DIR --port PORT [--host 127.0.0.1] [--log FILE]
"""
import argparse
import base64
import http.server
import re
import signal
import os
import sys
import tempfile
import threading
import time
import urllib.parse

import chdb
from chdb import session as chdb_session

# URL parameters that are not settings.
NOT_SETTINGS = {"query", "user", "password", "query_id", "default_format"}
INSERT_FORMAT = re.compile(rb"^\s*INSERT\b.*?\bFORMAT\s+(\w+)[ \t]*\r?\n?",
                           re.I | re.S)
TAIL_FORMAT = re.compile(r"\s+FORMAT\s+(\w+)\s*;?\s*$", re.I)
CODE = re.compile(r"Code: (\d+)\.")
# ClickHouse's HTTP status per exception code (its exceptionCodeToHTTPStatus).
STATUS = {}
for _s, _codes in ((400, (6, 25, 26, 27, 38, 41, 53, 62, 72, 117, 321, 441)),
                   (401, (192, 193, 194, 516)), (403, (497,)),
                   (404, (46, 47, 50, 56, 60, 63, 73, 81, 115)),
                   (413, (101,)), (501, (48,)), (503, (209,))):
    for _c in _codes:
        STATUS[_c] = _s


class Engine:
    """The one chdb session; every statement holds the lock."""

    def __init__(self, path, log):
        self.lock = threading.Lock()
        self.tmp = os.path.join(path, "chdb_http_tmp")
        os.makedirs(self.tmp, exist_ok=True)
        self.sess = chdb_session.Session(path)
        self.version = self._run("SELECT version()", "TabSeparatedRaw").strip()
        self.log = log

    def _run(self, sql, fmt):
        return bytes(self.sess.query(sql, fmt).bytes()).decode()

    def execute(self, sql, data, settings, fmt):
        """Runs sql (with data for an INSERT ... FORMAT) under settings;
        returns the answer's bytes or raises chdb's error."""
        with self.lock:
            done = []
            try:
                for k, v in settings.items():
                    self.sess.query("SET %s = %s" % (ident(k), literal(v)))
                    done.append(k)
                return self._statement(sql, data, fmt)
            finally:
                # The session outlives the request: its settings must not.
                for k in done:
                    self.sess.query("SET %s = DEFAULT" % ident(k))

    def _statement(self, sql, data, fmt):
        if data is None:
            return bytes(self.sess.query(sql, fmt).bytes())
        # The data from a file (INSERT ... FROM INFILE): chdb's streaming
        # inserter (send_insert) reports rows written and drops them when
        # a DEFAULT expression throws, and data inline in the query text
        # ends early at some bytes.
        m = TAIL_FORMAT.search(sql)
        with tempfile.NamedTemporaryFile(dir=self.tmp, suffix=".bin") as f:
            f.write(data)
            f.flush()
            self.sess.query("%s FROM INFILE %s%s" % (
                sql[:m.start()], literal(f.name), sql[m.start():]), fmt)
        return b""

    def note(self, status, settings, sql, secs):
        """One line per request in the log: what the tests check on the wire."""
        if self.log is None:
            return
        line = "%s result=%s ms=%d settings=%s query=%s\n" % (
            time.strftime("%H:%M:%S"), status, secs * 1000,
            "&".join("%s=%s" % kv for kv in sorted(settings.items())),
            " ".join(sql[:300].split()))
        with self.lock:
            self.log.write(line)
            self.log.flush()


def ident(name):
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError("Code: 115. DB::Exception: Unknown setting '%s'. "
                         "(UNKNOWN_SETTING)" % name)
    return name


def literal(v):
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


def split_request(query, body):
    """The statement and, for an INSERT with a FORMAT, its data."""
    if query is not None:
        if re.match(r"\s*INSERT\b", query, re.I):
            if TAIL_FORMAT.search(query):
                return query, body
            return query + " " + body.decode(), None
        return (query + " " + body.decode()) if body else query, None
    m = INSERT_FORMAT.match(body)
    if m is not None:
        # INSERT ... FORMAT X then the data, all in the body.
        return body[:m.end(1)].decode(), body[m.end():]
    return body.decode(), None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    engine = None

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.handle_query(b"")

    def do_POST(self):
        self.handle_query(self.read_body())

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                out += self.rfile.read(n)
                self.rfile.readline()
                if n == 0:
                    return bytes(out)
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def reply(self, status, body, code=None):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-ClickHouse-Server-Display-Name", "chdb-http")
        if code is not None:
            self.send_header("X-ClickHouse-Exception-Code", str(code))
        self.end_headers()
        self.wfile.write(body)

    def error(self, text):
        m = CODE.search(text)
        code = int(m.group(1)) if m else 1001
        if not m:
            text = "Code: 1001. DB::Exception: %s. (STD_EXCEPTION)" % text
        body = "%s (version %s)\n" % (text.strip(), self.engine.version)
        self.reply(STATUS.get(code, 500), body.encode(), code)
        return code

    def authorised(self, params):
        user, pw = params.get("user", "default"), params.get("password", "")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
        user = self.headers.get("X-ClickHouse-User", user)
        pw = self.headers.get("X-ClickHouse-Key", pw)
        return user == "default" and pw == ""

    def handle_query(self, body):
        url = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        if url.path in ("/ping", "/") and "query" not in params and not body:
            return self.reply(200, b"Ok.\n")
        if not self.authorised(params):
            return self.error("Code: 516. DB::Exception: default: "
                              "Authentication failed: password is incorrect, "
                              "or there is no user with such name. "
                              "(AUTHENTICATION_FAILED)")
        settings = {k: v for k, v in params.items() if k not in NOT_SETTINGS}
        fmt = params.get("default_format", "TabSeparated")
        t0 = time.monotonic()
        sql, status = params.get("query") or "", 200
        try:
            sql, data = split_request(params.get("query"), body)
            self.reply(200, self.engine.execute(sql, data, settings, fmt))
        except Exception as e:  # chdb's errors carry ClickHouse's text
            status = self.error(str(e))
        self.engine.note(status, settings, sql, time.monotonic() - t0)



def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="the session's data folder")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--log", help="append one line per request here")
    a = ap.parse_args()
    t0 = time.monotonic()
    log = open(a.log, "a", encoding="utf-8") if a.log else None
    Handler.engine = Engine(a.data, log)
    srv = http.server.ThreadingHTTPServer((a.host, a.port), Handler)
    srv.daemon_threads = True

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("chdb_http: ClickHouse %s (chdb %s) on %s:%d, data %s, up in %.2fs"
          % (Handler.engine.version, chdb.__version__, a.host, a.port,
             a.data, time.monotonic() - t0), file=sys.stderr, flush=True)
    srv.serve_forever()
    srv.server_close()
    with Handler.engine.lock:
        Handler.engine.sess.close()
    print("chdb_http: stopped", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
