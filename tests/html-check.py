#!/usr/bin/python3
"""Open diff.html in headless Chromium and click through it like a reader.

usage: /usr/bin/python3 tests/html-check.py DIFF_HTML [--screenshot PNG]

Drives Debian's /usr/bin/chromium (or $CHROMIUM) over the DevTools protocol
(a minimal WebSocket client below, standard library only): loads the page from
a file:// URL, checks that the matrix rendered (a row per scenario, a
coloured cell per (scenario, smp)), clicks cells with real mouse events
(Input.dispatchMouseEvent at the cell's position) and checks the detail panel:
both sides' observations side by side with the differing fields highlighted,
the replay command, and the console excerpt of a crashed guest. Checks too that
the page names nothing outside itself (kfarmtest.external_refs) and requested
nothing but itself (no network at view time). A check whose JavaScript throws
fails, and the next one runs.

The expectations are those of the test fixture (orchestrator/tests/data/diff/
run-a.json, k-old vs k-new). Prints "N passed, N failed" last; exits 0 when
all passed, 1 otherwise, 2 when Chromium cannot be driven.
"""
import base64
import http.client
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

from kfarmtest import Checks, external_refs

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000"]


class WebSocket:
    """Just enough RFC 6455 for the DevTools protocol: text frames, client masked."""

    def __init__(self, host, port, path):
        self.sock = socket.create_connection((host, port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n" % (path, host, port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise OSError("websocket handshake: connection closed")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise OSError("websocket handshake refused: %r" % head.split(b"\r\n")[0])

    def _recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise OSError("websocket closed")
            buf += chunk
        return buf

    def send(self, text):
        data = text.encode()
        head = bytes([0x81])
        if len(data) < 126:
            head += bytes([0x80 | len(data)])
        elif len(data) < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", len(data))
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", len(data))
        mask = os.urandom(4)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._recv(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._recv(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._recv(8))[0]
            payload = self._recv(n)
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise OSError("websocket closed by the browser")
            if opcode in (0x9, 0xA):
                continue
            message += payload
            if b0 & 0x80:
                return message.decode()


class DevTools:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for i, ev in enumerate(self.events):
                if ev["method"] == method:
                    return self.events.pop(i)
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)
        raise TimeoutError(method)

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def click(self, selector):
        """A real click: mouse press and release at the element's centre."""
        rect = self.js("(function(){var e=document.querySelector(%s);if(!e)return null;"
                       "e.scrollIntoView({block:'center'});var r=e.getBoundingClientRect();"
                       "return [r.x+r.width/2,r.y+r.height/2];})()" % json.dumps(selector))
        if rect is None:
            raise RuntimeError("no element %s" % selector)
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=rect[0], y=rect[1],
                      button="left", clickCount=1 if kind != "mouseMoved" else 0)


def start_browser(profile):
    proc = subprocess.Popen([CHROMIUM] + FLAGS + ["--user-data-dir=" + profile,
                                                  "--remote-debugging-port=0", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    portfile = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise OSError("chromium exited with %d" % proc.returncode)
        if os.path.exists(portfile):
            with open(portfile) as f:
                lines = f.read().split("\n")
            if lines and lines[0].strip().isdigit():
                return proc, int(lines[0])
        time.sleep(0.1)
    raise TimeoutError("chromium gave no DevTools port within 60 s")


def page_target(port):
    deadline = time.time() + 30
    while time.time() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/json/list")
        targets = json.loads(conn.getresponse().read())
        conn.close()
        for t in targets:
            if t.get("type") == "page":
                return t["webSocketDebuggerUrl"]
        time.sleep(0.2)
    raise TimeoutError("no page target")


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    html = os.path.abspath(argv[1])
    shot = argv[argv.index("--screenshot") + 1] if "--screenshot" in argv else None
    url = "file://" + html
    # A check whose JavaScript throws, or a click that finds no element, fails
    # that check; the next one runs.
    t = Checks()
    with open(html, encoding="utf-8") as f:
        text = f.read()
    t.check("the page names nothing outside itself (no URL, no src/href but data: or #)",
            lambda: not external_refs(text), lambda: "; ".join(external_refs(text)[:8]))

    profile = tempfile.mkdtemp(prefix="kfarm-chromium-")
    proc = None
    try:
        proc, port = start_browser(profile)
        wsurl = page_target(port)
        path = wsurl.split(str(port), 1)[1]
        dt = DevTools(WebSocket("127.0.0.1", port, path))
        dt.call("Page.enable")
        dt.call("Network.enable")
        dt.call("Runtime.enable")
        dt.call("Page.navigate", url=url)
        dt.wait_event("Page.loadEventFired")
    except (OSError, RuntimeError, TimeoutError, ValueError) as exc:
        print("cannot drive chromium: %s" % exc)
        stop_browser(proc, profile)
        return 2
    try:
        def check_js(name, expr, ok):
            """A check on the value of expr in the page (shown when it fails)."""
            got = {}

            def cond():
                got["value"] = dt.js(expr)
                return ok(got["value"])
            t.check(name, cond, lambda: got.get("value", "(not computed)"))

        def click(selector):
            t.check("a click on %s" % selector, lambda: dt.click(selector) is None)

        check_js("matrix has a row per scenario", "document.querySelectorAll('#matrix tbody tr').length",
                 lambda v: v == 10)
        check_js("matrix has a cell per (scenario, smp)",
                 "document.querySelectorAll('#matrix td[data-cell]').length", lambda v: v == 15)
        check_js("matrix columns are the SMP sizes",
                 "Array.from(document.querySelectorAll('#matrix thead th')).map(function(e){return e.textContent})",
                 lambda v: v == ["scenario", "smp 1", "smp 2"])
        check_js("cells are coloured by verdict",
                 "[getComputedStyle(document.querySelector('td[data-cell=\"mt-exit-race/1\"]')).backgroundColor,"
                 " getComputedStyle(document.querySelector('td[data-cell=\"sds-same-sig/1\"]')).backgroundColor]",
                 lambda v: v[0] not in (v[1], "rgba(0, 0, 0, 0)") and v[1] != "rgba(0, 0, 0, 0)")
        check_js("detail hidden before a click", "document.getElementById('detail').hidden", lambda v: v is True)

        click('td[data-cell="sds-zero/1"]')
        check_js("click opens the detail panel", "document.getElementById('detail').hidden", lambda v: v is False)
        check_js("side a shows its observation", "document.getElementById('side-a').innerText",
                 lambda v: "running" in v and "k-old" in v)
        check_js("side b shows its observation", "document.getElementById('side-b').innerText",
                 lambda v: "stopped:SIGSTOP" in v and "k-new" in v)
        check_js("differing fields highlighted on both sides",
                 "Array.from(document.querySelectorAll('#detail td.hl')).map(function(e){return e.textContent})",
                 lambda v: v == ["running", "stopped:SIGSTOP"])
        check_js("the two sides are side by side",
                 "(function(){var a=document.getElementById('side-a').getBoundingClientRect(),"
                 "b=document.getElementById('side-b').getBoundingClientRect();"
                 "return [a.left,a.right,a.top,b.left,b.right,b.top];})()",
                 lambda v: v[1] > v[0] and v[4] > v[3] and v[3] >= v[1] - 1 and abs(v[2] - v[5]) < 2)
        check_js("replay command shown", "(document.querySelector('#detail code.replay')||{}).textContent",
                 lambda v: v.startswith("kfarm compare path:") and "--scenarios sds-zero" in v)

        click('td[data-cell="mt-detach-zero-all/2"]')
        check_js("clicking another cell switches the panel", "document.querySelector('#detail h2').textContent",
                 lambda v: "mt-detach-zero-all" in v)
        check_js("console excerpt of the crashed guest",
                 "Array.from(document.querySelectorAll('#side-b pre.console'))"
                 ".map(function(e){return e.textContent}).join('\\n')",
                 lambda v: "Kernel panic - not syncing" in v)

        click('td[data-cell="mt-exit-race/1"]')
        check_js("p-value of a distribution-changed cell, with its Holm adjustment",
                 "(document.querySelector('#detail .pvalue')||{}).textContent",
                 lambda v: v.startswith("p = 4.51e-5") and "holm 1.80e-4 over 4 tested cells" in v)
        check_js("the effect of a distribution-changed cell, with its interval",
                 "(document.querySelector('#detail .effect')||{}).textContent",
                 lambda v: "1.000 \u2192 0.400" in v and "(b - a -0.77 .. -0.32, 95%)" in v)

        if shot:
            def screenshot():
                png = dt.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
                with open(shot, "wb") as f:
                    f.write(base64.b64decode(png["data"]))
                return os.path.getsize(shot) > 1000
            t.check("a screenshot is taken", screenshot)
        requests = [ev["params"]["request"]["url"] for ev in dt.events
                    if ev["method"] == "Network.requestWillBeSent"]
        # The page's own request shows that requests are seen at all.
        t.check("no request but the page itself", lambda: url in requests and all(u == url for u in requests),
                requests)
    finally:
        stop_browser(proc, profile)
    return t.finish()


def stop_browser(proc, profile):
    if proc is not None:
        try:
            os.killpg(proc.pid, 15)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
    shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
