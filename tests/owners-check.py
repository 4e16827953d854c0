#!/usr/bin/python3
"""owners-check.py - each format and each hypervisor detail has one owner.

Checks the C sources of the orchestrator, failing with file:line:
  - run.json's own keys (those of reports/schema/run.schema.json that no
    other schema and no config field also uses) are written as string
    literals only in report.c, which owns the format; a key another format
    happens to share is allowed where that format is written (ALLOW, with
    the format named);
  - no other file looks a key up in a run document
    (json_object_get(run|run_a|run_b, ...)): they go through report.h;
  - run.c names no hypervisor detail: no "qemu", "-serial" or "console="
    (any case, comments included); those belong to the VM backend (vm-*.c).
It ends with "owners: N run.json keys, N files, ok" or the list of faults.
"""
import argparse
import glob
import json
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (file, key): the same word as a key of another format that file writes.
ALLOW = {
    ("build.c", "version"): "the kernel build's version file",
    ("build.c", "inputs"): "the kernel build record (what the image was built from)",
    ("cache.c", "kind"): "the cache index (kernel cache entries)",
    ("cache.c", "path"): "the cache index (kernel cache entries)",
    ("cells.c", "kind"): "kfarm scenarios --json (a cell's kind)",
    ("kfarm.c", "kind"): "kfarm cache --json (a cache entry's kind)",
    ("config.c", "path"): "the config (a kernel's path)",
    ("config.c", "line"): "the config's error position",
    ("export-kcidb.c", "path"): "KCIDB (a test's path)",
    ("export-kcidb.c", "accelerator"): "KCIDB (a test's environment misc)",
    ("export-kcidb.c", "version"): "KCIDB (the submission's version)",
    ("export-html.c", "console"): "diff.html's embedded data (a failed guest's log name)",
    ("run.c", "block"): "run_plan()'s guests (the plan the unit tests read)",
    ("run.c", "followup"): "run_plan()'s guests (the plan the unit tests read)",
    ("run.c", "kind"): "kfarm-guest --list read into a cell list",
    ("run.c", "interrupted"): "a guest's kill message, not a key",
    ("client.c", "interrupted"): "a job's state (job.schema.json), not a key",
    ("api.c", "events"): "the /v1/jobs/ID/events route, not a key",
    ("vm-libvirt-hosts.c", "host"): "a domain's kfarm metadata (an XML attribute), not a key",
    ("vm-libvirt-hosts.c", "version"): "kfarm hosts --json (a host's hypervisor version)",
    ("vm-libvirt-hosts.c", "path"): "kfarm hosts --json (a storage pool's pool_path)",
    ("vm-libvirt-hosts.c", "uri"): "kfarm hosts --json (a host's URI)",
    ("vm-libvirt.c", "uri"): "the config's hosts, read (a host's URI)",
    ("config.c", "uri"): "the config's hosts (a host's URI)",
}
RUN_LOOKUP = re.compile(r'json_object_get\(\s*(run|run_a|run_b)\s*,')
HYPERVISOR = re.compile(r'qemu|-serial|console=', re.I)
OWNER = "report.c"


def schema_keys(path):
    keys = set()

    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                if k == "properties" and isinstance(v, dict):
                    keys.update(v.keys())
                walk(v)
        elif isinstance(o, list):
            for x in o:
                walk(x)
    with open(path) as f:
        walk(json.load(f))
    return keys


def config_keys(src):
    with open(os.path.join(src, "config.c")) as f:
        return set(re.findall(r'\.name = "([a-z_0-9]+)"', f.read()))


def strip_comments(text):
    """C comments blanked, newlines kept (so line numbers stay)."""
    return re.sub(r'/\*.*?\*/|//[^\n]*', lambda m: re.sub(r'[^\n]', ' ', m.group(0)), text,
                  flags=re.S)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default=os.path.join(TOP, "orchestrator"))
    ap.add_argument("--schemas", default=os.path.join(TOP, "reports", "schema"))
    a = ap.parse_args()
    run = schema_keys(os.path.join(a.schemas, "run.schema.json"))
    other = set(config_keys(a.src))
    for p in glob.glob(os.path.join(a.schemas, "*.schema.json")):
        if os.path.basename(p) != "run.schema.json":
            other |= schema_keys(p)
    own = sorted(run - other)
    faults = []
    files = sorted(glob.glob(os.path.join(a.src, "*.c")))
    for path in files:
        name = os.path.basename(path)
        with open(path) as f:
            raw = f.read()
        code = strip_comments(raw)
        line_of = lambda pos: code.count("\n", 0, pos) + 1
        if name == "run.c":
            for m in HYPERVISOR.finditer(raw):
                faults.append(f"{name}:{raw.count(chr(10), 0, m.start()) + 1}: names "
                              f"the hypervisor ({m.group(0)!r}): that belongs to the VM backend")
        if name == OWNER:
            continue
        for key in own:
            if (name, key) in ALLOW:
                continue
            for m in re.finditer('"%s"' % re.escape(key), code):
                faults.append(f"{name}:{line_of(m.start())}: run.json key \"{key}\" outside "
                              f"{OWNER}")
        for m in RUN_LOOKUP.finditer(code):
            faults.append(f"{name}:{line_of(m.start())}: looks up a key of a run document "
                          f"({m.group(0)}...): use report.h")
    if not own:
        faults.append("run.schema.json: no key of its own found (is the schema there?)")
    for f in faults:
        print(f)
    if faults:
        print(f"owners: {len(faults)} fault(s)")
        return 1
    print(f"owners: {len(own)} run.json keys, {len(files)} files, ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
