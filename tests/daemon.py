#!/usr/bin/python3
"""daemon.py [BUILD] - kfarmd for real: a daemon on a loopback port with a
temporary state directory, real HTTP (http.client), real QEMU guests.

A comparison submitted over the API runs to done with its progress seen, and
every artefact is fetched (run.json and diff.json validated against the
schemas); `kfarm submit --wait` as a client; a running job cancelled (its
guests gone); a full queue answers 429; 200 bad requests each get their 4xx
JSON error and a good request still works after them; /metrics parses with
prometheus_client; a token is required off loopback; SIGHUP with a broken
config keeps the old one; a webhook refused twice is delivered, signed; a webhook
whose receiver is down when the job ends keeps across a SIGTERM and is
delivered once by the next kfarmd; SIGTERM ends a running job interrupted within 10 s;
kill -9 leaves no worker or guest behind and the restarted daemon marks the
job interrupted.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

from kfarmtest import BUILD, KFARM, TOP, check, run_in_tmp, section

KFARMD = os.path.join(BUILD, "kfarmd")
# Quick jobs: one SMP size, one boot, two repetitions, three cells.
SCEN = ["sds-zero", "mt-detach-one", "detach-vs-sigkill"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Daemon:
    def __init__(self, tmp, name, extra=(), config=None, host="127.0.0.1"):
        self.port = free_port()
        self.host = host
        self.state = os.path.join(tmp, name)
        self.log = os.path.join(tmp, name + ".log")
        self.config = config
        self.args = [KFARMD, "--foreground", "--listen", f"{host}:{self.port}", "--state", self.state,
                     *(["-c", config] if config else []), *extra]
        self.proc = None

    def start(self, wait=True):
        self.logf = open(self.log, "a")
        self.proc = subprocess.Popen(self.args, stdout=self.logf, stderr=self.logf,
                                     env=dict(os.environ, CI="true"))
        if wait:
            t0 = time.monotonic()
            while time.monotonic() - t0 < 20:
                try:
                    if self.call("GET", "/healthz")[0] == 200:
                        return self
                except OSError:
                    pass
                if self.proc.poll() is not None:
                    raise RuntimeError(f"kfarmd exited {self.proc.returncode}: {self.logtext()}")
                time.sleep(0.1)
            raise RuntimeError("kfarmd did not answer /healthz in 20 s")
        return self

    def logtext(self):
        with open(self.log) as f:
            return f.read()[-3000:]

    def call(self, method, path, body=None, headers=None, raw=False, connect_host=None):
        c = http.client.HTTPConnection(connect_host or "127.0.0.1", self.port, timeout=60)
        h = dict(headers or {})
        data = body
        if body is not None and not isinstance(body, (bytes, str)):
            data = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        text = r.read()
        c.close()
        if raw:
            return r.status, text, r
        try:
            return r.status, json.loads(text), r
        except ValueError:
            return r.status, text, r

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode


def job_request(**kw):
    rq = {"kind": "compare", "a": "debian-6.1", "b": "debian-6.12", "smp": [1], "reps": 2,
          "boots": 1, "scenarios": SCEN}
    rq.update(kw)
    return rq


def wait_job(d, jid, until, timeout=300, seen=None):
    """Polls job jid until until(job); the job (or the last seen one after timeout)."""
    t0 = time.monotonic()
    job = None
    while time.monotonic() - t0 < timeout:
        st, job, _ = d.call("GET", f"/v1/jobs/{jid}")
        if seen is not None and isinstance(job, dict) and job.get("progress"):
            seen.append(job["progress"])
        if st == 200 and until(job):
            return job
        time.sleep(0.5)
    return job


def follow(d, jid, timeout=300):
    """The events of job jid's /events stream, until the server ends it."""
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=timeout)
    c.request("GET", f"/v1/jobs/{jid}/events")
    r = c.getresponse()
    if r.status != 200 or not r.getheader("Content-Type", "").startswith("text/event-stream"):
        raise RuntimeError(f"events: HTTP {r.status} {r.getheader('Content-Type')}: {r.read()[:300]}")
    events, name = [], None
    for raw in r:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name == "job":
            events.append(json.loads(line[6:]))
    c.close()
    return events


def valid(schema, path):
    p = subprocess.run([sys.executable, os.path.join(TOP, "tests", "validate-schema.py"),
                        os.path.join(TOP, "reports", "schema", schema), path],
                       capture_output=True, text=True)
    return p.returncode == 0 or print(p.stdout, p.stderr)


def _procs():
    """pid -> (ppid, command line) of every process that is not a zombie."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if fields[0] == "Z":
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                out[int(pid)] = (int(fields[1]), f.read())
        except (OSError, ValueError, IndexError):
            pass
    return out


def guests_of(run_dir):
    """The worker whose command line names run_dir, and its descendants (the QEMU guests)."""
    procs = _procs()
    found = {pid for pid, (_, cmd) in procs.items() if run_dir.encode() in cmd}
    grew = True
    while grew:
        more = {pid for pid, (ppid, _) in procs.items() if ppid in found} - found
        grew = bool(more)
        found |= more
    return sorted(found)


def alive(pids, within=5):
    """Those of pids still running (not zombies) after up to within seconds."""
    t0 = time.monotonic()
    while True:
        procs = _procs()
        left = [p for p in pids if p in procs]
        if not left or time.monotonic() - t0 > within:
            return left
        time.sleep(0.2)


def write_config(tmp, name="config.json", broken=False, nightly=None):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        if broken:
            f.write('{\n  "kernels": [\n    {"name": "x", "deb": }\n  ]\n}\n')
        else:
            cfg = {"kernels": [{"name": "debian-6.1", "deb": "linux-image-amd64"},
                               {"name": "debian-6.12", "deb": "linux-image-6.12-amd64"}],
                   "smp": [1], "reps": 2, "boots": 1, "accel": "tcg", "timeout_ms": 10000,
                   "scenarios": ",".join(SCEN)}
            if nightly:
                cfg["nightly"] = nightly
            json.dump(cfg, f)
    return path


def bad_requests(d, done_id):
    """(method, path, body, headers, expected status) for 200 bad requests."""
    out = []
    good = job_request()
    for text in ["", "{", "}", "[1,2]", "null", "\"x\"", "42", "{\"kind\": }", "{'kind': 'run'}",
                 "{\"kind\": \"compare\",}", "\x00\x01", "{\"kind\": \"compare\", \"kind\": \"run\"}",
                 "tru", "{\"a\": \"\\ud800\"}", "\xff\xfe"]:
        out.append(("POST", "/v1/jobs", text.encode("latin-1"), None, 400))
    for field in ["x", "Kind", "kernel", "smps", "rep", "scenario", "priority", "", "a ", "id",
                  "state", "../a", "config", "accel", "timeout_ms"]:
        rq = dict(good)
        rq[field] = 1
        out.append(("POST", "/v1/jobs", rq, None, 400))
    wrong = {
        "kind": [None, 1, "Compare", "bisect", "", [], {}],
        "a": [None, 1, "", "-c", "nosuchkernel", "deb:", "a,b", "x\ny", [], {"n": 1}, "path:/etc/passwd"],
        "b": [None, 2.5, "nosuchkernel", "url:", True, [], "--smp"],
        "smp": [None, 1, "1", [], [0], [65], [1.5], ["1"], [1] * 9, {"a": 1}, [True]],
        "reps": [None, 0, -1, 100001, "5", 2.5, [], True],
        "boots": [None, 0, 101, 1.5, []],
        "fresh": [None, "yes", 0],
        "scenarios": [None, "sds-zero", [], [""], [1], ["no-such-scenario"], ["sds-zero[nope=1]"],
                      [None], ["x" * 300], {"a": 1}],
    }
    for field, values in wrong.items():
        for v in values:
            rq = dict(good)
            if v is None:
                rq.pop(field, None)
                if field in ("smp", "reps", "boots", "scenarios", "fresh"):
                    continue  # optional: leaving it out is fine
            else:
                rq[field] = v
            out.append(("POST", "/v1/jobs", rq, None, 403 if str(v).startswith("path:") else 400))
    out.append(("POST", "/v1/jobs", {"kind": "run", "kernels": []}, None, 400))
    out.append(("POST", "/v1/jobs", {"kind": "run", "kernels": ["debian-6.1"] * 9}, None, 400))
    out.append(("POST", "/v1/jobs", {"kind": "run", "kernels": "debian-6.1"}, None, 400))
    out.append(("POST", "/v1/jobs", {"kind": "run", "kernels": ["debian-6.1"], "a": "x"}, None, 400))
    out.append(("POST", "/v1/jobs", {"kind": "compare", "a": "debian-6.1", "b": "debian-6.12",
                                     "kernels": ["x"]}, None, 400))
    out.append(("POST", "/v1/jobs", b"{\"kind\": \"" + b"x" * (10 << 20) + b"\"}", None, 413))
    out.append(("POST", "/v1/jobs", b" " * (65 * 1024) + b"{}", None, 413))
    for q in ["state=bogus", "state=", "limit=0", "limit=1001", "limit=x", "limit=-5", "limit=1e3",
              "state=DONE", "limit="]:
        out.append(("GET", "/v1/jobs?" + q, None, None, 400))
    for q in ["limit=0", "limit=x", "kernel="]:
        out.append(("GET", "/v1/history?" + q, None, None, 400))
    out.append(("POST", "/v1/history", None, None, 405))
    out.append(("DELETE", "/v1/kernels", None, None, 405))
    for jid in ["nosuch", "j2026", "..", "a%2fb", "x" * 200, "j20261202T000000000Z-0000", "%00",
                "j%27%3Bdrop%20table%20jobs%3B--"]:
        out.append(("GET", f"/v1/jobs/{jid}", None, None, 404))
        out.append(("DELETE", f"/v1/jobs/{jid}", None, None, 404))
    out.append(("POST", "/v1/jobs", job_request(smp=[1, 1]), None, 400))
    for name in ["../../etc/passwd", "console/../run.json", "console/..", "console/.hidden",
                 "console/", "console/a/b", "nosuch.json", "console/%2e%2e%2fkfarm.db", "run.json/x",
                 "..%2f..%2fkfarm.db", "console/nosuch.log", "RUN.JSON", "console/run.json/../x"]:
        out.append(("GET", f"/v1/jobs/{done_id}/{name}", None, None, (400, 404)))
    for path in ["/v1", "/v1/", "/v2/jobs", "/jobs", "/v1/jobsx", "/metricsx", "/healthz/x",
                 "/v1/nosuch"]:
        out.append(("GET", path, None, None, 404))
    for method, path in [("PUT", "/v1/jobs"), ("PATCH", "/v1/jobs"), ("POST", "/healthz"),
                         ("POST", "/metrics"), ("PUT", f"/v1/jobs/{done_id}"),
                         ("POST", f"/v1/jobs/{done_id}"), ("DELETE", f"/v1/jobs/{done_id}/run.json"),
                         ("DELETE", "/v1/jobs")]:
        out.append((method, path, None, None, 405))
    out.append(("DELETE", f"/v1/jobs/{done_id}", None, None, 409))
    while len(out) < 200:
        i = len(out)
        out.append(("POST", "/v1/jobs", job_request(reps=-i), None, 400))
    return out[:200]


def api_tests(tmp):
    cfg = write_config(tmp)
    d = Daemon(tmp, "state", ["--queue-max", "2", "--workers", "1"], config=cfg).start()
    try:
        section("a comparison over the API", comparison, d, tmp)
    finally:
        rc = d.stop()
        check("SIGTERM with nothing running: kfarmd exits 0", rc == 0, (rc, d.logtext()))


def comparison(d, tmp):
    st, ans, r = d.call("POST", "/v1/jobs", job_request())
    check("POST /v1/jobs: 201 with an id, its URL and Location", lambda: st == 201 and
          ans["state"] == "queued" and ans["url"] == f"/v1/jobs/{ans['id']}" and
          r.getheader("Location") == ans["url"], (st, ans))
    jid = ans["id"]
    t0 = time.monotonic()
    events = follow(d, jid)
    seen = [e["progress"] for e in events if e.get("progress")]
    states = [e["state"] for e in events]
    print(f"  job {jid}: {len(events)} events in {time.monotonic() - t0:.1f} s: {states[:3]}..{states[-1:]}")
    check("GET /v1/jobs/ID/events: a stream of job events from queued or running to done, then its end",
          lambda: states and states[0] in ("queued", "running") and states[-1] == "done" and
          all(s in ("queued", "running") for s in states[:-1]), events[-3:])
    check("the events' progress only grows", lambda: len(seen) >= 2 and all(
        b["cells_done"] >= a["cells_done"] and b["guests_done"] >= a["guests_done"] for a, b in zip(seen, seen[1:])),
        seen)
    st, job, _ = d.call("GET", f"/v1/jobs/{jid}")
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    check("the job validates against job.schema.json", lambda: valid("job.schema.json", path))
    check("the comparison ends done, exit status 0 or 1, with a verdict summary",
          lambda: job["state"] == "done" and job["exit_status"] in (0, 1) and
          sum(job["summary"].values()) == len(SCEN), job)
    check("its progress was seen while it ran, and ends complete",
          lambda: seen and job["progress"]["guests_done"] == job["progress"]["guests_total"] >= 2 and
          job["progress"]["cells_done"] == job["progress"]["cells_total"] >= 2 * len(SCEN),
          (seen, job.get("progress")))
    arts = {}
    for name in ["run.json", "diff.json", "diff.html", "junit.xml", "kcidb.json", "kfarm.log"]:
        st, body, r = d.call("GET", f"/v1/jobs/{jid}/{name}", raw=True)
        arts[name] = body
        check(f"GET /v1/jobs/ID/{name}: 200 with its type", st == 200 and len(body) > 0 and
              r.getheader("Content-Type", "").split(";")[0] in
              ("application/json", "text/html", "application/xml", "text/plain"), (st, body[:200]))
    for name, schema in [("run.json", "run.schema.json"), ("diff.json", "diff.schema.json")]:
        path = os.path.join(tmp, "fetched-" + name)
        with open(path, "wb") as f:
            f.write(arts[name])
        check(f"the fetched {name} validates against {schema}", lambda: valid(schema, path))
    run = json.loads(arts["run.json"])
    con = run["guests"][0]["console"]
    st, body, _ = d.call("GET", f"/v1/jobs/{jid}/console/{con}", raw=True)
    check("GET /v1/jobs/ID/console/FILE: a guest's console log", st == 200 and b"kfarm" in body,
          (st, body[:300]))
    st, lst, _ = d.call("GET", "/v1/jobs?state=done&limit=5")
    check("GET /v1/jobs?state=done: the job", lambda: st == 200 and lst["jobs"][0]["id"] == jid, lst)
    st, h, _ = d.call("GET", "/v1/history?kernel=debian-6.1&limit=5")
    check("GET /v1/history?kernel=K: the job's run, with its diff", lambda: st == 200 and
          h["runs"][0]["job"] == jid and h["runs"][0]["diffs"] and h["runs"][0]["id"] == run["id"], h)
    st, h, _ = d.call("GET", "/v1/history?kernel=no-such-kernel")
    check("GET /v1/history of a kernel never run: no runs", st == 200 and h["runs"] == [], h)
    st, k, _ = d.call("GET", "/v1/kernels")
    check("GET /v1/kernels: the config's kernels and the cache", lambda: st == 200 and
          [x["name"] for x in k["kernels"]] == ["debian-6.1", "debian-6.12"] and isinstance(k["cache"], list) and
          len(k["cache"]) >= 2, k)
    st, ag, _ = d.call("POST", "/v1/jobs", job_request())
    again = wait_job(d, ag["id"], lambda j: j["state"] not in ("queued", "running"), timeout=120)
    st, body, _ = d.call("GET", f"/v1/jobs/{ag['id']}/run.json", raw=True)
    rag = json.loads(body) if st == 200 else {}
    check("the same request again: done, every guest taken from the first job's run, none booted",
          lambda: again["state"] == "done" and again["summary"] == job["summary"] and
          len(rag["guests"]) == len(run["guests"]) and
          all(g.get("reused", {}).get("run") == run["id"] for g in rag["guests"]) and
          f"taken from run {run['id']}" in arts_log(d, ag["id"]), (again, rag.get("guests")))
    st, fr, _ = d.call("POST", "/v1/jobs", job_request(fresh=True, scenarios=["sds-zero"]))
    fresh = wait_job(d, fr["id"], lambda j: j["state"] not in ("queued", "running"), timeout=120)
    st, body, _ = d.call("GET", f"/v1/jobs/{fr['id']}/run.json", raw=True)
    rfr = json.loads(body) if st == 200 else {}
    check("\"fresh\": true boots every guest", lambda: fresh["state"] == "done" and len(rfr["guests"]) == 2 and
          not any("reused" in g for g in rfr["guests"]), (fresh, rfr.get("guests")))

    section("a bisection over the API", bisection, d, tmp)
    section("the CLI as a client", client, d)
    section("cancel and a full queue", cancel_and_queue, d)
    section("200 bad requests", bad, d, jid)
    section("metrics", metrics, d)
    section("SIGHUP", reload, d, tmp)


def bisection(d, tmp):
    """A "bisect" job: 6.1, 6.1 again (by package) and 6.12, following sud-config: the
    first bad is 6.12, in one step; its summary, bisect.json and the steps' runs."""
    rq = {"kind": "bisect", "kernels": ["debian-6.1", "deb:linux-image-amd64", "debian-6.12"],
          "smp": [1], "reps": 2, "scenarios": ["sud-config", "sds-zero"]}
    st, ans, _ = d.call("POST", "/v1/jobs", rq)
    check("POST /v1/jobs of kind bisect: 201", lambda: st == 201, (st, ans))
    job = wait_job(d, ans.get("id"), lambda j: j["state"] not in ("queued", "running"), timeout=300)
    path = os.path.join(tmp, "bisect-job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    check("the bisection ends done, exit 0, its summary: found, the last good 1, the first bad 2, 2 steps",
          lambda: job["state"] == "done" and job["exit_status"] == 0 and
          job["summary"] == {"found": 1, "last_good": 1, "first_bad": 2, "steps": 2} and
          valid("job.schema.json", path), (job, arts_log(d, ans.get("id"))[-2000:]))
    st, body, r = d.call("GET", f"/v1/jobs/{ans['id']}/bisect.json", raw=True)
    bpath = os.path.join(tmp, "fetched-bisect.json")
    with open(bpath, "wb") as f:
        f.write(body)
    b = json.loads(body) if st == 200 else {}
    check("GET /v1/jobs/ID/bisect.json: valid, sud-config followed, each step's runs inside the job's folder",
          lambda: st == 200 and valid("bisect.schema.json", bpath) and
          b["cells"] == [{"scenario": "sud-config", "smp": 1}] and
          all(run.startswith(job["run_dir"] + "/step-") for x in b["steps"] for run in x["runs"]),
          (st, body[:600]))
    for rq_bad, why in [({"kind": "bisect", "kernels": ["debian-6.1"]}, "one kernel"),
                        ({"kind": "bisect", "kernels": ["debian-6.1"] * 65}, "65 kernels"),
                        ({"kind": "bisect", "kernels": ["debian-6.1", "nosuch"]}, "an unknown kernel"),
                        ({"kind": "bisect", "good": "v6.1", "bad": "HEAD"}, "good and bad without a git kernel"),
                        ({"kind": "bisect", "good": "v6.1"}, "good without bad"),
                        ({"kind": "bisect", "good": "-x", "bad": "HEAD"}, "a revision that is an option"),
                        ({"kind": "run", "kernels": ["debian-6.1"], "good": "v6.1"}, "good on a run"),
                        ({"kind": "bisect", "kernels": ["debian-6.1", "debian-6.12"], "fresh": True}, "fresh"),
                        ({"kind": "bisect", "a": "debian-6.1", "b": "debian-6.12"}, "a and b")]:
        st, ans, _ = d.call("POST", "/v1/jobs", rq_bad)
        check(f"a bisection's bad request ({why}): 400 naming a field", lambda: st == 400 and ans.get("field"),
              (st, ans))


def arts_log(d, jid):
    """Job jid's kfarm.log."""
    st, body, _ = d.call("GET", f"/v1/jobs/{jid}/kfarm.log", raw=True)
    return body.decode(errors="replace") if st == 200 else ""


def client(d):
    env = dict(os.environ, KFARM_SERVER=f"http://127.0.0.1:{d.port}", CI="true")
    p = subprocess.run([KFARM, "submit", "debian-6.1", "debian-6.1", "--smp", "1", "--reps", "2",
                        "--scenarios", "sds-zero", "--wait"], capture_output=True, text=True, env=env,
                       timeout=300)
    jid = p.stdout.split("\n")[0]
    check("kfarm submit --wait: prints the id, waits, exits as compare (0: A/A is the same)",
          p.returncode == 0 and jid.startswith("j") and f"job {jid}: done" in p.stdout,
          (p.returncode, p.stdout, p.stderr))
    p = subprocess.run([KFARM, "status", jid], capture_output=True, text=True, env=env)
    check("kfarm status ID", p.returncode == 0 and "done" in p.stdout and "summary:" in p.stdout,
          (p.stdout, p.stderr))
    p = subprocess.run([KFARM, "jobs", "--limit", "2"], capture_output=True, text=True, env=env)
    check("kfarm jobs: a header and the newest job first",
          p.returncode == 0 and p.stdout.split("\n")[0].startswith("ID") and jid in p.stdout.split("\n")[1],
          (p.stdout, p.stderr))
    p = subprocess.run([KFARM, "status", "nosuch"], capture_output=True, text=True, env=env)
    check("kfarm status of an unknown job: exit 2 with the server's error",
          p.returncode == 2 and "HTTP 404" in p.stderr and "no job" in p.stderr, (p.returncode, p.stderr))
    p = subprocess.run([KFARM, "submit", "debian-6.1", "nosuchkernel"], capture_output=True, text=True,
                       env=env)
    check("kfarm submit of an unknown kernel: exit 2 naming the field",
          p.returncode == 2 and "field b" in p.stderr and "nosuchkernel" in p.stderr, p.stderr)
    p = subprocess.run([KFARM, "jobs", "--server", "http://127.0.0.1:1"], capture_output=True, text=True)
    check("kfarm jobs with no server: exit 2 saying so", p.returncode == 2 and "kfarmd running" in p.stderr,
          p.stderr)


def cancel_and_queue(d):
    long_rq = job_request(reps=200, scenarios=["sds-zero", "mt-detach-one", "detach-vs-sigkill", "sds-sigkill"])
    st, a, _ = d.call("POST", "/v1/jobs", long_rq)
    job = wait_job(d, a["id"], lambda j: j["state"] == "running" and j.get("progress"), timeout=60)
    check("a long job runs", lambda: job["state"] == "running", job)
    run_dir = job["run_dir"]
    time.sleep(1)
    tree = guests_of(run_dir)
    check("its worker and its QEMU guests run (the worker names the run directory)",
          lambda: len(tree) >= 2 and any(b"qemu-system" in _procs().get(p, (0, b""))[1] for p in tree),
          tree)
    queued = [d.call("POST", "/v1/jobs", job_request()) for _ in range(3)]
    check("the queue takes 2 (--queue-max 2), the third is 429 with a JSON error",
          [q[0] for q in queued] == [201, 201, 429] and "queue is full" in queued[2][1]["error"],
          [(q[0], q[1]) for q in queued])
    for q in queued[:2]:
        st, c, _ = d.call("DELETE", f"/v1/jobs/{q[1]['id']}")
        check("DELETE of a queued job: cancelled at once", st == 202 and c["state"] == "cancelled", (st, c))
    t0 = time.monotonic()
    st, c, _ = d.call("DELETE", f"/v1/jobs/{a['id']}")
    check("DELETE of a running job: 202", st == 202, (st, c))
    job = wait_job(d, a["id"], lambda j: j["state"] != "running", timeout=30)
    dt = time.monotonic() - t0
    check("the running job ends cancelled within 12 s", lambda: job["state"] == "cancelled" and dt < 12,
          (dt, job))
    time.sleep(0.5)
    check("no worker or guest of it is left", lambda: alive(tree) == [], alive(tree))
    st, c, _ = d.call("DELETE", f"/v1/jobs/{a['id']}")
    check("DELETE of an ended job: 409", st == 409 and "error" in c, (st, c))


def bad(d, done_id):
    reqs = bad_requests(d, done_id)
    wrong = []
    for method, path, body, headers, want in reqs:
        st, ans, _ = d.call(method, path, body, headers)
        want = want if isinstance(want, tuple) else (want,)
        if st not in want or not isinstance(ans, dict) or not isinstance(ans.get("error"), str):
            wrong.append((method, path, str(body)[:80], st, str(ans)[:200]))
    check(f"{len(reqs)} bad requests: each its 4xx status and a JSON error", len(reqs) == 200 and not wrong,
          wrong[:10])
    st, ans, _ = d.call("GET", "/healthz")
    check("after them /healthz still answers", st == 200 and ans["ok"] is True, (st, ans))
    st, ans, _ = d.call("POST", "/v1/jobs", job_request())
    check("and a good request is still taken", st == 201, (st, ans))
    if st == 201:
        d.call("DELETE", f"/v1/jobs/{ans['id']}")


def metrics(d):
    from prometheus_client.parser import text_string_to_metric_families
    st, text, r = d.call("GET", "/metrics", raw=True)
    fams = {f.name: f for f in text_string_to_metric_families(text.decode())}
    check("/metrics: Prometheus text that prometheus_client parses",
          st == 200 and r.getheader("Content-Type", "").startswith("text/plain"), st)
    jobs = {s.labels["state"]: s.value for s in fams["kfarm_jobs"].samples} if "kfarm_jobs" in fams else {}
    check("/metrics: jobs by state agree with the API", lambda: jobs["done"] >= 2 and jobs["cancelled"] >= 3 and
          "kfarm_queue_length" in fams and "kfarm_workers_running" in fams, (jobs, list(fams)))
    boot = fams.get("kfarm_guest_boot_seconds")
    bsamples = {s.name + str(s.labels): s.value for s in boot.samples} if boot else {}
    check("/metrics: guest boot seconds, a histogram of every ended guest (buckets, sum, count)",
          lambda: boot.type == "histogram" and bsamples["kfarm_guest_boot_seconds_count{}"] >= 4 and
          bsamples["kfarm_guest_boot_seconds_bucket{'le': '+Inf'}"] == bsamples["kfarm_guest_boot_seconds_count{}"] and
          0 < bsamples["kfarm_guest_boot_seconds_sum{}"] < 120 * bsamples["kfarm_guest_boot_seconds_count{}"],
          bsamples)
    cells = fams.get("kfarm_cell_duration_seconds")
    check("/metrics: cell duration seconds, a histogram of the ended jobs' cells",
          lambda: cells.type == "histogram" and
          [s.value for s in cells.samples if s.name.endswith("_count")][0] >= 2 * len(SCEN), cells)
    verdicts = {s.labels["verdict"]: s.value for s in fams["kfarm_verdicts"].samples
                if s.name == "kfarm_verdicts_total"} if "kfarm_verdicts" in fams else {}
    check("/metrics: verdicts by kind add up to the comparisons' cells",
          lambda: sum(verdicts.values()) >= 2 * len(SCEN) and verdicts.get("same", 0) >= 1, (verdicts, list(fams)))
    guests = {s.labels["status"]: s.value for s in fams["kfarm_guests"].samples
              if s.name == "kfarm_guests_total"} if "kfarm_guests" in fams else {}
    check("/metrics: guests by status", lambda: guests["ok"] >= 4, guests)


def reload(d, tmp):
    cfg = d.config
    with open(cfg) as f:
        good = f.read()
    write_config(tmp, os.path.basename(cfg), broken=True)
    d.proc.send_signal(signal.SIGHUP)
    time.sleep(1)
    log = d.logtext()
    check("SIGHUP with a broken config: refused with file:line:column, the old one stays",
          d.proc.poll() is None and "reload refused" in log and f"{cfg}:3:" in log, log[-800:])
    st, ans, _ = d.call("POST", "/v1/jobs", job_request())
    check("the old config still takes jobs", st == 201, (st, ans))
    if st == 201:
        d.call("DELETE", f"/v1/jobs/{ans['id']}")
    with open(cfg, "w") as f:
        f.write(good)


def webhooks(tmp, cfg):
    log = os.path.join(tmp, "hooks.jsonl")
    secret = "webhook-secret-0123456789"
    sf = os.path.join(tmp, "hook-secret")
    with open(sf, "w") as f:
        f.write(secret + "\n")
    srv = subprocess.Popen([sys.executable, os.path.join(TOP, "tests", "webhook-server.py"), "--log", log,
                            "--fail-first", "2", "--secret", secret], stdout=subprocess.PIPE, text=True)
    try:
        port = int(srv.stdout.readline())
        d = Daemon(tmp, "state-hooks", ["--webhook", f"http://127.0.0.1:{port}/hook",
                                         "--webhook-secret-file", sf], config=cfg).start()
        try:
            st, a, _ = d.call("POST", "/v1/jobs", job_request(scenarios=["sds-zero"]))
            job = wait_job(d, a["id"], lambda j: j["state"] not in ("queued", "running"), timeout=120)
            got = []
            t0 = time.monotonic()
            while time.monotonic() - t0 < 30 and not any(g["status"] == 204 for g in got):
                time.sleep(0.3)
                with open(log) if os.path.exists(log) else open(os.devnull) as f:
                    got = [json.loads(x) for x in f if x.strip()]
            print(f"  webhook: {[(g['status'], g['verified']) for g in got]} for job {job.get('state')}")
            check("a webhook on the job's end: refused twice (500), delivered on the third try",
                  lambda: [g["status"] for g in got] == [500, 500, 204], got)
            body = json.loads(got[-1]["body"]) if got else {}
            check("its signature verifies (X-Kfarm-Signature: sha256=HMAC of the body)",
                  lambda: got and all(g["verified"] is True for g in got), [g.get("signature") for g in got])
            check("its body: the job's id, kind, state, summary and URLs",
                  lambda: body["id"] == a["id"] and body["state"] == "done" and body["kind"] == "compare" and
                  body["summary"] == job["summary"] and
                  body["urls"]["diff_html"].endswith(f"/v1/jobs/{a['id']}/diff.html"), body)
            # The receiver has answered; the attempt's process still has to end (under
            # sanitizers its leak check takes seconds) before kfarmd reaps it and says so.
            said = f"job {a['id']}: webhook to http://127.0.0.1:{port}/hook delivered (HTTP 204, attempt 3)"
            t0 = time.monotonic()
            while time.monotonic() - t0 < 30 and said not in d.logtext():
                time.sleep(0.2)
            check("kfarmd reaps each attempt and says the third delivered",
                  lambda: said in d.logtext(), d.logtext()[-600:])
            hooks_shown(d, a["id"], tmp, "delivered", 3, "HTTP 500")
        finally:
            d.stop()
    finally:
        srv.terminate()
        srv.wait()


def hooks_shown(d, jid, tmp, state, attempts, error):
    """GET /v1/jobs/jid shows its one delivery in state after attempts, its last error containing error."""
    st, job, _ = d.call("GET", f"/v1/jobs/{jid}")
    hooks = job.get("webhooks", []) if isinstance(job, dict) else []
    path = os.path.join(tmp, f"job-{jid}.json")
    with open(path, "w") as f:
        json.dump(job, f)
    check(f"GET /v1/jobs/ID shows the delivery: {state} after {attempts} attempt(s), the last error "
          f"'{error}'; the job valid against job.schema.json",
          lambda: st == 200 and len(hooks) == 1 and hooks[0]["state"] == state and
          hooks[0]["attempts"] == attempts and error in hooks[0]["last_error"] and valid("job.schema.json", path),
          (st, hooks))


def hook_requests(log, want=1, settle=3, timeout=30):
    """The webhook server's requests once want of them are 204, and settle seconds more have brought none."""
    got, t0 = [], time.monotonic()
    while time.monotonic() - t0 < timeout:
        with open(log) if os.path.exists(log) else open(os.devnull) as f:
            got = [json.loads(x) for x in f if x.strip()]
        if sum(g["status"] == 204 for g in got) >= want:
            time.sleep(settle)
            with open(log) as f:
                return [json.loads(x) for x in f if x.strip()]
        time.sleep(0.3)
    return got


def webhooks_stop(tmp, cfg):
    """A job ends while its webhook's receiver is down; kfarmd stops; the receiver comes up; a new
    kfarmd on the same state directory delivers it, signed, its body as written, once."""
    import sqlite3
    log = os.path.join(tmp, "hooks-stop.jsonl")
    secret = "webhook-secret-after-a-stop"
    sf = os.path.join(tmp, "hook-secret-stop")
    with open(sf, "w") as f:
        f.write(secret + "\n")
    port = free_port()	# nothing listens there yet: connection refused
    url = f"http://127.0.0.1:{port}/hook"
    d = Daemon(tmp, "state-hooks-stop", ["--webhook", url, "--webhook-secret-file", sf], config=cfg).start()
    srv = None
    try:
        st, a, _ = d.call("POST", "/v1/jobs", job_request(scenarios=["sds-zero"]))
        job = wait_job(d, a["id"], lambda j: j["state"] not in ("queued", "running"), timeout=120)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10 and "attempt 1 of 6 failed" not in d.logtext():
            time.sleep(0.2)
        check("the job ends done; its first attempt fails (nothing listens) and is due again",
              lambda: job["state"] == "done" and f"job {a['id']}: webhook to {url}: attempt 1 of 6 failed" in
              d.logtext(), (job.get("state"), d.logtext()[-600:]))
        hooks_shown(d, a["id"], tmp, "pending", 1, "onnect")
        rc = d.stop(signal.SIGTERM)
        check("SIGTERM: kfarmd exits 0, saying the pending webhook keeps for the next start",
              lambda: rc == 0 and "webhooks still pending" in d.logtext(), (rc, d.logtext()[-600:]))
        with sqlite3.connect(os.path.join(d.state, "kfarm.db")) as db:
            rows = db.execute("SELECT url, payload, state, attempts FROM webhooks WHERE job_id = ?",
                              (a["id"],)).fetchall()
        check("the job database holds the delivery, pending, with its body",
              lambda: len(rows) == 1 and rows[0][0] == url and rows[0][2] == "pending" and rows[0][3] >= 1 and
              json.loads(rows[0][1])["id"] == a["id"], rows)
        srv = subprocess.Popen([sys.executable, os.path.join(TOP, "tests", "webhook-server.py"), "--log", log,
                                "--port", str(port), "--secret", secret], stdout=subprocess.PIPE, text=True)
        srv.stdout.readline()
        d.start()
        got = hook_requests(log)
        print(f"  webhook after the restart: {[(g['status'], g['verified']) for g in got]}")
        check("the restarted kfarmd says it resumed the delivery",
              lambda: f"job {a['id']}: webhook to {url} resumed, attempt {rows[0][3] + 1}" in d.logtext(),
              d.logtext()[-600:])
        check("the webhook arrives once, its signature valid, its body the one written at the job's end",
              lambda: len(got) == 1 and got[0]["status"] == 204 and got[0]["verified"] is True and
              got[0]["body"] == rows[0][1], got)
        body = json.loads(got[0]["body"]) if got else {}
        check("its body: the job, done, with its summary",
              lambda: body["id"] == a["id"] and body["state"] == "done" and body["summary"] == job["summary"], body)
        hooks_shown(d, a["id"], tmp, "delivered", rows[0][3] + 1, "onnect")
    finally:
        d.stop()
        if srv:
            srv.terminate()
            srv.wait()


def nightly(tmp):
    bad = write_config(tmp, "nightly-bad.json", nightly={"at": "02:30", "compare": [{"a": "debian-6.1",
                                                                                     "b": "nosuch"}]})
    p = subprocess.run([KFARMD, "--foreground", "--listen", f"127.0.0.1:{free_port()}", "--state",
                        os.path.join(tmp, "s-bad"), "-c", bad], capture_output=True, text=True, timeout=20)
    check("a nightly naming an unknown kernel: kfarmd refuses the config, naming it",
          p.returncode == 2 and "nightly/compare/0/b" in p.stderr and "nosuch" in p.stderr, (p.returncode, p.stderr))
    when = time.strftime("%H:%M:%S", time.localtime(time.time() + 5))
    cfg = write_config(tmp, "nightly.json", nightly={"at": when, "compare": [{"a": "debian-6.1", "b": "debian-6.12"}],
                                                      "scenarios": ["sds-zero"]})
    d = Daemon(tmp, "state-nightly", config=cfg).start()
    try:
        st, ans, _ = d.call("GET", "/v1/nightly/latest")
        check("before it fires: /v1/nightly/latest is 404 saying so", st == 404 and "no nightly" in ans["error"],
              (st, ans))
        t0 = time.monotonic()
        job = None
        while time.monotonic() - t0 < 30:
            st, job, _ = d.call("GET", "/v1/nightly/latest")
            if st == 200:
                break
            time.sleep(0.5)
        dt = time.monotonic() - t0
        check(f"a nightly scheduled at {when} starts by itself", lambda: st == 200 and job["kind"] == "nightly" and
              job["request"]["b"] == "debian-6.12" and dt < 15, (st, job, dt))
        job = wait_job(d, job["id"], lambda j: j["state"] not in ("queued", "running"), timeout=180)
        check("the nightly comparison runs to done", lambda: job["state"] == "done" and job["summary"], job)
        check("kfarmd logged when the next one is", lambda: "nightly: next at" in d.logtext(), d.logtext()[-500:])
        st, first, _ = d.call("GET", "/v1/nightly/latest")
        st, run1, _ = d.call("GET", f"/v1/jobs/{job['id']}/run.json")
        check("the first night booted its guests and has no previous night to diff against",
              lambda: "unchanged" not in first and first["nights"] == [] and len(run1["guests"]) == 2 and
              run1["nightly"] is True and len(run1["inputs_key"]) == 64, (first, run1.get("guests")))
        # the next night, its inputs all the same: the schedule moved a few seconds ahead, SIGHUP
        when = time.strftime("%H:%M:%S", time.localtime(time.time() + 4))
        write_config(tmp, "nightly.json", nightly={"at": when, "compare": [{"a": "debian-6.1", "b": "debian-6.12"}],
                                                    "scenarios": ["sds-zero"]})
        d.proc.send_signal(signal.SIGHUP)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 30:
            st, job2, _ = d.call("GET", "/v1/nightly/latest")
            if st == 200 and job2["id"] != job["id"]:
                break
            time.sleep(0.5)
        job2 = wait_job(d, job2["id"], lambda j: j["state"] not in ("queued", "running"), timeout=120)
        st, night2, _ = d.call("GET", "/v1/nightly/latest")
        st, run2, _ = d.call("GET", f"/v1/jobs/{job2['id']}/run.json")
        check("a second nightly with the same inputs ends done, boots no guest and says which run it matches",
              lambda: job2["id"] != job["id"] and job2["state"] == "done" and run2["guests"] == [] and
              run2["unchanged"]["run"] == run1["id"] and night2["unchanged"]["run"] == run1["id"] and
              run2["inputs_key"] == run1["inputs_key"] and len(run2["cells"]) == len(run1["cells"]),
              (job2, night2.get("unchanged"), run2.get("guests")))
        check("... and no console was written: nothing booted",
              lambda: not [f for f in os.listdir(job2["run_dir"]) if f.startswith("console-")],
              os.listdir(job2["run_dir"]))
        check("each kernel of it is diffed against the previous night of that kernel, unchanged",
              lambda: sorted(n["kernel"] for n in night2["nights"]) == ["debian-6.1", "debian-6.12"] and
              all(n["previous_run"] == run1["id"] and not n["differs"] for n in night2["nights"]), night2)
        st, body, _ = d.call("GET", f"/v1/jobs/{job2['id']}/night-debian-6.12.json", raw=True)
        path = os.path.join(tmp, "night.json")
        with open(path, "wb") as f:
            f.write(body)
        check("GET /v1/jobs/ID/night-KERNEL.json: 200, a diff that validates against diff.schema.json",
              lambda: st == 200 and valid("diff.schema.json", path), (st, body[:200]))
        path = os.path.join(tmp, "run2.json")
        with open(path, "w") as f:
            json.dump(run2, f)
        check("the unchanged night's run.json validates against run.schema.json",
              lambda: valid("run.schema.json", path))
    finally:
        d.stop()


def lifecycle_tests(tmp):
    cfg = write_config(tmp)
    section("nightly", nightly, tmp)
    section("webhooks", webhooks, tmp, cfg)
    section("webhooks after a stop", webhooks_stop, tmp, cfg)
    section("SIGTERM and kill -9", term_and_kill, tmp, cfg)
    section("a token off loopback", token, tmp, cfg)


def resumed_ok(d, jid, label):
    """Job jid, taken up again after a restart, ends done with every cell, no guest booted twice."""
    job = wait_job(d, jid, lambda j: j["state"] not in ("queued", "running", "interrupted"), timeout=300)
    st, body, _ = d.call("GET", f"/v1/jobs/{jid}/run.json", raw=True)
    run = json.loads(body) if st == 200 else {}
    keys = [(g["kernel"], g["smp"], g["boot"]) for g in run.get("guests", [])]
    cells = run.get("cells", [])
    print(f"  {label}: {job.get('state')}, {len(keys)} guests, {len(cells)} cells, "
          f"{sum(c['status'] == 'ok' for c in cells)} ok")
    check(f"{label}: the job is taken up again and ends done", lambda: job["state"] == "done", job)
    check(f"{label}: every cell (2 kernels x 2 SMP sizes x {len(SCEN)}), all ok",
          lambda: len(cells) == 2 * 2 * len(SCEN) and all(c["status"] == "ok" for c in cells),
          [(c["kernel"], c["smp"], c["scenario"], c["status"]) for c in cells])
    check(f"{label}: no guest booted twice (each kernel, SMP size and boot once in guests)",
          lambda: keys and len(keys) == len(set(keys)), keys)
    check(f"{label}: kfarmd says it resumed the run", lambda: f"job {jid}: resumed" in d.logtext(),
          d.logtext()[-800:])


def term_and_kill(tmp, cfg):
    # 8 guests, two at a time: stopped midway; fresh: each job boots them (no reuse of the last one's)
    many = dict(smp=[1, 2], boots=2, fresh=True)
    d = Daemon(tmp, "state2", config=cfg).start()
    st, a, _ = d.call("POST", "/v1/jobs", job_request(**many))
    job = wait_job(d, a["id"], lambda j: j["state"] == "running" and j.get("progress", {}).get("guests_done", 0) >= 1,
                   timeout=120)
    time.sleep(0.5)
    tree = guests_of(job["run_dir"])
    t0 = time.monotonic()
    rc = d.stop(signal.SIGTERM, timeout=20)
    dt = time.monotonic() - t0
    check("SIGTERM during a job: kfarmd exits 0 within 10 s", rc == 0 and dt < 10, (rc, dt, d.logtext()))
    check("no worker or guest is left", lambda: len(tree) >= 1 and alive(tree) == [], (tree, alive(tree)))
    check("the job was interrupted at the stop, saying why",
          lambda: "kfarmd stopped while the job ran" in d.logtext() and "interrupted" in d.logtext(), d.logtext()[-500:])
    d.start()
    resumed_ok(d, a["id"], "after SIGTERM and a restart")
    st, b, _ = d.call("POST", "/v1/jobs", job_request(**many))
    job = wait_job(d, b["id"], lambda j: j["state"] == "running" and j.get("progress", {}).get("guests_done", 0) >= 1,
                   timeout=120)
    time.sleep(0.5)
    tree = guests_of(job["run_dir"])
    d.proc.kill()
    d.proc.wait()
    d.logf.close()
    check("kill -9 of kfarmd: its worker and guests die with it",
          lambda: len(tree) >= 1 and alive(tree) == [], (tree, alive(tree)))
    d.start()
    check("the restarted kfarmd finds the job interrupted and queues it again",
          lambda: f"job {b['id']}: interrupted, queued again to resume" in d.logtext(), d.logtext()[-600:])
    resumed_ok(d, b["id"], "after kill -9 and a restart")
    st, c, _ = d.call("POST", "/v1/jobs", job_request(**many))
    wait_job(d, c["id"], lambda j: j["state"] == "running", timeout=60)
    d.proc.kill()
    d.proc.wait()
    d.logf.close()
    d.args.append("--no-resume")
    d.start()
    st, j, _ = d.call("GET", f"/v1/jobs/{c['id']}")
    check("with --no-resume the interrupted job stays interrupted", j["state"] == "interrupted", j)
    d.stop()


def token(tmp, cfg):
    p = subprocess.run([KFARMD, "--foreground", "--listen", "0.0.0.0:1", "--state",
                        os.path.join(tmp, "s3")], capture_output=True, text=True, timeout=10)
    check("off loopback without --token-file: refused", p.returncode == 2 and "token" in p.stderr,
          (p.returncode, p.stderr))
    tf = os.path.join(tmp, "token")
    with open(tf, "w") as f:
        f.write("s3cret-token-0123456789\n")
    d = Daemon(tmp, "state3", ["--token-file", tf], config=cfg, host="0.0.0.0")
    d.start()
    try:
        st, ans, _ = d.call("GET", "/v1/jobs")
        check("no token: 401 with a JSON error", st == 401 and "token" in ans["error"], (st, ans))
        st, ans, _ = d.call("GET", "/v1/jobs", headers={"Authorization": "Bearer wrong-token-0123456789"})
        check("a wrong token: 401", st == 401, (st, ans))
        st, ans, _ = d.call("GET", "/v1/jobs", headers={"Authorization": "s3cret-token-0123456789"})
        check("the token without Bearer: 401", st == 401, (st, ans))
        st, ans, _ = d.call("GET", "/v1/jobs", headers={"Authorization": "Bearer s3cret-token-0123456789"})
        check("the right token: 200", st == 200 and "jobs" in ans, (st, ans))
        st, ans, _ = d.call("GET", "/healthz")
        check("/healthz needs no token", st == 200, (st, ans))
        st, ans, _ = d.call("GET", "/", raw=True)
        check("the page / needs no token (it holds no data)", st == 200 and b"<html" in ans, (st, ans[:200]))
        st, ans, _ = d.call("GET", "/metrics", raw=True)
        check("/metrics needs it", st == 401, st)
    finally:
        d.stop()


def main():
    if not os.path.exists(KFARMD):
        print(f"{KFARMD} is missing: run make")
        return 1

    def all_tests(tmp):
        section("the API", api_tests, tmp)
        section("the daemon's life", lifecycle_tests, tmp)
    return run_in_tmp(all_tests, "kfarmd-test-")


if __name__ == "__main__":
    sys.exit(main())
