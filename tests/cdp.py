"""A headless Chromium driven over the DevTools protocol, standard library only:
a minimal WebSocket client (RFC 6455, text frames), the protocol's calls and
events, real mouse clicks, and JavaScript dialogs (confirm) answered as a
user would. tests/html-check.py and tests/web-check.py use it.

Drives Debian's /usr/bin/chromium (or $CHROMIUM).
"""
import base64
import http.client
import json
import os
import select
import shutil
import socket
import struct
import subprocess
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

    def ready(self, timeout):
        """Whether a message has begun to arrive within timeout seconds."""
        return bool(select.select([self.sock], [], [], max(0.0, timeout))[0])

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
    """The protocol's calls (call, or send then result) and its events, kept in
    order in self.events until wait_event() takes one."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.events = []
        self.results = {}

    def _read(self, timeout):
        """One message into events or results; False when none came within timeout."""
        if not self.ws.ready(timeout):
            return False
        msg = json.loads(self.ws.recv())
        if "id" in msg:
            self.results[msg["id"]] = msg
        elif "method" in msg:
            self.events.append(msg)
        return True

    def send(self, method, **params):
        """Sends a call without waiting for its answer; its id for result()."""
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        return self.next_id

    def result(self, call_id, method="", timeout=60):
        deadline = time.time() + timeout
        while call_id not in self.results:
            if not self._read(deadline - time.time()) and time.time() >= deadline:
                raise TimeoutError("%s: no answer in %d s" % (method or call_id, timeout))
        msg = self.results.pop(call_id)
        if "error" in msg:
            raise RuntimeError("%s: %s" % (method or call_id, msg["error"]))
        return msg.get("result", {})

    def call(self, method, **params):
        return self.result(self.send(method, **params), method)

    def wait_event(self, method, timeout=30, pred=None):
        """The first event called method (for which pred(params) holds), taken
        out of the events seen; TimeoutError after timeout seconds."""
        deadline = time.time() + timeout
        seen = 0
        while True:
            for i in range(seen, len(self.events)):
                ev = self.events[i]
                if ev["method"] == method and (pred is None or pred(ev.get("params", {}))):
                    return self.events.pop(i)
            seen = len(self.events)
            if time.time() >= deadline:
                raise TimeoutError(method)
            self._read(deadline - time.time())

    def drain(self):
        """Reads the events that have arrived by now."""
        while self._read(0):
            pass

    def js(self, expr, await_promise=False):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True,
                      awaitPromise=await_promise)
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def click(self, selector, on_dialog=None):
        """A real click: mouse press and release at the element's centre.

        A JavaScript dialog (confirm, alert) the click opens is answered by
        on_dialog(params of Page.javascriptDialogOpening), which returns
        whether to accept it (Page.enable must have been called); the dialog's
        message is returned. Without on_dialog, None."""
        rect = self.js("(function(){var e=document.querySelector(%s);if(!e)return null;"
                       "e.scrollIntoView({block:'center'});var r=e.getBoundingClientRect();"
                       "return [r.x+r.width/2,r.y+r.height/2];})()" % json.dumps(selector))
        if rect is None:
            raise RuntimeError("no element %s" % selector)
        ids = []
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            ids.append(self.send("Input.dispatchMouseEvent", type=kind, x=rect[0], y=rect[1],
                                 button="left", clickCount=1 if kind != "mouseMoved" else 0))
            if on_dialog is None:
                self.result(ids[-1], "Input.dispatchMouseEvent")
        if on_dialog is None:
            return None
        # The release may be answered only once the dialog is: wait for
        # the dialog first, answer it, then collect the answers.
        ev = self.wait_event("Page.javascriptDialogOpening", timeout=15)
        accept = bool(on_dialog(ev["params"]))
        self.call("Page.handleJavaScriptDialog", accept=accept)
        for i in ids:
            self.result(i, "Input.dispatchMouseEvent")
        return ev["params"].get("message")

    def screenshot(self, path):
        png = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(png["data"]))
        return os.path.getsize(path)


def start_browser(profile):
    """Chromium with its profile in profile; (process, DevTools port)."""
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
    stop_browser(proc, None)
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


def connect(port):
    """A DevTools session with the browser's page (start_browser's port)."""
    wsurl = page_target(port)
    path = wsurl.split(str(port), 1)[1]
    return DevTools(WebSocket("127.0.0.1", port, path))


def stop_browser(proc, profile):
    """Ends the browser (its process group) and removes its profile."""
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
    if profile:
        shutil.rmtree(profile, ignore_errors=True)
