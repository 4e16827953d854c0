#!/usr/bin/python3
"""Read junit.xml with a real JUnit consumer and check it against diff.json.

usage: /usr/bin/python3 tests/junit-check.py JUNIT_XML DIFF_JSON

The consumer is junitparser (Debian's python3-junitparser, hence
/usr/bin/python3), the library CI tools use to read and merge JUnit reports.
Checks: one testsuite; one testcase per diff cell, named kfarm.detach.<scenario>
/ smp<N> in the diff's order; changed and distribution-changed cells are
failures, error cells errors, unsupported skipped, the rest pass; the suite's
counts agree with the diff's summary. Prints "N passed, N failed" last.
"""
import json
import sys

try:
    from junitparser import Error, Failure, JUnitXml, Skipped
except ImportError:
    sys.stderr.write("junit-check: python3-junitparser is missing "
                     "(apt-get install python3-junitparser; run with /usr/bin/python3)\n")
    sys.exit(2)

from kfarmtest import Checks

EXPECT = {"changed": Failure, "distribution-changed": Failure, "error": Error,
          "unsupported": Skipped}


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    # Each condition is computed inside its check: one that raises fails, the next runs.
    t = Checks()
    xml = JUnitXml.fromfile(argv[1])
    with open(argv[2], encoding="utf-8") as f:
        diff = json.load(f)
    suites = list(xml)
    t.check("one testsuite", lambda: len(suites) == 1, len(suites))
    suite = suites[0] if suites else None
    cases = list(suite) if suite is not None else []
    cells = diff["cells"]
    s = diff["summary"]
    t.check("a testcase per cell", lambda: len(cells) > 0 and len(cases) == len(cells), (len(cases), len(cells)))
    t.check("tests", lambda: suite.tests == len(cells), lambda: suite.tests)
    t.check("failures", lambda: suite.failures == s["changed"] + s["distribution-changed"],
            lambda: suite.failures)
    t.check("errors", lambda: suite.errors == s["error"], lambda: suite.errors)
    t.check("skipped", lambda: suite.skipped == s["unsupported"], lambda: suite.skipped)

    def mismatches():
        bad = []
        for case, cell in zip(cases, cells):
            want = EXPECT.get(cell["verdict"])
            kinds = [type(r) for r in case.result]
            if case.classname != "kfarm.detach." + cell["scenario"] or \
                    case.name != "smp%d" % cell["smp"]:
                bad.append("%s.%s is not %s/%d" % (case.classname, case.name, cell["scenario"],
                                                    cell["smp"]))
            elif (want is None and kinds) or (want is not None and kinds != [want]):
                bad.append("%s/%d (%s): %s" % (cell["scenario"], cell["smp"], cell["verdict"], kinds))
            elif want is Failure and case.result[0].type != cell["verdict"]:
                bad.append("%s/%d: failure type %s" % (cell["scenario"], cell["smp"],
                                                      case.result[0].type))
        return bad
    t.check("each testcase's result matches its verdict", lambda: cases and not mismatches(), mismatches)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
