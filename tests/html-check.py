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
the page requested nothing but itself (no network at view time).

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
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + str(detail)) if not ok else ""))

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

        rows = dt.js("document.querySelectorAll('#matrix tbody tr').length")
        cells = dt.js("document.querySelectorAll('#matrix td[data-cell]').length")
        heads = dt.js("Array.from(document.querySelectorAll('#matrix thead th'))"
                      ".map(function(e){return e.textContent})")
        check("matrix has a row per scenario", rows == 10, rows)
        check("matrix has a cell per (scenario, smp)", cells == 15, cells)
        check("matrix columns are the SMP sizes", heads == ["scenario", "smp 1", "smp 2"], heads)
        colour = dt.js("getComputedStyle(document.querySelector("
                       "'td[data-cell=\"mt-exit-race/1\"]')).backgroundColor")
        same = dt.js("getComputedStyle(document.querySelector("
                     "'td[data-cell=\"sds-same-sig/1\"]')).backgroundColor")
        check("cells are coloured by verdict", colour not in (None, same, "rgba(0, 0, 0, 0)"),
              (colour, same))
        check("detail hidden before a click", dt.js("document.getElementById('detail').hidden"))

        dt.click('td[data-cell="sds-zero/1"]')
        check("click opens the detail panel", dt.js("!document.getElementById('detail').hidden"))
        a = dt.js("document.getElementById('side-a').innerText")
        b = dt.js("document.getElementById('side-b').innerText")
        check("side a shows its observation", a and "running" in a and "k-old" in a, a)
        check("side b shows its observation", b and "stopped:SIGSTOP" in b and "k-new" in b, b)
        hl = dt.js("Array.from(document.querySelectorAll('#detail td.hl'))"
                   ".map(function(e){return e.textContent})")
        check("differing fields highlighted on both sides",
              hl == ["running", "stopped:SIGSTOP"], hl)
        side_by_side = dt.js("(function(){var a=document.getElementById('side-a')"
                             ".getBoundingClientRect(),b=document.getElementById('side-b')"
                             ".getBoundingClientRect();return b.left>=a.right-1&&"
                             "Math.abs(a.top-b.top)<2;})()")
        check("the two sides are side by side", side_by_side)
        replay = dt.js("(document.querySelector('#detail code.replay')||{}).textContent")
        check("replay command shown", replay and replay.startswith("kfarm compare path:") and
              "--scenarios sds-zero" in replay, replay)

        dt.click('td[data-cell="mt-detach-zero-all/2"]')
        title = dt.js("document.querySelector('#detail h2').textContent")
        check("clicking another cell switches the panel", "mt-detach-zero-all" in title, title)
        con = dt.js("Array.from(document.querySelectorAll('#side-b pre.console'))"
                    ".map(function(e){return e.textContent}).join('\\n')")
        check("console excerpt of the crashed guest", "Kernel panic - not syncing" in con, con)

        dt.click('td[data-cell="mt-exit-race/1"]')
        pv = dt.js("(document.querySelector('#detail .pvalue')||{}).textContent")
        check("p-value of a distribution-changed cell, with its Holm adjustment",
              pv and pv.startswith("p = 4.51e-5") and "holm 1.80e-4 over 4 tested cells" in pv, pv)
        ef = dt.js("(document.querySelector('#detail .effect')||{}).textContent")
        check("the effect of a distribution-changed cell, with its interval",
              ef and "1.000 \u2192 0.400" in ef and "(b - a -0.77 .. -0.32, 95%)" in ef, ef)

        if shot:
            png = dt.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            with open(shot, "wb") as f:
                f.write(base64.b64decode(png["data"]))
        requests = [ev["params"]["request"]["url"] for ev in dt.events
                    if ev["method"] == "Network.requestWillBeSent"]
        others = [u for u in requests if u != url]
        check("no request but the page itself", not others, others)
    except (OSError, RuntimeError, TimeoutError, ValueError) as exc:
        print("cannot drive chromium: %s" % exc)
        return 2
    finally:
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
    passed = sum(1 for r in results if r)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
