#!/usr/bin/python3
"""A webhook receiver for kfarm's webhook tests (stdlib only).

Usage: webhook-server.py --log FILE [--port N] [--fail-first N] [--secret S]

Listens on 127.0.0.1:N (N 0, the default: a free port) and prints the port on
stdout. Every request (POST, GET, PUT, DELETE or PATCH, any path) is answered 500 while
fewer than --fail-first requests have come, 204 after. Before it answers, it
appends the request to --log as one JSON line:

  {"n": 1, "time": <time.time()>, "method": "POST", "path": "/hook",
   "headers": {name: value, ...} (names lowercased), "body": "<the body, UTF-8>",
   "signature": X-Kfarm-Signature or null,
   "verified": true|false (X-Kfarm-Signature is "sha256=" + the HMAC-SHA256
               of the raw body under --secret; null without --secret),
   "status": 500|204}

so that a test can read what was delivered once its client has its answer.
"""
import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fail_first = 0
    secret = None
    log = None
    count = 0
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        sys.stderr.write("webhook-server: " + (fmt % args) + "\n")

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        sig = self.headers.get("X-Kfarm-Signature")
        verified = None
        if self.secret is not None:
            want = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
            verified = sig is not None and hmac.compare_digest(want, sig)
        with self.lock:
            Handler.count += 1
            n = Handler.count
            status = 500 if n <= self.fail_first else 204
            rec = {
                "n": n,
                "time": time.time(),
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
                "signature": sig,
                "verified": verified,
                "status": status,
            }
            with open(self.log, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec) + "\n")
        if status == 500:
            text = f"failing request {n} of the first {self.fail_first}\n".encode()
            self.send_response(500)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)
        else:
            self.send_response(204)
            self.end_headers()

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--secret")
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    Handler.fail_first = a.fail_first
    Handler.secret = a.secret
    Handler.log = a.log
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    sys.stdout.write(f"{srv.server_address[1]}\n")
    sys.stdout.flush()
    # The reader may go once it has the port.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
