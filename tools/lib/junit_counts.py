#!/usr/bin/env python3
"""Counts the test cases of a JUnit XML file (ctest --output-junit, lit
--xunit-xml-output).

Prints "PASSED FAILED" on the first line, then one failed test per line.
Skipped test cases are neither passed nor failed; they are listed on stderr.
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
        if case.get("classname"):
            name = f"{case.get('classname')}.{name}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(name)
        elif case.find("skipped") is not None or case.get("status") == "notrun":
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
