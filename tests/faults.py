#!/usr/bin/python3
"""faults.py [BUILD] - make test-faults: faults injected into real runs (Debian's
6.1 under TCG), each counted: how many times it was injected, how many times
kfarm handled it as specified, and how many finished results it lost.

A fault is handled as specified when the run goes on (or stops with a clear
error naming the thing), run.json is whole and valid, the guests and cells the
fault did not touch are as an undisturbed run would have them, and nothing is
written outside the run's folder. Lost results count the cells that had
finished (a guest's records before the fault) and are missing from run.json.

The hostile guests are real: an initramfs whose /init writes crafted bytes to
the serial ports (the kernel console on ttyS0, the results channel on ttyS1):
forged frames, replays, garbage, a 10 MiB line, ids carrying ../ paths, a
console flood.

Prints one line per check, then the table, then "N passed, N failed".
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib

from kfarmtest import BUILD, KFARM, TOP, check, finish, run_in_tmp, section

K61 = "deb:linux-image-amd64"
TABLE = []  # (fault, injected, handled, lost)
ESCAPE = "kfarm-fault-escape"
CONSOLE_LOG_MAX_MIB = 8  # run.h's RUN_CONSOLE_LOG_MAX


def kfarm(*args, env=None, timeout=900):
    t0 = time.monotonic()
    p = subprocess.run([KFARM, *args], capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, CI="true", **(env or {})))
    print(f"  $ kfarm {' '.join(args)}  -> exit {p.returncode} in {time.monotonic() - t0:.1f} s", flush=True)
    return p


def load(path):
    with open(path) as f:
        return json.load(f)


def valid_run(d):
    """run.json in @d parses and validates against its schema."""
    path = os.path.join(d, "run.json")
    r = subprocess.run(["/usr/bin/python3", os.path.join(TOP, "tests", "validate-schema.py"),
                        os.path.join(TOP, "reports", "schema", "run.schema.json"), path],
                       capture_output=True, text=True)
    return r.returncode == 0


def cells(run):
    return {(c["kernel"], c["scenario"], c["smp"]): c for c in run["cells"]}


def finished_in_logs(d, run):
    """{(kernel, scenario, smp): status} of every cell record the guests' results logs hold."""
    out = {}
    for g in run["guests"]:
        try:
            with open(os.path.join(d, g["results"]), "rb") as f:
                lines = f.read().split(b"\n")
        except OSError:
            continue
        for line in lines:
            if line.startswith(b"@KF1 ") and b'"t":"cell"' in line:
                rec = json.loads(line.split(b" ", 4)[4])
                out[(g["kernel"], rec["scenario"], g["smp"])] = rec["status"]
    return out


def lost_cells(d, run):
    """Cells a guest reported finished that run.json does not have with that status."""
    have = cells(run)
    planned = {c["scenario"] for c in run["cells"]}  # a hostile guest's unplanned ids are not results
    return sum(1 for key, st in finished_in_logs(d, run).items()
               if key[1] in planned and have.get(key, {}).get("status") != st)


def record(fault, injected, handled, lost):
    TABLE.append((fault, injected, handled, lost))
    check(f"{fault}: handled {handled} of {injected}, {lost} results lost",
          lambda: injected > 0 and handled == injected and lost == 0)


def frame(seq, obj):
    p = json.dumps(obj, separators=(",", ":")).encode()
    return b"@KF1 %d %d %08x " % (seq, len(p), zlib.crc32(p)) + p + b"\n"


GOOD_CELL = {"t": "cell", "scenario": "sds-zero", "status": "ok", "reps": 1, "duration_ms": 30,
             "outcomes": [{"observation": {"detach": "0", "tracee": "exited:0"}, "count": 1}]}


def hostile_initramfs(tmp, name, results=b"", console_mib=0, shell=""):
    """An initramfs whose /init writes @results to ttyS1 (and @console_mib MiB of
    noise to the console, and runs @shell), then powers off."""
    stage = os.path.join(tmp, "stage-" + name)
    os.makedirs(stage, exist_ok=True)
    with open(os.path.join(stage, "results.bin"), "wb") as f:
        f.write(results)
    init = os.path.join(stage, "init")
    with open(init, "w") as f:
        f.write(f"""#!/bin/sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
/bin/busybox stty -F /dev/ttyS1 raw -echo 2>/dev/null
{shell}
[ {console_mib} -gt 0 ] && /bin/busybox head -c $(({console_mib} * 1048576)) /dev/zero | /bin/busybox tr '\\0' 'x' >/dev/console
/bin/busybox cat /results.bin >/dev/ttyS1
/bin/busybox sync
/bin/busybox poweroff -f
""")
    os.chmod(init, 0o755)
    out = os.path.join(tmp, name + ".cpio")
    subprocess.run([os.path.join(TOP, "images", "mkinitramfs.sh"), out, "/bin/busybox",
                    os.path.join(TOP, "build", "kfarm-guest"), init], check=True, capture_output=True)
    # results.bin beside /init: append it to the archive as its own cpio member
    subprocess.run(f"cd {stage} && echo results.bin | cpio --quiet -o -H newc -R 0:0 >> {out}.extra",
                   shell=True, check=True)
    with open(out, "ab") as f, open(out + ".extra", "rb") as g:
        f.write(g.read())
    return out


def tree_outside(root, run_dir):
    """Every path under @root that is not inside @run_dir."""
    found = set()
    for d, dirs, files in os.walk(root):
        if os.path.abspath(d).startswith(os.path.abspath(run_dir)):
            continue
        for x in dirs + files:
            found.add(os.path.join(d, x))
    return found


def hostile_run(s, name, results, console_mib=0, shell="", timeout_s=120):
    """Runs sds-zero on a hostile guest; (process, run dir, paths written outside it)."""
    cpio = hostile_initramfs(s.tmp, name, results, console_mib, shell)
    d = os.path.join(s.tmp, "runs", name)
    os.makedirs(os.path.dirname(d), exist_ok=True)
    before = tree_outside(s.tmp, d) | set(os.listdir("/tmp"))
    p = kfarm("run", "--kernels", K61, "--smp", "1", "--reps", "1", "--boots", "1", "--scenarios", "sds-zero",
              "-o", d, env={"KFARM_INITRAMFS": cpio}, timeout=timeout_s)
    after = tree_outside(s.tmp, d) | set(os.listdir("/tmp"))
    # under /tmp only names of ours count: other programs make files there too; the
    # reports folder's run index (index.json, index.sqlite) is kfarm's own
    index = {os.path.join(os.path.dirname(d), n) for n in ("index.json", "index.sqlite", "index.sqlite-journal")}
    new = {x for x in after - before if (ESCAPE in x or x.startswith(s.tmp)) and x != d and x not in index}
    return p, d, new


def results_port(s):
    """Forged, replayed and garbage frames, a 10 MiB line, ids with ../ and of 50 KB:
    the genuine cell is kept, the rest is refused and counted, nothing is written
    outside the run folder."""
    hello = {"t": "hello", "proto": 1, "uname": "hostile", "nproc": 1, "reps": 1, "timeout_ms": 10000,
             "scenarios": ["sds-zero", "../../../../../../tmp/" + ESCAPE, "../" * 2000 + ESCAPE, "x" * 50000]}
    esc = "../../../../../../tmp/" + ESCAPE
    seq = [frame(0, hello), frame(1, {"t": "start", "scenario": "sds-zero"}), frame(2, GOOD_CELL)]
    bad_crc = bytearray(frame(3, {"t": "start", "scenario": esc}))
    bad_crc[bad_crc.index(b" ", 5) + 1 + bad_crc[bad_crc.index(b" ", 5) + 1:].index(b" ") + 1] ^= 1
    hostile = [
        bytes(bad_crc),                                             # forged: its CRC does not match
        frame(2, GOOD_CELL),                                        # replayed: a seq already seen
        b"\x00\xff garbage \x1b[2J @KF1 x y z {}\n",              # garbage
        b"@KF1 " + b"9" * 40 + b" 1 00000000 {}\n",               # a seq that overflows
        frame(3, {"t": "start", "scenario": esc}),                  # a ../ id (unplanned)
        frame(4, dict(GOOD_CELL, scenario=esc)),
        frame(5, {"t": "start", "scenario": "x" * 50000}),          # a 50 KB id
        frame(6, dict(GOOD_CELL, scenario="x" * 50000)),
    ]
    tail = [frame(7, {"t": "end", "count": 7})]
    line = b"A" * (10 << 20) + b"\n"                                # a 10 MiB line
    p, d, outside = hostile_run(s, "results-port", b"".join(seq + hostile) + line + b"".join(tail))
    run = load(os.path.join(d, "run.json")) if os.path.exists(os.path.join(d, "run.json")) else None
    c = cells(run).get(("linux-image-amd64", "sds-zero", 1)) if run else None
    check("hostile results: the run ends and run.json is valid", lambda: run is not None and valid_run(d), p.stderr[-800:])
    check("hostile results: the genuine sds-zero cell is kept", lambda: c["status"] == "ok" and
          c["outcomes"][0]["count"] == 1, c)
    check("hostile results: nothing written outside the run folder", lambda: not outside, outside)
    g = run["guests"][0] if run else {}
    check("hostile results: the guest's protocol errors are recorded", lambda: g["protocol"]["rejected"] >= 3, g)
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    check("hostile results: the run folder stays bounded (< 32 MiB)", lambda: size < 32 << 20, size)
    ok = run is not None and valid_run(d) and c and c["status"] == "ok" and not outside
    record("forged, replayed, garbage frames, a 10 MiB line, ../ and 50 KB ids on the results port",
           1, 1 if ok else 0, lost_cells(d, run) if run else 1)


def console_flood(s):
    """A guest that floods its console: the log is capped, the run goes on, its cell is kept."""
    hello = {"t": "hello", "proto": 1, "uname": "flood", "nproc": 1, "reps": 1, "timeout_ms": 10000,
             "scenarios": ["sds-zero"]}
    res = b"".join([frame(0, hello), frame(1, {"t": "start", "scenario": "sds-zero"}), frame(2, GOOD_CELL),
                    frame(3, {"t": "end", "count": 3})])
    p, d, outside = hostile_run(s, "console-flood", res, console_mib=CONSOLE_LOG_MAX_MIB + 2, timeout_s=300)
    run = load(os.path.join(d, "run.json")) if os.path.exists(os.path.join(d, "run.json")) else None
    con = [f for f in os.listdir(d) if f.startswith("console-")]
    size = os.path.getsize(os.path.join(d, con[0])) if con else None
    c = cells(run).get(("linux-image-amd64", "sds-zero", 1)) if run else None
    check("console flood: the run ends, its cell kept", lambda: c["status"] == "ok", p.stderr[-800:])
    cap = CONSOLE_LOG_MAX_MIB << 20
    with open(os.path.join(d, con[0]), "rb") as f:
        f.seek(cap)
        rest = f.read()
    capped = size is not None and size > cap and rest.startswith(b"\n[kfarm: this log stops at its bound, "
                                                                  b"%d bytes" % cap) and len(rest) < 200
    check(f"console flood: the console log stops at its bound ({CONSOLE_LOG_MAX_MIB} MiB) with a line saying so",
          lambda: capped, (size, rest[:200]))
    check("console flood: the run says the log reached its bound", lambda: "reached its bound" in p.stderr,
          p.stderr[-600:])
    record(f"a guest flooding its console ({CONSOLE_LOG_MAX_MIB + 2} MiB)", 1,
           1 if c and c["status"] == "ok" and capped and not outside else 0, lost_cells(d, run) if run else 1)


def qemu_killed(s):
    """QEMU SIGKILLed mid-run: that guest is marked, the others' cells are kept."""
    d = os.path.join(s.tmp, "runs", "qemu-killed")
    k = subprocess.Popen([KFARM, "run", "--kernels", K61, "--smp", "1,2", "--reps", "1", "--boots", "1",
                          "--timeout-ms", "15000", "--scenarios", "sds-zero,selftest-hang", "-j", "1", "-o", d],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=dict(os.environ, CI="true"))
    killed = None
    seen = {}
    end = time.monotonic() + 120
    while killed is None and time.monotonic() < end and k.poll() is None:
        rj = os.path.join(d, "run.json")
        done = load(rj)["guests"] if os.path.exists(rj) else []
        if len(done) >= 1:  # one guest finished: kill the next one's QEMU mid-run (6 s in: booted, running)
            for pid in os.listdir("/proc"):
                try:
                    with open(f"/proc/{pid}/status") as f:
                        st = dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)
                except OSError:
                    continue
                if st.get("PPid") == str(k.pid) and st.get("Name", "").startswith("qemu-system"):
                    seen.setdefault(pid, time.monotonic())
                    if time.monotonic() - seen[pid] > 6:
                        os.kill(int(pid), signal.SIGKILL)
                        killed = int(pid)
                    break
        time.sleep(0.2)
    _, err = k.communicate(timeout=300)
    run = load(os.path.join(d, "run.json"))
    first = [g for g in run["guests"] if g["status"] == "ok"]
    died = [g for g in run["guests"] if g["status"] != "ok"]
    check("QEMU killed: run.json is valid and says which guest died", lambda: valid_run(d) and killed and died,
          (killed, [(g["smp"], g["status"]) for g in run["guests"]], err[-600:]))
    lost = lost_cells(d, run)
    record("QEMU SIGKILLed mid-run", 1, 1 if killed and valid_run(d) and first and died else 0, lost)


def qemu_pid_of(parent):
    """The pid of a QEMU child of @parent that boots a guest (not a probe of QEMU), or None."""
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/status") as f:
                st = dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if st.get("PPid") == str(parent) and st.get("Name", "").startswith("qemu-system") and \
                b"kfarm.run=" in cmd:
            return int(pid)
    return None


def bisect_step_killed(s):
    """A bisection step's QEMUs SIGKILLed, each guest's second boot too: the step's
    compare runs once more, booted afresh, and the kernel is judged on that (not
    skipped for what befell the host)."""
    src = load(os.path.join(s.tmp, "runs", "qemu-killed", "run.json"))["kernels"][0]["path"]
    kd = os.path.join(s.tmp, "bisect-kernels")
    os.makedirs(kd, exist_ok=True)
    ks = []
    for i in (1, 2):
        dst = os.path.join(kd, f"k{i}")
        shutil.copyfile(src, dst)
        ks.append("path:" + dst)
    ks.append("deb:linux-image-6.12-amd64")
    top = os.path.join(s.tmp, "runs", "bisect-killed")
    k = subprocess.Popen([KFARM, "bisect", "--kernels", ",".join(ks), "--scenarios", "sud-config", "--smp", "1",
                          "--reps", "2", "--accel", "tcg", "-o", top],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, CI="true"))
    # Every guest QEMU of step 1's compare is killed (step 1's folder is made once step
    # 0's guests are gone), the boot a run gives a failed guest again too, until the
    # step's second compare starts.
    killed = []
    end = time.monotonic() + 300
    while time.monotonic() < end and k.poll() is None and \
            not os.path.isdir(os.path.join(top, "step-01-k2-vs-good-again")):
        pid = qemu_pid_of(k.pid) if os.path.isdir(os.path.join(top, "step-01-k2-vs-good")) else None
        if pid:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        time.sleep(0.05)
    out, err = k.communicate(timeout=600)
    bj = os.path.join(top, "bisect.json")
    b = load(bj) if os.path.exists(bj) else {}
    step = next((x for x in b.get("steps", []) if x["step"] == 1), {})
    first = os.path.join(top, "step-01-k2-vs-good", "run.json")
    died = os.path.exists(first) and any(g["status"] != "ok" for g in load(first)["guests"])
    ok = bool(killed) and k.returncode == 0 and b.get("found") is True and \
        [m["mark"] for m in b["kernels"]] == ["good", "good", "bad"] and \
        [os.path.basename(r) for r in step.get("runs", [])] == ["step-01-k2-vs-good", "step-01-k2-vs-good-again"]
    check("bisect step's QEMUs killed: its guests died, the step ran again afresh, k2 is good, k3 the first bad",
          lambda: ok and died and "comparing once more" in err, (killed, k.returncode, b.get("steps"), err[-1500:]))
    lost = 0
    for r in step.get("runs", []):
        if os.path.exists(os.path.join(r, "run.json")):
            lost += lost_cells(r, load(os.path.join(r, "run.json")))
    record("a bisection step's QEMUs SIGKILLed (every boot)", 1, 1 if ok and died else 0, lost)


def kfarm_killed(s):
    """kfarm SIGKILLed mid-run, then --resume: no finished cell lost."""
    d = os.path.join(s.tmp, "runs", "kfarm-killed")
    argv = ["run", "--kernels", K61, "--smp", "1,2", "--reps", "1", "--boots", "1", "-j", "1",
            "--scenarios", "sds-zero,sds-sigstop", "--seed", "7"]
    k = subprocess.Popen([KFARM, *argv, "-o", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=dict(os.environ, CI="true"))
    before = None
    end = time.monotonic() + 120
    while time.monotonic() < end and k.poll() is None:
        rj = os.path.join(d, "run.json")
        if os.path.exists(rj):
            r = load(rj)
            if r["guests"]:
                before = {key: c["outcomes"] for key, c in cells(r).items() if c["status"] == "ok"}
                k.kill()
                break
        time.sleep(0.1)
    k.wait()
    p = kfarm(*argv, "--resume", d)
    run = load(os.path.join(d, "run.json"))
    after = cells(run)
    lost = sum(1 for key, o in (before or {}).items() if after.get(key, {}).get("outcomes") != o)
    check("kfarm killed then --resume: exit 0, run.json valid", lambda: p.returncode == 0 and valid_run(d), p.stderr[-800:])
    record("kfarm SIGKILLed mid-run, then --resume", 1, 1 if before and p.returncode == 0 and valid_run(d) else 0, lost)


def unbootable(s):
    """Images that cannot boot: truncated, random bytes, an ELF that is not a kernel:
    a clear error naming the image, or a boot failure in a whole report."""
    src = load(os.path.join(s.tmp, "runs", "qemu-killed", "run.json"))["kernels"][0]["path"]
    imgs = {}
    with open(src, "rb") as f:
        data = f.read()
    imgs["truncated"] = data[: len(data) // 3]
    imgs["random"] = os.urandom(4 << 20)
    with open("/bin/true", "rb") as f:
        imgs["elf"] = f.read()
    handled = 0
    for name, blob in imgs.items():
        path = os.path.join(s.tmp, f"bad-{name}.img")
        with open(path, "wb") as f:
            f.write(blob)
        d = os.path.join(s.tmp, "runs", "bad-" + name)
        p = kfarm("run", "--kernels", "path:" + path, "--smp", "1", "--reps", "1", "--scenarios", "sds-zero",
                  "-o", d, env={"KFARM_NO_PVH": "1"}, timeout=300)
        refused = p.returncode == 2 and path in p.stderr
        failed = os.path.exists(os.path.join(d, "run.json")) and valid_run(d) and \
            all(g["status"] == "boot-failed" for g in load(os.path.join(d, "run.json"))["guests"])
        check(f"unbootable image ({name}): refused naming it, or a boot failure in a valid report",
              lambda: refused or failed, p.stderr[-600:])
        handled += refused or failed
    record("unbootable images (truncated bzImage, random bytes, a non-kernel ELF)", len(imgs), handled, 0)


def reports_readonly(s):
    """A reports folder that cannot be written: a clear error before anything boots."""
    ro = os.path.join(s.tmp, "ro")
    os.makedirs(ro)
    # root writes through permissions: a read-only mount then; else a folder without w
    if os.geteuid() == 0:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", ro], check=True)
    else:
        os.chmod(ro, 0o555)
    try:
        p = kfarm("run", "--kernels", K61, "--smp", "1", "--reps", "1", "--scenarios", "sds-zero",
                  "-o", os.path.join(ro, "r"))
        ok = p.returncode == 2 and ro in p.stderr
        check("read-only reports folder: exit 2, the folder named", lambda: ok, p.stderr[-600:])
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", ro])
    record("the reports folder read-only", 1, 1 if ok else 0, 0)


def shared_cache(s):
    """Two runs sharing the cache at once: both finish with the same cells."""
    ds = [os.path.join(s.tmp, "runs", f"shared-{i}") for i in range(2)]
    cache = os.path.join(s.tmp, "cache-shared")
    ps = [subprocess.Popen([KFARM, "run", "--kernels", K61, "--smp", "1", "--reps", "1", "--scenarios", "sds-zero",
                            "-o", d], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           env=dict(os.environ, CI="true", KFARM_CACHE=cache)) for d in ds]
    rcs = [p.wait(timeout=600) for p in ps]
    ok = rcs == [0, 0] and all(valid_run(d) for d in ds)
    check("two runs sharing a fresh cache at once: both exit 0 with valid reports", lambda: ok, rcs)
    record("two runs sharing the cache at once", 1, 1 if ok else 0, 0)


def guest_hang(s):
    """A scenario that hangs: a timeout for its own cell; the others are kept."""
    d = os.path.join(s.tmp, "runs", "hang")
    p = kfarm("run", "--kernels", K61, "--smp", "1", "--reps", "1", "--timeout-ms", "2000",
              "--scenarios", "sds-zero,selftest-hang,sds-sigstop", "-o", d)
    run = load(os.path.join(d, "run.json"))
    c = cells(run)
    ok = valid_run(d) and c[("linux-image-amd64", "selftest-hang", 1)]["status"] == "timeout" and \
        all(c[("linux-image-amd64", x, 1)]["status"] == "ok" for x in ("sds-zero", "sds-sigstop"))
    check("guest hang: its cell times out, the others are ok", lambda: ok, [(k, v["status"]) for k, v in c.items()])
    record("a payload that hangs", 1, 1 if ok else 0, lost_cells(d, run))


def hogs(s):
    """Payloads that turn on their guest, a fork bomb and a memory hog, after a cell that
    finished: that cell is kept, the hog's cell fails or its guest is marked, the run
    ends with a whole report."""
    handled = lost = 0
    for hog in ("selftest-forkbomb", "selftest-memhog"):
        d = os.path.join(s.tmp, "runs", hog)
        # the run's shuffle orders the three: lost_cells counts whichever finished
        p = kfarm("run", "--kernels", K61, "--smp", "1", "--reps", "1", "--timeout-ms", "5000",
                  "--scenarios", f"sds-zero,{hog},sds-sigstop", "-o", d, timeout=600)
        run = load(os.path.join(d, "run.json")) if os.path.exists(os.path.join(d, "run.json")) else None
        c = cells(run).get(("linux-image-amd64", hog, 1), {}) if run else {}
        g = run["guests"][0] if run else {}
        ok = run is not None and valid_run(d) and p.returncode in (0, 1) and \
            (c.get("status") != "ok" or g.get("status") != "ok" or
             any(o["observation"].get("rep") != "ok" for o in c.get("outcomes", [])))
        check(f"{hog}: its cell fails or its guest is marked, the report whole",
              lambda: ok, (p.returncode, c.get("status"), g.get("status"), p.stderr[-600:]))
        handled += ok
        lost += lost_cells(d, run) if run else 1
    record("payloads that fork-bomb or eat the guest's memory", 2, handled, lost)


def panics(s):
    """A kernel panic mid-run (selftest-panic crashes the kernel) and at boot (no init):
    the guest is marked with the console's excerpt, run.json whole, nothing finished lost."""
    handled = lost = 0
    d = os.path.join(s.tmp, "runs", "panic-mid")
    p = kfarm("run", "--kernels", K61, "--smp", "1", "--reps", "1", "--scenarios", "sds-zero,selftest-panic",
              "-o", d)
    run = load(os.path.join(d, "run.json"))
    c = cells(run).get(("linux-image-amd64", "selftest-panic", 1), {})
    ok = valid_run(d) and c.get("status") == "crashed" and "panic" in json.dumps(c).lower()
    check("panic mid-run: the cell is crashed with the console's excerpt", lambda: ok, c)
    handled += ok
    lost += lost_cells(d, run)
    d = os.path.join(s.tmp, "runs", "panic-boot")
    p = kfarm("run", "--kernels", K61, "--smp", "1", "--reps", "1", "--scenarios", "sds-zero", "-o", d,
              env={"KFARM_BOOT_ARGS": "loglevel=5 panic=-1 rdinit=/kfarm-no-init root=/dev/kfarm-none"})
    run = load(os.path.join(d, "run.json")) if os.path.exists(os.path.join(d, "run.json")) else None
    g = run["guests"][0] if run else {}
    ok = run is not None and valid_run(d) and g.get("status") in ("boot-failed", "crashed") and p.returncode == 1
    check("panic at boot: the guest is marked (boot-failed or crashed), the report written, exit 1",
          lambda: ok, (p.returncode, g, p.stderr[-500:]))
    handled += ok
    record("a kernel panic mid-run and at boot", 2, handled, lost)


def reports_full(s):
    """The reports folder's disk full: a clear error naming the file, and never a
    half-written run.json."""
    if os.geteuid() != 0:
        check("reports folder full: needs root to mount a small tmpfs (make test-faults runs as root in CI)", False)
        record("the reports folder's disk full", 1, 0, 0)
        return
    full = os.path.join(s.tmp, "full")
    os.makedirs(full)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", full], check=True)
    try:
        with open(os.path.join(full, "filler"), "wb") as f:  # leave about 24 KB
            f.write(b"\0" * (512 * 1024 - 24 * 1024))
        d = os.path.join(full, "r")
        p = kfarm("run", "--kernels", K61, "--smp", "1,2", "--reps", "1", "--scenarios", "sds-zero,sds-sigstop",
                  "-o", d)
        rj = os.path.join(d, "run.json")
        whole = not os.path.exists(rj) or valid_run(d)
        named = "No space left on device" in p.stderr
        leftovers = [f for f in os.listdir(d) if ".tmp" in f] if os.path.isdir(d) else []
        check("reports folder full: an error naming the file and ENOSPC", lambda: named and p.returncode != 0,
              (p.returncode, p.stderr[-800:]))
        check("reports folder full: run.json absent or whole, no temporary left",
              lambda: whole and not leftovers, leftovers)
        record("the reports folder's disk full (a 512 KiB tmpfs)", 1, 1 if named and whole and not leftovers else 0,
               lost_cells(d, load(rj)) if os.path.exists(rj) and whole else 0)
    finally:
        subprocess.run(["umount", full])


def logs_refused(s):
    """A guest's logs that the disk refuses (each a link to /dev/full, which says ENOSPC):
    the run goes on, its cells whole, and run.json names each log and why."""
    d = os.path.join(s.tmp, "runs", "logs-refused")
    os.makedirs(d)
    logs = ("console-linux-image-amd64-smp1.log", "results-linux-image-amd64-smp1.log")
    for name in logs:
        os.symlink("/dev/full", os.path.join(d, name))
    p = kfarm("run", "--kernels", K61, "--smp", "1", "--reps", "1", "--scenarios", "sds-zero,sds-sigstop",
              "-o", d)
    run = load(os.path.join(d, "run.json")) if os.path.exists(os.path.join(d, "run.json")) else {"cells": [],
                                                                                                 "guests": [{}]}
    le = run["guests"][0].get("log_error", "")
    oks = sum(1 for c in run["cells"] if c["status"] == "ok")
    ok = p.returncode == 0 and valid_run(d) and oks == 2 and \
        all(f"{n}: cannot write: No space left on device" in le for n in logs)
    check("logs refused by the disk: exit 0, both cells ok, run.json's log_error names both logs",
          lambda: ok, (p.returncode, le, p.stderr[-1500:]))
    record("a guest's console and results logs refused by the disk (/dev/full)", 1, 1 if ok else 0, 2 - oks)


def corrupt_cache(s):
    """Cache entries cut short on disk (the deb's vmlinuz, the unpacked vmlinux):
    detected by their hash or size, named, made again; the run is as before."""
    cache = os.path.join(s.tmp, "cache-shared")
    cut = []
    for kind, name in (("deb", "vmlinuz"), ("pvh", "vmlinux")):
        for d, _, files in os.walk(os.path.join(cache, kind)):
            if name in files:
                path = os.path.join(d, name)
                with open(path, "r+b") as f:
                    f.truncate(os.path.getsize(path) // 2)
                cut.append(path)
    d = os.path.join(s.tmp, "runs", "corrupt-cache")
    p = subprocess.run([KFARM, "run", "--kernels", K61, "--smp", "1", "--reps", "1", "--scenarios", "sds-zero",
                        "-o", d], capture_output=True, text=True, env=dict(os.environ, CI="true", KFARM_CACHE=cache))
    ok = len(cut) == 2 and p.returncode == 0 and valid_run(d) and p.stderr.count("cache entry") >= 1
    check("corrupted cache entries: named, made again, the run ok", lambda: ok, (cut, p.returncode, p.stderr[-1200:]))
    record("cache entries cut short on disk (deb vmlinuz, PVH vmlinux)", 1, 1 if ok else 0, 0)


def print_table():
    w = max(len(t[0]) for t in TABLE) if TABLE else 10
    print(f"\n{'fault':<{w}}  injected  handled  lost results")
    for f, i, h, l in TABLE:
        print(f"{f:<{w}}  {i:>8}  {h:>7}  {l:>12}")
    tot = [sum(t[k] for t in TABLE) for k in (1, 2, 3)]
    print(f"{'total':<{w}}  {tot[0]:>8}  {tot[1]:>7}  {tot[2]:>12}")
    print(f"faults not handled as specified: {tot[0] - tot[1]}, results lost: {tot[2]}\n")


def run_tests(tmp):
    import types
    s = types.SimpleNamespace(tmp=tmp)
    for fn in (results_port, console_flood, guest_hang, hogs, panics, qemu_killed, bisect_step_killed, kfarm_killed,
               unbootable, reports_readonly, reports_full, logs_refused, shared_cache, corrupt_cache):
        section(f"fault {fn.__name__}", fn, s)
    print_table()


if __name__ == "__main__":
    sys.exit(run_in_tmp(run_tests, "kfarm-faults-"))
