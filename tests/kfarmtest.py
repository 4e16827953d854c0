"""What kfarm's Python test drivers share: the checks tally and running kfarm.

Each check prints "ok" or "FAIL"; finish() prints "N passed, N failed" last
and returns the exit status.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(TOP, sys.argv[1] if len(sys.argv) > 1 else "build")
KFARM = os.path.join(BUILD, "kfarm")

_tally = {"passed": 0, "failed": 0}


def check(name, cond, detail=""):
    if cond:
        _tally["passed"] += 1
        print(f"ok   {name}", flush=True)
    else:
        _tally["failed"] += 1
        print(f"FAIL {name} {str(detail)[-3000:]}", flush=True)


def kfarm(*args, timeout=3600):
    """Runs build/kfarm as CI would (no progress bars); returns (process, seconds)."""
    t0 = time.monotonic()
    p = subprocess.run([KFARM, *args], capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, CI="true"))
    dt = time.monotonic() - t0
    print(f"  $ kfarm {' '.join(args)}  -> exit {p.returncode} in {dt:.1f} s", flush=True)
    return p, dt


def finish():
    print(f"{_tally['passed']} passed, {_tally['failed']} failed")
    return 1 if _tally["failed"] else 0


def run_in_tmp(run_tests, prefix):
    """Calls run_tests(tmp) in a fresh folder, removed afterwards; the exit status."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        run_tests(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()
