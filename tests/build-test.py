#!/usr/bin/python3
"""kfarm build test: kernels built from Debian's linux-source-6.1 with the farm's
config fragment and a patch series, booted in the farm.

Usage: build-test.py BUILD_DIR
Needs /usr/src/linux-source-6.1.tar.xz (apt-get install linux-source-6.1).
Uses the kfarm cache ($KFARM_CACHE, else $XDG_CACHE_HOME/kfarm or ~/.cache/kfarm):
a first run builds two kernels (about 4 minutes each on 2 cores), later runs
reuse them.

Checks:
  - a patch that does not apply fails with the patch's name, the log's tail,
    and the whole log kept;
  - kfarm compare on configs/patched-vs-vanilla.json builds the vanilla and the
    patched kernel, boots both, reports their uname -r, and shows `changed`
    in exactly the scenarios that the demo patch's header lists;
  - a second compare rebuilds nothing.
Each check prints "ok" or "FAIL"; the last line is "N passed, N failed".
"""
import json
import os
import re
import sys

from kfarmtest import TOP, check, finish, kfarm, run_in_tmp
SOURCE = "/usr/src/linux-source-6.1.tar.xz"
CONFIG = os.path.join(TOP, "configs", "patched-vs-vanilla.json")
PATCH = os.path.join(TOP, "configs", "patches", "0001-ptrace-drop-detach-signal-at-syscall-stops.patch")



def expected_changed():
    """The scenario ids listed under 'kfarm-expect-changed' in the patch header."""
    ids, on = set(), False
    with open(PATCH) as f:
        for line in f:
            if "kfarm-expect-changed" in line:
                on = True
                continue
            if on:
                m = re.match(r"^  (\S+)\s", line)
                if m:
                    ids.add(m.group(1))
                elif line.strip() and not line.startswith("   "):
                    break
    return ids


def main():
    if not os.path.exists(SOURCE):
        check(f"{SOURCE} is there (apt-get install linux-source-6.1)", False)
        return finish()
    return run_in_tmp(run_tests, "kfarm-build-")


def run_tests(tmp):
    # A patch that does not apply: named, with the log's tail; the log is kept.
    broken = os.path.join(tmp, "0002-broken.patch")
    with open(broken, "w") as f:
        f.write("--- a/kernel/ptrace.c\n+++ b/kernel/ptrace.c\n"
                "@@ -1,3 +1,3 @@\n-this line is not in ptrace.c\n+nor is this one\n context\n context\n")
    cfg = os.path.join(tmp, "broken.json")
    with open(cfg, "w") as f:
        json.dump({"kernels": [{"name": "broken", "build": {
            "source": SOURCE, "patches": [PATCH, broken], "config": "tinyconfig"}}]}, f)
    p, dt = kfarm("kernels", "build", "broken", "-c", cfg)
    check("broken patch: kfarm kernels build fails", p.returncode == 2, p.stderr)
    check("broken patch: the error names the patch", "patch 0002-broken.patch (2 of 2) does not apply"
          in p.stderr and broken in p.stderr, p.stderr)
    check("broken patch: the error shows the log's tail", "FAILED" in p.stderr or "hunk" in p.stderr.lower(),
          p.stderr)
    m = re.search(r"whole log: (\S+)\)", p.stderr)
    log = m.group(1) if m else ""
    check("broken patch: the whole log is kept", log and os.path.exists(log) and
          "0001-ptrace" in open(log).read(), p.stderr)
    check("broken patch: in good time (no build was started)", dt < 300, dt)
    p, _ = kfarm("run", "-c", cfg, "--smp", "1", "-o", os.path.join(tmp, "broken-run"))
    check("broken patch: kfarm run refuses the kernel (exit 2)", p.returncode == 2 and "0002-broken.patch" in p.stderr,
          p.stderr)

    # The compare: vanilla vs patched, both built (or found in the cache), booted.
    want = expected_changed()
    check("the patch header names the scenarios that must change", len(want) >= 1, want)
    d1 = os.path.join(tmp, "cmp1")
    p, dt1 = kfarm("compare", "-c", CONFIG, "--smp", "1", "--reps", "3", "--accel", "tcg", "-o", d1)
    print(p.stdout[-3000:])
    check("compare exits 1 (cells changed)", p.returncode == 1, p.stderr[-3000:])
    run = json.load(open(os.path.join(d1, "run.json")))
    diff = json.load(open(os.path.join(d1, "diff.json")))
    rel = {k["name"]: k.get("release", "") for k in run["kernels"]}
    print(f"  releases: {rel}")
    check("both built kernels boot and report uname -r 6.1.x",
          all(r.startswith("6.1.") for r in rel.values()) and len(rel) == 2, run["kernels"])
    check("every cell ran ok", all(c["status"] == "ok" for c in run["cells"]),
          [(c["kernel"], c["scenario"], c["status"]) for c in run["cells"] if c["status"] != "ok"])
    cells = diff.get("cells", [])
    changed = {c["scenario"] for c in cells if c.get("verdict") == "changed"}
    check("changed in exactly the cells the demo patch names", changed == want,
          f"changed {sorted(changed)}, expected {sorted(want)}")
    others = {c["scenario"]: c.get("verdict") for c in cells if c["scenario"] not in want}
    check("every other scenario is the same", all(v == "same" for v in others.values()), others)

    # A second run finds both kernels in the cache.
    d2 = os.path.join(tmp, "cmp2")
    p, dt2 = kfarm("compare", "-c", CONFIG, "--smp", "1", "--reps", "3", "--accel", "tcg", "-o", d2)
    check("second compare: same verdicts", p.returncode == 1, p.stderr[-2000:])
    check("second compare: nothing was built", p.stderr.count("built before") == 2 and
          "make bzImage" not in p.stderr, p.stderr[-2000:])
    print(f"  first compare {dt1:.0f} s, second {dt2:.0f} s")

    p, _ = kfarm("kernels", "list")
    check("kfarm kernels list shows both builds", "vanilla-6.1" in p.stdout and "patched-6.1" in p.stdout,
          p.stdout)


if __name__ == "__main__":
    sys.exit(main())
