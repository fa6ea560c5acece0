#!/usr/bin/env python3
"""Runs the corpus conformance tool and fails on any failure that is not a
known defect of the tool itself.

    conformance_gate.py KNOWN_FAILURES -- COMMAND...

COMMAND's output is passed through. The gate fails (exit 1) when COMMAND
prints a FAIL line that KNOWN_FAILURES does not list verbatim, when it does
not end with its 'N passed, M failed' summary (it crashed), or when a listed
line no longer fails (the list must shrink when the tool is fixed).
KNOWN_FAILURES: one FAIL line per line, '#' comments, blank lines ignored.
"""
import re
import subprocess
import sys


def main(argv):
    if len(argv) < 4 or argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        known = {line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")}
    proc = subprocess.run(argv[3:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sys.stdout.write(proc.stdout)
    lines = proc.stdout.splitlines()
    fails = {line for line in lines if line.startswith("FAIL ")}
    summary = [line for line in lines if re.fullmatch(r"\d+ passed, \d+ failed.*", line)]
    problems = []
    if not summary:
        problems.append("the conformance tool ended without its summary line (exit %d)" % proc.returncode)
    unexpected = sorted(fails - known)
    if unexpected:
        problems.append("%d failure(s) not in %s:\n  %s" % (len(unexpected), argv[1], "\n  ".join(unexpected)))
    # A known line only counts as stale when its family was part of this run.
    families = set(re.findall(r"--only[= ](\S+)", " ".join(argv[3:])))
    wanted = {fam for arg in families for fam in arg.split(",")}
    stale = sorted(line for line in known - fails if not wanted or family_of(line) in wanted)
    if stale:
        problems.append("listed as known but no longer failing (remove them):\n  " + "\n  ".join(stale))
    if problems:
        print("conformance gate: FAILED\n" + "\n".join(problems))
        return 1
    print("conformance gate: passed (%d known tool or golden defects tolerated, listed in %s)" % (len(fails), argv[1]))
    return 0


EXTENSION_FAMILY = {".png": "png", ".apng": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".gif": "gif",
                    ".tif": "tiff", ".tiff": "tiff", ".bmp": "bmp"}


def family_of(line):
    """The family of a FAIL line's file, by extension (enough for the lines listed)."""
    name = line.split()[1].lower()
    dot = name.rfind(".")
    return EXTENSION_FAMILY.get(name[dot:] if dot >= 0 else "", "other")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
