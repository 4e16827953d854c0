#!/usr/bin/python3
"""man-check.py - the man pages say what the binaries do, and render cleanly.

  man-check.py [BUILD]              check orchestrator/man/kfarm.1 and kfarmd.8
  man-check.py --self-test [BUILD]  the check must fail on doctored copies

Fails, naming the page and the thing, when:
  - groff (-man -ww: every warning) or man -l says anything about a page;
  - a command of 'kfarm help' has no "kfarm CMD" subsection under COMMANDS,
    or one of its options ('kfarm help CMD') is missing from that subsection
    (its synopsis), or an option has no entry (.TP tag) under OPTIONS;
  - an option of 'kfarmd --help' or of kfarmd.c's getopt table has no entry
    under kfarmd.8's OPTIONS, or an option of its usage is not in SYNOPSIS;
  - a config field (config.c's fields[]) has no entry under CONFIGURATION;
  - a variable the sources read (getenv, env_int) is not under ENVIRONMENT
    (kfarmd.c's in kfarmd.8, the others' in kfarm.1);
  - a page documents a command, option or field that does not exist;
  - a required section is missing.
It ends with "man-check: ... ok" or "man-check: N fault(s)".
"""
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPT = re.compile(r'(?<![\w-])(--[a-z0-9][a-z0-9-]*|-[a-zA-Z])(?![\w-])')
COMMON = {"-h", "--help", "-q", "--quiet", "-v", "--verbose"}
SECTIONS = {
    "kfarm.1": ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "CONFIGURATION",
                "EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO"],
    "kfarmd.8": ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SIGNALS", "EXIT STATUS",
                 "ENVIRONMENT", "FILES", "SEE ALSO"],
}
ESCAPES = [(r'\(dq', '"'), (r'\(mu', 'x'), (r'\(em', '--'), (r'\-', '-'), (r'\&', ''),
           (r'\e', '\\'), (r'\ ', ' ')]


def unescape(s):
    s = re.sub(r'\\f(\[[A-Z]*\]|[BIRP])', '', s)
    for a, b in ESCAPES:
        s = s.replace(a, b)
    return s


def roff_args(s):
    """A macro line's arguments, with roff's quoting ("" is a quote inside)."""
    args, i = [], 0
    while i < len(s):
        if s[i] == ' ':
            i += 1
            continue
        if s[i] == '"':
            i += 1
            a = ""
            while i < len(s):
                if s[i] == '"' and s[i + 1:i + 2] == '"':
                    a += '"'
                    i += 2
                elif s[i] == '"':
                    i += 1
                    break
                else:
                    a += s[i]
                    i += 1
            args.append(a)
        else:
            j = i
            while j < len(s) and (s[j] != ' ' or s[j - 1:j] == '\\'):
                j += 1
            args.append(s[i:j])
            i = j
    return args


def parse(text):
    """{section: {"text": str, "tags": [str], "subs": {title: text}}}, from the source."""
    secs, sec, sub, pending_tag = {}, None, None, False

    def add(line, tag=False):
        if sec is None:
            return
        secs[sec]["text"] += line + "\n"
        if sub is not None:
            secs[sec]["subs"][sub] += line + "\n"
        if tag:
            secs[sec]["tags"].append(line)

    for raw in text.split("\n"):
        if raw.startswith(('.\\"', "'\\\"")):
            continue
        raw = re.sub(r'(?<!\\)\\".*', '', raw)
        if raw.startswith("."):
            name, _, rest = raw[1:].partition(" ")
            args = roff_args(rest)
            if name == "SH":
                sec, sub = unescape(" ".join(args)), None
                secs[sec] = {"text": "", "tags": [], "subs": {}}
                continue
            if name == "SS":
                sub = unescape(" ".join(args))
                if sec is not None:
                    secs[sec]["subs"][sub] = ""
                continue
            if name == "TP":
                pending_tag = True
                continue
            if name in ("B", "I", "SM", "SB"):
                line = " ".join(args)
            elif name in ("BI", "BR", "IB", "IR", "RB", "RI"):
                line = "".join(args)
            else:
                continue        # .PP, .RS, .nf, ...: no text
        else:
            line = raw
        add(unescape(line), pending_tag)
        pending_tag = False
    return secs


def render(path, ascii_text=False):
    """(stdout, stderr, status) of groff on @path: warnings, or plain text."""
    if ascii_text:
        cmd = ["groff", "-man", "-Tascii", "-P-cbou", "-rLL=5000n", "-rHY=0", path]
    else:
        cmd = ["groff", "-man", "-Tutf8", "-ww", "-z", path]
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.stdout, p.stderr, p.returncode


def man_warnings(path):
    if not shutil.which("man"):
        return ""
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    p = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", path], capture_output=True,
                       text=True, env=env)
    return p.stderr.strip() + ("" if p.returncode == 0 else f" (man exited {p.returncode})")


@functools.lru_cache(maxsize=None)
def run(*argv):
    """A binary's output (the same every time: the self-test asks once)."""
    return subprocess.run(list(argv), capture_output=True, text=True, check=True).stdout


def kfarm_commands(build):
    """{command: [its options]} from 'kfarm help' and 'kfarm help CMD'."""
    kfarm = os.path.join(build, "kfarm")
    cmds = re.findall(r'^  ([a-z]+)(?:\s|$)', run(kfarm, "help"), re.M)
    out = {}
    for c in cmds:
        opts = []
        for m in re.finditer(r'^\s{2,6}((?:-\w, )?--[\w-]+)', run(kfarm, "help", c), re.M):
            opts += OPT.findall(m.group(1))
        out[c] = opts
    return out


def kfarmd_options(build, src):
    """(every option kfarmd takes: --help's and the getopt table's; those of the usage)."""
    text = run(os.path.join(build, "kfarmd"), "--help")
    usage = text.split("\n  -", 1)[0]
    with open(os.path.join(src, "kfarmd.c")) as f:
        code = f.read()
    table = re.search(r'struct option opts\[\] = \{(.*?)\};', code, re.S)
    longs = ["--" + n for n in re.findall(r'\{ "([a-z-]+)",', table.group(1) if table else "")]
    optstring = re.search(r'getopt_long\(argc, argv, "([^"]*)"', code)
    shorts = ["-" + c for c in re.sub(r'[^A-Za-z]', '', optstring.group(1) if optstring else "")]
    if not longs or not shorts:
        longs = ["kfarmd.c: no getopt table or option string found"]
    return sorted(set(OPT.findall(text)) | set(longs) | set(shorts)), OPT.findall(usage)


def config_fields(src):
    with open(os.path.join(src, "config.c")) as f:
        code = f.read()
    table = re.search(r'static const struct field fields\[\] = \{(.*?)\n\};', code, re.S)
    return re.findall(r'\.name = "([a-z_0-9]+)"', table.group(1) if table else "")


def env_vars(src):
    """{variable: the pages that document it}."""
    out = {}
    for name in sorted(os.listdir(src)):
        if not name.endswith(".c"):
            continue
        with open(os.path.join(src, name)) as f:
            code = f.read()
        for v in re.findall(r'\b(?:getenv|env_int)\("([A-Za-z_0-9]+)"', code):
            out.setdefault(v, set()).add("kfarmd.8" if name == "kfarmd.c" else "kfarm.1")
    return out


def has(text, token):
    return re.search(r'(?<![\w-])%s(?![\w-])' % re.escape(token), text) is not None


def tag_tokens(secs, section, pattern=OPT):
    toks = set()
    for t in secs.get(section, {}).get("tags", []):
        toks |= set(pattern.findall(t))
    return toks


def check(man_dir, build, src):
    faults, counts = [], {}
    cmds = kfarm_commands(build)
    d_opts, d_usage = kfarmd_options(build, src)
    fields = config_fields(src)
    env = env_vars(src)
    if not cmds or not fields or not env:
        faults.append(f"nothing to check: {len(cmds)} commands, {len(fields)} config fields, "
                      f"{len(env)} variables")
    pages = {}
    for page in ("kfarm.1", "kfarmd.8"):
        path = os.path.join(man_dir, page)
        if not os.path.exists(path):
            faults.append(f"{page}: missing")
            continue
        _, err, rc = render(path)
        for w in err.strip().splitlines():
            faults.append(f"{page}: groff: {w}")
        if rc:
            faults.append(f"{page}: groff exited {rc}")
        w = man_warnings(path)
        if w:
            faults.append(f"{page}: man -l: {w}")
        with open(path) as f:
            secs = parse(f.read())
        shown, _, _ = render(path, ascii_text=True)
        pages[page] = (secs, shown)
        for s in SECTIONS[page]:
            if s not in secs:
                faults.append(f"{page}: no {s} section")

    def shown_in(page, token, what):
        if page in pages and not has(pages[page][1], token):
            faults.append(f"{page}: {what} {token} is in the source but not in what groff "
                          f"renders")

    if "kfarm.1" in pages:
        secs, _ = pages["kfarm.1"]
        subs = secs.get("COMMANDS", {}).get("subs", {})
        tags = tag_tokens(secs, "OPTIONS")
        every = set()
        for c, opts in cmds.items():
            sub = subs.get(f"kfarm {c}")
            if sub is None:
                faults.append(f"kfarm.1: command '{c}' has no \"kfarm {c}\" subsection under "
                              f"COMMANDS")
                continue
            shown_in("kfarm.1", f"kfarm {c}", "the command")
            pairs = re.findall(r'^\s{2,6}(?:(-\w), )?(--[\w-]+)',
                               run(os.path.join(build, "kfarm"), "help", c), re.M)
            for short, long_ in pairs:
                every |= {long_} | ({short} if short else set())
                if long_ in COMMON:
                    continue
                if not has(sub, long_) and not (short and has(sub, short)):
                    faults.append(f"kfarm.1: kfarm {c}: {long_} (from 'kfarm help {c}') is not "
                                  f"in its synopsis under COMMANDS")
        for o in sorted(every):
            if o not in tags:
                faults.append(f"kfarm.1: {o} has no entry under OPTIONS")
            else:
                shown_in("kfarm.1", o, "option")
        for o in sorted(tags - every):
            faults.append(f"kfarm.1: OPTIONS describes {o}, which no command takes")
        for title in subs:
            m = re.match(r'kfarm (\S+)$', title)
            if not m or m.group(1) not in cmds:
                faults.append(f"kfarm.1: COMMANDS has \"{title}\", which is not a command")
        ftags = {t.strip() for t in secs.get("CONFIGURATION", {}).get("tags", [])}
        for f in fields:
            if f not in ftags:
                faults.append(f"kfarm.1: config field '{f}' has no entry under CONFIGURATION")
            else:
                shown_in("kfarm.1", f, "config field")
        for t in sorted(ftags - set(fields)):
            faults.append(f"kfarm.1: CONFIGURATION describes '{t}', which is not a config field")
        counts["kfarm.1"] = (f"{len(cmds)} commands, {len(every)} options, {len(fields)} "
                             f"config fields")
    if "kfarmd.8" in pages:
        secs, _ = pages["kfarmd.8"]
        tags = tag_tokens(secs, "OPTIONS")
        for o in d_opts:
            if o not in tags:
                faults.append(f"kfarmd.8: {o} has no entry under OPTIONS")
            else:
                shown_in("kfarmd.8", o, "option")
        for o in sorted(tags - set(d_opts)):
            faults.append(f"kfarmd.8: OPTIONS describes {o}, which kfarmd does not take")
        syn = secs.get("SYNOPSIS", {}).get("text", "")
        for o in d_usage:
            if not has(syn, o):
                faults.append(f"kfarmd.8: {o} (in 'kfarmd --help' usage) is not in SYNOPSIS")
        counts["kfarmd.8"] = f"{len(d_opts)} options"
    n = 0
    for v, where in sorted(env.items()):
        for page in sorted(where & set(pages)):
            n += 1
            if not has(pages[page][0].get("ENVIRONMENT", {}).get("text", ""), v):
                faults.append(f"{page}: ${v} (read by the sources) is not under ENVIRONMENT")
            else:
                shown_in(page, v, "variable")
    summary = "; ".join(f"{p}: {c}" for p, c in counts.items()) + f"; {n} variables (page, variable)"
    return faults, summary


def doctor(man_dir, page, old, new):
    path = os.path.join(man_dir, page)
    with open(path) as f:
        text = f.read()
    if old not in text:
        raise SystemExit(f"self-test: {page} no longer has {old!r}: update the self-test")
    with open(path, "w") as f:
        f.write(text.replace(old, new, 1))


def self_test(build, src):
    """Each doctored copy must fail with its fault named; the pristine copy must pass."""
    cases = [
        ("an option without an OPTIONS entry", "kfarm.1",
         ".TP\n.BI \\-\\-variant\\-smp \" LIST\"\n", ".PP\n",
         r"kfarm\.1: --variant-smp has no entry under OPTIONS"),
        ("an option missing from its command's synopsis", "kfarm.1",
         ".RB [ \\-\\-alpha\n.IR P ]\n.PP\nCompares", ".PP\nCompares",
         r"kfarm diff: --alpha \(from 'kfarm help diff'\) is not in its synopsis"),
        ("a command without its subsection", "kfarm.1", '.SS "kfarm jobs"', '.SS "jobs"',
         r"command 'jobs' has no \"kfarm jobs\" subsection"),
        ("an option that no command takes", "kfarm.1", ".SS \"Common options\"\n",
         ".SS \"Common options\"\n.TP\n.B \\-\\-frobnicate\nGone.\n",
         r"OPTIONS describes --frobnicate, which no command takes"),
        ("a config field left out", "kfarm.1", ".TP\n.B canary_timeout_s\n", ".PP\n",
         r"config field 'canary_timeout_s' has no entry under CONFIGURATION"),
        ("a variable left out", "kfarm.1", ".B KFARM_NO_PVH\n", ".B KFARM_PVH\n",
         r"\$KFARM_NO_PVH \(read by the sources\) is not under ENVIRONMENT"),
        ("a groff warning", "kfarm.1", ".SH DESCRIPTION\n", ".SH DESCRIPTION\n.BOGUS\n",
         r"kfarm\.1: groff: .*BOGUS"),
        ("a required section gone", "kfarm.1", ".SH EXIT STATUS\n", ".SH EXIT CODES\n",
         r"kfarm\.1: no EXIT STATUS section"),
        ("a kfarmd option without an entry", "kfarmd.8",
         ".TP\n.BI \\-\\-token\\-file \" FILE\"\n", ".PP\n",
         r"kfarmd\.8: --token-file has no entry under OPTIONS"),
        ("a kfarmd option missing from SYNOPSIS", "kfarmd.8",
         ".RB [ \\-\\-foreground ]\n", "",
         r"kfarmd\.8: --foreground \(in 'kfarmd --help' usage\) is not in SYNOPSIS"),
        ("a kfarmd option only in a comment", "kfarmd.8",
         ".TP\n.BI \\-\\-allow\\-path \" DIR\"\n", ".\\\" .TP --allow-path\n.PP\n",
         r"kfarmd\.8: --allow-path has no entry under OPTIONS"),
        ("an option hidden from what groff renders", "kfarmd.8",
         ".TP\n.BI \\-\\-workers \" N\"\n", ".TP\n.BI \\-\\-workers \" N\"\n.ig\n",
         r"kfarmd\.8: option --\S+ is in the source but not in what groff renders"),
    ]
    ok = True
    tmp = tempfile.mkdtemp(prefix="man-check-")
    try:
        man = os.path.join(tmp, "man")
        shutil.copytree(os.path.join(TOP, "orchestrator", "man"), man)
        faults, _ = check(man, build, src)
        print(f"{'ok  ' if not faults else 'FAIL'} self-test: the pristine pages pass")
        for f in faults:
            print(f"     {f}")
        ok &= not faults
        for what, page, old, new, expect in cases:
            shutil.rmtree(man)
            shutil.copytree(os.path.join(TOP, "orchestrator", "man"), man)
            if "\n.ig\n" in new:
                with open(os.path.join(man, page), "a") as f:
                    f.write("..\n")
            doctor(man, page, old, new)
            faults, _ = check(man, build, src)
            hit = any(re.search(expect, f) for f in faults)
            print(f"{'ok  ' if hit else 'FAIL'} self-test: {what} fails the check")
            if not hit:
                print(f"     expected /{expect}/, got: {faults}")
            ok &= hit
    finally:
        shutil.rmtree(tmp)
    print(f"man-check self-test: {len(cases) + 1} cases, {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


def main():
    args = [a for a in sys.argv[1:] if a != "--self-test"]
    build = os.path.join(TOP, args[0] if args else "build")
    src = os.path.join(TOP, "orchestrator")
    if "--self-test" in sys.argv[1:]:
        return self_test(build, src)
    faults, summary = check(os.path.join(TOP, "orchestrator", "man"), build, src)
    for f in faults:
        print(f)
    if faults:
        print(f"man-check: {len(faults)} fault(s)")
        return 1
    print(f"man-check: {summary}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
