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
  - a second compare rebuilds nothing and changes the same cells;
  - a one-line edit of a patch to kernel/ptrace.c rebuilds in the kernels'
    build tree: a new image, kernel/ptrace.o recompiled, not the rest;
  - a build killed with its make (kill -9 of its process group) leaves the
    tree "building": the next build makes it afresh and succeeds;
  - kfarm bisect --good --bad over a git repository made from the source, the
    demo patch one of 7 commits and another one that does not build: it names
    the patch's commit, marks the broken one skip, builds at most
    ceil(log2 8) + 2 = 5 times (incrementally, in one build tree), and a second
    run of the same bisection builds nothing.
The last two build every time (a new nonce in the edited line): the first
incrementally, the second in full (ccache, in the cache, spares most of it).
Each check prints "ok" or "FAIL"; the last line is "N passed, N failed". A
check whose condition raises fails; a section that raises fails and the next
one runs.
"""
import json
import os
import re
import sys
import time
import types

from kfarmtest import KFARM, TOP, check, finish, kfarm, run_in_tmp, section
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
    s = types.SimpleNamespace(tmp=tmp)
    for fn in (broken_patch, compare_built, compare_cached, patch_edit, died_build, git_bisect, kernels_list):
        section(f"section {fn.__name__}", fn, s)


def load(path):
    with open(path) as f:
        return json.load(f)


def broken_patch(s):
    """A patch that does not apply: named, with the log's tail; the log is kept."""
    tmp = s.tmp
    broken = os.path.join(tmp, "0002-broken.patch")
    with open(broken, "w") as f:
        f.write("--- a/kernel/ptrace.c\n+++ b/kernel/ptrace.c\n"
                "@@ -1,3 +1,3 @@\n-this line is not in ptrace.c\n+nor is this one\n context\n context\n")
    cfg = os.path.join(tmp, "broken.json")
    with open(cfg, "w") as f:
        json.dump({"kernels": [{"name": "broken", "build": {
            "source": SOURCE, "patches": [PATCH, broken], "config": "tinyconfig"}}]}, f)
    p, dt = kfarm("kernels", "build", "broken", "-c", cfg)
    check("broken patch: kfarm kernels build fails", lambda: p.returncode == 2, p.stderr)
    check("broken patch: the error names the patch", lambda: "patch 0002-broken.patch (2 of 2) does not apply"
          in p.stderr and broken in p.stderr, p.stderr)
    # patch(1)'s own words, in the tail that follows the message
    check("broken patch: the error shows the log's tail",
          lambda: "1 out of 1 hunk FAILED" in p.stderr.split("its tail:", 1)[1], p.stderr)
    m = re.search(r"whole log: (\S+)\)", p.stderr)
    log = m.group(1) if m else ""

    def log_text():
        with open(log) as f:
            return f.read()
    check("broken patch: the whole log is kept", lambda: log and "0001-ptrace" in log_text() and
          "1 out of 1 hunk FAILED" in log_text(), p.stderr)
    check("broken patch: in good time (no build was started)", lambda: dt < 300, dt)
    p2, _ = kfarm("run", "-c", cfg, "--smp", "1", "-o", os.path.join(tmp, "broken-run"))
    check("broken patch: kfarm run refuses the kernel (exit 2)",
          lambda: p2.returncode == 2 and "0002-broken.patch" in p2.stderr, p2.stderr)


def compare_built(s):
    """The compare: vanilla vs patched, both built (or found in the cache), booted."""
    s.want = want = expected_changed()
    check("the patch header names the scenarios that must change", lambda: len(want) >= 1, want)
    d1 = os.path.join(s.tmp, "cmp1")
    p, s.dt1 = kfarm("compare", "-c", CONFIG, "--smp", "1", "--reps", "3", "--accel", "tcg", "-o", d1)
    print(p.stdout[-3000:])
    check("compare exits 1 (cells changed)", lambda: p.returncode == 1, p.stderr[-3000:])
    run = load(os.path.join(d1, "run.json"))
    diff = load(os.path.join(d1, "diff.json"))
    rel = {k["name"]: k.get("release", "") for k in run["kernels"]}
    print(f"  releases: {rel}")
    check("both built kernels boot and report uname -r 6.1.x",
          lambda: len(rel) == 2 and all(r.startswith("6.1.") for r in rel.values()), run["kernels"])
    check("every cell ran ok", lambda: run["cells"] and all(c["status"] == "ok" for c in run["cells"]),
          lambda: [(c["kernel"], c["scenario"], c["status"]) for c in run["cells"] if c["status"] != "ok"])
    cells = diff["cells"]
    s.changed = changed = {c["scenario"] for c in cells if c["verdict"] == "changed"}
    check("changed in exactly the cells the demo patch names", lambda: changed == want,
          f"changed {sorted(changed)}, expected {sorted(want)}")
    others = {c["scenario"]: c["verdict"] for c in cells if c["scenario"] not in want}
    check("every other scenario is the same", lambda: others and all(v == "same" for v in others.values()),
          others)


def compare_cached(s):
    """A second run finds both kernels in the cache."""
    d2 = os.path.join(s.tmp, "cmp2")
    p, dt2 = kfarm("compare", "-c", CONFIG, "--smp", "1", "--reps", "3", "--accel", "tcg", "-o", d2)
    check("second compare: exit 1, changed in the same cells",
          lambda: p.returncode == 1 and {c["scenario"] for c in load(os.path.join(d2, "diff.json"))["cells"]
                                         if c["verdict"] == "changed"} == s.want,
          p.stderr[-2000:])
    check("second compare: nothing was built", lambda: p.stderr.count("built before") == 2 and
          "make bzImage" not in p.stderr, p.stderr[-2000:])
    print(f"  first compare {getattr(s, 'dt1', 0):.0f} s, second {dt2:.0f} s")


def edit_config(s, nonce):
    """A config whose kernel 'edited-6.1' is the demo patch and a one-line patch of
    kernel/ptrace.c that puts @nonce into the object (a new image each nonce)."""
    edit = os.path.join(s.tmp, "0002-one-line.patch")
    with open(edit, "w") as f:
        f.write("--- a/kernel/ptrace.c\n+++ b/kernel/ptrace.c\n@@ -8,5 +8,5 @@\n"
                "  * to continually duplicate across every architecture.\n  */\n-\n"
                f"+static const char kfarm_edit[] __used = \"{nonce}\";\n"
                " #include <linux/capability.h>\n #include <linux/export.h>\n")
    cfg = os.path.join(s.tmp, "edit.json")
    with open(cfg, "w") as f:
        json.dump({"kernels": [{"name": "edited-6.1", "build": {
            "source": SOURCE, "patches": [PATCH, edit], "config": "tinyconfig"}}]}, f)
    return cfg


def built(p):
    """(image, key, release) that kfarm kernels build printed, or Nones."""
    m = re.search(r"^edited-6.1: (\S+)\n  key (\S+) .*\n  release (\S+)", p.stdout, re.M)
    return m.groups() if m else (None, None, None)


def build_log(image):
    with open(os.path.join(os.path.dirname(image), "build.log")) as f:
        return f.read()


def patch_edit(s):
    """A one-line edit of a patch rebuilds in the kernel's build tree: only what changed."""
    nonce = f"kfarm-{os.getpid()}-{time.time_ns()}"
    p1, dt1 = kfarm("kernels", "build", "edited-6.1", "-c", edit_config(s, nonce + "-a"))
    img1, key1, _ = built(p1)
    check("a kernel with a patch series builds (its build tree made or taken)",
          lambda: p1.returncode == 0 and img1 and os.path.isfile(img1), p1.stderr[-3000:])
    p2, dt2 = kfarm("kernels", "build", "edited-6.1", "-c", edit_config(s, nonce + "-b"))
    img2, key2, rel2 = built(p2)
    log2 = build_log(img2) if img2 else ""
    print(f"  first build {dt1:.0f} s, after a one-line edit {dt2:.0f} s")
    check("after a one-line edit of kernel/ptrace.c: a new image, built in the same tree, "
          "incrementally (no unpacking, the config kept, ptrace.o recompiled, not the rest)",
          lambda: p2.returncode == 0 and key2 != key1 and img2 != img1 and rel2.startswith("6.1.") and
          "in its build tree" in p2.stderr and "unpack" not in log2 and
          "== config: the last build's (no Kconfig or configs/ file changed)" in log2 and
          "make bzImage (incremental" in log2 and "CC      kernel/ptrace.o" in log2 and
          "CC      kernel/fork.o" not in log2 and "CC      mm/" not in log2,
          lambda: p2.stderr[-2000:] + log2[-3000:])
    # a full build takes minutes here; the first of the two may be incremental too (a tree built before)
    check("the one-line rebuild takes under 120 s (make bench times it against its 45 s target)",
          lambda: dt2 < 120, (dt1, dt2))
    s.edit_nonce = nonce


def died_build(s):
    """A build killed mid-make (kill -9 of its process group) leaves the tree 'building':
    the next build makes it afresh and succeeds."""
    import signal
    import subprocess
    cfg = edit_config(s, getattr(s, "edit_nonce", "kfarm") + "-c")
    proc = subprocess.Popen([KFARM, "kernels", "build", "edited-6.1", "-c", cfg], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=dict(os.environ, CI="true"))
    seen, t0 = "", time.monotonic()
    while time.monotonic() - t0 < 600:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
        if "make bzImage" in line:
            time.sleep(3)
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    check("a build killed with its make (kill -9 of the process group) mid-make",
          lambda: "make bzImage" in seen, seen[-2000:])
    p, dt = kfarm("kernels", "build", "edited-6.1", "-c", cfg)
    img, _, rel = built(p)
    print(f"  the build after the killed one: {dt:.0f} s")
    check("the next build finds the tree left mid-build, makes it afresh, and builds",
          lambda: p.returncode == 0 and "was left mid-build (a build died): made afresh" in p.stderr and
          img and os.path.isfile(img) and rel.startswith("6.1.") and "unpack" in build_log(img),
          p.stderr[-3000:])


def git(repo, *args):
    import subprocess
    return subprocess.run(["git", "-C", repo, "-c", "user.name=kfarm-test", "-c", "user.email=t@localhost", "-c", "gc.auto=0",
                           "-c", "commit.gpgsign=false", *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def git_bisect(s):
    """kfarm bisect over the commits of a git repository made from the source."""
    import math
    import subprocess
    repo = os.path.join(s.tmp, "linux-git")
    os.makedirs(repo)
    t0 = time.monotonic()
    subprocess.run(["tar", "-xf", SOURCE, "-C", repo, "--strip-components=1"], check=True)
    # a file no build reads, new each run: other trees than any earlier run's (kernels are
    # cached by their source tree), so that every run builds
    with open(os.path.join(repo, "Documentation", "kfarm-test-nonce.txt"), "w") as f:
        f.write(f"{os.getpid()} {time.time_ns()}\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A", "-f", ".")
    git(repo, "commit", "-q", "-m", "linux-source-6.1 as Debian ships it")
    commits = [git(repo, "rev-parse", "HEAD")]

    def commit(msg, path, text=None, apply=None):
        full = os.path.join(repo, path)
        if apply:
            git(repo, "apply", apply)
        elif text is None:
            os.unlink(full)
        else:
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
        git(repo, "add", "-A", "-f", ".")
        git(repo, "commit", "-q", "-m", msg)
        commits.append(git(repo, "rev-parse", "HEAD"))
    version_c = os.path.join(repo, "init", "version.c")
    with open(version_c) as f:
        version = f.read()
    # 8 kernels (G and 7 commits): the search tries 3 (the patch: bad), 1 (broken: skip), 2 (good)
    commit("init: a line that does not compile", "init/version.c", version + "\n#error kfarm-test: this commit does not build\n")
    commit("init: mend the build", "init/version.c", version)
    commit("ptrace: drop the detach signal at syscall stops (configs/patches/0001)", "kernel/ptrace.c", apply=PATCH)
    for i in range(4):
        commit(f"Documentation: kfarm bisection note {i}", f"Documentation/kfarm-note-{i}.txt", f"note {i}\n")
    print(f"  the repository: {len(commits)} commits in {time.monotonic() - t0:.0f} s")
    cfg = os.path.join(s.tmp, "git.json")
    with open(cfg, "w") as f:
        json.dump({"kernels": [{"name": "linux", "build": {"git": repo, "config": "tinyconfig"}}]}, f)
    opts = ["-c", cfg, "--good", commits[0], "--bad", "HEAD", "--scenarios",
            "syscall-stop-detach-sig-entry,sds-zero", "--smp", "1", "--reps", "2", "--accel", "tcg"]
    top = os.path.join(s.tmp, "git-bisect")
    p, dt = kfarm("bisect", *opts, "-o", top)
    print(p.stdout[-1500:])
    bj = os.path.join(top, "bisect.json")
    b = load(bj) if os.path.exists(bj) else {}
    makes = re.findall(r"building (\S+): make bzImage", p.stderr)
    per = re.findall(r"kernel (\S+): built \S+ in (\d+) s", p.stderr)
    same = set(re.findall(r"kernel (\S+): built before", p.stderr)) - {k for k, _ in per} - set(makes)
    bound = math.ceil(math.log2(len(commits))) + 2
    print(f"  git bisection: {dt:.0f} s wall, {len(set(makes))} builds (bound {bound}): " +
          ", ".join(f"{k} {t} s" for k, t in per) + (f"; found built (the same source tree as a "
                                                        f"commit built before): {sorted(same)}" if same else ""))
    check("git bisect: exit 0, names the patch's commit with its subject",
          lambda: p.returncode == 0 and f"first bad commit: {commits[3]} ptrace: drop the detach signal" in p.stdout and
          b.get("found") is True and b["first_bad"]["commit"] == commits[3] and
          b["last_good"]["commit"] == commits[2], p.stdout[-2000:] + p.stderr[-3000:])
    check("git bisect: bisect.json validates; the kernels are the 8 commits in order, the broken one skip",
          lambda: subprocess.run(["/usr/bin/python3", os.path.join(TOP, "tests", "validate-schema.py"),
                                  os.path.join(TOP, "reports", "schema", "bisect.schema.json"), bj]).returncode == 0 and
          [k["commit"] for k in b["kernels"]] == commits and
          [k["mark"] for k in b["kernels"]][:4] == ["good", "skip", "good", "bad"] and
          any(x["index"] == 1 and x["verdict"] == "skip" and "did not run" in x["reason"] for x in b["steps"]),
          lambda: b.get("steps"))
    check("git bisect: the broken commit's error names the compiler's first error",
          lambda: re.search(r"first error: \S*init/version\.c:\d+:\d+: error: #error kfarm-test: this commit does "
                            r"not build", p.stderr), p.stderr[-3000:])
    check(f"git bisect: at most ceil(log2 {len(commits)}) + 2 = {bound} builds, all in one build tree",
          lambda: 0 < len(set(makes)) <= bound and len(makes) == len(set(makes)) and
          len(set(re.findall(r"in its build tree (\S+)", p.stderr))) <= 1, (makes, p.stderr[-2000:]))
    p2, dt2 = kfarm("bisect", *opts, "-o", os.path.join(s.tmp, "git-bisect-2"))
    print(f"  the same git bisection again: {dt2:.0f} s")
    check("git bisect again: the same answer, nothing built (the broken commit's failure remembered)",
          lambda: p2.returncode == 0 and f"first bad commit: {commits[3]}" in p2.stdout and
          not re.search(r"building \S+: make bzImage", p2.stderr) and
          "its build failed before with the same inputs" in p2.stderr and "first error: " in p2.stderr,
          p2.stderr[-3000:])


def kernels_list(s):
    p, _ = kfarm("kernels", "list")
    check("kfarm kernels list shows both builds",
          lambda: p.returncode == 0 and "vanilla-6.1" in p.stdout and "patched-6.1" in p.stdout, p.stdout)


if __name__ == "__main__":
    sys.exit(main())
