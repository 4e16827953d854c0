#!/usr/bin/python3
"""web-check.py [BUILD] - kfarmd's page for people (GET /, orchestrator/web.c)
in headless Chromium, against a real kfarmd with real guests.

A kfarmd on a loopback port with a temporary state directory takes four
comparisons over HTTP: one that runs to done (its progress bar seen to move,
from its events stream), one queued behind it (done later), one cancelled with
the page's Cancel button (a confirm answered through the DevTools protocol;
first dismissed on another job, which stays queued) and one cancelled over the
API while its confirm is open, whose 409 the page shows; then a run, cancelled,
for the kind filter. The page is driven as in tests/html-check.py (tests/cdp.py:
real mouse events at an element's position): the tables' rows, order and
states, the progress bar, a click on a row opens the job's fields below it,
the chart has a bar per done job, the artefact links answer (diff.html opened
by a click), the kind filter. No JavaScript exception, no
Content-Security-Policy violation, no request but to kfarmd, and nothing
outside it named in the page (kfarmtest.external_refs with same_origin, which
must still refuse a doctored copy). A second kfarmd with a token: the page
(the token added to its own request only) shows the API's 401 error. A
screenshot goes to BUILD/web.png. Prints "N passed, N failed" last.
"""
import json
import os
import re
import sys
import tempfile
import time

import cdp
from daemon import Daemon
from kfarmtest import BUILD, check, external_refs, run_in_tmp, section

KFARMD = os.path.join(BUILD, "kfarmd")
# The job that runs first: three cells, enough repetitions that its progress
# is seen to move.
LONG = {"kind": "compare", "a": "debian-6.1", "b": "debian-6.12", "smp": [1], "reps": 30,
        "boots": 1, "scenarios": ["sds-zero", "mt-detach-one", "detach-vs-sigkill"]}
QUICK = {"kind": "compare", "a": "debian-6.1", "b": "debian-6.12", "smp": [1], "reps": 2,
         "boots": 1, "scenarios": ["sds-zero"]}
TOKEN = "web-check-token-0123456789"


def write_config(tmp):
    path = os.path.join(tmp, "config.json")
    with open(path, "w") as f:
        json.dump({"kernels": [{"name": "debian-6.1", "deb": "linux-image-amd64"},
                               {"name": "debian-6.12", "deb": "linux-image-6.12-amd64"}],
                   "accel": "tcg", "smp": [1], "reps": 2, "boots": 1, "timeout_ms": 10000,
                   "scenarios": "sds-zero"}, f)
    return path


class Page:
    """The browser's tab and what it saw."""

    def __init__(self, dt):
        self.dt = dt

    def js(self, expr, await_promise=False):
        return self.dt.js(expr, await_promise)

    def wait(self, expr, ok, timeout=30):
        """Polls expr in the page until ok(value); the last value."""
        t0 = time.monotonic()
        while True:
            v = self.js(expr)
            if ok(v) or time.monotonic() - t0 > timeout:
                return v
            time.sleep(0.3)

    def open(self, url):
        self.dt.call("Page.navigate", url=url)
        self.dt.wait_event("Page.loadEventFired")

    def rows(self, table):
        """[[job id, state, text of each cell]] of a jobs table, in order."""
        return self.js("Array.from(document.querySelectorAll('#%s tbody tr[data-job]')).map(function(r){"
                       "return [r.getAttribute('data-job'), r.querySelector('.state').textContent]"
                       ".concat(Array.from(r.cells).map(function(c){return c.textContent}))})" % table)

    def states(self, table):
        return {r[0]: r[1] for r in self.rows(table)}

    def take(self, method):
        """The params of the events called method seen so far, which are forgotten."""
        self.dt.drain()
        out = [ev["params"] for ev in self.dt.events if ev["method"] == method]
        self.dt.events = [ev for ev in self.dt.events if ev["method"] != method]
        return out

    def click(self, selector, on_dialog=None):
        """A real click (cdp.DevTools.click); None, or the dialog's message."""
        return self.dt.click(selector, on_dialog)

    def conduct(self, where, origin):
        """Checks of what the page did since the last: no exception, no CSP
        violation, no request but to origin."""
        exc = [e["exceptionDetails"].get("exception", {}).get("description") or e["exceptionDetails"]["text"]
               for e in self.take("Runtime.exceptionThrown")]
        check(f"no JavaScript exception {where}", not exc, exc[:3])
        csp = [p["entry"]["text"] for p in self.take("Log.entryAdded")
               if "Content Security Policy" in p["entry"].get("text", "")]
        check(f"no Content-Security-Policy violation {where}", not csp, csp[:3])
        urls = [p["request"]["url"] for p in self.take("Network.requestWillBeSent")]
        check(f"no request but to kfarmd {where}",
              lambda: urls and all(u.startswith(origin + "/") for u in urls),
              sorted(set(urls))[:10])
        return urls


def web_tests(tmp):
    cfg = write_config(tmp)
    d = Daemon(tmp, "state", ["--workers", "1"], config=cfg).start()
    profile = tempfile.mkdtemp(prefix="kfarm-chromium-", dir=tmp)
    proc = None
    try:
        section("the page as served", served, d)
        proc, port = cdp.start_browser(profile)
        dt = cdp.connect(port)
        for domain in ("Page", "Network", "Runtime", "Log"):
            dt.call(domain + ".enable")
        page = Page(dt)
        jobs = {}
        section("the page with jobs", with_jobs, d, page, jobs)
        urls = page.conduct("on the page", f"http://127.0.0.1:{d.port}")
        check("the page polled the API and followed the running jobs' events",
              lambda: any("/v1/jobs?" in u for u in urls) and
              f"http://127.0.0.1:{d.port}/v1/jobs/{jobs['a']}/events" in urls, sorted(set(urls))[:10])
        section("diff.html from its link", diff_link, d, page, jobs)
        section("the page without the token", without_token, tmp, cfg, page)
    finally:
        cdp.stop_browser(proc, profile)
        rc = d.stop()
        check("kfarmd exits 0 on SIGTERM", rc == 0, (rc, d.logtext()))


def served(d):
    st, text, r = d.call("GET", "/", raw=True)
    page = text.decode()
    check("GET /: 200, an HTML page", st == 200 and r.getheader("Content-Type", "").startswith("text/html")
          and page.startswith("<!DOCTYPE html>"), (st, page[:200]))
    check("the page names nothing outside kfarmd (external_refs, same_origin)",
          lambda: not external_refs(page, same_origin=True),
          lambda: external_refs(page, same_origin=True)[:8])
    check("its API calls are what same_origin allows (without it, fetch() is refused)",
          lambda: any("network call" in p for p in external_refs(page)), lambda: external_refs(page))
    doctored = page.replace("</script>", "fetch('https://example.org/x'); new WebSocket(u);"
                            "a.href = 'javascript:x()';</script>") + '<img src="v1/x"><a href="//h/">'
    check("same_origin still refuses a URL, a WebSocket, a javascript: link, a src and a //host",
          lambda: len(external_refs(doctored, same_origin=True)) >= 5,
          lambda: external_refs(doctored, same_origin=True))
    m = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    check("a Content-Security-Policy: nothing but inline style and script, and kfarmd for the API",
          lambda: [p.strip() for p in m.group(1).split(";")] ==
          ["default-src 'none'", "style-src 'unsafe-inline'", "script-src 'unsafe-inline'",
           "connect-src 'self'"], m and m.group(0))
    check("the script puts no markup from data into the page (no innerHTML, outerHTML, "
          "insertAdjacentHTML, document.write)",
          not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", page))


def submit(d, rq):
    st, ans, _ = d.call("POST", "/v1/jobs", rq)
    if st != 201:
        raise RuntimeError(f"POST /v1/jobs: {st} {ans}")
    return ans["id"]


def with_jobs(d, page, jobs):
    origin = f"http://127.0.0.1:{d.port}"
    page.open(origin + "/")
    v = page.wait("['active-empty', 'history-empty', 'status', 'poll-error'].map(function(id){"
                  "var e=document.getElementById(id);return id == 'status' ? e.textContent : e.hidden})",
                  lambda v: v[2].startswith("0 jobs"))
    check("no job yet: both tables say so, no error", v == [False, False, v[2], True], v)

    a = jobs["a"] = submit(d, LONG)
    b = submit(d, QUICK)
    c = submit(d, QUICK)
    e = submit(d, QUICK)
    print(f"  jobs: a {a} (runs), b {b} (queued, runs next), c {c} (cancelled on the page), "
          f"e {e} (cancelled under the page's feet)")
    # Everything the page renders of job a's progress, as it renders it.
    page.js("(function(){window.kfSeen=[];var last=null;function rec(){"
            "var r=document.querySelector('#active tr[data-job=\"%s\"]');if(!r)return;"
            "var v=[r.querySelector('.state').textContent,r.querySelector('.ptext').textContent,"
            "r.querySelector('.fill').style.width].join('|');if(v!==last){window.kfSeen.push(v);last=v;}}"
            "new MutationObserver(rec).observe(document.getElementById('active'),"
            "{subtree:true,childList:true,characterData:true,attributes:true});rec();})()" % a)
    want = {a: "running", b: "queued", c: "queued", e: "queued"}
    got = page.wait("Array.from(document.querySelectorAll('#active tbody tr[data-job] .state'))"
                    ".map(function(s){return s.textContent})",
                    lambda v: len(v) == 4 and v[0] == "running", 15)
    rows = page.rows("active")
    check("queued and running: a row per job, the running one first, then the queue in order",
          lambda: [r[0] for r in rows] == [a, b, c, e] and {r[0]: r[1] for r in rows} == want, (got, rows))
    check("the rows show id, kind, kernels and created time",
          lambda: rows[1][2] == b and rows[1][3] == "compare" and rows[1][4] == "debian-6.1 vs debian-6.12"
          and re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", rows[1][6]), rows[1:2])
    check("a queued job says where it is in the queue",
          lambda: [r[8] for r in rows[1:]] == ["next in the queue", "queued, 1 ahead", "queued, 2 ahead"],
          rows)
    check("the history is empty while nothing ended",
          lambda: page.js("document.querySelectorAll('#history tbody tr[data-job]').length") == 0)

    check("a click on a row", lambda: page.click(f'#active tr[data-job="{a}"] td.id') is None)
    v = page.js("[document.getElementById('detail').hidden, document.querySelector('#detail h2').textContent,"
                "Array.from(document.querySelectorAll('#detail tr[data-field]')).map(function(r){"
                "return r.getAttribute('data-field')}),"
                "document.querySelector('#detail pre.request').textContent,"
                "document.querySelector('#active tr.selected').getAttribute('data-job'),"
                "document.querySelector('#active tr.selected').nextElementSibling.contains("
                "document.getElementById('detail'))]")
    check("a click on a row opens the detail panel below it, with that job's id and fields",
          lambda: v[0] is False and a in v[1] and {"state", "kind", "created", "kernels"} <= set(v[2]) and
          v[4] == a and v[5] is True, v)
    check("the panel shows the job's request as JSON", lambda: json.loads(v[3]) == LONG, v[3])

    # Cancel on e, dismissed: e stays queued.
    msgs = []
    msg = page.click(f'#active tr[data-job="{e}"] button.cancel', on_dialog=lambda p: msgs.append(p) or False)
    time.sleep(2.5)
    st, job, _ = d.call("GET", f"/v1/jobs/{e}")
    check("Cancel asks first (a confirm naming the job); dismissed, the job stays queued",
          lambda: msgs[0]["type"] == "confirm" and e in msg and job["state"] == "queued" and
          page.states("active").get(e) == "queued", (msgs, job.get("state"), page.states("active")))

    # Cancel on c, accepted: cancelled, in the history.
    msg = page.click(f'#active tr[data-job="{c}"] button.cancel', on_dialog=lambda p: True)
    hist = page.wait("Array.from(document.querySelectorAll('#history tbody tr[data-job]')).map(function(r){"
                     "return [r.getAttribute('data-job'), r.querySelector('.state').textContent]})",
                     lambda h: [c, "cancelled"] in h, 10)
    st, job, _ = d.call("GET", f"/v1/jobs/{c}")
    check("Cancel on a queued job, confirmed: cancelled, and the page shows it so",
          lambda: c in msg and job["state"] == "cancelled" and [c, "cancelled"] in hist and
          c not in page.states("active"), (msg, job.get("state"), hist))
    check("a cancelled job has its log but no diff.html link",
          lambda: page.js("Array.from(document.querySelectorAll('#history tr[data-job=\"%s\"] a'))"
                          ".map(function(a){return a.textContent})" % c) in ([], ["run.json", "kfarm.log"]))

    # Cancel on e, confirmed only after the API cancelled it: the page shows the 409.
    def cancel_first(p):
        cancel_first.st = d.call("DELETE", f"/v1/jobs/{e}")[0]
        return True
    page.click(f'#active tr[data-job="{e}"] button.cancel', on_dialog=cancel_first)
    st, again, _ = d.call("DELETE", f"/v1/jobs/{e}")
    err = page.wait("(function(){var p=document.getElementById('action-error');"
                    "return p.hidden ? null : p.textContent})()", lambda t: t, 10)
    check("an API error is shown as the API gave it: the 409 of cancelling an ended job",
          lambda: cancel_first.st == 202 and st == 409 and "HTTP 409" in err and again["error"] in err and
          "field: id" in err, (cancel_first.st, again, err))
    page.wait("document.querySelectorAll('#history tr[data-job=\"%s\"]').length" % e, lambda n: n == 1, 10)
    check("the job cancelled elsewhere shows cancelled", lambda: page.states("history").get(e) == "cancelled",
          page.rows("history"))
    check("the error can be dismissed", lambda: page.click("#action-error button") is None and
          page.js("document.getElementById('action-error').hidden"))

    job = page.wait("(function(){var r=document.querySelector('#history tr[data-job=\"%s\"]');"
                    "return r && r.querySelector('.state').textContent})()" % a, lambda s: s, 300)
    seen = page.js("window.kfSeen")
    print(f"  job a ended {job}; the page showed its progress as: {seen}")
    running = [s.split("|") for s in seen if s.startswith("running|")]
    shown = [(int(m.group(1)), int(m.group(2)), w) for _, t, w in running
             for m in [re.match(r"cells (\d+)/(\d+), guests \d+/\d+$", t)] if m]
    check("job a ends done", job == "done", job)
    check("the running job showed its progress as cells done/total, its bar as wide",
          lambda: shown and all(t == 2 * len(LONG["scenarios"]) and w == "%d%%" % round(n * 100 / t)
                                for n, t, w in shown), running)
    check("its progress bar moved", lambda: len({n for n, _, _ in shown}) >= 2, running)

    st, ja, _ = d.call("GET", f"/v1/jobs/{a}")
    r = page.js("(function(){var r=document.querySelector('#history tr[data-job=\"%s\"]');"
                "return [Array.from(r.querySelectorAll('.chips span')).map(function(s){"
                "return s.textContent}), Array.from(r.querySelectorAll('a')).map(function(x){"
                "return [x.textContent, x.href]})]})()" % a)
    want_chips = [f"{n} {k}" for k, n in ja["summary"].items() if n > 0]
    check("the done job's row: its verdict counts", lambda: sorted(r[0]) == sorted(want_chips) and
          sum(int(x.split()[0]) for x in r[0]) == len(LONG["scenarios"]), (r, ja.get("summary")))
    check("and links to its diff.html, run.json and kfarm.log (relative: this origin)",
          lambda: r[1] == [[f, f"{origin}/v1/jobs/{a}/{f}"] for f in ("diff.html", "run.json", "kfarm.log")],
          r[1])
    got = page.js("Promise.all(Array.from(document.querySelectorAll('#history tr[data-job=\"%s\"] a'))"
                  ".map(function(x){return fetch(x.href).then(function(r){return r.text().then(function(t){"
                  "return [x.textContent, r.status, t]})})}))" % a, await_promise=True)
    check("the links answer 200: diff.html is the job's diff, run.json its run, kfarm.log its log",
          lambda: [g[:2] for g in got] == [["diff.html", 200], ["run.json", 200], ["kfarm.log", 200]] and
          "<h1>kfarm diff</h1>" in got[0][2] and 'id="matrix"' in got[0][2] and
          json.loads(got[1][2])["cells"] and got[2][2], [(g[0], g[1], g[2][:100]) for g in got])
    v = page.js("(function(){var b=document.querySelectorAll('#chart g.bar');return [b.length,"
                "b.length && b[0].getAttribute('data-job'), Array.from(document.querySelectorAll("
                "'#chart g.bar rect.seg')).map(function(x){return [x.getAttribute('data-verdict'),"
                "+x.getAttribute('data-count')]})]})()")
    check("the chart: one bar, job a's, stacked from its verdict counts",
          lambda: v[0] == 1 and v[1] == a and
          sorted(v[2]) == sorted([k, n] for k, n in ja["summary"].items() if n),
          (v, ja.get("summary")))

    # b runs next: the page at work, for the screenshot.
    page.wait("(function(){var r=document.querySelector('#active tr[data-job=\"%s\"]');"
              "return r && r.querySelector('.state').textContent})()" % b, lambda s: s == "running", 60)
    shot = os.path.join(BUILD, "web.png")
    check(f"a screenshot: {shot}", lambda: page.dt.screenshot(shot) > 10000)

    # A job of another kind (a run, cancelled while queued) for the kind filter.
    run = submit(d, {"kind": "run", "kernels": ["debian-6.1"]})
    d.call("DELETE", f"/v1/jobs/{run}")
    page.wait("document.querySelectorAll('#history tr[data-job=\"%s\"]').length" % run, lambda n: n == 1, 10)
    kind = ("(function(k){var s=document.getElementById('kind');s.value=k;"
            "s.dispatchEvent(new Event('change'));"
            "return [Array.from(document.getElementById('kind').options).map(function(o){return o.value}),"
            "Array.from(document.querySelectorAll('#history tbody tr[data-job]')).map(function(r){"
            "return r.getAttribute('data-job')}), document.querySelectorAll('#chart g.bar').length]})(%s)")
    v = [page.js(kind % json.dumps(k)) for k in ("run", "compare", "")]
    check("the kind filter: the kinds there are; each shows its jobs in the history and the chart",
          lambda: v == [[["", "compare", "run"], [run], 0], [["", "compare", "run"], [e, c, a], 1],
                        [["", "compare", "run"], [run, e, c, a], 1]], v)

    job = page.wait("(function(){var r=document.querySelector('#history tr[data-job=\"%s\"]');"
                    "return r && r.querySelector('.state').textContent})()" % b, lambda s: s, 300)
    check("job b, queued behind a, ran to done", job == "done", job)
    st, lst, _ = d.call("GET", "/v1/jobs?limit=100")
    rows = page.rows("history")
    check("the history: every ended job, newest first, in the state the API says",
          lambda: [(r[0], r[1]) for r in rows] == [(j["id"], j["state"]) for j in lst["jobs"]] and
          [r[0] for r in rows] == [run, e, c, b, a], (rows, [(j["id"], j["state"]) for j in lst["jobs"]]))
    check("no job is queued or running now", lambda: page.js(
        "[document.querySelectorAll('#active tbody tr[data-job]').length,"
        "document.getElementById('active-empty').hidden]")
        == [0, False])
    v = page.wait("Array.from(document.querySelectorAll('#chart g.bar')).map(function(g){"
                  "return [g.getAttribute('data-job'), g.getBoundingClientRect().x]})",
                  lambda v: len(v) == 2, 10)
    check("the chart: a bar per done job, the oldest on the left",
          lambda: [x[0] for x in v] == [a, b] and v[0][1] < v[1][1], v)
    check("a click on a bar opens that job's panel",
          lambda: page.click(f'#chart g.bar[data-job="{b}"] rect') is None and
          b in page.js("document.querySelector('#detail h2').textContent"))
    check("the panel closes", lambda: page.click("#detail button.close") is None and
          page.js("document.getElementById('detail').hidden"))


def diff_link(d, page, jobs):
    """A real click on the done job's diff.html link: the report opens."""
    a = jobs["a"]
    page.click(f'#history tr[data-job="{a}"] a')
    page.dt.wait_event("Page.loadEventFired")
    v = page.js("[location.pathname, document.querySelectorAll('#matrix td[data-cell]').length]")
    check("a click on diff.html opens the job's report",
          v == [f"/v1/jobs/{a}/diff.html", len(LONG["scenarios"])], v)
    page.conduct("on diff.html", f"http://127.0.0.1:{d.port}")


def without_token(tmp, cfg, page):
    tf = os.path.join(tmp, "token")
    with open(tf, "w") as f:
        f.write(TOKEN + "\n")
    d = Daemon(tmp, "state-token", ["--token-file", tf], config=cfg).start()
    try:
        url = f"http://127.0.0.1:{d.port}/"
        dt = page.dt
        # The token goes with the page's own request only, as a proxy might
        # add it; the page's API calls have none.
        dt.call("Fetch.enable", patterns=[{"urlPattern": url, "requestStage": "Request"}])
        nav = dt.send("Page.navigate", url=url)
        ev = dt.wait_event("Fetch.requestPaused")
        headers = [{"name": k, "value": v} for k, v in ev["params"]["request"]["headers"].items()]
        dt.call("Fetch.continueRequest", requestId=ev["params"]["requestId"],
                headers=headers + [{"name": "Authorization", "value": "Bearer " + TOKEN}])
        dt.result(nav, "Page.navigate")
        dt.wait_event("Page.loadEventFired")
        dt.call("Fetch.disable")
        err = page.wait("(function(){var p=document.getElementById('poll-error');"
                        "return p.hidden ? null : p.textContent})()", lambda t: t, 15)
        st, ans, _ = d.call("GET", "/v1/jobs")
        check("with a token required, the page shows the API's 401 and its error text",
              lambda: st == 401 and "HTTP 401" in err and ans["error"] in err and
              "field: Authorization" in err and "cannot send" in err, (err, st, ans))
        check("and says it is not up to date",
              lambda: page.js("document.getElementById('status').textContent").startswith("not updated"))
        page.conduct("on a 401", f"http://127.0.0.1:{d.port}")
    finally:
        d.stop()


def main():
    if not os.path.exists(KFARMD):
        print(f"{KFARMD} is missing: run make")
        return 1
    if not os.path.exists(cdp.CHROMIUM):
        print(f"{cdp.CHROMIUM} is missing")
        return 2
    return run_in_tmp(web_tests, "kfarm-web-test-")


if __name__ == "__main__":
    sys.exit(main())
