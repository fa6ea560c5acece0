#!/usr/bin/env python3
"""Fails when a source of the core library (target imio) compiles with an
include directory other than imio's own: include/, the build's include/,
src/, and a plugin's public include/ (the handle sources of plugin modules).
The backends' headers stay in their plugins' folders (ARCHITECTURE); when
their include directories leaked onto the core's compile lines, turning a
plugin on also recompiled every core source.

    core_compile_lines.py NINJA BUILD_DIR SOURCE_DIR

Reads `ninja -t commands imio` (the Ninja generator only).
"""
import os
import shlex
import subprocess
import sys


def include_dirs(command):
    """The -I and -isystem directories of one compile command."""
    words, dirs = shlex.split(command), []
    for i, w in enumerate(words):
        if w in ("-I", "-isystem", "-iquote", "-idirafter") and i + 1 < len(words):
            dirs.append(words[i + 1])
        elif w.startswith("-isystem") and len(w) > len("-isystem"):
            dirs.append(w[len("-isystem"):])
        elif w.startswith("-I") and len(w) > 2:
            dirs.append(w[2:])
    return dirs


def main():
    ninja, build, source = sys.argv[1], os.path.realpath(sys.argv[2]), os.path.realpath(sys.argv[3])
    out = subprocess.run([ninja, "-C", build, "-t", "commands", "imio"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    allowed = {os.path.join(source, "include"), os.path.join(build, "include"), os.path.join(source, "src")}
    plugins = os.path.join(source, "plugins")
    core, problems = 0, []
    for line in out.splitlines():
        if " -o src/CMakeFiles/imio.dir/" not in line:
            continue
        core += 1
        for d in include_dirs(line):
            d = os.path.realpath(d)
            in_plugin = os.path.dirname(os.path.dirname(d)) == plugins and os.path.basename(d) == "include"
            if d not in allowed and not in_plugin:
                target = line.split(" -o ", 1)[1].split()[0]
                problems.append("%s compiles with -I %s" % (target, d))
    if core == 0:
        print("core_compile_lines: no compile command of the core found in `ninja -t commands imio`")
        return 1
    for p in sorted(set(problems)):
        print("core_compile_lines: " + p)
    print("core_compile_lines: %d core compile commands, %s" % (core, "%d problems" % len(problems) if problems else "only imio's own include directories"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
