#!/usr/bin/python3
"""surface-check.py - the ptrace surface inventory is complete and covered.

The inventory (guest-tests/surface/*.def) lists what ptrace(2), wait(2),
signal(7) and proc(5) promise userland, one stanza per promise:

    entry PTRACE_PEEKDATA
    kind  request
    what  reads one word of the tracee's memory at addr
    doc   ptrace(2) PTRACE_PEEKTEXT, PTRACE_PEEKDATA
    cell  mem-peek-poke: peekdata peektext
    out   (instead of cell lines) why it is out of scope

This checks, and fails naming the file and line of what is wrong:
  - every stanza is well formed: unique entry id, a known kind, what, doc, and
    either cell lines or exactly one out line;
  - every cell exists in the catalog and, run once on this host by
    kfarm-guest, records every field its line names;
  - with --headers DIR (tests/uapi-headers.sh): every PTRACE_* macro of each
    kernel's include/uapi/linux/ptrace.h and arch/x86 asm/ptrace-abi.h is an
    entry;
  - every test of guest-tests/surface/ptrace-tests.list is an entry
    "ptrace-tests/NAME";
  - guest-tests/COVERAGE.md is the rendering of the inventory (--write
    rewrites it).
It ends with "surface: N covered, N out of scope, N total".
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
from collections import OrderedDict

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KINDS = OrderedDict([
    ("request", "Requests"),
    ("option", "Options (PTRACE_O_*)"),
    ("event", "Events (PTRACE_EVENT_*)"),
    ("constant", "Other constants of the UAPI header"),
    ("stop", "Kinds of stop"),
    ("error", "Documented errors"),
    ("rule", "Death, exit and exec rules"),
    ("inherit", "What children inherit"),
    ("self", "The tracee's own view"),
    ("ptrace-tests", "sourceware ptrace-tests"),
])
KEYS = ("entry", "kind", "what", "doc", "cell", "out")
DEFINE = re.compile(r"^\s*#\s*define\s+(PTRACE_[A-Z0-9_]+)\b")


class Entry:
    def __init__(self, eid, where):
        self.id = eid
        self.where = where
        self.kind = self.what = self.doc = None
        self.cells = []  # (cell id, [fields], where)
        self.out = []


def parse(paths, errors):
    entries = []
    for path in paths:
        cur = None
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                where = "%s:%d" % (os.path.relpath(path, TOP), n)
                s = line.strip()
                if not s or s.startswith("#"):
                    continue
                key, _, val = s.partition(" ")
                key, val = key.strip(), val.strip()
                if key not in KEYS:
                    errors.append("%s: unknown key '%s' (one of %s)" % (where, key, ", ".join(KEYS)))
                    continue
                if not val:
                    errors.append("%s: '%s' without a value" % (where, key))
                    continue
                if key == "entry":
                    cur = Entry(val, where)
                    entries.append(cur)
                    continue
                if cur is None:
                    errors.append("%s: '%s' before the first 'entry'" % (where, key))
                    continue
                if key in ("kind", "what", "doc"):
                    if getattr(cur, key) is not None:
                        errors.append("%s: %s: a second '%s'" % (where, cur.id, key))
                    setattr(cur, key, val)
                elif key == "out":
                    cur.out.append(val)
                else:
                    cid, colon, fields = val.partition(":")
                    if not colon or not fields.split():
                        errors.append("%s: %s: 'cell' needs 'CELL-ID: field ...'" % (where, cur.id))
                        continue
                    cur.cells.append((cid.strip(), fields.split(), where))
    return entries


def check_entries(entries, errors):
    seen = {}
    for e in entries:
        if e.id in seen:
            errors.append("%s: entry %s is already at %s" % (e.where, e.id, seen[e.id]))
        seen[e.id] = e.where
        for key in ("kind", "what", "doc"):
            if getattr(e, key) is None:
                errors.append("%s: entry %s has no '%s'" % (e.where, e.id, key))
        if e.kind is not None and e.kind not in KINDS:
            errors.append("%s: entry %s: unknown kind '%s' (one of %s)" % (e.where, e.id, e.kind, ", ".join(KINDS)))
        if e.cells and e.out:
            errors.append("%s: entry %s has both cells and an out-of-scope reason" % (e.where, e.id))
        elif len(e.out) > 1:
            errors.append("%s: entry %s has %d out lines (one reason)" % (e.where, e.id, len(e.out)))
        elif not e.cells and not e.out:
            errors.append("%s: entry %s is neither covered by a cell nor out of scope" % (e.where, e.id))
        if e.kind == "ptrace-tests" and not e.id.startswith("ptrace-tests/"):
            errors.append("%s: entry %s: a ptrace-tests entry is named ptrace-tests/NAME" % (e.where, e.id))


def run_cells(guest, cells, errors):
    """Run each cell once on the host; {cell id: set of fields seen}."""
    seen = {}
    ids = sorted(cells)
    # several calls, each under a sane command-line length
    chunks, cur = [], []
    for cid in ids:
        if cur and sum(len(c) + 1 for c in cur) + len(cid) > 8000:
            chunks.append(cur)
            cur = []
        cur.append(cid)
    if cur:
        chunks.append(cur)
    for chunk in chunks:
        p = subprocess.run([guest, "--run", ",".join(chunk), "--reps", "1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode == 2 or (p.returncode != 0 and not p.stdout):
            # an unknown cell stops the whole run: say which, one at a time
            for cid in chunk:
                q = subprocess.run([guest, "--run", cid, "--reps", "1"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                if q.returncode == 2 or not q.stdout:
                    errors.append("cell %s: kfarm-guest cannot run it: %s" % (cid, q.stderr.strip()))
                    seen[cid] = None
                else:
                    parse_run(q.stdout, seen, errors)
            continue
        parse_run(p.stdout, seen, errors)
    return seen


def parse_run(text, seen, errors):
    cid = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line[0].isspace():
            parts = line.split()
            cid, status = parts[0], parts[1] if len(parts) > 1 else "?"
            seen.setdefault(cid, set())
            if status != "ok":
                errors.append("cell %s: %s on this host (%s)" % (cid, status, line.strip()))
            continue
        body = line.strip().split(None, 1)
        if cid is None or len(body) != 2:
            continue
        try:
            obs = json.loads(body[1])
        except ValueError:
            continue
        if isinstance(obs, dict) and seen.get(cid) is not None:
            seen[cid].update(obs.keys())


def check_cells(entries, guest, errors):
    wanted = {}
    for e in entries:
        for cid, fields, where in e.cells:
            wanted.setdefault(cid, []).append((e.id, fields, where))
    if not wanted:
        return
    seen = run_cells(guest, wanted, errors)
    for cid, uses in sorted(wanted.items()):
        got = seen.get(cid)
        if got is None:
            if cid not in seen:
                errors.append("%s: cell %s did not run (not in kfarm-guest's output)" % (uses[0][2], cid))
            continue
        for eid, fields, where in uses:
            missing = [f for f in fields if f not in got]
            if missing:
                errors.append("%s: entry %s: cell %s does not record %s" % (where, eid, cid, ", ".join(missing)))


def header_names(hdir):
    names = {}
    for kdir in sorted(glob.glob(os.path.join(hdir, "*"))):
        if not os.path.isdir(kdir):
            continue
        kernel = os.path.basename(kdir)
        for rel in ("linux/ptrace.h", "asm/ptrace-abi.h"):
            path = os.path.join(kdir, rel)
            with open(path, encoding="utf-8") as f:
                for line in f:
                    m = DEFINE.match(line)
                    if m:
                        names.setdefault(m.group(1), []).append("%s %s" % (kernel, rel))
    return names


def check_headers(entries, hdir, errors):
    ids = {e.id for e in entries}
    names = header_names(hdir)
    if not names:
        errors.append("%s: no kernel header directories (tests/uapi-headers.sh makes them)" % hdir)
    for name, where in sorted(names.items()):
        if name not in ids:
            errors.append("%s (%s): not in the inventory" % (name, ", ".join(where)))
    return len(names)


def check_ptrace_tests(entries, listfile, errors):
    ids = {e.id for e in entries}
    n = 0
    with open(listfile, encoding="utf-8") as f:
        for line in f:
            name = line.strip()
            if not name or name.startswith("#"):
                continue
            n += 1
            if "ptrace-tests/" + name not in ids:
                errors.append("ptrace-tests/%s (%s): not in the inventory" % (name, os.path.relpath(listfile, TOP)))
    return n


def md(s):
    return s.replace("|", "\\|")


def render(entries):
    covered = sum(1 for e in entries if e.cells)
    out = sum(1 for e in entries if e.out and not e.cells)
    lines = [
        "# ptrace surface coverage",
        "",
        "Generated by `tests/surface-check.py --write` from the inventory in",
        "guest-tests/surface/*.def: every promise of ptrace(2), wait(2), signal(7) and",
        "proc(5) a tracer, a tracee or their parents can observe, every request, option",
        "and event of the UAPI headers of 6.1 and 6.12, and every test of sourceware's",
        "ptrace-tests. Each entry names the cells (guest-tests/CATALOG.md) and the",
        "observation fields that pin it down, or why it is out of scope. `make test`",
        "runs every named cell once on the host and checks that it records those fields.",
        "",
        "%d entries: %d covered, %d out of scope." % (len(entries), covered, out),
        "",
        "| kind | entries | covered | out of scope |",
        "|---|---|---|---|",
    ]
    for kind, title in KINDS.items():
        ks = [e for e in entries if e.kind == kind]
        if ks:
            c = sum(1 for e in ks if e.cells)
            o = sum(1 for e in ks if e.out and not e.cells)
            lines.append("| %s | %d | %d | %d |" % (kind, len(ks), c, o))
    for kind, title in KINDS.items():
        ks = [e for e in entries if e.kind == kind]
        if not ks:
            continue
        lines += ["", "## " + title, "", "| entry | what | documented | covered by |", "|---|---|---|---|"]
        for e in ks:
            if e.cells:
                cov = "<br>".join("`%s`: %s" % (md(c), ", ".join("`%s`" % f for f in fs)) for c, fs, _ in e.cells)
            elif e.out:
                cov = "out of scope: " + md(e.out[0])
            else:
                cov = "**not covered**"
            lines.append("| `%s` | %s | %s | %s |" % (md(e.id), md(e.what or ""), md(e.doc or ""), cov))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--surface-dir", default=os.path.join(TOP, "guest-tests", "surface"))
    ap.add_argument("--only", nargs="+", metavar="FILE",
                    help="check only these inventory files (no header, ptrace-tests or COVERAGE.md check)")
    ap.add_argument("--kfarm-guest", default=os.path.join(TOP, "build", "kfarm-guest"))
    ap.add_argument("--no-run", action="store_true", help="do not run the cells")
    ap.add_argument("--headers", metavar="DIR", help="kernel header directories (tests/uapi-headers.sh)")
    ap.add_argument("--coverage", default=os.path.join(TOP, "guest-tests", "COVERAGE.md"))
    ap.add_argument("--write", action="store_true", help="rewrite COVERAGE.md")
    args = ap.parse_args()

    errors = []
    paths = args.only or sorted(glob.glob(os.path.join(args.surface_dir, "*.def")))
    if not paths:
        print("surface-check: no inventory files in %s" % args.surface_dir, file=sys.stderr)
        return 1
    entries = parse(paths, errors)
    check_entries(entries, errors)
    if not args.no_run:
        check_cells(entries, args.kfarm_guest, errors)
    nheader = ntests = None
    if not args.only:
        if args.headers:
            nheader = check_headers(entries, args.headers, errors)
        ntests = check_ptrace_tests(entries, os.path.join(args.surface_dir, "ptrace-tests.list"), errors)
        text = render(entries)
        if args.write:
            with open(args.coverage, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            try:
                with open(args.coverage, encoding="utf-8") as f:
                    old = f.read()
            except OSError:
                old = None
            if old != text:
                errors.append("%s is not the rendering of the inventory (tests/surface-check.py --write)"
                              % os.path.relpath(args.coverage, TOP))
    for e in errors:
        print("surface-check: " + e, file=sys.stderr)
    covered = sum(1 for e in entries if e.cells)
    out = sum(1 for e in entries if e.out and not e.cells)
    extra = []
    if nheader is not None:
        extra.append("%d header macros" % nheader)
    if ntests is not None:
        extra.append("%d ptrace-tests" % ntests)
    print("surface: %d covered, %d out of scope, %d total%s; %d problem(s)" % (
        covered, out, len(entries), (" (" + ", ".join(extra) + ")") if extra else "",
        len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
