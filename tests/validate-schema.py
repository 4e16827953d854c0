#!/usr/bin/python3
"""Validate JSON files against a JSON Schema.

usage: /usr/bin/python3 tests/validate-schema.py SCHEMA FILE...

The draft is the one the schema declares in "$schema" (kfarm's are 2020-12);
a schema that declares none, such as KCIDB's published v5 schema (which uses
"$defs"), is read as draft 2020-12. Formats ("date-time", "uri"...) are checked
where this jsonschema has a checker for them.

Prints every error with its JSON path, then "N passed, N failed" as the last
line. Exits 0 when every file is valid, 1 otherwise, 2 on bad usage or an
invalid schema. Needs Debian's python3-jsonschema (hence /usr/bin/python3).
"""
import json
import sys

try:
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for
except ImportError:
    sys.stderr.write("validate-schema: python3-jsonschema is missing "
                     "(apt-get install python3-jsonschema; run with /usr/bin/python3)\n")
    sys.exit(2)


def json_path(error):
    path = "$"
    for part in error.absolute_path:
        if isinstance(part, int):
            path += "[%d]" % part
        else:
            path += "." + str(part)
    return path


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: %s SCHEMA FILE...\n" % argv[0])
        return 2
    try:
        schema = load(argv[1])
        cls = validator_for(schema, default=Draft202012Validator)
        cls.check_schema(schema)
    except (OSError, ValueError, SchemaError) as exc:
        sys.stderr.write("%s: bad schema: %s\n" % (argv[1], exc))
        return 2
    validator = cls(schema, format_checker=FormatChecker())
    passed = failed = 0
    for path in argv[2:]:
        try:
            doc = load(path)
        except (OSError, ValueError) as exc:
            print("%s: cannot load: %s" % (path, exc))
            failed += 1
            continue
        errors = sorted(validator.iter_errors(doc),
                        key=lambda err: list(map(str, err.absolute_path)))
        if errors:
            failed += 1
            for err in errors:
                print("%s: %s: %s" % (path, json_path(err), err.message))
        else:
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
