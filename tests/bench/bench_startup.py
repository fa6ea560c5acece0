#!/usr/bin/env python3
"""Start-up cost of imio programs: wall time of whole processes.

Runs each command RUNS times (after one warm-up run, so the page cache is
warm) and prints the median and the best in milliseconds, with the load
average, for docs/performance.md (start-up):

  bench_startup.py --imio build/src/cli/imio --read build/tests/bench/bench_startup_read --png some.png
"""
import argparse
import os
import statistics
import subprocess
import time


def measure(command, runs):
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--imio", required=True, help="the imio command-line tool")
    parser.add_argument("--read", required=True, help="bench_startup_read")
    parser.add_argument("--png", required=True, help="a PNG file")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    commands = {
        "imio --version": [args.imio, "--version"],
        "imio props x.png": [args.imio, "props", args.png],
        "imread(x.png) program": [args.read, args.png],
    }
    print(f"load average before: {os.getloadavg()[0]:.2f}; {args.runs} runs each")
    for name, command in commands.items():
        median, best = measure(command, args.runs)
        print(f"{name:24} median {median:6.1f} ms   best {best:6.1f} ms")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
