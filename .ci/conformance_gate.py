#!/usr/bin/env python3
"""Runs the corpus conformance tool and fails on any failure that is not a
known defect of the tool or of its goldens.

    conformance_gate.py KNOWN_FAILURES [--jobs N] -- COMMAND...

COMMAND's output is passed through. The gate fails (exit 1) when COMMAND
prints a FAIL line that KNOWN_FAILURES does not list verbatim, when it does
not end with its 'N passed, M failed' summary (it crashed), or when a listed
line no longer fails (the list must shrink when the tool is fixed).
KNOWN_FAILURES: one FAIL line per line, '#' comments, blank lines ignored.
Corpus paths quoted in imio's messages are compared as '<corpus>/standard/…'
and '<corpus>/synthetic/…', wherever the corpus lies.

With --jobs N and an `--only A,B,...` in COMMAND, COMMAND runs once per
family, N at a time (the tool itself is serial: one imio process per call),
and the outputs are joined in family order with one summed summary line.
"""
import concurrent.futures
import importlib.util
import json
import os
import re
import subprocess
import sys

CORPUS_PATH = re.compile(r"'[^'\s]*corpus/(standard|synthetic)/")
SUMMARY = re.compile(r"(\d+) passed, (\d+) failed(?:, (\d+) skipped)?")
# Longest first, so that N workers finish together (seconds on a quiet 2-core machine).
COST = {"png": 80, "video": 70, "jpeg": 50, "tiff": 50, "gif": 35, "bmp": 12, "other": 5}


def normalized(line):
    """A FAIL line with the corpus folder written as <corpus>."""
    return CORPUS_PATH.sub(r"'<corpus>/\1/", line)


def run(command):
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc.returncode, proc.stdout


def run_split(command, jobs):
    """COMMAND once per family of its --only list, `jobs` at a time."""
    at = command.index("--only")
    families = [f for f in command[at + 1].split(",") if f]
    order = sorted(families, key=lambda f: -COST.get(f, 30))
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        results = dict(zip(order, pool.map(
            lambda f: run(command[:at + 1] + [f] + command[at + 2:]), order)))
    out, totals, worst = [], [0, 0, 0], 0
    for fam in families:
        code, text = results[fam]
        worst = worst or code
        lines = text.splitlines()
        summaries = [m for m in map(SUMMARY.fullmatch, lines) if m]
        if not summaries:
            out.append(text)
            return code or 1, "".join(out)  # no summary line: the joined output has none either
        for i in range(3):
            totals[i] += int(summaries[-1].group(i + 1) or 0)
        out.append("\n".join(line for line in lines if not SUMMARY.fullmatch(line)) + "\n")
    out.append("%d passed, %d failed, %d skipped\n" % tuple(totals))
    return worst, "".join(out)


def main(argv):
    args = argv[1:]
    jobs = 1
    if len(args) >= 3 and args[1] == "--jobs":
        jobs = int(args[2])
        del args[1:3]
    if len(args) < 3 or args[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    known_file, command = args[0], args[2:]
    with open(known_file, encoding="utf-8") as f:
        known = {normalized(line.rstrip("\n")) for line in f if line.strip() and not line.startswith("#")}
    if jobs > 1 and "--only" in command[:-1]:
        code, output = run_split(command, jobs)
    else:
        code, output = run(command)
    sys.stdout.write(output)
    lines = output.splitlines()
    fails = {normalized(line) for line in lines if line.startswith("FAIL ")}
    summary = [line for line in lines if SUMMARY.fullmatch(line)]
    problems = []
    if not summary:
        problems.append("the conformance tool ended without its summary line (exit %d)" % code)
    unexpected = sorted(fails - known)
    if unexpected:
        problems.append("%d failure(s) not in %s:\n  %s" % (len(unexpected), known_file, "\n  ".join(unexpected)))
    # A known line only counts as stale when its family was part of this run.
    families = set(re.findall(r"--only[= ](\S+)", " ".join(command)))
    wanted = {fam for arg in families for fam in arg.split(",")}
    family_of = family_resolver(command)
    stale = sorted(line for line in known - fails if not wanted or family_of(line) in wanted)
    if stale:
        problems.append("listed as known but no longer failing (remove them):\n  " + "\n  ".join(stale))
    if problems:
        print("conformance gate: FAILED\n" + "\n".join(problems))
        return 1
    print("conformance gate: passed (%d known tool or golden defects tolerated, listed in %s)" % (len(fails), known_file))
    return 0


def family_resolver(command):
    """family_of(line): the family the tool files a FAIL line's call under,
    from the tool's own family() and the goldens of the corpora in COMMAND
    (a file's family can depend on the plugin its golden names: pyav's calls
    on png_garbage.png are video)."""
    tool = next((arg for arg in command if arg.endswith("conformance.py")), None)
    entries = {}
    family = None
    if tool and os.path.isfile(tool):
        spec = importlib.util.spec_from_file_location("conformance_tool", tool)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        family = module.family
        for arg in command:
            golden = os.path.join(arg, "expected.json")
            if os.path.isfile(golden):
                with open(golden, encoding="utf-8") as f:
                    files = json.load(f).get("files", {})
                corpus = os.path.basename(arg.rstrip("/"))
                entries.update({"%s/%s" % (corpus, name): entry for name, entry in files.items()})

    def family_of(line):
        where = line.split()[1]
        if family and where in entries:
            return family(where.split("/", 1)[1], entries[where])
        return "unknown"  # never matches a family: such a line is not judged stale
    return family_of


if __name__ == "__main__":
    sys.exit(main(sys.argv))
