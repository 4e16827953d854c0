#!/usr/bin/python3
"""resume.py [BUILD] - kfarm run --resume and kfarm compare --resume with real
guests (Debian's 6.1 under TCG).

A run is killed (kill -9) once run.json shows a finished guest but not all of
them; its QEMU guests die with it. The same command with --resume then ends
the run: exit 0, the cells of an uninterrupted run of the same command (its
own run, with the seed the killed one had: the same count and keys, the same
guests with the same blocks and cell lists), every guest once, the guests
finished before the kill not booted again (their logs untouched, their
entries as they were), run.json valid against its schema. Then: --resume of
a directory without run.json names the file; with other options (--reps 3,
--seed) is refused naming what differs, before anything boots; of a
finished run boots nothing and exits 0 at once; of a doctored run.json is an
error naming the file and the key, not a crash; -o naming another directory
is refused. Last, a comparison killed the same way and resumed writes its
diff and views. Each check prints "ok" or "FAIL"; the last line is
"N passed, N failed".
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from kfarmtest import BUILD, KFARM, TOP, check, kfarm, run_in_tmp, section

K61 = "deb:linux-image-amd64"
SCEN = ["sds-zero", "detach-vs-sigkill", "mt-detach-one"]
# The command; -j 1: one guest at a time, so that the kill finds
# some guests finished and some not.
ARGS = ["--kernels", K61, "--smp", "1,2", "--boots", "2", "--reps", "2", "--scenarios", ",".join(SCEN),
        "--accel", "tcg", "-j", "1"]
VALIDATE = ["/usr/bin/python3", os.path.join(TOP, "tests", "validate-schema.py")]


def load(path):
    with open(path) as f:
        return json.load(f)


def valid(schema, path):
    p = subprocess.run([*VALIDATE, os.path.join(TOP, "reports", "schema", schema), path],
                       capture_output=True, text=True)
    return p.returncode == 0 or print(p.stdout[-2000:], p.stderr[-1000:])


def children(pid):
    """The pids of pid's children (its QEMU guests)."""
    out = []
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def alive(pids, within=5):
    """Those of pids still running (not zombies) after up to within seconds."""
    t0 = time.monotonic()
    while True:
        left = []
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                        left.append(pid)
            except (OSError, IndexError):
                pass
        if not left or time.monotonic() - t0 > within:
            return left
        time.sleep(0.1)


def fingerprint(path):
    """What tells whether a file was written again: mtime, size and content."""
    st = os.stat(path)
    with open(path, "rb") as f:
        return (st.st_mtime_ns, st.st_size, hashlib.sha256(f.read()).hexdigest())


def guest_key(g):
    return (g["kernel"], g["smp"], g["boot"])


def cell_keys(run):
    return sorted((c["kernel"], c["smp"], c["scenario"]) for c in run["cells"])


def part(run, key, scenario):
    """The status and outcomes cell (kernel, smp, scenario) of run had on boot key[2]: its
    part of "boots", or the cell itself when one guest ran it; None when it has none."""
    for c in run["cells"]:
        if (c["kernel"], c["smp"], c["scenario"]) != key[:2] + (scenario,):
            continue
        for b in c.get("boots", [c | {"boot": key[2]}]):
            if b["boot"] == key[2]:
                return (b["status"], b["outcomes"])
    return None


def plan_of(run):
    """The guests of a run as the plan made them: who, block, order and cells."""
    return sorted((g["kernel"], g["smp"], g["boot"], g["block"], g["order_seed"], tuple(sorted(g["scenarios"])))
                  for g in run["guests"])


def start_and_kill(cmd, out_dir, log, at_least=1):
    """Starts kfarm cmd..., waits until out_dir/run.json shows at_least finished
    guests, kill -9s it; returns (run.json then, the pids of its guests, whether
    kfarm was still running when killed)."""
    logf = open(log, "w")
    p = subprocess.Popen([KFARM, *cmd], stdout=logf, stderr=logf, env=dict(os.environ, CI="true"))
    path = os.path.join(out_dir, "run.json")
    run, guests, t0 = None, [], time.monotonic()
    while time.monotonic() - t0 < 900 and p.poll() is None:
        guests = children(p.pid) or guests
        try:
            run = load(path)
        except (OSError, ValueError):
            run = None
        if run and len(run.get("guests", [])) >= at_least:
            break
        time.sleep(0.05)
    running = p.poll() is None
    guests = children(p.pid) + guests
    p.send_signal(signal.SIGKILL)
    p.wait()
    logf.close()
    print(f"  killed kfarm {' '.join(cmd)} after {time.monotonic() - t0:.1f} s: "
          f"{len(run['guests']) if run else 0} guests had finished", flush=True)
    return load(path), sorted(set(guests)), running


def killed_run(s):
    """The run killed, then resumed."""
    d = s.run_dir = os.path.join(s.tmp, "killed")
    before, qemu, running = start_and_kill(["run", *ARGS, "-o", d], d, os.path.join(s.tmp, "killed.log"))
    check("the run was still going when it was killed, with a guest finished", running and before["guests"],
          lambda: open(os.path.join(s.tmp, "killed.log")).read()[-2000:])
    check("its guests die with kfarm (kill -9)", lambda: qemu and alive(qemu) == [], qemu)
    check("some guests are missing from its run.json, and it is not finished",
          lambda: len(before["guests"]) < 4 and "finished" not in before, lambda: before["guests"])
    s.before = before
    done = {guest_key(g): g for g in before["guests"]}
    logs = {name: fingerprint(os.path.join(d, name)) for g in before["guests"]
            for name in (g["console"], g["results"])}
    time.sleep(1.1)  # a log written again would show a later mtime

    p, dt = kfarm("run", *ARGS, "--resume", d)
    s.resume_time = dt
    check("--resume: exit 0", p.returncode == 0, p.stdout[-1500:] + p.stderr[-3000:])
    check("--resume says how many guests it keeps",
          f"{len(done)} of its" in p.stderr and "had finished and are kept" in p.stderr, p.stderr[-2000:])
    run = s.resumed = load(os.path.join(d, "run.json"))
    check("run.json validates against run.schema.json", lambda: valid("run.schema.json", os.path.join(d, "run.json")))
    check("the same run: id, seed, start time", lambda: all(run[k] == before[k] for k in ("id", "seed", "started"))
          and "finished" in run and "interrupted" not in run,
          lambda: [(k, before.get(k), run.get(k)) for k in ("id", "seed", "started", "finished")])
    want = sorted((k["name"], smp, sc) for k in run["kernels"] for smp in (1, 2) for sc in SCEN)
    check("every cell of the plan, once (kernels x SMP 1,2 x 3 cells = 6)",
          lambda: len(run["cells"]) == 6 and cell_keys(run) == want, lambda: cell_keys(run))
    keys = [guest_key(g) for g in run["guests"]]
    check("every guest once", lambda: len(keys) == len(set(keys)) and len(keys) >= 4, keys)
    check("boot 1 and boot 2 at SMP 1 and 2 (detach-vs-sigkill's share), all finished",
          lambda: {(k[1], k[2]) for k in keys} >= {(1, 1), (1, 2), (2, 1), (2, 2)} and
          all(g["status"] in ("ok", "boot-failed", "crashed", "timeout", "error") for g in run["guests"]), keys)
    now = {guest_key(g): g for g in run["guests"]}
    check("the guests finished before the kill are kept as they were (entries unchanged)",
          lambda: all(now.get(k) == g for k, g in done.items()),
          lambda: [(k, now.get(k), g) for k, g in done.items() if now.get(k) != g])
    check("... and were not booted again: their console and results logs untouched",
          lambda: all(fingerprint(os.path.join(d, n)) == f for n, f in logs.items()),
          lambda: [(n, f, fingerprint(os.path.join(d, n))) for n, f in logs.items()])
    check("... and their cells are in the end report as they were (each boot's own part)",
          lambda: all(part(run, k, sc) == part(before, k, sc) is not None
                      for k, g in done.items() for sc in g["scenarios"]),
          lambda: [(k, sc, part(run, k, sc), part(before, k, sc))
                   for k, g in done.items() for sc in g["scenarios"] if part(run, k, sc) != part(before, k, sc)])

    # An uninterrupted run of the same command with the killed run's seed: the same plan.
    u = os.path.join(s.tmp, "whole")
    pu, dtu = kfarm("run", *ARGS, "--seed", str(before["seed"]), "-o", u)
    whole = load(os.path.join(u, "run.json"))
    print(f"  resumed run: {dt:.1f} s; uninterrupted run: {dtu:.1f} s", flush=True)
    check("an uninterrupted run of the same command has the same cells (count and keys)",
          lambda: pu.returncode == 0 and cell_keys(whole) == cell_keys(run),
          lambda: (pu.returncode, cell_keys(whole), cell_keys(run)))
    check("... and the same guests: blocks, scenario orders, cells",
          lambda: plan_of(whole) == plan_of(run), lambda: (plan_of(whole), plan_of(run)))


def refusals(s):
    """What --resume refuses, and a finished run."""
    d = s.run_dir
    empty = os.path.join(s.tmp, "empty")
    os.makedirs(empty)
    p, _ = kfarm("run", *ARGS, "--resume", empty)
    check("--resume of a directory without run.json: exit 2, naming the file",
          p.returncode == 2 and os.path.join(empty, "run.json") in p.stderr, p.stderr)
    snap = {n: fingerprint(os.path.join(d, n)) for n in os.listdir(d)}
    args = list(ARGS)
    args[args.index("--reps") + 1] = "3"
    p, dt = kfarm("run", *args, "--resume", d)
    check("--resume with --reps 3: refused (exit 2), naming reps and both values, before anything boots",
          p.returncode == 2 and "reps was 2 in the run to resume, 3 now" in p.stderr and
          "run.json" in p.stderr and dt < 60, p.stderr)
    p, _ = kfarm("run", *ARGS, "--seed", str(s.before["seed"] + 1), "--resume", d)
    check("--resume with another --seed: refused, naming the seed",
          p.returncode == 2 and f"seed was {s.before['seed']} in the run to resume" in p.stderr, p.stderr)
    args = [a if a != "1,2" else "1" for a in ARGS]
    p, _ = kfarm("run", *args, "--resume", d)
    check("--resume with --smp 1: refused, naming the SMP sizes",
          p.returncode == 2 and "the number of smp was 2 in the run to resume, 1 now" in p.stderr, p.stderr)
    p, _ = kfarm("run", *ARGS, "-o", os.path.join(s.tmp, "elsewhere"), "--resume", d)
    check("--resume with -o naming another directory: refused", p.returncode == 2 and "-o" in p.stderr, p.stderr)
    check("the refusals wrote nothing", lambda: {n: fingerprint(os.path.join(d, n)) for n in os.listdir(d)} == snap)

    p, dt = kfarm("run", *ARGS, "-o", d, "--resume", d)
    run = load(os.path.join(d, "run.json"))
    check("--resume of a finished run (-o the same directory): exit 0 in under 60 s, nothing to boot",
          p.returncode == 0 and dt < 60 and "0 to boot" in p.stderr, (dt, p.stderr[-1500:]))
    check("... every log untouched, the report the same but for when it finished",
          lambda: all(fingerprint(os.path.join(d, n)) == f for n, f in snap.items() if n != "run.json") and
          {k: v for k, v in run.items() if k != "finished"} ==
          {k: v for k, v in s.resumed.items() if k != "finished"})

    bad = os.path.join(s.tmp, "doctored")
    shutil.copytree(d, bad)
    r = load(os.path.join(bad, "run.json"))
    r["guests"][0]["smp"] = "two"
    with open(os.path.join(bad, "run.json"), "w") as f:
        json.dump(r, f)
    p, _ = kfarm("run", *ARGS, "--resume", bad)
    check("--resume of a doctored run.json: exit 2, naming the file and guests[0].smp",
          p.returncode == 2 and os.path.join(bad, "run.json") in p.stderr and "guests[0].smp" in p.stderr,
          (p.returncode, p.stderr))
    with open(os.path.join(bad, "run.json"), "w") as f:
        f.write('{"schema": "kfarm.run/2", "id": ')
    p, _ = kfarm("run", *ARGS, "--resume", bad)
    check("--resume of a truncated run.json: exit 2, naming the file",
          p.returncode == 2 and os.path.join(bad, "run.json") in p.stderr, (p.returncode, p.stderr))


def compare_resumed(s):
    """kfarm compare killed and resumed: the diff and the views are written."""
    d = os.path.join(s.tmp, "cmp")
    args = [K61, K61, "--smp", "1", "--boots", "2", "--reps", "2", "--scenarios", "sds-zero,detach-vs-sigkill",
            "--accel", "tcg"]
    before, qemu, running = start_and_kill(["compare", *args, "-o", d], d, os.path.join(s.tmp, "cmp.log"))
    check("compare: killed while going, with a guest finished", running and before["guests"] and
          len(before["guests"]) < 4 and not os.path.exists(os.path.join(d, "diff.json")), before["guests"])
    p, dt = kfarm("compare", *args, "--resume", d)
    run = load(os.path.join(d, "run.json"))
    keys = [guest_key(g) for g in run["guests"]]
    check("compare --resume: exit 0 or 1 (the verdicts), every cell and guest once",
          p.returncode in (0, 1) and len(run["cells"]) == 4 and len(keys) == len(set(keys)) == 4,
          (p.returncode, p.stderr[-2000:], keys))
    check("compare --resume: diff.json (valid) and the views are written",
          lambda: valid("diff.schema.json", os.path.join(d, "diff.json")) and
          all(os.path.getsize(os.path.join(d, f)) > 0 for f in ("diff.html", "junit.xml", "kcidb.json")))
    check("compare --resume: the diff is of this run", lambda: load(os.path.join(d, "diff.json"))["a"]["run"] ==
          before["id"], lambda: load(os.path.join(d, "diff.json"))["a"])


def main():
    if not os.path.exists(KFARM):
        print(f"{KFARM} is missing: run make")
        return 1

    def all_tests(tmp):
        import types
        s = types.SimpleNamespace(tmp=tmp)
        for fn in (killed_run, refusals, compare_resumed):
            section(f"section {fn.__name__}", fn, s)
    return run_in_tmp(all_tests, "kfarm-resume-")


if __name__ == "__main__":
    sys.exit(main())
