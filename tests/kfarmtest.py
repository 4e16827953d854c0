"""What kfarm's Python test drivers share: the checks tally, running kfarm, and
the scan of an HTML report for anything it would load from elsewhere.

Each check prints "ok" or "FAIL"; finish() prints "N passed, N failed" last
and returns the exit status (1 on any failure, and when no check ran at all).

A check's condition and detail may be callables (lambdas), called inside
check(): an exception raised while computing the condition fails that check,
with the exception and where it was raised, and the next check still runs.
section() runs a group of checks the same way: an exception outside a check
fails the section (its remaining checks do not run) and the next section runs.
"""
import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ARGS = [a for a in sys.argv[1:] if not a.startswith("-")]
BUILD = os.path.join(TOP, _ARGS[0] if _ARGS else "build")
KFARM = os.path.join(BUILD, "kfarm")


def exception_summary(exc):
    """'KeyError: 'x' (at integration.py:123 in <lambda>, ...)': the exception and its
    innermost frames."""
    tb = traceback.extract_tb(exc.__traceback__)
    here = os.path.dirname(os.path.abspath(__file__))
    # the innermost frame, then the innermost ones of the tests themselves
    frames = tb[-1:] + [f for f in reversed(tb[:-1]) if os.path.dirname(os.path.abspath(f.filename)) == here
                        and f.name != "check" and f.name != "section"][:2]
    where = ", ".join(f"{os.path.basename(f.filename)}:{f.lineno} in {f.name}" for f in frames)
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return f"{text} (at {where})" if where else text


class Checks:
    """A tally of checks, printed to out (sys.stdout when None)."""

    def __init__(self, out=None):
        self.passed = self.failed = 0
        self.out = out

    def _print(self, line):
        print(line, file=self.out or sys.stdout, flush=True)

    def check(self, name, cond, detail=""):
        error = None
        try:
            ok = bool(cond() if callable(cond) else cond)
        except Exception as exc:  # the check could not be computed: it failed
            ok, error = False, exception_summary(exc)
        if ok:
            self.passed += 1
            self._print(f"ok   {name}")
            return True
        try:
            d = detail() if callable(detail) else detail
        except Exception as exc:
            d = f"(the detail raised {exception_summary(exc)})"
        text = str(d)[-3000:]
        if error:
            text = f"raised {error}" + (f"; {text}" if text else "")
        self.failed += 1
        self._print(f"FAIL {name} {text}")
        return False

    def section(self, name, fn, *args):
        """fn(*args); an exception it lets out is a failed check, and the caller goes on."""
        try:
            fn(*args)
            return True
        except Exception as exc:
            self.failed += 1
            self._print(f"FAIL {name}: stopped, its remaining checks not run: {exception_summary(exc)}")
            return False

    def finish(self):
        if self.passed + self.failed == 0:
            self._print("no check ran")
            self.failed = 1
        self._print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


checks = Checks()  # the tally of the process, which check(), section() and finish() use
check = checks.check
section = checks.section
finish = checks.finish


def kfarm(*args, timeout=3600):
    """Runs build/kfarm as CI would (no progress bars); returns (process, seconds)."""
    t0 = time.monotonic()
    p = subprocess.run([KFARM, *args], capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, CI="true"))
    dt = time.monotonic() - t0
    print(f"  $ kfarm {' '.join(args)}  -> exit {p.returncode} in {dt:.1f} s", flush=True)
    return p, dt


def run_in_tmp(run_tests, prefix):
    """Calls run_tests(tmp) in a fresh folder, removed afterwards; the exit status.
    An exception run_tests lets out is a failed check."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        section(run_tests.__name__, run_tests, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


# The only URIs a self-contained page may name, and only as xmlns attribute values.
NAMESPACES = ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xhtml", "http://www.w3.org/1999/xlink")
# Attributes whose value the browser loads or links to.
URL_ATTRS = {"src", "href", "srcset", "action", "formaction", "poster", "data", "background", "xlink:href",
             "ping", "manifest", "cite", "longdesc", "codebase", "archive", "lowsrc", "dynsrc", "icon",
             "imagesrcset"}
_SCHEME = re.compile(r"(?i)\b(?:https?|ftp|wss?|file|gopher):|\b[a-z][a-z0-9+.-]*://")
_JS_STRING_PROTOCOL_RELATIVE = re.compile(r"""["'`]\s*//[^/\s"'`]""")
_JS_URL_PROP = re.compile(r"""(?i)\.(src|href|action|srcset|data)\s*=\s*(["'`])(?!#|data:)""")
_JS_NETWORK = re.compile(r"\b(?:fetch|importScripts|sendBeacon|window\.open)\s*\(|\bimport\s*\(|"
                         r"\bnew\s+(?:XMLHttpRequest|WebSocket|EventSource|Worker|SharedWorker)\b|"
                         r"\bsetAttribute(?:NS)?\s*\([^)]*\b(?:src|href)\b")
# The same without fetch() and EventSource: a page its own server serves may
# call that server's API (external_refs' same_origin).
_JS_NETWORK_SAME_ORIGIN = re.compile(r"\b(?:importScripts|sendBeacon|window\.open)\s*\(|\bimport\s*\(|"
                                     r"\bnew\s+(?:XMLHttpRequest|WebSocket|Worker|SharedWorker)\b|"
                                     r"\bsetAttribute(?:NS)?\s*\([^)]*\b(?:src|href)\b")
_CSS_URL = re.compile(r"""(?i)\burl\(\s*(["']?)\s*([^"')]*)""")
_CSS_IMPORT = re.compile(r"(?i)@import\b")


def _local(value):
    value = value.strip().strip("\"'").strip()
    return value.startswith("#") or value.lower().startswith("data:")


def _relative(value):
    """A URL path of the page's own origin: no scheme (no colon at all), no //host."""
    value = value.strip()
    return not value.startswith("//") and not re.search(r"[:\\\s]", value)


class _RefScanner(html.parser.HTMLParser):
    def __init__(self, same_origin=False):
        super().__init__(convert_charrefs=True)
        self.same_origin = same_origin
        self.problems = []
        self.tag = None
        self.tag_attrs = {}

    def bad(self, what, text):
        line, col = self.getpos()
        self.problems.append(f"line {line}: {what}: {text[:160]!r}")

    def urls(self, where, text):
        for m in _SCHEME.finditer(text):
            self.bad(f"a URL ({m.group(0)}) in {where}", text[max(0, m.start() - 40):m.end() + 60])

    def css(self, where, text):
        self.urls(where, text)
        for m in _CSS_URL.finditer(text):
            if not _local(m.group(2)):
                self.bad(f"a CSS url() in {where} to something not a data: URI or a fragment", m.group(0))
        for m in _CSS_IMPORT.finditer(text):
            self.bad(f"a CSS @import in {where}", text[m.start():m.start() + 80])

    def js(self, where, text):
        self.urls(where, text)
        network = _JS_NETWORK_SAME_ORIGIN if self.same_origin else _JS_NETWORK
        for rx, what in ((_JS_STRING_PROTOCOL_RELATIVE, "a protocol-relative URL"),
                         (_JS_URL_PROP, "a src/href set to something not a data: URI or a fragment"),
                         (network, "a network call")):
            for m in rx.finditer(text):
                if rx is _JS_URL_PROP and self.same_origin and m.group(1).lower() == "href":
                    end = text.find(m.group(2), m.end())
                    if end >= 0 and _relative(text[m.end():end]):
                        continue  # a link to a path of the page's own origin
                self.bad(f"{what} in {where}", text[max(0, m.start() - 40):m.end() + 40])

    def handle_starttag(self, tag, attrs):
        self.tag, self.tag_attrs = tag, dict(attrs)
        for name, value in attrs:
            value = value or ""
            where = f"<{tag} {name}=>"
            if name == "xmlns" or name.startswith("xmlns:"):
                if value not in NAMESPACES:
                    self.bad(f"{where}: not the SVG, XHTML or XLink namespace", value)
                continue
            if name in URL_ATTRS:
                parts = [v.split()[0] for v in value.split(",") if v.strip()] if "srcset" in name else [value]
                for v in parts:
                    if not _local(v) and not (self.same_origin and name == "href" and _relative(v)):
                        self.bad(f"{where} to something not a data: URI or a fragment", value)
            if name == "style":
                self.css(where, value)
            elif name.startswith("on"):
                self.js(where, value)
            else:
                self.urls(where, value)
            if name == "http-equiv" and value.strip().lower() == "refresh":
                self.bad(f"{where}: a meta refresh", value)

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        if self.tag == "style":
            self.css("<style>", data)
        elif self.tag == "script":
            kind = (self.tag_attrs.get("type") or "").strip().lower()
            if kind in ("application/json", "application/ld+json"):
                self.urls("<script type=%s>" % kind, data)
            else:
                self.js("<script>", data)
        else:
            self.urls("the text", data)

    def handle_endtag(self, tag):
        self.tag, self.tag_attrs = None, {}

    def handle_comment(self, data):
        self.urls("a comment", data)

    def handle_decl(self, decl):
        self.urls("a declaration", decl)

    def handle_pi(self, data):
        self.urls("a processing instruction", data)

    def unknown_decl(self, data):
        self.urls("a declaration", data)


def external_refs(text, same_origin=False):
    """What in an HTML page would load or name something outside it: any http:,
    https: (or other scheme) URL anywhere, a src/href/... attribute or a CSS
    url() that is not a data: URI or a #fragment, a protocol-relative //host in
    a script's strings, @import, a meta refresh, a network call in a script.
    The SVG, XHTML and XLink namespace URIs are allowed as xmlns attribute
    values only. [] when there is none.

    same_origin: the page is served by the server whose API it reads (kfarmd's
    GET /): fetch() and EventSource are allowed, and so are links (an href
    attribute, or a script's .href = '...') to a relative path, without a scheme
    or a //host. Everything else stays refused: a URL with a scheme, a src, any
    other network call."""
    p = _RefScanner(same_origin)
    p.feed(text)
    p.close()
    return p.problems
