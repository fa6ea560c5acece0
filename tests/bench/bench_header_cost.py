#!/usr/bin/env python3
"""What including <imio/imio.hpp> costs a translation unit: the time of
`c++ -std=c++20 -fsyntax-only` on a file that includes only it, against one
that includes only <string> and <vector> (the yardstick: a header that uses
strings and vectors can cost no less). The files take turns; best of N.

    bench_header_cost.py --cxx g++ -I include -I build/include [--runs 15] [--header imio/imio.hpp ...]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time


def compile_ms(cxx, flags, path):
    start = time.perf_counter()
    subprocess.run([cxx, "-std=c++20", "-fsyntax-only", *flags, path], check=True)
    return (time.perf_counter() - start) * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cxx", default="c++")
    ap.add_argument("-I", dest="includes", action="append", default=[])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--header", action="append", help="headers to time (default: imio/imio.hpp)")
    args = ap.parse_args()
    headers = args.header or ["imio/imio.hpp"]
    flags = ["-I" + i for i in args.includes]
    with tempfile.TemporaryDirectory() as tmp:
        files = {"<string> + <vector>": "#include <string>\n#include <vector>\n"}
        for h in headers:
            files["<%s>" % h] = "#include <%s>\n" % h
        paths = {}
        for i, (name, text) in enumerate(files.items()):
            paths[name] = os.path.join(tmp, "tu%d.cpp" % i)
            with open(paths[name], "w") as f:
                f.write(text)
        best = {name: float("inf") for name in files}
        for _ in range(args.runs):
            for name in files:  # the files take turns, so load hits them alike
                best[name] = min(best[name], compile_ms(args.cxx, flags, paths[name]))
    base = best["<string> + <vector>"]
    print("%s -fsyntax-only, best of %d:" % (args.cxx, args.runs))
    for name, ms in best.items():
        print("  %-28s %7.1f ms  %.2fx" % (name, ms, ms / base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
