#!/usr/bin/env python3
"""Fails when a string literal in the library or the plugins names an internal
decision id such as "(D8)" or "D12:": such ids mean nothing to users, and
string literals are what reaches them in exception messages. Comments may
keep the ids.

    no_decision_ids.py SOURCE_DIR
"""
import pathlib
import re
import sys

LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
DECISION = re.compile(r"\bD[0-9]{1,2}\b")


def code_of(line):
    """The line without a trailing // comment (one outside string literals)."""
    out, i, quoted = [], 0, False
    while i < len(line):
        c = line[i]
        if quoted and c == "\\":
            out.append(line[i:i + 2])
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif not quoted and line.startswith("//", i):
            break
        out.append(c)
        i += 1
    return "".join(out)


def main(root):
    root = pathlib.Path(root)
    found = []
    for folder in ("src", "plugins", "include"):
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in (".cpp", ".hpp") or "tests" in path.parts or "bench" in path.parts:
                continue
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                for literal in LITERAL.findall(code_of(line)):
                    # JPEG's SOI bytes and CIE illuminant D65 (a white point) are no decision ids
                    if DECISION.search(literal.replace("FF D8", "").replace("D65", "")):
                        found.append("%s:%d: %s" % (path.relative_to(root), number, literal))
    for f in found:
        print("a decision id in a string literal: " + f)
    print("%d passed, %d failed" % (0 if found else 1, 1 if found else 0))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
