#!/usr/bin/env python3
"""Fails when a source file uses one of {fmt}'s facilities without including
the header that declares it. Older {fmt} releases declared some of them in
<fmt/format.h> as well (fmt::join until fmt 11), so a missing include builds
against Debian's fmt 9 and breaks against the registry's fmt 11 or 12.

    fmt_includes.py SOURCE_DIR
"""
import pathlib
import re
import sys

# facility → the header that declares it in every fmt release since 9
HEADER_OF = {
    "fmt::join": "fmt/ranges.h",
    "fmt::streamed": "fmt/ostream.h",
    "fmt::print": "fmt/format.h",
    "fmt::styled": "fmt/color.h",
    "fmt::localtime": "fmt/chrono.h",
    "fmt::gmtime": "fmt/chrono.h",
    "fmt::format": "fmt/format.h",
    "fmt::formatted_size": "fmt/format.h",
}
USE = re.compile(r"\bfmt::[a-z_]+\b")


def main(root):
    root = pathlib.Path(root)
    found = []
    for folder in ("src", "plugins", "include", "tests", "examples"):
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in (".cpp", ".hpp", ".h"):
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            for name in sorted(set(USE.findall(text))):
                header = HEADER_OF.get(name)
                if header is None:
                    found.append(f"{path.relative_to(root)}: {name} is not in fmt_includes.py's table; add it with its header")
                elif f"<{header}>" not in text:
                    found.append(f"{path.relative_to(root)}: uses {name} without #include <{header}>")
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
