#!/usr/bin/env python3
"""Counts the test cases of a JUnit XML file (ctest --output-junit, lit
--xunit-xml-output).

Prints "PASSED FAILED" on the first line, then one failed test per line.
Skipped and disabled test cases are neither passed nor failed; they are
listed on stderr. A ctest test that could not run counts as failed.
"""

import sys
import xml.etree.ElementTree as ET


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: junit_counts.py RESULTS.xml", file=sys.stderr)
        return 2
    root = ET.parse(sys.argv[1]).getroot()
    passed, failed, skipped = 0, [], []
    for case in root.iter("testcase"):
        name = case.get("name", "?")
        if case.get("classname") and case.get("classname") != name:
            name = f"{case.get('classname')}.{name}"
        skip = case.find("skipped")
        status = case.get("status")
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(name)
        elif status == "disabled":
            skipped.append(name)
        elif status == "notrun":
            # ctest marks a test "notrun" both when it asked to be skipped
            # (SKIP_RETURN_CODE / SKIP_REGULAR_EXPRESSION) and when it could
            # not run at all (missing executable, failed fixture): only the
            # first is a skip.
            message = skip.get("message", "") if skip is not None else ""
            if message.startswith("SKIP_"):
                skipped.append(name)
            else:
                failed.append(f"{name} (not run: {message or 'no reason given'})")
        elif skip is not None:
            skipped.append(name)
        else:
            passed += 1
    print(passed, len(failed))
    for name in failed:
        print(name)
    for name in skipped:
        print(f"skipped: {name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
