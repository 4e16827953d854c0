#!/usr/bin/python3
"""kfarm integration tests: real QEMU boots of real Debian kernels.

Usage: integration.py BUILD_DIR
Each check prints "ok" or "FAIL"; the last line is "N passed, N failed".
"""
import json
import os
import re
import subprocess
import sys

from kfarmtest import TOP, check, kfarm, run_in_tmp
VALIDATE = [ "/usr/bin/python3", os.path.join(TOP, "tests", "validate-schema.py") ]
SCHEMA = os.path.join(TOP, "reports", "schema")
K61 = "deb:linux-image-amd64"
K612 = "deb:linux-image-6.12-amd64"



def load(path):
    with open(path) as f:
        return json.load(f)


def cell(run, scenario, smp, kernel=None):
    for c in run["cells"]:
        if c["scenario"] == scenario and c["smp"] == smp and (kernel is None or c["kernel"] == kernel):
            return c
    return None


def only_obs(c):
    """The single observation of a deterministic ok cell, else None."""
    if not c or c["status"] != "ok" or len(c["outcomes"]) != 1:
        return None
    return c["outcomes"][0]["observation"]


def cells_of(space):
    """The cell ids of a space, selftests left out, from `kfarm scenarios --space`."""
    p, _ = kfarm("scenarios", "--space", space)
    ids = []
    for line in p.stdout.splitlines()[1:]:
        f = line.split()
        if len(f) >= 2 and f[1] != "selftest":
            ids.append(f[0])
    return ids


def reps_of(c, boot=None):
    """How many repetitions a cell had (in all, or on one boot)."""
    if boot is None:
        return sum(o["count"] for o in c["outcomes"])
    for b in c.get("boots", [{"boot": 1, "outcomes": c["outcomes"]}]):
        if b["boot"] == boot:
            return sum(o["count"] for o in b["outcomes"])
    return 0


def valid(schema, path):
    p = subprocess.run([*VALIDATE, os.path.join(SCHEMA, schema), path], capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stdout, p.stderr)
    return p.returncode == 0


def main():
    return run_in_tmp(run_tests, "kfarm-it-")


def run_tests(tmp):
    # Bad input is refused up front with the thing named.
    junk = os.path.join(tmp, "junk.img")
    with open(junk, "wb") as f:
        f.write(b"not a kernel" * 100)
    p, _ = kfarm("run", "--kernels", "path:" + junk, "--smp", "1", "-o", os.path.join(tmp, "junk"))
    check("a file that is not a kernel is refused", p.returncode == 2 and junk in p.stderr
          and "not a kernel image" in p.stderr, p.stderr)
    p, _ = kfarm("run", "--kernels", "nosuch", "--smp", "1")
    check("an unknown kernel name is refused", p.returncode == 2 and "unknown kernel 'nosuch'" in p.stderr,
          p.stderr)
    p, _ = kfarm("run", "--kernels", "deb:linux-image-does-not-exist-kfarm", "--smp", "1")
    check("an unknown Debian package is refused", p.returncode == 2 and
          "linux-image-does-not-exist-kfarm" in p.stderr, p.stderr)
    p, _ = kfarm("run", "--kernels", K61, "--scenarios", "no-such-scenario")
    check("an unknown scenario is refused", p.returncode == 2 and "no-such-scenario" in p.stderr, p.stderr)
    p, _ = kfarm("run", "--kernels", K61, "--scenarios", "sds-zero,sds-zero[sigchld=bogus,wait=waitpid]")
    check("an unknown cell is refused, named", p.returncode == 2 and
          "unknown cell 'sds-zero[sigchld=bogus,wait=waitpid]'" in p.stderr, p.stderr)
    p, _ = kfarm("run", "--kernels", K61, "--space", "everything")
    check("an unknown space is refused", p.returncode == 2 and "--space: 'everything'" in p.stderr, p.stderr)
    p, _ = kfarm("run", "--kernels", K61, "--smp", "1,2", "--variant-smp", "4")
    check("variant_smp outside the run's SMP sizes is refused", p.returncode == 2 and
          "variant_smp: 4 is not one of the run's SMP sizes (1,2)" in p.stderr, p.stderr)

    # kfarm scenarios: the plain scenarios with their sample sizes; the cells of a space.
    p, _ = kfarm("scenarios")
    rows = [l.split() for l in p.stdout.splitlines()[1:] if not l.startswith("(")]
    base, sample, full = cells_of("base"), cells_of("sample"), cells_of("full")
    check("kfarm scenarios lists the plain scenarios with their sample and full sizes",
          p.returncode == 0 and p.stdout.split()[:6] == ["ID", "GROUP", "KIND", "SAMPLE", "FULL",
                                                          "DESCRIPTION"] and
          len(rows) == len(base) + 3 and all("[" not in r[0] for r in rows) and
          sum(int(r[3]) for r in rows if r[1] != "selftest") == len(sample) and
          sum(int(r[4]) for r in rows if r[1] != "selftest") == len(full), p.stdout[:3000])
    check("the sample is the plain cells and variant cells, within the full space",
          set(base) <= set(sample) <= set(full) and len(sample) > len(base) and
          all("[" in c for c in sample if c not in base), (len(base), len(sample), len(full)))
    p, _ = kfarm("scenarios", "--expand")
    check("kfarm scenarios --expand describes the axes", p.returncode == 0 and
          p.stdout.startswith("Axes") and "sds-zero (deterministic): axes" in p.stdout, p.stdout[:500])

    # Each image's vmlinux is extracted once into the cache and booted through PVH.
    for spec in (K61, K612):
        p, _ = kfarm("kernels", "fetch", spec)
        boot = re.search(r"^  boot: (\S+) (.+)$", p.stdout, re.M)
        sha = re.search(r"^  sha256 (\S+)$", p.stdout, re.M)
        vmlinux = boot.group(2) if boot else ""
        check(f"{spec} boots its cached PVH vmlinux", p.returncode == 0 and boot and sha and
              boot.group(1) == "pvh" and vmlinux.endswith(f"/pvh/{sha.group(1)}/vmlinux") and
              os.path.isfile(vmlinux) and open(vmlinux, "rb").read(5) == b"\x7fELF\x02",
              p.stdout + p.stderr[-2000:])
    os.environ["KFARM_NO_PVH"] = "1"
    try:
        p, _ = kfarm("kernels", "fetch", K61)
    finally:
        del os.environ["KFARM_NO_PVH"]
    check("KFARM_NO_PVH=1 boots the bzImage", p.returncode == 0 and "\n  boot: bzimage " in p.stdout,
          p.stdout + p.stderr[-2000:])

    # A real boot of Debian's 6.1 kernel at SMP 1 and 2, the whole catalog: by
    # default the pairwise sample of every scenario's axes, whose variant cells
    # run 2 times at the two smallest SMP sizes (here both).
    d1 = os.path.join(tmp, "run61")
    p, dt = kfarm("run", "--kernels", K61, "--smp", "1,2", "--reps", "5", "--accel", "tcg", "-o", d1)
    check("6.1 at SMP 1,2 runs to completion", p.returncode == 0, p.stderr[-2000:])
    run = load(os.path.join(d1, "run.json"))
    check("run.json validates", valid("run.schema.json", os.path.join(d1, "run.json")))
    check("run.json records the space and the variant cells' repetitions and SMP sizes",
          (run.get("space"), run.get("variant_reps"), run.get("variant_smp")) == ("sample", 2, [1, 2]),
          {k: run.get(k) for k in ("space", "variant_reps", "variant_smp")})
    for smp in (1, 2):
        got = {c["scenario"]: c for c in run["cells"] if c["smp"] == smp}
        check(f"smp{smp}: a cell for every cell of the sample, as the guest reported it",
              sorted(got) == sorted(sample) and sorted(run["scenarios"]) == sorted(sample) and
              all(c["status"] == "ok" or (k, c["status"]) == ("sud-config", "unsupported")
                  for k, c in got.items()),
              (len(got), len(sample), sorted(set(sample) - set(got))[:5],
               [(k, c["status"], c.get("error")) for k, c in got.items() if c["status"] != "ok"][:5]))
        # 6.1 predates PTRACE_{GET,SET}_SYSCALL_USER_DISPATCH_CONFIG (6.4): the
        # cell says so, with the reason, instead of failing or vanishing.
        sud = got.get("sud-config", {})
        check(f"smp{smp}: sud-config is unsupported on 6.1, with the reason",
              sud.get("status") == "unsupported" and "predates 6.4" in (sud.get("error") or ""),
              (sud.get("status"), (sud.get("error") or "")[:300]))
        check(f"smp{smp}: variant cells ran 2 times on boot 1, plain ones 5 (racy: their share)",
              all(reps_of(c, 1) == (2 if "[" in k else 5) for k, c in got.items() if not c.get("racy")),
              [(k, reps_of(c, 1)) for k, c in got.items() if not c.get("racy") and
               reps_of(c, 1) != (2 if "[" in k else 5)][:5])
    check("no guest ran a cell kfarm did not plan", not any(g.get("unplanned") for g in run["guests"]),
          [(g["smp"], g["boot"], g.get("unplanned")) for g in run["guests"] if g.get("unplanned")])
    # 5 boots per SMP size; a deterministic scenario that shows a stray second
    # outcome adds follow-up guests (blocks of one kernel run side by side here).
    planned = sorted((g["smp"], g["boot"]) for g in run["guests"] if not g.get("followup"))
    check("run.json has boots 1-5 of the kernel at each SMP size (more only as follow-ups), all ok",
          planned == [(s, b) for s in (1, 2) for b in range(1, 6)] and
          all(g["status"] == "ok" for g in run["guests"]),
          [(g["smp"], g["boot"], g["status"], g.get("followup"), g.get("error")) for g in run["guests"]])
    check("the kernel release is reported", run["kernels"][0].get("release", "").startswith("6.1."),
          run["kernels"][0])
    check("accelerator recorded", run["qemu"]["accelerator"] == "tcg")
    for smp in (1, 2):
        o = only_obs(cell(run, "sds-other-sig", smp))
        check(f"sds-other-sig smp{smp} ends killed:SIGUSR2", o is not None and o.get("tracee") == "killed:SIGUSR2",
              cell(run, "sds-other-sig", smp))
        o = only_obs(cell(run, "detach-errors", smp))
        vals = set(o.values()) if o else set()
        check(f"detach-errors smp{smp} gives ESRCH and EIO", "ESRCH" in vals and "EIO" in vals,
              cell(run, "detach-errors", smp))
        o = only_obs(cell(run, "sds-sigkill", smp))
        check(f"sds-sigkill smp{smp} ends killed:SIGKILL", o is not None and o.get("tracee") == "killed:SIGKILL",
              cell(run, "sds-sigkill", smp))
    for g in run["guests"]:
        print(f"  guest {g['kernel']} smp{g['smp']} boot {g['boot']}: booted in {g.get('boot_ms', 0) / 1000:.1f} s, "
              f"total {g.get('duration_ms', 0) / 1000:.1f} s")
        check(f"console log smp{g['smp']} written", os.path.getsize(os.path.join(d1, g["console"])) > 0)

    # A small selection in the sample: a scenario's cells (ID[*]), a variant
    # cell of the full space named on its own, a racy scenario. Variant cells
    # run variant_reps times at the SMP sizes of --variant-smp only; elsewhere
    # only the plain cells run; each guest ran exactly what kfarm planned.
    extra = next(c for c in full if c.startswith("tracer-exit-sds[") and c not in sample)
    zero = [c for c in sample if c == "sds-zero" or c.startswith("sds-zero[")]
    d13 = os.path.join(tmp, "variants")
    p, dt = kfarm("run", "--kernels", K61, "--smp", "1,2", "--space", "sample", "--variant-smp", "1",
                  "--variant-reps", "3", "--reps", "4", "--boots", "2", "--accel", "tcg",
                  "--scenarios", f"sds-zero[*],{extra},detach-vs-sigkill", "-o", d13)
    check("variants: the run completes", p.returncode == 0, p.stderr[-2000:])
    run = load(os.path.join(d13, "run.json"))
    check("variants: run.json validates and records space, variant_reps, variant_smp",
          valid("run.schema.json", os.path.join(d13, "run.json")) and
          (run.get("space"), run.get("variant_reps"), run.get("variant_smp")) == ("sample", 3, [1]),
          {k: run.get(k) for k in ("space", "variant_reps", "variant_smp")})
    want1 = sorted(zero + [extra, "detach-vs-sigkill"])
    want2 = ["detach-vs-sigkill", "sds-zero"]
    c1 = {c["scenario"]: c for c in run["cells"] if c["smp"] == 1}
    c2 = {c["scenario"]: c for c in run["cells"] if c["smp"] == 2}
    check("variants: run.json's scenarios are sds-zero's sample cells, the named cell and the racy one",
          len(zero) > 5 and sorted(run["scenarios"]) == want1, (run["scenarios"], want1))
    check("variants: at SMP 1 (variant_smp) every selected cell, all ok",
          sorted(c1) == want1 and all(c["status"] == "ok" for c in c1.values()),
          [(k, c["status"]) for k, c in c1.items()])
    check("variants: variant cells ran 3 times at SMP 1 (boot 1), plain sds-zero 4",
          all(reps_of(c1[k], 1) == 3 for k in want1 if "[" in k) and reps_of(c1["sds-zero"], 1) == 4,
          [(k, reps_of(c, 1)) for k, c in c1.items()])
    check("variants: at SMP 2 only the plain cells", sorted(c2) == want2 and
          reps_of(c2["sds-zero"]) == 4, sorted(c2))
    g1 = [g for g in run["guests"] if g["boot"] == 1]
    check("variants: each boot-1 guest ran exactly the cells planned for its SMP size",
          sorted((g["smp"], tuple(sorted(g["scenarios"]))) for g in g1) ==
          [(1, tuple(want1)), (2, tuple(want2))] and
          not any(g.get("unplanned") or g.get("scenarios_planned") for g in run["guests"]),
          [(g["smp"], g["boot"], g["scenarios"], g.get("unplanned")) for g in run["guests"]])
    check("variants: the racy scenario is split over 2 boots at both SMP sizes",
          all(len(c["detach-vs-sigkill"].get("boots", [])) == 2 for c in (c1, c2)))

    # The A/A control: the same kernel in two separate boots gives no changed
    # and no distribution-changed verdict, and anything not "same" is a
    # scenario marked racy. Racy cells are split over boots that run in blocks.
    d9 = os.path.join(tmp, "aa")
    p, dt = kfarm("compare", K61, K61, "--smp", "1,2", "--reps", "5", "--boots", "3", "--accel", "tcg",
                  "--space", "base", "-o", d9)
    diff = load(os.path.join(d9, "diff.json"))
    check("A/A control: exit 0", p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:])
    check("A/A control: no changed or distribution-changed verdict",
          diff["summary"]["changed"] == 0 and diff["summary"]["distribution-changed"] == 0,
          [(c["scenario"], c["smp"], c["verdict"], c.get("p_value"), c.get("p_adjusted"),
            [side.get("boots") or side.get("outcomes") for side in (c.get("a", {}), c.get("b", {}))])
           for c in diff["cells"] if c["verdict"] in ("changed", "distribution-changed")])
    odd = [(c["scenario"], c["smp"], c["verdict"], c.get("fields"),
            [side.get("outcomes") for side in (c.get("a", {}), c.get("b", {}))])
           for c in diff["cells"] if c["verdict"] not in ("same", "unsupported") and not c.get("racy")]
    check("A/A control: only racy scenarios differ at all", not odd, json.dumps(odd))
    check("A/A control: what 6.1 cannot do is unsupported on both sides, nothing else",
          sorted({c["scenario"] for c in diff["cells"] if c["verdict"] == "unsupported"}) == ["sud-config"],
          [(c["scenario"], c["smp"]) for c in diff["cells"] if c["verdict"] == "unsupported"])
    print(f"  A/A control: {diff['summary']}")
    check("A/A control: diff.json validates", valid("diff.schema.json", os.path.join(d9, "diff.json")))
    check("A/A control: run.json validates", valid("run.schema.json", os.path.join(d9, "run.json")))
    run = load(os.path.join(d9, "run.json"))
    racy = [c for c in run["cells"] if c.get("racy")]
    check("racy cells are split over 3 boots of 20 repetitions in all",
          racy and all(len(c.get("boots", [])) == 3 and
                       sum(o["count"] for b in c["boots"] for o in b["outcomes"]) == 20 and
                       sum(o["count"] for o in c["outcomes"]) == 20 for c in racy),
          [(c["kernel"], c["smp"], c["scenario"], c.get("boots")) for c in racy])
    det = [c for c in run["cells"] if not c.get("racy")]
    check("deterministic cells run in boot 1 only", det and all("boots" not in c for c in det))
    guests = run["guests"]
    check("3 guests per kernel and SMP size", len(guests) == 12 and
          sorted((g["kernel"], g["smp"], g["boot"]) for g in guests) ==
          sorted((k, s, b) for k in ("linux-image-amd64", "linux-image-amd64-b") for s in (1, 2)
                 for b in (1, 2, 3)), [(g["kernel"], g["smp"], g["boot"]) for g in guests])
    partner = {}
    for g in guests:
        partner.setdefault((g["smp"], g["boot"]), []).append(g)
    check("a block is both kernels at one (smp, boot), started together, one scenario order",
          all(len(b) == 2 and b[0]["block"] == b[1]["block"] and b[0]["order_seed"] == b[1]["order_seed"]
              and b[0]["scenarios"] == b[1]["scenarios"] for b in partner.values()),
          [(k, [(g["kernel"], g["block"], g["order_seed"]) for g in b]) for k, b in partner.items()])
    check("each guest ran alongside its block partner for most of its life",
          all(any(o["smp"] == g["smp"] and o["boot"] == g["boot"] and o["kernel"] != g["kernel"] and
                  o["ms"] >= 0.5 * min(g["duration_ms"], h["duration_ms"])
                  for o in g["overlap"] for h in partner[(g["smp"], g["boot"])] if h is not g)
              for g in guests), [(g["kernel"], g["smp"], g["boot"], g["duration_ms"], g["overlap"]) for g in guests])
    check("the run records its seed", isinstance(run.get("seed"), int) and run["seed"] > 0, run.get("seed"))

    # A deterministic scenario with two outcomes (selftest-coin) is reported, and
    # gets boots: it joins the racy scenarios' boots 2 and 3 when they have not
    # started yet (blocks run one at a time here), else follow-up guests.
    d11 = os.path.join(tmp, "coin")
    p, dt = kfarm("compare", K61, K61, "--smp", "1", "--reps", "6", "--boots", "3", "-j", "2",
                  "--accel", "tcg", "--scenarios", "detach-vs-sigkill,selftest-coin,sds-zero", "-o", d11)
    run, diff = load(os.path.join(d11, "run.json")), load(os.path.join(d11, "diff.json"))
    coins = [c for c in run["cells"] if c["scenario"] == "selftest-coin"]
    check("coin: every side's cell has boot 1 (6 repetitions) and joins boots 2 and 3 (a share "
          "of 2 each), without follow-up guests",
          len(coins) == 2 and all([b["boot"] for b in c.get("boots", [])] == [1, 2, 3] and
                                  [sum(o["count"] for o in b["outcomes"]) for b in c["boots"]] == [6, 2, 2]
                                  for c in coins) and not any(g.get("followup") for g in run["guests"]),
          [(c["kernel"], c.get("boots")) for c in coins] + [(g["kernel"], g["boot"], g["scenarios"]) for g in run["guests"]])
    v = [c for c in diff["cells"] if c["scenario"] == "selftest-coin"]
    check("coin: a second outcome on a deterministic scenario is never same, and is tested on boots",
          len(v) == 1 and v[0]["verdict"] in ("flaky", "distribution-changed") and v[0].get("test") == "quasi-f"
          and v[0].get("boots") == {"a": 3, "b": 3}, v)
    d12 = os.path.join(tmp, "coin-followup")
    p, dt = kfarm("run", "--kernels", K61, "--smp", "1", "--reps", "6", "--boots", "3", "--accel", "tcg",
                  "--scenarios", "selftest-coin,sds-zero", "-o", d12)
    run = load(os.path.join(d12, "run.json"))
    c = cell(run, "selftest-coin", 1) or {}
    check("coin without racy boots: two follow-up guests give it boots 2 and 3, 2 repetitions each",
          [b["boot"] for b in c.get("boots", [])] == [1, 2, 3] and
          [sum(o["count"] for o in b["outcomes"]) for b in c["boots"]] == [6, 2, 2] and
          sorted(g["boot"] for g in run["guests"] if g.get("followup")) == [2, 3] and
          "boots" not in (cell(run, "sds-zero", 1) or {}), (c, run["guests"]))

    # A scenario that hangs is a timeout for its own cell only.
    d2 = os.path.join(tmp, "hang")
    p, dt = kfarm("run", "--kernels", K61, "--smp", "1", "--reps", "2", "--timeout-ms", "1000",
                  "--accel", "tcg", "--scenarios", "sds-zero,selftest-hang,sds-other-sig",
                  "--reps-for", "sds-other-sig=3", "-o", d2)
    run = load(os.path.join(d2, "run.json"))
    check("hang: run exits 1 (a cell is not ok)", p.returncode == 1, p.stderr[-1000:])
    check("hang: selftest-hang is timeout", (cell(run, "selftest-hang", 1) or {}).get("status") == "timeout",
          cell(run, "selftest-hang", 1))
    check("hang: the cells before and after are ok",
          cell(run, "sds-zero", 1)["status"] == "ok" and cell(run, "sds-other-sig", 1)["status"] == "ok")
    check("hang: run.json validates", valid("run.schema.json", os.path.join(d2, "run.json")))
    check("--reps-for raises one scenario's repetitions",
          sum(o["count"] for o in cell(run, "sds-other-sig", 1)["outcomes"]) == 3 and
          sum(o["count"] for o in cell(run, "sds-zero", 1)["outcomes"]) == 2, cell(run, "sds-other-sig", 1))

    # A kernel panic mid-run: the cell is crashed with the console excerpt,
    # the run finishes within its deadline and writes its report.
    d3 = os.path.join(tmp, "panic")
    # Seed 3 keeps the order sds-zero, selftest-panic, sds-other-sig (checked).
    p, dt = kfarm("run", "--kernels", K61, "--smp", "1", "--reps", "2", "--accel", "tcg", "--seed", "3",
                  "--scenarios", "sds-zero,selftest-panic,sds-other-sig", "-o", d3)
    run = load(os.path.join(d3, "run.json"))
    check("panic: the guest ran its scenarios in the seed's order",
          run["guests"][0].get("scenarios") == ["sds-zero", "selftest-panic", "sds-other-sig"],
          run["guests"][0].get("scenarios"))
    c = cell(run, "selftest-panic", 1) or {}
    check("panic: the cell is crashed", c.get("status") == "crashed", c)
    check("panic: the excerpt shows the panic", any("Kernel panic" in l for l in c.get("excerpt", [])), c)
    check("panic: the cell before is ok", cell(run, "sds-zero", 1)["status"] == "ok")
    check("panic: the cell after is not lost", cell(run, "sds-other-sig", 1)["status"] == "crashed")
    ev = run["guests"][0]["events"]
    check("panic: a panic event is recorded", any(e["kind"] == "panic" for e in ev), ev)
    check("panic: finished well within the deadline", dt < 120, dt)
    check("panic: run.json validates", valid("run.schema.json", os.path.join(d3, "run.json")))

    # A kernel that cannot boot: no init found -> boot-failed with excerpt.
    cfg = os.path.join(tmp, "noinit.json")
    with open(cfg, "w") as f:
        json.dump({"kernels": [{"name": "noinit", "deb": "linux-image-amd64"}], "smp": [1], "reps": 1,
                   "accel": "tcg", "boot_timeout_s": 60, "cmdline": "rdinit=/nonexistent init=/nonexistent"}, f)
    d4 = os.path.join(tmp, "noinit")
    p, dt = kfarm("run", "-c", cfg, "--scenarios", "sds-zero", "-o", d4)
    run = load(os.path.join(d4, "run.json"))
    c = cell(run, "sds-zero", 1) or {}
    check("no init: boot-failed", c.get("status") == "boot-failed" and run["guests"][0]["status"] == "boot-failed", c)
    check("no init: excerpt shows the panic", any("panic" in l.lower() for l in c.get("excerpt", [])), c)
    g = run["guests"][0]
    check("no init: booted a second time, the first attempt kept with its console log",
          g.get("retried", {}).get("status") == "boot-failed" and
          os.path.exists(os.path.join(d4, g["retried"].get("console", "-"))) and
          g["retried"]["console"] != g["console"], g)
    check("no init: run.json validates", valid("run.schema.json", os.path.join(d4, "run.json")))

    # A guest that hangs without a sign of life (init is an interactive shell
    # waiting on the console) is killed at its boot deadline.
    cfg3 = os.path.join(tmp, "hangboot.json")
    with open(cfg3, "w") as f:
        json.dump({"kernels": [{"name": "hangboot", "deb": "linux-image-amd64"}], "smp": [1], "reps": 1,
                   "accel": "tcg", "boot_timeout_s": 12, "cmdline": "rdinit=/bin/sh"}, f)
    d7 = os.path.join(tmp, "hangboot")
    p, dt = kfarm("run", "-c", cfg3, "--scenarios", "sds-zero", "-o", d7)
    run = load(os.path.join(d7, "run.json"))
    g = run["guests"][0]
    check("silent guest: killed at its boot deadline as boot-failed",
          g["status"] == "boot-failed" and "deadline" in g.get("error", ""), g)
    check("silent guest: the run ends soon after the deadline", 12 <= dt < 40, dt)

    # The accelerator is chosen by a canary when left to auto.
    d8 = os.path.join(tmp, "auto")
    p, dt = kfarm("run", "--kernels", K61, "--smp", "1", "--reps", "1", "--scenarios", "sds-zero", "-o", d8)
    run = load(os.path.join(d8, "run.json"))
    q = run["qemu"]
    check("auto accelerator: a choice and its reason are reported",
          p.returncode == 0 and q["accelerator"] in ("kvm", "tcg") and len(q.get("accelerator_reason", "")) > 10, q)
    print(f"  accelerator: {q['accelerator']} ({q.get('accelerator_reason')})")

    # A truncated kernel image: QEMU or the decompressor gives up -> boot-failed.
    src = run["kernels"][0]["path"]
    trunc = os.path.join(tmp, "truncated-bzImage")
    with open(src, "rb") as f, open(trunc, "wb") as g:
        g.write(f.read(1 << 20))
    d5 = os.path.join(tmp, "trunc")
    cfg2 = os.path.join(tmp, "trunc.json")
    with open(cfg2, "w") as f:
        json.dump({"kernels": [{"name": "truncated", "path": trunc}], "smp": [1], "reps": 1,
                   "accel": "tcg", "boot_timeout_s": 30}, f)
    p, dt = kfarm("run", "-c", cfg2, "--scenarios", "sds-zero", "-o", d5)
    run = load(os.path.join(d5, "run.json"))
    check("truncated image: boot-failed and the report is written",
          run["guests"][0]["status"] == "boot-failed" and cell(run, "sds-zero", 1)["status"] == "boot-failed",
          run["guests"])
    check("truncated image: within its deadline", dt < 60, dt)

    # Compare two real kernels: diff.json validates, exit code follows verdicts.
    d6 = os.path.join(tmp, "cmp")
    p, dt = kfarm("compare", K61, K612, "--smp", "1", "--reps", "3", "--accel", "tcg", "-o", d6)
    check("compare 6.1 vs 6.12 exits 0 or 1", p.returncode in (0, 1), p.stderr[-2000:])
    check("compare prints the table", "cells" in p.stdout, p.stdout[-2000:])
    check("diff.json validates", valid("diff.schema.json", os.path.join(d6, "diff.json")))
    check("compare run.json validates", valid("run.schema.json", os.path.join(d6, "run.json")))
    diff = load(os.path.join(d6, "diff.json"))
    check("diff has no error cells", diff["summary"]["error"] == 0,
          (diff["summary"], [(c["scenario"], [c.get(s, {}).get("error") for s in "ab"])
                             for c in diff["cells"] if c["verdict"] == "error"][:5]))
    check("compare: a diff cell for every cell of the sample",
          sorted(c["scenario"] for c in diff["cells"]) == sorted(sample), len(diff["cells"]))
    sud = [c for c in diff["cells"] if c["scenario"] == "sud-config"]
    check("compare: sud-config is changed, 6.1 unsupported with its reason",
          len(sud) == 1 and sud[0]["verdict"] == "changed" and
          sud[0].get("reason", "").startswith("a: unsupported (") and "predates 6.4" in sud[0]["reason"],
          [(c["verdict"], c.get("reason")) for c in sud])
    kc = load(os.path.join(d6, "kcidb.json"))
    paths = {t["path"] for t in kc["tests"]}
    check("kcidb.json: a variant cell's axes are path levels",
          "kfarm.detach.sds-zero.smp1" in paths and
          any(re.fullmatch(r"kfarm\.detach\.sds-zero(\.[a-z]+_[A-Za-z0-9-]+)+\.smp1", x) for x in paths) and
          len(paths) == len(sample), sorted(paths)[:5])
    check("compare writes kcidb.json valid against KCIDB v5.3",
          subprocess.run([*VALIDATE, os.path.join(TOP, "orchestrator/tests/data/export/kcidb-v5.3.schema.json"),
                          os.path.join(d6, "kcidb.json")], capture_output=True).returncode == 0)
    jc = subprocess.run(["/usr/bin/python3", os.path.join(TOP, "tests", "junit-check.py"),
                         os.path.join(d6, "junit.xml"), os.path.join(d6, "diff.json")],
                        capture_output=True, text=True)
    check("compare writes junit.xml that junitparser accepts", jc.returncode == 0, jc.stdout[-1500:])
    check("compare writes a self-contained diff.html",
          os.path.getsize(os.path.join(d6, "diff.html")) > 1000 and
          "http://" not in open(os.path.join(d6, "diff.html")).read().replace("http://www.w3.org", ""))
    idx = os.path.join(tmp, "index.json")
    check("the run is recorded in index.json", os.path.exists(idx) and
          valid("index.schema.json", idx) and any(r.get("id") == diff["a"]["run"] for r in load(idx).get("runs", [])),
          open(idx).read()[:1500] if os.path.exists(idx) else "no index")
    ph, _ = kfarm("history", "-o", tmp, "--kernel", "linux-image-6.12-amd64")
    check("kfarm history finds the latest run of a kernel",
          ph.returncode == 0 and json.loads(ph.stdout).get("id") == diff["a"]["run"], ph.stdout[:500] + ph.stderr)
    ph, _ = kfarm("history", "-o", tmp, "--kernel", "no-such-kernel")
    check("kfarm history says where it looked when nothing matches",
          ph.returncode == 1 and f"no such run in {tmp}/index.json" in ph.stderr, ph.stderr)
    p2, _ = kfarm("diff", d6, "-o", os.path.join(tmp, "d.json"))
    check("kfarm diff on the run dir agrees with compare", p2.returncode == p.returncode and
          load(os.path.join(tmp, "d.json"))["summary"] == diff["summary"], p2.stderr)

    # kfarm calibrate: two A/A runs with one seed, tallied per cell.
    d10 = os.path.join(tmp, "cal")
    p, dt = kfarm("calibrate", K61, "--runs", "2", "--smp", "1", "--reps", "3", "--boots", "3",
                  "--seed", "7", "--scenarios", "detach-vs-sigkill,reattach-no-parting-report,sds-zero",
                  "--accel", "tcg", "-o", d10)
    check("calibrate: exit 0", p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:])
    check("calibrate prints a line per cell and the two rates",
          "FALSE POSITIVES" in p.stdout and "runs with any: " in p.stdout and
          all(re.search(rf"^{s} +1( +\d+){{6}}  \d+/2 = ", p.stdout, re.M)
              for s in ("detach-vs-sigkill", "reattach-no-parting-report", "sds-zero")), p.stdout)
    cj = os.path.join(d10, "calibrate.json")
    check("calibrate.json validates", os.path.exists(cj) and valid("calibrate.schema.json", cj))
    cal = load(cj) if os.path.exists(cj) else {"cells": [], "total": {}}
    check("calibrate: 2 runs, 3 cells, every cell tallied twice",
          cal.get("runs") == 2 and len(cal["cells"]) == 3 and cal["total"].get("of") == 6 and
          all(sum(c["verdicts"].values()) == 2 and c["of"] == 2 for c in cal["cells"]), cal)
    r1, r2 = (load(os.path.join(d10, d, "run.json")) for d in ("run-01", "run-02"))
    plan = lambda r: sorted((g["kernel"], g["smp"], g["boot"], g["block"], g["order_seed"],
                             tuple(g["scenarios"])) for g in r["guests"])
    check("--seed reproduces the blocks and the scenario orders",
          r1["seed"] == r2["seed"] == 7 and plan(r1) == plan(r2), (plan(r1), plan(r2)))


if __name__ == "__main__":
    sys.exit(main())
