#!/usr/bin/python3
"""A misbehaving HTTP server for kfarm's fetch tests (stdlib only).

Usage: http-server.py [--size N] [--dir DIR]
Listens on 127.0.0.1, port 0; prints the port on stdout, then serves:

  /good/NAME        the test blob (a fake bzImage of --size bytes), Range supported
  /cut/NAME         the first request gets half the blob and a closed connection
                    (Content-Length says all of it); later ones support Range
  /cut-norange/NAME as /cut, but Range is ignored (200 with the whole blob)
  /stall/NAME       headers and 1000 bytes (from the Range's start), then nothing for 60 s
  /redirect/NAME    302 to /good/NAME
  /flaky/NAME       503 twice (per path), then the blob
  /files/NAME       a file from --dir, with an ETag (of its content) and a
                    Last-Modified (its mtime); a conditional request (If-None-Match,
                    else If-Modified-Since) that matches gets 304 and no body.
                    Replacing the file switches what is served. While NAME.fail
                    exists in --dir, the answer is 500.
  /mtime/NAME       as /files, with Last-Modified only
  /bare/NAME        as /files, with no validator (and never 304)
  /stats            JSON: {path: [Range header or null, ...]} of every request
  /log              JSON: [{path, range, if_none_match, if_modified_since, status,
                    body}, ...] of every request before it (body: bytes of body sent)
  anything else     404

The blob: byte i is (i * 31 + (i >> 8)) & 0xff, with "HdrS" at 0x202, one
setup sector (0x1f1) and the rest as syssize (0x1f4) so that it passes kfarm's
kernel image check. A test computes the same bytes.
"""
import argparse
import email.utils
import hashlib
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def blob(n):
    b = bytearray((i * 31 + (i >> 8)) & 0xFF for i in range(n))
    if n >= 0x210:
        b[0x202:0x206] = b"HdrS"
        # one sector of setup, the rest protected-mode code (syssize, in
        # 16-byte paragraphs): the header's sizes say the file is whole
        b[0x1F1] = 1
        b[0x1F4:0x1F8] = ((n - 1024 + 15) // 16).to_bytes(4, "little")
    return bytes(b)


class Counting:
    """A write file that counts what goes through it."""

    def __init__(self, f):
        self.f = f
        self.n = 0

    def write(self, b):
        self.n += len(b)
        return self.f.write(b)

    def __getattr__(self, name):
        return getattr(self.f, name)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    data = b""
    files = None
    stats = {}
    log = []
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        sys.stderr.write("http-server: " + (fmt % args) + "\n")

    def setup(self):
        super().setup()
        self.wfile = Counting(self.wfile)

    def send_response(self, code, message=None):
        self.status = code
        super().send_response(code, message)

    def end_headers(self):
        super().end_headers()
        self.body_start = self.wfile.n

    def record(self):
        with self.lock:
            self.stats.setdefault(self.path, []).append(self.headers.get("Range"))
            return len(self.stats[self.path])

    def send_blob(self, body, ranges=True, extra=()):
        rng = self.headers.get("Range") if ranges else None
        m = re.match(r"bytes=(\d+)-$", rng or "")
        if m:
            start = int(m.group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            part = body[start:]
        else:
            self.send_response(200)
            part = body
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes" if ranges else "none")
        self.send_header("Content-Length", str(len(part)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(part)

    def send_file(self, path, etag, last_modified):
        """A file with validators; 304 to a conditional request that matches."""
        if os.path.exists(path + ".fail"):
            body = b"broken on purpose\n"
            self.send_response(500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        with open(path, "rb") as f:
            body = f.read()
        extra = []
        if etag:
            extra.append(("ETag", '"%s"' % hashlib.sha256(body).hexdigest()[:16]))
        if last_modified:
            mtime = int(os.stat(path).st_mtime)
            extra.append(("Last-Modified", email.utils.formatdate(mtime, usegmt=True)))
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if etag and inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            fresh = "*" in tags or extra[0][1] in tags
        elif last_modified and ims is not None:
            try:
                fresh = mtime <= email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                fresh = False
        else:
            fresh = False
        if fresh:
            self.send_response(304)
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            return
        self.send_blob(body, extra=extra)

    def do_GET(self):
        entry = {"path": self.path, "range": self.headers.get("Range"),
                 "if_none_match": self.headers.get("If-None-Match"),
                 "if_modified_since": self.headers.get("If-Modified-Since")}
        self.status = None
        self.body_start = self.wfile.n
        try:
            self.serve()
        finally:
            entry["status"] = self.status
            entry["body"] = self.wfile.n - self.body_start
            with self.lock:
                self.log.append(entry)

    def serve(self):
        n = self.record()
        parts = self.path.split("/")
        mode = parts[1] if len(parts) > 2 else self.path.strip("/")
        if self.path in ("/stats", "/log"):
            with self.lock:
                body = json.dumps(self.stats if self.path == "/stats" else self.log).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif mode == "good":
            self.send_blob(self.data)
        elif mode in ("cut", "cut-norange"):
            if n == 1:
                self.send_response(200)
                self.send_header("Content-Length", str(len(self.data)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                self.wfile.write(self.data[: len(self.data) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
            else:
                self.send_blob(self.data, ranges=(mode == "cut"))
        elif mode == "stall":
            m = re.match(r"bytes=(\d+)-$", self.headers.get("Range") or "")
            start = int(m.group(1)) if m else 0
            self.send_response(206 if m else 200)
            if m:
                self.send_header("Content-Range", f"bytes {start}-{len(self.data) - 1}/{len(self.data)}")
            self.send_header("Content-Length", str(len(self.data) - start))
            self.end_headers()
            self.wfile.write(self.data[start:start + 1000])
            self.wfile.flush()
            time.sleep(60)
            self.close_connection = True
        elif mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "/good/" + "/".join(parts[2:]))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif mode == "flaky" and n <= 2:
            body = b"try again later\n"
            self.send_response(503)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif mode == "flaky":
            self.send_blob(self.data)
        elif mode in ("files", "mtime", "bare") and self.files and ".." not in parts:
            path = os.path.join(self.files, *parts[2:])
            if os.path.isfile(path):
                self.send_file(path, mode == "files", mode != "bare")
                return
            self.send_error(404)
        else:
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=300000)
    ap.add_argument("--dir")
    a = ap.parse_args()
    Handler.data = blob(a.size)
    Handler.files = a.dir
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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
