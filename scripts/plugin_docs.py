#!/usr/bin/env python3
"""The kwargs tables of the plugin READMEs, generated from plugin.json.

    plugin_docs.py [--source DIR] --check    exit 1 when a README's table differs from plugin.json
    plugin_docs.py [--source DIR] --write    rewrite the tables in place

A README marks each table with the methods it documents (and a variant):

    <!-- kwargs read,iter,properties -->        or   <!-- kwargs read@pillow -->
    | kwarg | type | default | meaning |
    ...
    <!-- /kwargs -->

The methods named by one marker must declare the same kwargs; every method
(and variant) a plugin.json declares must appear in some marker, so that no
kwarg goes undocumented and no table drifts from what KwargReader checks.
"""
import argparse
import difflib
import json
import os
import re
import sys

MARKER = re.compile(r"<!-- kwargs ([^>]*?) -->\n(.*?)<!-- /kwargs -->", re.S)


def value_text(v):
    if v is None:
        return "None"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return '`"%s"`' % v
    return "`%s`" % json.dumps(v)


def number_text(x):
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(x)


def type_text(k):
    parts = ["None" if t == "none" else t for t in k["type"].split("|")]
    text = " or ".join(parts)
    lo, hi = k.get("min"), k.get("max")
    if lo is not None and hi is not None:
        text += ", %s…%s" % (number_text(lo), number_text(hi))
    elif lo is not None:
        text += ", ≥ %s" % number_text(lo)
    elif hi is not None:
        text += ", ≤ %s" % number_text(hi)
    if k.get("choices"):
        text += ": " + ", ".join(value_text(c) for c in k["choices"])
    return text


def table(kwargs):
    if not kwargs:
        return "No kwargs (any is an `ArgumentError`).\n"
    rows = ["| kwarg | type | default | meaning |", "| --- | --- | --- | --- |"]
    for k in kwargs:
        default = value_text(k["default"]) if "default" in k else "None" if "none" in k["type"].split("|") else "—"
        doc = k["doc"].replace("|", "\\|")
        rows.append("| `%s` | %s | %s | %s |" % (k["name"], type_text(k).replace("|", "\\|"), default, doc))
    return "\n".join(rows) + "\n"


def declared(descriptor):
    """{(method, variant): kwargs} of a plugin.json."""
    out = {}
    for group in descriptor.get("methods", []):
        for m in group["methods"]:
            out[(m, group.get("variant", ""))] = group.get("kwargs", [])
    return out


def render(readme, descriptor, where, problems):
    methods = declared(descriptor)
    covered = set()

    def replace(match):
        spec = match.group(1).strip()
        names, _, variant = spec.partition("@")
        keys = [(n.strip(), variant.strip()) for n in names.split(",") if n.strip()]
        missing = [k for k in keys if k not in methods]
        if missing or not keys:
            problems.append("%s: marker '%s' names %s, which plugin.json does not declare" %
                            (where, spec, ", ".join("%s@%s" % k if k[1] else k[0] for k in missing) or "nothing"))
            return match.group(0)
        first = methods[keys[0]]
        for k in keys[1:]:
            if methods[k] != first:
                problems.append("%s: marker '%s': %s and %s declare different kwargs" % (where, spec, keys[0][0], k[0]))
        covered.update(keys)
        return "<!-- kwargs %s -->\n%s<!-- /kwargs -->" % (spec, table(first))

    text = MARKER.sub(replace, readme)
    for m, v in sorted(set(methods) - covered):
        problems.append("%s: no kwargs table documents %s%s" % (where, m, "@" + v if v else ""))
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--write", action="store_true")
    args = ap.parse_args()
    plugins = os.path.join(args.source, "plugins")
    problems, stale = [], []
    for name in sorted(os.listdir(plugins)):
        descriptor_path = os.path.join(plugins, name, "plugin.json")
        readme_path = os.path.join(plugins, name, "README.md")
        if not os.path.isfile(descriptor_path):
            continue
        with open(descriptor_path, encoding="utf-8") as f:
            descriptor = json.load(f)
        if not os.path.isfile(readme_path):
            problems.append("plugins/%s has no README.md" % name)
            continue
        with open(readme_path, encoding="utf-8") as f:
            readme = f.read()
        where = "plugins/%s/README.md" % name
        text = render(readme, descriptor, where, problems)
        if text == readme:
            continue
        if args.write:
            with open(readme_path, "w", encoding="utf-8") as f:
                f.write(text)
            print("updated " + where)
        else:
            stale.append(where)
            sys.stdout.writelines(difflib.unified_diff(readme.splitlines(True), text.splitlines(True), where, where + " (from plugin.json)"))
    for p in problems:
        print("error: " + p)
    for s in stale:
        print("error: %s: a kwargs table differs from plugin.json (run scripts/plugin_docs.py --write)" % s)
    return 1 if problems or stale else 0


if __name__ == "__main__":
    sys.exit(main())
