#!/usr/bin/python3
"""kfarm integration tests: real QEMU boots of real Debian kernels.

Usage: integration.py BUILD_DIR
       integration.py --self-test   (no QEMU: the checks below fail on doctored input)

Each check prints "ok" or "FAIL"; the last line is "N passed, N failed". The
checks are grouped in sections; a check's condition is computed inside the
check (a lambda), so an exception while computing it (a missing key, a file
that was not written) fails that check and the next one runs; an exception
between checks fails its section and the next section runs.
"""
import io
import json
import os
import shutil
import pwd
import re
import subprocess
import sys
import time
import types

import kfarmtest as kt
from kfarmtest import TOP, Checks, check, checks, external_refs, finish, kfarm, run_in_tmp, section
VALIDATE = [ "/usr/bin/python3", os.path.join(TOP, "tests", "validate-schema.py") ]
SCHEMA = os.path.join(TOP, "reports", "schema")
K61 = "deb:linux-image-amd64"
K612 = "deb:linux-image-6.12-amd64"
# orchestrator/diff.c verdict_table[] (diff_verdict_name()), in its order; the table leaves out the first and the fifth.
VERDICTS = ("same", "changed", "distribution-changed", "flaky", "unsupported", "error")
NOT_IN_TABLE = ("same", "unsupported")


def load(path):
    with open(path) as f:
        return json.load(f)


def read_or_none(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


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
    if p.returncode != 0:
        raise RuntimeError(f"kfarm scenarios --space {space}: exit {p.returncode}: {p.stderr[-500:]}")
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


def exit_status_of(diff):
    """What kfarm compare/diff exit with for diff (orchestrator/diff.c diff_exit_status)."""
    s = diff["summary"]
    return 2 if s["error"] else 1 if s["changed"] or s["distribution-changed"] else 0


def summary_problems(diff):
    """diff.json's summary against its cells: [] when it counts them."""
    counted = {v: sum(1 for c in diff["cells"] if c["verdict"] == v) for v in VERDICTS}
    problems = []
    if set(diff["summary"]) != set(VERDICTS):
        problems.append(f"summary keys {sorted(diff['summary'])}, not {sorted(VERDICTS)}")
    if any(c["verdict"] not in VERDICTS for c in diff["cells"]):
        problems.append(f"unknown verdicts {sorted({c['verdict'] for c in diff['cells']} - set(VERDICTS))}")
    if {v: diff["summary"].get(v) for v in VERDICTS} != counted:
        problems.append(f"summary {diff['summary']}, the cells count {counted}")
    if not diff["cells"]:
        problems.append("no cells")
    return problems


def table_problems(stdout, diff):
    """The table `kfarm compare` and `kfarm diff` print for diff (orchestrator/diff.c
    export_table), against diff.json: the a: and b: lines, the header
    'SCENARIO  SMP  VERDICT  DETAIL' with the columns' widths, a row per cell
    whose verdict is not same or unsupported (scenario, SMP, verdict, in the
    diff's order, nothing else), or 'no differences' when there is none, the
    smp-dependent lines, then '<N> cells, <n> same, ...' with diff.json's
    counts. [] when the table is right."""
    lines = stdout.splitlines()
    cells = diff["cells"]
    shown = [c for c in cells if c["verdict"] not in NOT_IN_TABLE]
    ws = max([len("SCENARIO")] + [len(c["scenario"]) for c in shown])
    wn = max([len("SMP")] + [len(str(c["smp"])) for c in shown])
    wv = max([len("VERDICT")] + [len(c["verdict"]) for c in shown])
    want = []
    for s in ("a", "b"):
        side = diff[s]
        want.append(f"{s}: {side['kernel']}" + (f" ({side['release']})" if side.get("release") else "") +
                    f", run {side['run']}")
    if not want[0] in lines:
        return [f"no line {want[0]!r}"]
    i = lines.index(want[0]) + 1
    problems = []

    def expect(what, ok):
        nonlocal i
        got = lines[i] if i < len(lines) else None
        if got is None or not ok(got):
            problems.append(f"line {i + 1}: want {what}, got {got!r}")
        i += 1
    expect(repr(want[1]), lambda l: l == want[1])
    if shown:
        header = f"{'SCENARIO':<{ws}}  {'SMP':>{wn}}  {'VERDICT':<{wv}}  DETAIL"
        expect(f"the header {header!r}", lambda l: l == header)
        for c in shown:
            lead = f"{c['scenario']:<{ws}}  {c['smp']:>{wn}}  "
            expect(f"the row of {c['scenario']} smp {c['smp']} ({c['verdict']}), {lead + c['verdict']!r}...",
                   lambda l, lead=lead, v=c["verdict"]: l == lead + v or
                   (l.startswith(lead + f"{v:<{wv}}  ") and len(l) > len(lead) + wv + 2))
    else:
        expect("'no differences'", lambda l: l == "no differences")
    for s in ("a", "b"):
        dep = (diff.get("smp_dependent") or {}).get(s) or []
        if dep:
            line = f"smp-dependent on {s}: " + ", ".join(dep)
            expect(repr(line), lambda l, line=line: l == line)
    total = f"{len(cells)} cells, " + ", ".join(f"{diff['summary'][v]} {v}" for v in VERDICTS)
    expect(f"the summary {total!r}", lambda l: l == total)
    return problems


def compare_output_checks(t, stdout, rc, diff, html):
    """The checks of what `kfarm compare` printed, its exit status, diff.json and
    diff.html (text, or None when missing); {name: passed}. --self-test runs
    them on doctored input."""
    return {
        "exit": t.check("compare's exit status follows its verdicts (2 error, 1 changed, else 0)",
                        lambda: rc == exit_status_of(diff), lambda: (rc, diff["summary"])),
        "summary": t.check("diff.json's summary counts its cells", lambda: not summary_problems(diff),
                           lambda: summary_problems(diff)),
        "table": t.check("compare prints the table: header, a row per cell not same or unsupported, "
                         "the summary's counts", lambda: not table_problems(stdout, diff),
                         lambda: "; ".join(table_problems(stdout, diff)[:8]) + "\n" + stdout[-2000:]),
        "html": t.check("compare writes a self-contained diff.html (no external reference)",
                        lambda: html is not None and len(html) > 1000 and not external_refs(html),
                        lambda: "no diff.html" if html is None else
                        f"{len(html)} bytes; " + "; ".join(external_refs(html)[:8])),
    }


def main():
    if "--self-test" in sys.argv[1:]:
        return self_test()
    return run_in_tmp(run_tests, "kfarm-it-")


def run_tests(tmp):
    s = types.SimpleNamespace(tmp=tmp)
    for fn in (refusals, scenarios_listing, pvh, whole_sample, variants, aa_control, coin, hang, panic,
               no_init, silent_guest, auto_accel, truncated, confinement, compare, reuse, calibrate, bisect):
        section(f"section {fn.__name__}", fn, s)


def refusals(s):
    """Bad input is refused up front with the thing named."""
    tmp = s.tmp
    junk = os.path.join(tmp, "junk.img")
    with open(junk, "wb") as f:
        f.write(b"not a kernel" * 100)
    p, _ = kfarm("run", "--kernels", "path:" + junk, "--smp", "1", "-o", os.path.join(tmp, "junk"))
    check("a file that is not a kernel is refused", lambda: p.returncode == 2 and junk in p.stderr
          and "not a kernel image" in p.stderr, p.stderr)
    p, _ = kfarm("run", "--kernels", "nosuch", "--smp", "1")
    check("an unknown kernel name is refused", lambda: p.returncode == 2 and "unknown kernel 'nosuch'" in p.stderr,
          p.stderr)
    p, _ = kfarm("run", "--kernels", "deb:linux-image-does-not-exist-kfarm", "--smp", "1")
    check("an unknown Debian package is refused", lambda: p.returncode == 2 and
          "Debian package 'linux-image-does-not-exist-kfarm' is not known to apt" in p.stderr, p.stderr)
    p, _ = kfarm("run", "--kernels", K61, "--scenarios", "no-such-scenario")
    check("an unknown scenario is refused", lambda: p.returncode == 2 and
          "unknown scenario 'no-such-scenario'" in p.stderr, p.stderr)
    p, _ = kfarm("run", "--kernels", K61, "--scenarios", "sds-zero,sds-zero[sigchld=bogus,wait=waitpid]")
    check("an unknown cell is refused, named", lambda: p.returncode == 2 and
          "unknown cell 'sds-zero[sigchld=bogus,wait=waitpid]'" in p.stderr, p.stderr)
    p, _ = kfarm("run", "--kernels", K61, "--space", "everything")
    check("an unknown space is refused", lambda: p.returncode == 2 and "--space: 'everything'" in p.stderr,
          p.stderr)
    p, _ = kfarm("run", "--kernels", K61, "--smp", "1,2", "--variant-smp", "4")
    check("variant_smp outside the run's SMP sizes is refused", lambda: p.returncode == 2 and
          "variant_smp: 4 is not one of the run's SMP sizes (1,2)" in p.stderr, p.stderr)
    # a QEMU whose data folders hold no qboot.rom: refused before anything boots, saying what to do
    empty = os.path.join(tmp, "no-firmware")
    os.makedirs(empty, exist_ok=True)
    fake = os.path.join(tmp, "qemu-without-qboot")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\ncase \"$1\" in --version) echo 'QEMU emulator version 7.2.0'; exit 0;; "
                f"-L) echo {empty}; exit 0;; esac\ntouch {tmp}/qemu-without-qboot.booted; exit 1\n")
    os.chmod(fake, 0o755)
    cfg = os.path.join(tmp, "no-qboot.json")
    with open(cfg, "w") as f:
        json.dump({"kernels": [{"name": "k", "deb": "linux-image-amd64"}], "smp": [1], "accel": "tcg",
                   "qemu": fake, "output": os.path.join(tmp, "no-qboot")}, f)
    p, _ = kfarm("run", "-c", cfg, "--scenarios", "sds-zero")
    check("a QEMU that finds no qboot.rom is refused, naming it and the way out, before any boot",
          lambda: p.returncode == 2 and "finds no qboot.rom" in p.stderr and '"firmware": "seabios"' in p.stderr
          and not os.path.exists(os.path.join(tmp, "qemu-without-qboot.booted")), p.stderr)


def scenarios_listing(s):
    """kfarm scenarios: the plain scenarios with their sample sizes; the cells of a space."""
    p, _ = kfarm("scenarios")
    rows = [l.split() for l in p.stdout.splitlines()[1:] if not l.startswith("(")]
    s.base, s.sample, s.full = base, sample, full = cells_of("base"), cells_of("sample"), cells_of("full")
    check("kfarm scenarios lists the plain scenarios with their sample and full sizes",
          lambda: p.returncode == 0 and p.stdout.split()[:6] == ["ID", "GROUP", "KIND", "SAMPLE", "FULL",
                                                                  "DESCRIPTION"] and
          len(base) > 0 and len([r for r in rows if r[1] != "selftest"]) == len(base) and
          {r[0] for r in rows if r[1] == "selftest"} >= {"selftest-hang", "selftest-panic", "selftest-coin",
                                                         "selftest-forkbomb", "selftest-memhog"} and
          all("[" not in r[0] for r in rows) and
          sum(int(r[3]) for r in rows if r[1] != "selftest") == len(sample) and
          sum(int(r[4]) for r in rows if r[1] != "selftest") == len(full), p.stdout[:3000])
    check("the sample is the plain cells and variant cells, within the full space",
          lambda: set(base) <= set(sample) <= set(full) and len(base) > 0 and len(sample) > len(base) and
          len(full) > len(sample) and all("[" in c for c in sample if c not in base),
          (len(base), len(sample), len(full)))
    p, _ = kfarm("scenarios", "--expand")
    check("kfarm scenarios --expand describes the axes", lambda: p.returncode == 0 and
          p.stdout.startswith("Axes") and "sds-zero (deterministic): axes" in p.stdout, p.stdout[:500])


def pvh(s):
    """Each image's vmlinux is extracted once into the cache and booted through PVH."""
    for spec in (K61, K612):
        p, _ = kfarm("kernels", "fetch", spec)
        boot = re.search(r"^  boot: (\S+) (.+)$", p.stdout, re.M)
        sha = re.search(r"^  sha256 (\S+)$", p.stdout, re.M)
        vmlinux = boot.group(2) if boot else ""

        def elf64(path):
            with open(path, "rb") as f:
                return f.read(5) == b"\x7fELF\x02"
        check(f"{spec} boots its cached PVH vmlinux", lambda: p.returncode == 0 and boot and sha and
              boot.group(1) == "pvh" and vmlinux.endswith(f"/pvh/{sha.group(1)}/vmlinux") and
              os.path.isfile(vmlinux) and elf64(vmlinux), p.stdout + p.stderr[-2000:])
    os.environ["KFARM_NO_PVH"] = "1"
    try:
        p, _ = kfarm("kernels", "fetch", K61)
    finally:
        del os.environ["KFARM_NO_PVH"]
    check("KFARM_NO_PVH=1 boots the bzImage", lambda: p.returncode == 0 and "\n  boot: bzimage " in p.stdout,
          p.stdout + p.stderr[-2000:])


def whole_sample(s):
    """A real boot of Debian's 6.1 kernel at SMP 1 and 2, the whole catalog: by
    default the pairwise sample of every scenario's axes, whose variant cells
    run 2 times at the two smallest SMP sizes (here both). s.sample is read
    inside the check that needs it (scenarios_listing may have failed)."""
    d1 = os.path.join(s.tmp, "run61")
    p, dt = kfarm("run", "--kernels", K61, "--smp", "1,2", "--reps", "5", "--accel", "tcg", "-o", d1)
    check("6.1 at SMP 1,2 runs to completion", lambda: p.returncode == 0, p.stderr[-2000:])
    run = load(os.path.join(d1, "run.json"))
    check("run.json validates", lambda: valid("run.schema.json", os.path.join(d1, "run.json")))
    check("run.json records the space and the variant cells' repetitions and SMP sizes",
          lambda: (run.get("space"), run.get("variant_reps"), run.get("variant_smp")) == ("sample", 2, [1, 2]),
          lambda: {k: run.get(k) for k in ("space", "variant_reps", "variant_smp")})
    for smp in (1, 2):
        got = {c["scenario"]: c for c in run["cells"] if c["smp"] == smp}
        check(f"smp{smp}: a cell for every cell of the sample, as the guest reported it",
              lambda: s.sample and sorted(got) == sorted(s.sample) and sorted(run["scenarios"]) == sorted(s.sample) and
              all(c["status"] == "ok" or (k, c["status"]) == ("sud-config", "unsupported")
                  for k, c in got.items()),
              lambda: (len(got), len(s.sample), sorted(set(s.sample) - set(got))[:5],
                       [(k, c["status"], c.get("error")) for k, c in got.items() if c["status"] != "ok"][:5]))
        # 6.1 predates PTRACE_{GET,SET}_SYSCALL_USER_DISPATCH_CONFIG (6.4): the
        # cell says so, with the reason, instead of failing or vanishing.
        sud = got.get("sud-config", {})
        check(f"smp{smp}: sud-config is unsupported on 6.1, with the reason",
              lambda: sud.get("status") == "unsupported" and "predates 6.4" in (sud.get("error") or ""),
              lambda: (sud.get("status"), (sud.get("error") or "")[:300]))
        counted = {k: c for k, c in got.items() if not c.get("racy")}
        check(f"smp{smp}: variant cells ran 2 times on boot 1, plain ones 5 (racy: their share)",
              lambda: any("[" in k for k in counted) and any("[" not in k for k in counted) and
              all(reps_of(c, 1) == (2 if "[" in k else 5) for k, c in counted.items()),
              lambda: [(k, reps_of(c, 1)) for k, c in counted.items() if reps_of(c, 1) != (2 if "[" in k else 5)][:5])
    check("no guest ran a cell kfarm did not plan",
          lambda: run["guests"] and not any(g.get("unplanned") for g in run["guests"]),
          lambda: [(g["smp"], g["boot"], g.get("unplanned")) for g in run["guests"] if g.get("unplanned")])
    # 5 boots per SMP size; a deterministic scenario that shows a stray second
    # outcome adds follow-up guests (blocks of one kernel run side by side here).
    planned = sorted((g["smp"], g["boot"]) for g in run["guests"] if not g.get("followup"))
    check("run.json has boots 1-5 of the kernel at each SMP size (more only as follow-ups), all ok",
          lambda: planned == [(n, b) for n in (1, 2) for b in range(1, 6)] and
          all(g["status"] == "ok" for g in run["guests"]),
          lambda: [(g["smp"], g["boot"], g["status"], g.get("followup"), g.get("error")) for g in run["guests"]])
    release = run["kernels"][0].get("release", "")
    check("the kernel release is reported", lambda: release.startswith("6.1."), run["kernels"][0])
    check("accelerator recorded, TCG's vCPUs in one thread a guest and qboot (the defaults)",
          lambda: run["qemu"]["accelerator"] == "tcg" and run["qemu"].get("tcg_threads") == "single"
          and run["qemu"].get("firmware") == "qboot" and
          "cryptomgr.notests" in run.get("inputs", {}).get("boot_args", ""),
          lambda: run["qemu"])
    for smp in (1, 2):
        o = only_obs(cell(run, "sds-other-sig", smp))
        check(f"sds-other-sig smp{smp} ends killed:SIGUSR2", lambda: o is not None and o.get("tracee") == "killed:SIGUSR2",
              lambda: cell(run, "sds-other-sig", smp))
        o2 = only_obs(cell(run, "detach-errors", smp))
        check(f"detach-errors smp{smp} gives ESRCH and EIO",
              lambda: o2 is not None and {"ESRCH", "EIO"} <= set(o2.values()), lambda: cell(run, "detach-errors", smp))
        o3 = only_obs(cell(run, "sds-sigkill", smp))
        check(f"sds-sigkill smp{smp} ends killed:SIGKILL", lambda: o3 is not None and o3.get("tracee") == "killed:SIGKILL",
              lambda: cell(run, "sds-sigkill", smp))
    for g in run["guests"]:
        print(f"  guest {g['kernel']} smp{g['smp']} boot {g['boot']}: booted in {g.get('boot_ms', 0) / 1000:.1f} s, "
              f"total {g.get('duration_ms', 0) / 1000:.1f} s")
        log = read_or_none(os.path.join(d1, g["console"]))
        # images/init prints these two lines on the console
        check(f"console log smp{g['smp']} boot {g['boot']} shows the guest's init and its payload's exit 0",
              lambda: log is not None and f"kfarm-init: {release} cpus={g['smp']}" in log and
              "kfarm-init: payload exited 0" in log,
              lambda: (g["console"], (log or "")[-1500:]))


def variants(s):
    """A small selection in the sample: a scenario's cells (ID[*]), a variant
    cell of the full space named on its own, a racy scenario. Variant cells
    run variant_reps times at the SMP sizes of --variant-smp only; elsewhere
    only the plain cells run; each guest ran exactly what kfarm planned."""
    sample, full = s.sample, s.full
    extra = next(c for c in full if c.startswith("tracer-exit-sds[") and c not in sample)
    zero = [c for c in sample if c == "sds-zero" or c.startswith("sds-zero[")]
    d13 = os.path.join(s.tmp, "variants")
    p, dt = kfarm("run", "--kernels", K61, "--smp", "1,2", "--space", "sample", "--variant-smp", "1",
                  "--variant-reps", "3", "--reps", "4", "--boots", "2", "--accel", "tcg",
                  "--scenarios", f"sds-zero[*],{extra},detach-vs-sigkill", "-o", d13)
    check("variants: the run completes", lambda: p.returncode == 0, p.stderr[-2000:])
    run = load(os.path.join(d13, "run.json"))
    check("variants: run.json validates and records space, variant_reps, variant_smp",
          lambda: valid("run.schema.json", os.path.join(d13, "run.json")) and
          (run.get("space"), run.get("variant_reps"), run.get("variant_smp")) == ("sample", 3, [1]),
          lambda: {k: run.get(k) for k in ("space", "variant_reps", "variant_smp")})
    want1 = sorted(zero + [extra, "detach-vs-sigkill"])
    want2 = ["detach-vs-sigkill", "sds-zero"]
    c1 = {c["scenario"]: c for c in run["cells"] if c["smp"] == 1}
    c2 = {c["scenario"]: c for c in run["cells"] if c["smp"] == 2}
    check("variants: run.json's scenarios are sds-zero's sample cells, the named cell and the racy one",
          lambda: len(zero) > 5 and sorted(run["scenarios"]) == want1, lambda: (run["scenarios"], want1))
    check("variants: at SMP 1 (variant_smp) every selected cell, all ok",
          lambda: sorted(c1) == want1 and all(c["status"] == "ok" for c in c1.values()),
          lambda: [(k, c["status"]) for k, c in c1.items()])
    check("variants: variant cells ran 3 times at SMP 1 (boot 1), plain sds-zero 4",
          lambda: all(reps_of(c1[k], 1) == 3 for k in want1 if "[" in k) and reps_of(c1["sds-zero"], 1) == 4,
          lambda: [(k, reps_of(c, 1)) for k, c in c1.items()])
    check("variants: at SMP 2 only the plain cells", lambda: sorted(c2) == want2 and
          reps_of(c2["sds-zero"]) == 4, lambda: sorted(c2))
    g1 = [g for g in run["guests"] if g["boot"] == 1]
    check("variants: each boot-1 guest ran exactly the cells planned for its SMP size",
          lambda: sorted((g["smp"], tuple(sorted(g["scenarios"]))) for g in g1) ==
          [(1, tuple(want1)), (2, tuple(want2))] and
          not any(g.get("unplanned") or g.get("scenarios_planned") for g in run["guests"]),
          lambda: [(g["smp"], g["boot"], g["scenarios"], g.get("unplanned")) for g in run["guests"]])
    check("variants: the racy scenario is split over 2 boots at both SMP sizes",
          lambda: all(len(c["detach-vs-sigkill"].get("boots", [])) == 2 for c in (c1, c2)),
          lambda: [c.get("detach-vs-sigkill", {}).get("boots") for c in (c1, c2)])


def aa_control(s):
    """The A/A control: the same kernel in two separate boots gives no changed
    and no distribution-changed verdict, and anything not "same" is a
    scenario marked racy. Racy cells are split over boots that run in blocks."""
    d9 = os.path.join(s.tmp, "aa")
    p, dt = kfarm("compare", K61, K61, "--smp", "1,2", "--reps", "5", "--boots", "3", "--accel", "tcg",
                  "--space", "base", "-o", d9)
    check("A/A control: exit 0", lambda: p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:])
    diff = load(os.path.join(d9, "diff.json"))
    check("A/A control: a diff cell per plain cell at SMP 1 and 2",
          lambda: s.base and sorted((c["scenario"], c["smp"]) for c in diff["cells"]) ==
          sorted((b, n) for b in s.base for n in (1, 2)),
          lambda: (len(diff["cells"]), 2 * len(s.base),
                   sorted({c["scenario"] for c in diff["cells"]} ^ set(s.base))[:10]))
    check("A/A control: no changed or distribution-changed verdict",
          lambda: diff["summary"]["changed"] == 0 and diff["summary"]["distribution-changed"] == 0,
          lambda: [(c["scenario"], c["smp"], c["verdict"], c.get("p_value"), c.get("p_adjusted"),
                    [side.get("boots") or side.get("outcomes") for side in (c.get("a", {}), c.get("b", {}))])
                   for c in diff["cells"] if c["verdict"] in ("changed", "distribution-changed")])

    def odd():
        return [(c["scenario"], c["smp"], c["verdict"], c.get("fields"),
                 [side.get("outcomes") for side in (c.get("a", {}), c.get("b", {}))])
                for c in diff["cells"] if c["verdict"] not in ("same", "unsupported") and not c.get("racy")]
    check("A/A control: only racy scenarios differ at all", lambda: diff["cells"] and not odd(),
          lambda: json.dumps(odd()))
    check("A/A control: what 6.1 cannot do is unsupported on both sides, nothing else",
          lambda: sorted({c["scenario"] for c in diff["cells"] if c["verdict"] == "unsupported"}) == ["sud-config"],
          lambda: [(c["scenario"], c["smp"]) for c in diff["cells"] if c["verdict"] == "unsupported"])
    print(f"  A/A control: {diff.get('summary')}")
    check("A/A control: diff.json validates", lambda: valid("diff.schema.json", os.path.join(d9, "diff.json")))
    check("A/A control: run.json validates", lambda: valid("run.schema.json", os.path.join(d9, "run.json")))
    run = load(os.path.join(d9, "run.json"))
    racy = [c for c in run["cells"] if c.get("racy")]
    check("racy cells are split over 3 boots of 20 repetitions in all",
          lambda: racy and all(len(c.get("boots", [])) == 3 and
                               sum(o["count"] for b in c["boots"] for o in b["outcomes"]) == 20 and
                               sum(o["count"] for o in c["outcomes"]) == 20 for c in racy),
          lambda: [(c["kernel"], c["smp"], c["scenario"], c.get("boots")) for c in racy])
    det = [c for c in run["cells"] if not c.get("racy")]
    check("deterministic cells run in boot 1 only", lambda: det and all("boots" not in c for c in det),
          lambda: [(c["kernel"], c["smp"], c["scenario"]) for c in det if "boots" in c][:10])
    guests = run["guests"]
    check("3 guests per kernel and SMP size", lambda: len(guests) == 12 and
          sorted((g["kernel"], g["smp"], g["boot"]) for g in guests) ==
          sorted((k, n, b) for k in ("linux-image-amd64", "linux-image-amd64-b") for n in (1, 2)
                 for b in (1, 2, 3)), lambda: [(g["kernel"], g["smp"], g["boot"]) for g in guests])
    partner = {}
    for g in guests:
        partner.setdefault((g["smp"], g["boot"]), []).append(g)
    check("a block is both kernels at one (smp, boot), started together, one scenario order",
          lambda: partner and all(len(b) == 2 and b[0]["block"] == b[1]["block"] and
                                  b[0]["order_seed"] == b[1]["order_seed"] and
                                  b[0]["scenarios"] == b[1]["scenarios"] for b in partner.values()),
          lambda: [(k, [(g["kernel"], g["block"], g["order_seed"]) for g in b]) for k, b in partner.items()])
    check("each guest ran alongside its block partner for most of its life",
          lambda: guests and all(any(o["smp"] == g["smp"] and o["boot"] == g["boot"] and o["kernel"] != g["kernel"] and
                                     o["ms"] >= 0.5 * min(g["duration_ms"], h["duration_ms"])
                                     for o in g["overlap"] for h in partner[(g["smp"], g["boot"])] if h is not g)
                                 for g in guests),
          lambda: [(g["kernel"], g["smp"], g["boot"], g["duration_ms"], g.get("overlap")) for g in guests])
    check("the run records its seed", lambda: isinstance(run.get("seed"), int) and run["seed"] > 0,
          lambda: run.get("seed"))


def coin(s):
    """A deterministic scenario with two outcomes (selftest-coin) is reported, and
    gets boots: it joins the racy scenarios' boots 2 and 3 when they have not
    started yet (blocks run one at a time here), else follow-up guests."""
    d11 = os.path.join(s.tmp, "coin")
    p, dt = kfarm("compare", K61, K61, "--smp", "1", "--reps", "6", "--boots", "3", "-j", "2",
                  "--accel", "tcg", "--scenarios", "detach-vs-sigkill,selftest-coin,sds-zero", "-o", d11)
    run, diff = load(os.path.join(d11, "run.json")), load(os.path.join(d11, "diff.json"))
    coins = [c for c in run["cells"] if c["scenario"] == "selftest-coin"]
    check("coin: every side's cell has boot 1 (6 repetitions) and joins boots 2 and 3 (a share "
          "of 2 each), without follow-up guests",
          lambda: len(coins) == 2 and all([b["boot"] for b in c.get("boots", [])] == [1, 2, 3] and
                                          [sum(o["count"] for o in b["outcomes"]) for b in c["boots"]] == [6, 2, 2]
                                          for c in coins) and not any(g.get("followup") for g in run["guests"]),
          lambda: [(c["kernel"], c.get("boots")) for c in coins] +
          [(g["kernel"], g["boot"], g["scenarios"]) for g in run["guests"]])
    v = [c for c in diff["cells"] if c["scenario"] == "selftest-coin"]
    check("coin: a second outcome on a deterministic scenario is never same, and is tested on boots",
          lambda: len(v) == 1 and v[0]["verdict"] in ("flaky", "distribution-changed") and
          v[0].get("test") == "quasi-f" and v[0].get("boots") == {"a": 3, "b": 3}, v)
    d12 = os.path.join(s.tmp, "coin-followup")
    p, dt = kfarm("run", "--kernels", K61, "--smp", "1", "--reps", "6", "--boots", "3", "--accel", "tcg",
                  "--scenarios", "selftest-coin,sds-zero", "-o", d12)
    run = load(os.path.join(d12, "run.json"))
    c = cell(run, "selftest-coin", 1) or {}
    check("coin without racy boots: two follow-up guests give it boots 2 and 3, 2 repetitions each",
          lambda: [b["boot"] for b in c.get("boots", [])] == [1, 2, 3] and
          [sum(o["count"] for o in b["outcomes"]) for b in c["boots"]] == [6, 2, 2] and
          sorted(g["boot"] for g in run["guests"] if g.get("followup")) == [2, 3] and
          "boots" not in (cell(run, "sds-zero", 1) or {"boots": "missing"}), lambda: (c, run["guests"]))
    d13 = os.path.join(s.tmp, "coin-reuse")
    p, dt = kfarm("compare", K61, K612, "--smp", "1", "--reps", "6", "--boots", "3", "--accel", "tcg",
                  "--scenarios", "selftest-coin,sds-zero", "-o", d13)
    rr = load(os.path.join(d13, "run.json"))
    na, nb = rr["kernels"][0]["name"], rr["kernels"][1]["name"]
    ga = [g for g in rr["guests"] if g["kernel"] == na]
    gb = [g for g in rr["guests"] if g["kernel"] == nb]
    cb = cell(rr, "selftest-coin", 1, nb) or {}
    check("coin, reused: A's boot 1 and follow-ups are taken from that run; B boots 1, 2 and 3 as A's "
          "two outcomes ask",
          lambda: p.returncode in (0, 1) and sorted(g["boot"] for g in ga) == [1, 2, 3] and
          all(g.get("reused", {}).get("run") == run["id"] for g in ga) and
          sorted(g["boot"] for g in gb) == [1, 2, 3] and not any("reused" in g for g in gb) and
          [b["boot"] for b in cb.get("boots", [])] == [1, 2, 3] and
          cell(rr, "selftest-coin", 1, na) == c, lambda: (p.stderr[-1500:], rr["guests"]))


def hang(s):
    """A scenario that hangs is a timeout for its own cell only."""
    d2 = os.path.join(s.tmp, "hang")
    p, dt = kfarm("run", "--kernels", K61, "--smp", "1", "--reps", "2", "--timeout-ms", "1000",
                  "--accel", "tcg", "--scenarios", "sds-zero,selftest-hang,sds-other-sig",
                  "--reps-for", "sds-other-sig=3", "-o", d2)
    check("hang: run exits 1 (a cell is not ok)", lambda: p.returncode == 1, p.stderr[-1000:])
    run = load(os.path.join(d2, "run.json"))
    check("hang: selftest-hang is timeout", lambda: cell(run, "selftest-hang", 1)["status"] == "timeout",
          lambda: cell(run, "selftest-hang", 1))
    check("hang: the cells before and after are ok",
          lambda: cell(run, "sds-zero", 1)["status"] == "ok" and cell(run, "sds-other-sig", 1)["status"] == "ok",
          lambda: [(c["scenario"], c["status"]) for c in run["cells"]])
    check("hang: run.json validates", lambda: valid("run.schema.json", os.path.join(d2, "run.json")))
    check("--reps-for raises one scenario's repetitions",
          lambda: reps_of(cell(run, "sds-other-sig", 1)) == 3 and reps_of(cell(run, "sds-zero", 1)) == 2,
          lambda: cell(run, "sds-other-sig", 1))


def panic(s):
    """A kernel panic mid-run: the cell is crashed with the console excerpt,
    the run finishes within its deadline and writes its report."""
    d3 = os.path.join(s.tmp, "panic")
    # Seed 3 keeps the order sds-zero, selftest-panic, sds-other-sig (checked).
    p, dt = kfarm("run", "--kernels", K61, "--smp", "1", "--reps", "2", "--accel", "tcg", "--seed", "3",
                  "--scenarios", "sds-zero,selftest-panic,sds-other-sig", "-o", d3)
    run = load(os.path.join(d3, "run.json"))
    check("panic: the guest ran its scenarios in the seed's order",
          lambda: run["guests"][0].get("scenarios") == ["sds-zero", "selftest-panic", "sds-other-sig"],
          lambda: run["guests"][0].get("scenarios"))
    c = cell(run, "selftest-panic", 1) or {}
    check("panic: the cell is crashed", lambda: c.get("status") == "crashed", c)
    check("panic: the excerpt shows the panic",
          lambda: any("Kernel panic - not syncing" in l for l in c.get("excerpt", [])), c)
    check("panic: the cell before is ok", lambda: cell(run, "sds-zero", 1)["status"] == "ok",
          lambda: cell(run, "sds-zero", 1))
    check("panic: the cell after is not lost", lambda: cell(run, "sds-other-sig", 1)["status"] == "crashed",
          lambda: cell(run, "sds-other-sig", 1))
    ev = run["guests"][0]["events"]
    check("panic: a panic event is recorded", lambda: any(e["kind"] == "panic" for e in ev), ev)
    check("panic: finished well within the deadline", lambda: dt < 120, dt)
    check("panic: run.json validates", lambda: valid("run.schema.json", os.path.join(d3, "run.json")))


def no_init(s):
    """A kernel that cannot boot: no init found -> boot-failed with excerpt."""
    cfg = os.path.join(s.tmp, "noinit.json")
    with open(cfg, "w") as f:
        json.dump({"kernels": [{"name": "noinit", "deb": "linux-image-amd64"}], "smp": [1], "reps": 1,
                   "accel": "tcg", "boot_timeout_s": 60, "cmdline": "rdinit=/nonexistent init=/nonexistent"}, f)
    d4 = os.path.join(s.tmp, "noinit")
    p, dt = kfarm("run", "-c", cfg, "--scenarios", "sds-zero", "-o", d4)
    run = load(os.path.join(d4, "run.json"))
    c = cell(run, "sds-zero", 1) or {}
    check("no init: boot-failed", lambda: c.get("status") == "boot-failed" and
          run["guests"][0]["status"] == "boot-failed", c)
    check("no init: excerpt shows the panic",
          lambda: any("Kernel panic - not syncing" in l for l in c.get("excerpt", [])), c)
    g = run["guests"][0]
    check("no init: booted a second time, the first attempt kept with its console log",
          lambda: g["retried"]["status"] == "boot-failed" and g["retried"]["console"] != g["console"] and
          os.path.getsize(os.path.join(d4, g["retried"]["console"])) > 0, g)
    check("no init: run.json validates", lambda: valid("run.schema.json", os.path.join(d4, "run.json")))


def silent_guest(s):
    """A guest that hangs without a sign of life (init is an interactive shell
    waiting on the console) is killed at its boot deadline."""
    cfg3 = os.path.join(s.tmp, "hangboot.json")
    with open(cfg3, "w") as f:
        json.dump({"kernels": [{"name": "hangboot", "deb": "linux-image-amd64"}], "smp": [1], "reps": 1,
                   "accel": "tcg", "boot_timeout_s": 12, "cmdline": "rdinit=/bin/sh"}, f)
    d7 = os.path.join(s.tmp, "hangboot")
    p, dt = kfarm("run", "-c", cfg3, "--scenarios", "sds-zero", "-o", d7)
    run = load(os.path.join(d7, "run.json"))
    g = run["guests"][0]
    check("silent guest: killed at its boot deadline as boot-failed",
          lambda: g["status"] == "boot-failed" and "deadline" in g.get("error", ""), g)
    check("silent guest: the run ends soon after the deadline", lambda: 12 <= dt < 40, dt)


def auto_accel(s):
    """The accelerator is chosen by a canary when left to auto."""
    d8 = os.path.join(s.tmp, "auto")
    p, dt = kfarm("run", "--kernels", K61, "--smp", "1", "--reps", "1", "--scenarios", "sds-zero", "-o", d8)
    run = load(os.path.join(d8, "run.json"))
    q = run["qemu"]
    check("auto accelerator: a choice and its reason are reported",
          lambda: p.returncode == 0 and q["accelerator"] in ("kvm", "tcg") and
          len(q.get("accelerator_reason", "")) > 10, q)
    print(f"  accelerator: {q.get('accelerator')} ({q.get('accelerator_reason')})")


def truncated(s):
    """A truncated kernel image is refused before it boots, naming it, its size and
    the size its header claims (it used to boot and fail as a guest reset)."""
    src = load(os.path.join(s.tmp, "auto", "run.json"))["kernels"][0]["path"]
    trunc = os.path.join(s.tmp, "truncated-bzImage")
    with open(src, "rb") as f, open(trunc, "wb") as g:
        g.write(f.read(1 << 20))
    d5 = os.path.join(s.tmp, "trunc")
    cfg2 = os.path.join(s.tmp, "trunc.json")
    with open(cfg2, "w") as f:
        json.dump({"kernels": [{"name": "truncated", "path": trunc}], "smp": [1], "reps": 1,
                   "accel": "tcg", "boot_timeout_s": 30}, f)
    p, dt = kfarm("run", "-c", cfg2, "--scenarios", "sds-zero", "-o", d5)
    check("truncated image: refused before it boots, with its size and the header's",
          lambda: p.returncode == 2 and trunc in p.stderr and
          "truncated bzImage: 1048576 bytes, but its header claims" in p.stderr and
          not os.path.exists(os.path.join(d5, "run.json")), p.stderr)
    check("truncated image: refused at once", lambda: dt < 10, dt)


def proc_status(pid):
    """/proc/PID/status as a dict of its fields, or {} when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    except OSError:
        return {}


def qemu_child_of(pid, seconds):
    """The pid of the QEMU @pid runs, once its seccomp filter is on; None after @seconds."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            st = proc_status(d)
            if st.get("PPid") == str(pid) and st.get("Name", "").startswith("qemu-system") \
                    and st.get("Seccomp") == "2":
                return int(d)
        time.sleep(0.05)
    return None


def confinement(s):
    """QEMU runs sandboxed (seccomp), as the unprivileged kfarm-qemu when kfarm is root,
    and dies with kfarm, even when kfarm is killed with -9."""
    d = os.path.join(s.tmp, "confined")
    argv = [kt.KFARM, "run", "--kernels", K61, "--smp", "1", "--reps", "1", "--timeout-ms", "20000",
            "--scenarios", "selftest-hang", "-o", d]
    k = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, CI="true"))
    try:
        q = qemu_child_of(k.pid, 60)
        st = proc_status(q) if q else {}
        want = pwd.getpwnam("kfarm-qemu").pw_uid if os.geteuid() == 0 else os.geteuid()
        check("QEMU runs under its seccomp filter, with no new privileges",
              lambda: q is not None and st["Seccomp"] == "2" and st["NoNewPrivs"] == "1", st)
        check(f"QEMU runs as uid {want} ({'kfarm-qemu: kfarm is root' if os.geteuid() == 0 else 'ours'})",
              lambda: st["Uid"].split() == [str(want)] * 4 and st["Gid"].split()[0] != "0", st)
        k.kill()
        k.wait()
        end = time.monotonic() + 10
        while q and proc_status(q).get("State", "Z").startswith(("R", "S", "D")) and time.monotonic() < end:
            time.sleep(0.05)
        check("kfarm killed with -9: its QEMU is gone (not left running)",
              lambda: q is not None and not proc_status(q).get("State", "Z").startswith(("R", "S", "D", "T")),
              lambda: proc_status(q))
    finally:
        if k.poll() is None:
            k.kill()
            k.wait()
    if os.geteuid() == 0:
        priv = os.path.join(s.tmp, "private-bzImage")
        with open(load(os.path.join(s.tmp, "auto", "run.json"))["kernels"][0]["path"], "rb") as f, \
                open(priv, "wb") as g:
            g.write(f.read())
        os.chmod(priv, 0o600)
        # as a bzImage, which QEMU opens as it is (a PVH one is unpacked into the cache)
        p, _ = kfarm_env({"KFARM_NO_PVH": "1"}, "run", "--kernels", "path:" + priv, "--smp", "1",
                         "--scenarios", "sds-zero", "-o", os.path.join(s.tmp, "private"))
        check("as root, an image QEMU's user cannot read is a boot failure that names it and the fix",
              lambda: priv in p.stderr and "not readable by kfarm-qemu" in p.stderr and "chmod" in p.stderr, p.stderr)
        p, _ = kfarm_env({"KFARM_QEMU_USER": "kfarm-no-such-user"}, "run", "--kernels", K61, "--smp", "1",
                         "--scenarios", "sds-zero", "-o", os.path.join(s.tmp, "no-user"))
        check("as root, a QEMU user that does not exist is refused before a boot, named",
              lambda: p.returncode == 2 and "kfarm-no-such-user" in p.stderr and "make deps" in p.stderr
              and not os.path.exists(os.path.join(s.tmp, "no-user", "run.json")), p.stderr)


def kfarm_env(env, *args):
    """kfarm(*args) with @env added to its environment."""
    t0 = time.monotonic()
    p = subprocess.run([kt.KFARM, *args], capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, CI="true", **env))
    print(f"  $ {' '.join(f'{k}={v}' for k, v in env.items())} kfarm {' '.join(args)}  -> exit {p.returncode} "
          f"in {time.monotonic() - t0:.1f} s", flush=True)
    return p, time.monotonic() - t0


def compare(s):
    """Compare two real kernels: diff.json validates, exit code follows verdicts."""
    tmp = s.tmp
    d6 = os.path.join(tmp, "cmp")
    p, dt = kfarm("compare", K61, K612, "--smp", "1", "--reps", "3", "--accel", "tcg", "-o", d6)
    check("diff.json validates", lambda: valid("diff.schema.json", os.path.join(d6, "diff.json")))
    check("compare run.json validates", lambda: valid("run.schema.json", os.path.join(d6, "run.json")))
    diff = load(os.path.join(d6, "diff.json"))
    compare_output_checks(checks, p.stdout, p.returncode, diff, read_or_none(os.path.join(d6, "diff.html")))
    check("diff has no error cells", lambda: diff["summary"]["error"] == 0,
          lambda: (diff["summary"], [(c["scenario"], [c.get(side, {}).get("error") for side in "ab"])
                                     for c in diff["cells"] if c["verdict"] == "error"][:5]))
    check("compare: a diff cell for every cell of the sample",
          lambda: s.sample and sorted(c["scenario"] for c in diff["cells"]) == sorted(s.sample),
          lambda: len(diff["cells"]))
    sud = [c for c in diff["cells"] if c["scenario"] == "sud-config"]
    check("compare: sud-config is changed, 6.1 unsupported with its reason",
          lambda: len(sud) == 1 and sud[0]["verdict"] == "changed" and
          sud[0].get("reason", "").startswith("a: unsupported (") and "predates 6.4" in sud[0]["reason"],
          lambda: [(c["verdict"], c.get("reason")) for c in sud])
    kc = load(os.path.join(d6, "kcidb.json"))
    paths = {t["path"] for t in kc["tests"]}
    check("kcidb.json: a variant cell's axes are path levels",
          lambda: "kfarm.detach.sds-zero.smp1" in paths and
          any(re.fullmatch(r"kfarm\.detach\.sds-zero(\.[a-z]+_[A-Za-z0-9-]+)+\.smp1", x) for x in paths) and
          len(paths) == len(s.sample), lambda: sorted(paths)[:5])
    kv = subprocess.run([*VALIDATE, os.path.join(TOP, "orchestrator/tests/data/export/kcidb-v5.3.schema.json"),
                         os.path.join(d6, "kcidb.json")], capture_output=True, text=True)
    check("compare writes kcidb.json valid against KCIDB v5.3", lambda: kv.returncode == 0,
          kv.stdout[-1500:] + kv.stderr[-500:])
    jc = subprocess.run(["/usr/bin/python3", os.path.join(TOP, "tests", "junit-check.py"),
                         os.path.join(d6, "junit.xml"), os.path.join(d6, "diff.json")],
                        capture_output=True, text=True)
    check("compare writes junit.xml that junitparser accepts", lambda: jc.returncode == 0,
          jc.stdout[-1500:] + jc.stderr[-500:])
    idx = os.path.join(tmp, "index.json")
    check("the run is recorded in index.sqlite, exported to index.json",
          lambda: os.path.exists(os.path.join(tmp, "index.sqlite")) and
          valid("index.schema.json", idx) and
          any(r.get("id") == diff["a"]["run"] for r in load(idx).get("runs", [])),
          lambda: read_or_none(idx)[:1500] if os.path.exists(idx) else "no index")
    ph, _ = kfarm("history", "-o", tmp, "--kernel", "linux-image-6.12-amd64")
    check("kfarm history finds the latest run of a kernel",
          lambda: ph.returncode == 0 and json.loads(ph.stdout).get("id") == diff["a"]["run"],
          ph.stdout[:500] + ph.stderr)
    ph2, _ = kfarm("history", "-o", tmp, "--kernel", "no-such-kernel")
    check("kfarm history says where it looked when nothing matches",
          lambda: ph2.returncode == 1 and f"no such run in {tmp}/index.sqlite" in ph2.stderr, ph2.stderr)
    p2, _ = kfarm("diff", d6, "-o", os.path.join(tmp, "d.json"))
    check("kfarm diff on the run dir agrees with compare: exit status, summary, the same table",
          lambda: p2.returncode == p.returncode and load(os.path.join(tmp, "d.json"))["summary"] == diff["summary"]
          and not table_problems(p2.stdout, diff) and p2.stdout in p.stdout,
          lambda: p2.stderr[-1000:] + "\n" + p2.stdout[-2000:])


def reuse(s):
    """Reuse by content: a compare takes a kernel's guests from a run whose inputs for it were the same."""
    top = os.path.join(s.tmp, "reuse")
    opts = ("--smp", "1", "--reps", "2", "--scenarios", "sds-zero,mt-detach-one", "--accel", "tcg")
    runs = {}

    def go(name, *args):
        p, _ = kfarm(*args, *opts, "-o", os.path.join(top, name))
        runs[name] = load(os.path.join(top, name, "run.json"))
        return p

    def kernel(run, i):
        return run["kernels"][i]

    def guests(run, i):
        return [g for g in run["guests"] if g["kernel"] == kernel(run, i)["name"]]

    def obs(run, i):
        return sorted((c["scenario"], c["smp"], json.dumps(c["outcomes"], sort_keys=True))
                      for c in run["cells"] if c["kernel"] == kernel(run, i)["name"])
    p0 = go("prime", "run", "--kernels", K61)
    prime = runs["prime"]
    p1 = go("one", "compare", K61, K612)
    one = runs["one"]
    check("compare takes the A side from a run whose inputs for it were the same, boots B",
          lambda: p0.returncode == 0 and p1.returncode in (0, 1) and
          kernel(one, 0)["reused"] == {"run": prime["id"], "dir": "prime"} and "reused" not in kernel(one, 1) and
          guests(one, 0) and all(g["reused"]["run"] == prime["id"] for g in guests(one, 0)) and
          guests(one, 1) and not any("reused" in g for g in guests(one, 1)) and
          f"taken from run {prime['id']}" in p1.stderr, p1.stderr[-3000:])
    check("the A side's cells are those of the run it was taken from",
          lambda: obs(one, 0) == obs(prime, 0) and len(obs(one, 1)) == 2, lambda: (obs(one, 0), obs(prime, 0)))
    check("a taken guest's console and results are that run's files, found from the new run's folder",
          lambda: all(g["console"].startswith("../prime/") and
                      os.path.isfile(os.path.join(top, "one", g["console"])) and
                      os.path.isfile(os.path.join(top, "one", g["results"])) for g in guests(one, 0)),
          lambda: [(g["console"], g["results"]) for g in guests(one, 0)])
    check("run.json with reused guests validates; each kernel carries its own inputs key",
          lambda: valid("run.schema.json", os.path.join(top, "one", "run.json")) and
          kernel(one, 0)["inputs_key"] == kernel(prime, 0)["inputs_key"] and
          kernel(one, 1)["inputs_key"] != kernel(one, 0)["inputs_key"] and one["seed"] == prime["seed"],
          lambda: [k.get("inputs_key") for k in one["kernels"]])
    p2 = go("again", "compare", K61, K612)
    again = runs["again"]
    check("the same compare again boots no guest: both sides taken, the same verdicts",
          lambda: p2.returncode == p1.returncode and len(again["guests"]) == len(one["guests"]) and
          all("reused" in g for g in again["guests"]) and "0 to boot" in p2.stderr and
          load(os.path.join(top, "again", "diff.json"))["summary"] ==
          load(os.path.join(top, "one", "diff.json"))["summary"], p2.stderr[-2000:])
    check("a guest taken twice names the run that booted it",
          lambda: [g["reused"]["run"] for g in guests(again, 0)] == [prime["id"]] * len(guests(again, 0)) and
          [g["reused"]["run"] for g in guests(again, 1)] == [one["id"]] * len(guests(again, 1)) and
          all(os.path.isfile(os.path.join(top, "again", g["console"])) for g in again["guests"]),
          lambda: [(g["reused"], g["console"]) for g in again["guests"]])
    p3 = go("fresh", "compare", K61, K612, "--fresh")
    check("--fresh boots both sides", lambda: p3.returncode in (0, 1) and
          not any("reused" in g for g in runs["fresh"]["guests"]) and len(runs["fresh"]["guests"]) == 2 and
          "taken from" not in p3.stderr, p3.stderr[-2000:])
    p4 = go("aa", "compare", K61, K61)
    check("an A/A compare never reuses: both copies boot", lambda: p4.returncode == 0 and
          len(runs["aa"]["guests"]) == 2 and not any("reused" in g for g in runs["aa"]["guests"]),
          p4.stderr[-2000:])
    p5, _ = kfarm("compare", K61, K612, *opts[:3], "3", *opts[4:], "-o", os.path.join(top, "reps3"))
    r5 = read_or_none(os.path.join(top, "reps3", "run.json"))
    check("other inputs (--reps 3) take nothing", lambda: p5.returncode in (0, 1) and r5 and
          not any("reused" in g for g in json.loads(r5)["guests"]), p5.stderr[-2000:])
    # A guest whose cell timed out is not carried into later runs: it boots again.
    hang = ("--smp", "1", "--reps", "1", "--timeout-ms", "1000", "--scenarios", "sds-zero,selftest-hang",
            "--accel", "tcg")
    ph, _ = kfarm("run", "--kernels", K61, *hang, "-o", os.path.join(top, "hang-prime"))
    p6, _ = kfarm("compare", K61, K612, *hang, "-o", os.path.join(top, "hang-cmp"))
    r6 = read_or_none(os.path.join(top, "hang-cmp", "run.json"))
    check("a run whose guest had a cell time out gives nothing: both sides of the compare boot (exit 2: "
          "the timeouts are errors)",
          lambda: ph.returncode == 1 and p6.returncode == 2 and r6 and
          len(json.loads(r6)["guests"]) == 2 and not any("reused" in g for g in json.loads(r6)["guests"]) and
          [c["status"] for c in json.loads(r6)["cells"] if c["scenario"] == "selftest-hang"] ==
          ["timeout", "timeout"] and "taken from" not in p6.stderr, p6.stderr[-2000:])
    idx = os.path.join(top, "index.json")
    check("the index records each kernel's inputs key, and validates",
          lambda: valid("index.schema.json", idx) and
          all(k.get("inputs_key") for r in load(idx)["runs"] for k in r["kernels"]),
          lambda: read_or_none(idx)[:1500])


def calibrate(s):
    """kfarm calibrate: two A/A runs with one seed, tallied per cell."""
    d10 = os.path.join(s.tmp, "cal")
    p, dt = kfarm("calibrate", K61, "--runs", "2", "--smp", "1", "--reps", "3", "--boots", "3",
                  "--seed", "7", "--scenarios", "detach-vs-sigkill,reattach-no-parting-report,sds-zero",
                  "--accel", "tcg", "-o", d10)
    check("calibrate: exit 0", lambda: p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:])
    check("calibrate prints a line per cell and the two rates",
          lambda: "FALSE POSITIVES" in p.stdout and "runs with any: " in p.stdout and
          all(re.search(rf"^{sc} +1( +\d+){{6}}  \d+/2 = ", p.stdout, re.M)
              for sc in ("detach-vs-sigkill", "reattach-no-parting-report", "sds-zero")), p.stdout)
    cj = os.path.join(d10, "calibrate.json")
    check("calibrate.json validates", lambda: os.path.exists(cj) and valid("calibrate.schema.json", cj))
    cal = load(cj)
    check("calibrate: 2 runs, 3 cells, every cell tallied twice",
          lambda: cal.get("runs") == 2 and len(cal["cells"]) == 3 and cal["total"].get("of") == 6 and
          all(sum(c["verdicts"].values()) == 2 and c["of"] == 2 for c in cal["cells"]), cal)
    r1, r2 = (load(os.path.join(d10, d, "run.json")) for d in ("run-01", "run-02"))

    def plan(r):
        return sorted((g["kernel"], g["smp"], g["boot"], g["block"], g["order_seed"], tuple(g["scenarios"]))
                      for g in r["guests"])
    check("--seed reproduces the blocks and the scenario orders",
          lambda: r1["seed"] == r2["seed"] == 7 and r1["guests"] and plan(r1) == plan(r2),
          lambda: (plan(r1), plan(r2)))


def bisect(s):
    """kfarm bisect over an ordered list of five kernels, 6.1's image three times and
    6.12's twice (paths of the compare section's run): the first 6.12 is the first bad,
    in ceil(log2 4) = 2 steps; with an unbootable file in the middle, it is skipped
    and the range round it is what comes out (exit 1)."""
    run = load(os.path.join(s.tmp, "cmp", "run.json"))
    paths = [k["path"] for k in run["kernels"]]
    kd = os.path.join(s.tmp, "bisect-kernels")
    os.makedirs(kd, exist_ok=True)
    ks = []
    for i, src in enumerate([paths[0]] * 3 + [paths[1]] * 2):
        dst = os.path.join(kd, f"k{i + 1}")
        shutil.copyfile(src, dst)
        ks.append(f"path:{dst}")
    opts = ["--scenarios", "sud-config,sds-zero", "--smp", "1", "--reps", "2", "--accel", "tcg"]
    top = os.path.join(s.tmp, "bisect")
    p, dt = kfarm("bisect", "--kernels", ",".join(ks), *opts, "-o", top)
    bj = os.path.join(top, "bisect.json")
    b = load(bj) if os.path.exists(bj) else {}
    check("bisect: exit 0, the first bad is the first 6.12 (k4)",
          lambda: p.returncode == 0 and f"first bad: {ks[3]} (kernel 4 of 5" in p.stdout and
          b.get("found") is True and b["first_bad"] == {"index": 3, "kernel": ks[3]} and
          b["last_good"] == {"index": 2, "kernel": ks[2]}, p.stdout[-2000:] + p.stderr[-3000:])
    check("bisect.json validates", lambda: valid("bisect.schema.json", bj))
    check("bisect follows sud-config at SMP 1 only (sds-zero is the same)",
          lambda: b["cells"] == [{"scenario": "sud-config", "smp": 1}], lambda: b.get("cells"))
    check("bisect: 2 steps after the first compare, k3 good and k4 bad, k2 untested",
          lambda: [(x["step"], x["index"], x["verdict"]) for x in b["steps"]] ==
          [(0, 4, "bad"), (1, 2, "good"), (2, 3, "bad")] and
          [k["mark"] for k in b["kernels"]] == ["good", "untested", "good", "bad", "bad"],
          lambda: b.get("steps"))
    check("bisect: every compare is a run directory with its diff, recorded in the folder's index",
          lambda: all(os.path.exists(os.path.join(d, "diff.json")) for x in b["steps"] for d in x["runs"]) and
          len(load(os.path.join(top, "index.json"))["runs"]) == sum(len(x["runs"]) for x in b["steps"]),
          lambda: os.listdir(top))
    check("bisect.json says the bisection finished", lambda: b.get("finished") is True, lambda: b.get("finished"))
    # --replay: the finished log compares nothing again; cut after step 1, step 2 is run
    rtop = os.path.join(s.tmp, "bisect-replay")
    pr, _ = kfarm("bisect", "--replay", bj, *opts, "-o", rtop)
    br = load(os.path.join(rtop, "bisect.json")) if os.path.exists(os.path.join(rtop, "bisect.json")) else {}
    check("bisect --replay of a finished log: the same answer, nothing compared again",
          lambda: pr.returncode == 0 and br.get("first_bad") == b["first_bad"] and br["steps"] == b["steps"] and
          not [x for x in os.listdir(rtop) if x.startswith("step-")], pr.stderr[-2000:])
    cut = dict(b, steps=b["steps"][:2], finished=False)
    cutf = os.path.join(s.tmp, "bisect-cut.json")
    with open(cutf, "w") as f:
        json.dump(cut, f)
    ctop = os.path.join(s.tmp, "bisect-carry")
    pc, _ = kfarm("bisect", "--replay", cutf, *opts, "-o", ctop)
    bc = load(os.path.join(ctop, "bisect.json")) if os.path.exists(os.path.join(ctop, "bisect.json")) else {}
    check("bisect --replay of a log cut after step 1: step 2 (k4) runs, and the answer is k4",
          lambda: pc.returncode == 0 and bc["first_bad"] == {"index": 3, "kernel": ks[3]} and
          [(x["step"], x["index"], x["verdict"]) for x in bc["steps"]] == [(0, 4, "bad"), (1, 2, "good"), (2, 3, "bad")] and
          sorted(x for x in os.listdir(ctop) if x.startswith("step-")) == ["step-02-k4-vs-bad", "step-02-k4-vs-good"],
          pc.stderr[-2000:])
    pb, _ = kfarm("bisect", "--replay", os.path.join(s.tmp, "cmp", "run.json"), *opts, "-o", os.path.join(s.tmp, "bisect-bad-log"))
    check("bisect --replay of a file that is no bisection's log: exit 2, naming it",
          lambda: pb.returncode == 2 and "run.json" in pb.stderr and "not a bisection's log" in pb.stderr, pb.stderr[-1000:])
    # the list from a config, --cells CELL@SMP: the same answer, only that cell followed
    cfg = os.path.join(s.tmp, "bisect-list.json")
    with open(cfg, "w") as f:
        json.dump({"kernels": [{"name": f"k{i + 1}", "path": k[5:]} for i, k in enumerate(ks)]}, f)
    pl, _ = kfarm("bisect", "-c", cfg, "--cells", "sud-config@1,sds-zero@1", "--reps", "2", "--accel", "tcg",
                  "-o", os.path.join(s.tmp, "bisect-list"))
    bl = load(os.path.join(s.tmp, "bisect-list", "bisect.json")) if os.path.exists(
        os.path.join(s.tmp, "bisect-list", "bisect.json")) else {}
    check("bisect -c CONFIG --cells sud-config@1,sds-zero@1: the config's kernels in order, k4 first bad, "
          "sud-config followed, sds-zero said not changed",
          lambda: pl.returncode == 0 and bl["kernels"][0]["kernel"] == "k1" and
          bl["first_bad"] == {"index": 3, "kernel": "k4"} and bl["cells"] == [{"scenario": "sud-config", "smp": 1}] and
          "--cells sds-zero@1: not changed between good and bad" in pl.stderr, pl.stderr[-2000:])
    # k3 is now a file that is no kernel: skipped, and k2 tried in its place
    junk = os.path.join(kd, "k3")
    with open(junk, "wb") as f:
        f.write(os.urandom(8192))
    top2 = os.path.join(s.tmp, "bisect-skip")
    p2, _ = kfarm("bisect", "--kernels", ",".join(ks), *opts, "-o", top2)
    b2 = load(os.path.join(top2, "bisect.json")) if os.path.exists(os.path.join(top2, "bisect.json")) else {}
    check("bisect round a skip: exit 1, the range k2..k4 printed, k3 skip with its reason",
          lambda: p2.returncode == 1 and f"after {ks[1]} (kernel 2) and up to {ks[3]} (kernel 4)" in p2.stdout and
          b2.get("found") is False and [k["mark"] for k in b2["kernels"]] == ["good", "good", "skip", "bad", "bad"] and
          any(x["index"] == 2 and x["verdict"] == "skip" and "did not run" in x["reason"] for x in b2["steps"]),
          p2.stdout[-2000:] + p2.stderr[-2000:])
    p3, _ = kfarm("bisect", "--kernels", f"{ks[0]},{ks[1]}", *opts, "-o", os.path.join(s.tmp, "bisect-same"))
    check("bisect of two kernels that do not differ: exit 2, said so",
          lambda: p3.returncode == 2 and "nothing to bisect" in p3.stderr, p3.stderr[-2000:])


def self_test():
    """The checks fail when they should, without QEMU: the check runner on
    conditions and sections that raise; compare_output_checks() on the test
    fixtures (orchestrator/tests/data: expected-diff.json with its golden table,
    expected.html), which must pass, and on doctored copies, each of which must
    fail the one check it targets."""
    data = os.path.join(TOP, "orchestrator", "tests", "data")

    # The runner: a raising condition fails its check, the next check runs; a
    # raising section fails, the next section runs; nothing run is a failure.
    out = io.StringIO()
    t = Checks(out=out)

    def sec_a():
        d = {}
        t.check("passes", lambda: True)
        t.check("raises KeyError", lambda: d["missing"] == 1)
        t.check("fails, its detail raises", lambda: False, lambda: d["missing"])
        t.check("passes after a raise", lambda: 1 + 1 == 2)
        json.loads("{not json")
        t.check("never reached", lambda: True)

    def sec_b():
        t.check("the next section runs", lambda: True)
    t.section("a", sec_a)
    t.section("b", sec_b)
    status = t.finish()
    text = out.getvalue()
    check("self-test: a check whose condition raises fails, with the exception, and the next check runs",
          lambda: re.search(r"^FAIL raises KeyError raised KeyError: 'missing' \(at integration\.py:\d+", text, re.M)
          and "\nok   passes after a raise\n" in text, text)
    check("self-test: a failed check whose detail raises still fails", lambda: re.search(
          r"^FAIL fails, its detail raises \(the detail raised KeyError", text, re.M), text)
    check("self-test: a section that raises fails, the rest of it is skipped, the next section runs",
          lambda: re.search(r"^FAIL a: stopped, its remaining checks not run: (json\.decoder\.)?JSONDecodeError: .* in sec_a\b", text, re.M) and
          "never reached" not in text and "\nok   the next section runs\n" in text, text)
    check("self-test: the tally counts them and the status is 1",
          lambda: text.rstrip().endswith("\n3 passed, 3 failed") and status == 1, text)
    empty = Checks(out=io.StringIO())
    check("self-test: no check at all is a failure", lambda: empty.finish() == 1, empty.out.getvalue())

    # compare_output_checks() on the fixtures, then on doctored copies.
    diff = load(os.path.join(data, "diff", "expected-diff.json"))
    with open(os.path.join(data, "diff", "expected-table.txt")) as f:
        table = f.read()
    with open(os.path.join(data, "export", "expected.html")) as f:
        page = f.read()
    stdout = "\n" + table + "diff: /x/diff.json\nviews: /x/diff.html /x/junit.xml /x/kcidb.json\n"
    rc = 2  # the fixture has error cells

    def failing(stdout=stdout, rc=rc, diff=diff, html=page):
        buf = io.StringIO()
        got = compare_output_checks(Checks(out=buf), stdout, rc, diff, html)
        return sorted(k for k, ok in got.items() if not ok), buf.getvalue()

    got, text = failing()
    check("self-test: the compare checks pass on the fixtures (golden table, expected.html)", lambda: got == [],
          text)
    lines = table.splitlines(keepends=True)
    header = next(i for i, l in enumerate(lines) if l.startswith("SCENARIO "))
    row = header + 2
    total = lines[-1]
    cases = [
        ("the table without its header line", "table",
         dict(stdout=stdout.replace(lines[header], ""))),
        ("the table without one of its rows", "table", dict(stdout=stdout.replace(lines[row], ""))),
        ("a row with another verdict", "table",
         dict(stdout=stdout.replace(lines[row], lines[row].replace("changed ", "flaky   ", 1)))),
        ("a row too many (a same cell)", "table",
         dict(stdout=stdout.replace(lines[row], lines[row] + "sds-same-sig           1  same\n"))),
        ("misaligned columns", "table",
         dict(stdout=stdout.replace(lines[header], lines[header].replace("SMP  ", "SMP ", 1)))),
        ("a summary line whose count is off by one", "table",
         dict(stdout=stdout.replace(total, total.replace("3 changed", "4 changed")))),
        ("'no differences' though cells differ", "table",
         dict(stdout=stdout.replace("".join(lines[header:header + 12]), "no differences\n"))),
        ("only the summary line (what the old 'cells in stdout' check accepted)", "table",
         dict(stdout="15 cells\n")),
        ("a summary in diff.json that does not count its cells (printed as such)", "summary",
         dict(diff=dict(diff, summary=dict(diff["summary"], same=4)),
              stdout=stdout.replace(total, total.replace("3 same", "4 same")))),
        ("exit status 0 though there are error cells", "exit", dict(rc=0)),
        ("exit status 1 though there are error cells", "exit", dict(rc=1)),
        ("diff.html with a script from https://", "html",
         dict(html=page.replace("</body>", '<script src="https://cdn.example.org/x.js"></script></body>'))),
        ("diff.html with a protocol-relative image", "html",
         dict(html=page.replace("</body>", '<img src="//cdn.example.org/x.png"></body>'))),
        ("diff.html with a relative stylesheet", "html",
         dict(html=page.replace("</head>", '<link rel="stylesheet" href="diff.css"></head>'))),
        ("diff.html with a CSS url() to a file", "html", dict(html=page.replace("body{", "body{background:url(a.png);", 1))),
        ("diff.html with the SVG namespace URI outside an xmlns attribute", "html",
         dict(html=page.replace("</body>", "<p>http://www.w3.org/2000/svg</p></body>"))),
        ("diff.html with an https URL in its embedded data", "html",
         dict(html=page.replace('"kernel":"k-old"', '"kernel":"https://example.org/k-old"', 1))),
        ("diff.html with a fetch() in its script", "html",
         dict(html=page.replace("'use strict';", "'use strict'; fetch('more.json');", 1))),
        ("no diff.html", "html", dict(html=None)),
    ]
    for what, target, kw in cases:
        got, text = failing(**kw)
        check(f"self-test: {what} fails the {target} check, only it", lambda: got == [target],
              lambda: f"failed: {got}\n{text}")
    svg = page.replace("</body>", '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
                       '<use href="#x"/></svg><img src="data:image/png;base64,AAAA"><a href="#cell=x">x</a></body>')
    got, text = failing(html=svg)
    check("self-test: inline SVG with its namespaces, a data: image and a fragment link pass", lambda: got == [],
          text)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
