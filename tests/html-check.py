#!/usr/bin/python3
"""Open diff.html in headless Chromium and click through it like a reader.

usage: /usr/bin/python3 tests/html-check.py DIFF_HTML [--screenshot PNG]

Drives Debian's /usr/bin/chromium (or $CHROMIUM) over the DevTools protocol
(tests/cdp.py, standard library only): loads the page from a file:// URL,
checks that the matrix rendered (a row per scenario, a coloured cell per
(scenario, smp)), clicks cells with real mouse events
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
import json
import os
import sys
import tempfile

from cdp import connect, start_browser, stop_browser
from kfarmtest import Checks, external_refs


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
        dt = connect(port)
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
            t.check("a screenshot is taken", lambda: dt.screenshot(shot) > 1000)
        requests = [ev["params"]["request"]["url"] for ev in dt.events
                    if ev["method"] == "Network.requestWillBeSent"]
        # The page's own request shows that requests are seen at all.
        t.check("no request but the page itself", lambda: url in requests and all(u == url for u in requests),
                requests)
    finally:
        stop_browser(proc, profile)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
