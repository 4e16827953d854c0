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

EXPECT = {"changed": Failure, "distribution-changed": Failure, "error": Error,
          "unsupported": Skipped}


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    xml = JUnitXml.fromfile(argv[1])
    with open(argv[2], encoding="utf-8") as f:
        diff = json.load(f)
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + str(detail)) if not ok else ""))

    suites = list(xml)
    check("one testsuite", len(suites) == 1, len(suites))
    suite = suites[0]
    cases = list(suite)
    cells = diff["cells"]
    check("a testcase per cell", len(cases) == len(cells), (len(cases), len(cells)))
    s = diff["summary"]
    check("tests", suite.tests == len(cells), suite.tests)
    check("failures", suite.failures == s["changed"] + s["distribution-changed"], suite.failures)
    check("errors", suite.errors == s["error"], suite.errors)
    check("skipped", suite.skipped == s["unsupported"], suite.skipped)
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
    check("each testcase's result matches its verdict", not bad, bad)
    passed = sum(1 for r in results if r)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
