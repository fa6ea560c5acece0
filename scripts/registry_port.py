#!/usr/bin/env python3
"""Writes the registry form of imio's vcpkg port.

The overlay port (ports/imio) builds the checkout it sits in. A registry
(vcpkg's curated one, or a company's) needs a port that fetches a release
archive instead. This script derives it from the overlay port, so the two
never drift: the portfile's block between the "-- source: begin/end"
markers becomes vcpkg_from_github(), and vcpkg.json and usage are copied.

    registry_port.py [--repo OWNER/NAME] [--sha512 HEX] [--out DIR]

Without arguments it writes packaging/vcpkg-registry/ports/imio with
placeholders for what only a release knows (the GitHub repository and the
archive's SHA512); the ref is the tag v<version>. At release:

    registry_port.py --repo OWNER/NAME --sha512 <sha512 of the v<version> archive> --out <registry>/ports/imio

(`vcpkg install` with the placeholder prints the archive's actual SHA512.)
--check compares the committed files with what the script would write.
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OVERLAY = os.path.join(ROOT, "ports", "imio")
COMMITTED = os.path.join(ROOT, "packaging", "vcpkg-registry", "ports", "imio")
REPO_PLACEHOLDER = "OWNER/imio"
SHA512_PLACEHOLDER = "0"
MARKERS = re.compile(r"# -- source: begin\n.*?# -- source: end\n", re.S)


def registry_files(repo=REPO_PLACEHOLDER, sha512=SHA512_PLACEHOLDER):
    """{file name: text} of the registry port."""
    with open(os.path.join(OVERLAY, "portfile.cmake"), encoding="utf-8") as f:
        overlay = f.read()
    if len(MARKERS.findall(overlay)) != 1:
        raise SystemExit("ports/imio/portfile.cmake: expected one '# -- source: begin' ... '# -- source: end' block")
    fetch = (
        "# Release archive of the tag v<version>. At release, REPO and SHA512 are\n"
        "# filled in by scripts/registry_port.py --repo ... --sha512 ...\n"
        "vcpkg_from_github(\n"
        "  OUT_SOURCE_PATH SOURCE_PATH\n"
        "  REPO %s\n"
        "  REF \"v${VERSION}\"\n"
        "  SHA512 %s\n"
        "  HEAD_REF main\n"
        ")\n" % (repo, sha512))
    header = ("# imio's vcpkg port, registry form: generated from the overlay port\n"
              "# (ports/imio/portfile.cmake) by scripts/registry_port.py. Edit the\n"
              "# overlay port and regenerate; never this file.\n")
    body = MARKERS.sub(lambda m: fetch, overlay)
    # The overlay's own preamble (up to the source block) describes the overlay.
    body = body[body.index("# Release archive"):]
    files = {"portfile.cmake": header + body}
    for name in ("vcpkg.json", "usage"):
        with open(os.path.join(OVERLAY, name), encoding="utf-8") as f:
            files[name] = f.read()
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", default=REPO_PLACEHOLDER)
    ap.add_argument("--sha512", default=SHA512_PLACEHOLDER)
    ap.add_argument("--out", default=COMMITTED)
    ap.add_argument("--check", action="store_true", help="compare the committed registry port with the overlay's")
    args = ap.parse_args()
    if args.sha512 != SHA512_PLACEHOLDER and not re.fullmatch(r"[0-9a-f]{128}", args.sha512):
        ap.error("--sha512 must be 128 lowercase hex digits")
    if args.repo != REPO_PLACEHOLDER and not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", args.repo):
        ap.error("--repo must be OWNER/NAME")
    files = registry_files(args.repo, args.sha512)
    if args.check:
        stale = []
        for name, text in files.items():
            path = os.path.join(COMMITTED, name)
            if not os.path.isfile(path) or open(path, encoding="utf-8").read() != text:
                stale.append(name)
        for name in stale:
            print("registry port: packaging/vcpkg-registry/ports/imio/%s differs from the overlay port's "
                  "(run scripts/registry_port.py)" % name)
        return 1 if stale else 0
    os.makedirs(args.out, exist_ok=True)
    for name, text in files.items():
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            f.write(text)
    print("registry port written to %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
