#!/usr/bin/python3
"""load.py [BUILD] [--clients N] [--seconds S] - kfarmd's API latency under
clients polling while a job runs.

Starts build/kfarmd on a loopback port with a temporary state directory,
submits a comparison long enough to run for the whole measurement (real QEMU
guests under TCG), then N client threads (default 50) poll for S seconds
(default 20), each in a loop: GET /v1/jobs/ID, then GET /v1/jobs?limit=20,
each request on a new connection. Prints the number of requests, errors,
requests per second and the latency percentiles (p50, p90, p99, max) per kind
of request and over all, and checks that the job ran (running) the whole time.
Exit 1 on any error answer or when the job was not running.

Not part of make test (it measures, it does not check kfarm's behaviour);
its numbers go into notes and README as measured here.
"""
import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon import Daemon, job_request, wait_job, write_config  # noqa: E402


def percentile(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = max(0, min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1)))))
    return xs[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default="build")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="kfarmd-load-")
    d = Daemon(tmp, "state", config=write_config(tmp)).start()
    try:
        st, job, _ = d.call("POST", "/v1/jobs", job_request(reps=300, scenarios=[
            "sds-zero", "mt-detach-one", "detach-vs-sigkill", "sds-sigkill"]))
        if st != 201:
            print(f"submit: HTTP {st}: {job}")
            return 1
        jid = job["id"]
        job = wait_job(d, jid, lambda j: j["state"] == "running" and j.get("progress"), timeout=60)
        if job.get("state") != "running":
            print(f"the job did not start: {job}")
            return 1
        lat = {"job": [], "list": []}
        errors = []
        lock = threading.Lock()
        stop = time.monotonic() + a.seconds

        def client():
            mine = {"job": [], "list": []}
            while time.monotonic() < stop:
                for kind, path in (("job", f"/v1/jobs/{jid}"), ("list", "/v1/jobs?limit=20")):
                    t0 = time.perf_counter()
                    try:
                        c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
                        c.request("GET", path)
                        r = c.getresponse()
                        body = r.read()
                        c.close()
                        ok = r.status == 200 and json.loads(body)
                    except (OSError, ValueError) as exc:
                        ok, r = False, exc
                    dt = time.perf_counter() - t0
                    if ok:
                        mine[kind].append(dt)
                    else:
                        with lock:
                            errors.append((kind, str(getattr(r, "status", r))))
            with lock:
                for k in lat:
                    lat[k] += mine[k]

        t0 = time.monotonic()
        threads = [threading.Thread(target=client) for _ in range(a.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        st, job, _ = d.call("GET", f"/v1/jobs/{jid}")
        allx = lat["job"] + lat["list"]
        print(f"{a.clients} clients for {wall:.1f} s while job {jid} ran "
              f"(state now {job.get('state')}, progress {job.get('progress')})")
        print(f"{len(allx)} requests ({len(allx) / wall:.0f}/s), {len(errors)} errors")
        for name, xs in (("GET /v1/jobs/ID", lat["job"]), ("GET /v1/jobs?limit=20", lat["list"]),
                         ("all", allx)):
            if xs:
                print(f"  {name:24s} n={len(xs):6d}  p50 {1000 * percentile(xs, 50):7.2f} ms  "
                      f"p90 {1000 * percentile(xs, 90):7.2f} ms  p99 {1000 * percentile(xs, 99):7.2f} ms  "
                      f"max {1000 * max(xs):7.2f} ms  mean {1000 * statistics.mean(xs):7.2f} ms")
        d.call("DELETE", f"/v1/jobs/{jid}")
        wait_job(d, jid, lambda j: j["state"] != "running", timeout=30)
        return 1 if errors or job.get("state") != "running" else 0
    finally:
        d.stop()


if __name__ == "__main__":
    sys.exit(main())
