#!/usr/bin/env python3
"""Checks imio's vcpkg overlay port (ports/imio) without vcpkg.

vcpkg itself cannot be installed on CI machines (it downloads its tool and
every dependency), so this script checks what can be checked offline:

  manifest   ports/imio/vcpkg.json is strict JSON with the fields vcpkg
             requires; its version is the project's; every feature is
             described and mapped by the portfile to exactly one option: a
             backend's feature pulls dependencies and maps to an IMIO_WITH_*
             option, a feature that shapes the build (plugin-modules) maps to
             another option() of the top-level CMakeLists.txt; every
             IMIO_WITH_* option of the build is mapped by exactly one feature
             or set explicitly.
  replay     for the core, default and all feature sets (all: those the
             linkage supports), shared (Release) and static (Debug: vcpkg
             builds both configurations, the replay one of each):
             configure imio with exactly the options the portfile passes,
             build, install into a staging prefix, build and run consumers
             (find_package(imio CONFIG REQUIRED COMPONENTS ...) and
             pkg-config, via run_install_test.cmake), then run
             vcpkg-style post-build checks on the installed tree.

    check_port.py --source DIR manifest
    check_port.py --source DIR replay --work DIR --cxx g++ [--generator Ninja]
                  [--pkg-config pkg-config] [--sets core,default,all]
                  [--linkage shared,static]

Exit status 0 when every check passes; each problem is printed.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import time

REQUIRED_HOST_TOOLS = ("vcpkg-cmake", "vcpkg-cmake-config")


class Problems(list):
    def add(self, fmt, *args):
        self.append(fmt % args if args else fmt)


# ---------------------------------------------------------------- reading the port

def strict_json(path, problems):
    """json.load that rejects duplicate keys, NaN/Infinity and trailing data."""
    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        for k in set(keys):
            if keys.count(k) > 1:
                problems.add("%s: key '%s' appears %d times", path, k, keys.count(k))
        return dict(pairs)

    def no_constant(name):
        raise ValueError("%s is not JSON" % name)

    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)
    except ValueError as e:
        problems.add("%s: not strict JSON: %s", path, e)
        return None


def cmake_call_args(text, command):
    """The whitespace-separated arguments of the first `command(...)` call,
    comments removed (the portfile uses no nested parentheses or quotes
    with spaces in the calls read here)."""
    text = re.sub(r"#[^\n]*", "", text)
    m = re.search(r"\b%s\s*\(([^)]*)\)" % re.escape(command), text)
    return m.group(1).split() if m else None


def feature_map(portfile_text):
    """vcpkg_check_features FEATURES pairs: [(feature, option)]."""
    args = cmake_call_args(portfile_text, "vcpkg_check_features")
    if args is None or "FEATURES" not in args:
        return None
    words = args[args.index("FEATURES") + 1:]
    stop = [i for i, w in enumerate(words) if w in ("INVERTED_FEATURES",)]
    words = words[:stop[0]] if stop else words
    return list(zip(words[0::2], words[1::2]))


def configure_options(portfile_text):
    """The -D options vcpkg_cmake_configure passes besides ${FEATURE_OPTIONS}."""
    args = cmake_call_args(portfile_text, "vcpkg_cmake_configure")
    if args is None or "OPTIONS" not in args:
        return None
    return [a[2:] for a in args[args.index("OPTIONS") + 1:] if a.startswith("-D")]


def plugin_descriptors(source):
    """The plugin folders' descriptors (plugins/*/plugin.json), by fallback rank."""
    out = []
    folder = os.path.join(source, "plugins")
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name, "plugin.json")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                out.append(json.load(f))
    return sorted(out, key=lambda d: (d.get("fallback_rank", 0), d["name"]))


def build_with_options(source):
    """Every IMIO_WITH_<X> cache option the build defines: one per plugin
    folder (its plugin.json's option) plus any set(IMIO_WITH_X ... CACHE) or
    option(IMIO_WITH_X ...) elsewhere in the CMake code."""
    options = {d["option"] for d in plugin_descriptors(source)}
    for folder, _, files in os.walk(source):
        rel = os.path.relpath(folder, source)
        if rel.startswith(("build", ".git", "ports", "tests")):
            continue
        for name in files:
            if name != "CMakeLists.txt" and not name.endswith(".cmake"):
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                text = f.read()
            options.update(re.findall(r"option\((IMIO_WITH_[A-Z0-9_]+)\b", text))  # also imio_tristate_option(
            # cmake/ImioResources.cmake: imio_resource_backend(HTTP ...) defines IMIO_WITH_HTTP.
            options.update("IMIO_WITH_" + n for n in re.findall(r"^\s*imio_resource_backend\((\w+)", text, re.M))
            options.update(o for o in re.findall(r"set\((IMIO_WITH_[A-Z0-9_]+)\s[^)]*\bCACHE\b", text)
                           if "${" not in o)
    return options


def planned_plugins(source):
    return [d["name"] for d in plugin_descriptors(source)]


def project_version(source):
    with open(os.path.join(source, "CMakeLists.txt"), encoding="utf-8") as f:
        m = re.search(r"project\(imio\s+VERSION\s+([0-9.]+)", f.read())
    return m.group(1) if m else None


# ---------------------------------------------------------------- manifest checks

def check_manifest(source):
    problems = Problems()
    port = os.path.join(source, "ports", "imio")
    manifest_path = os.path.join(port, "vcpkg.json")
    portfile_path = os.path.join(port, "portfile.cmake")
    for path in (manifest_path, portfile_path, os.path.join(port, "usage")):
        if not os.path.isfile(path):
            problems.add("%s is missing", path)
    if problems:
        return problems, None
    manifest = strict_json(manifest_path, problems)
    if manifest is None:
        return problems, None
    with open(portfile_path, encoding="utf-8") as f:
        portfile = f.read()

    if manifest.get("name") != "imio":
        problems.add("vcpkg.json: name is %r, not 'imio'", manifest.get("name"))
    versions = [k for k in ("version", "version-semver", "version-date", "version-string") if k in manifest]
    if len(versions) != 1:
        problems.add("vcpkg.json: exactly one version field is required (found %s)", versions or "none")
    elif manifest[versions[0]] != project_version(source):
        problems.add("vcpkg.json: version %s differs from project(imio VERSION %s)",
                     manifest[versions[0]], project_version(source))
    for key in ("description", "license"):
        if not isinstance(manifest.get(key), str) or not manifest[key].strip():
            problems.add("vcpkg.json: '%s' is missing or empty", key)
    # A homepage is optional; one that is there must be a real https URL.
    if "homepage" in manifest and not str(manifest["homepage"]).startswith("https://"):
        problems.add("vcpkg.json: homepage is not an https URL")
    if "supports" in manifest and not str(manifest.get("$supports", "")).strip():
        problems.add("vcpkg.json: 'supports' without a '$supports' comment giving the reason")
    with open(os.path.join(source, "LICENSE"), encoding="utf-8") as f:
        first = f.readline()
    if manifest.get("license") == "BSD-2-Clause" and "BSD 2-Clause" not in first:
        problems.add("vcpkg.json: license BSD-2-Clause but LICENSE says %r", first.strip())

    def dep_name(d):
        return d if isinstance(d, str) else d.get("name")

    deps = manifest.get("dependencies", [])
    names = [dep_name(d) for d in deps]
    if "fmt" not in names:
        problems.add("vcpkg.json: the core dependency fmt is missing")
    for tool in REQUIRED_HOST_TOOLS:
        hosts = [d for d in deps if isinstance(d, dict) and d.get("name") == tool]
        if not hosts or not hosts[0].get("host"):
            problems.add("vcpkg.json: %s must be a host dependency", tool)

    features = manifest.get("features", {})
    if not isinstance(features, dict) or not features:
        problems.add("vcpkg.json: no features")
        features = {}
    pairs = feature_map(portfile)
    if pairs is None:
        problems.add("portfile.cmake: no vcpkg_check_features(... FEATURES ...)")
        pairs = []
    # Features that shape the build (plugin-modules) rather than add a
    # backend: they map to a top-level option() other than IMIO_WITH_*.
    shape_options = {o for o in option_defaults(source) if not o.startswith("IMIO_WITH_")}
    shape_features = {f for f, o in pairs if o in shape_options}
    for name, body in features.items():
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name):
            problems.add("vcpkg.json: feature name %r is not a valid vcpkg identifier", name)
        if not isinstance(body, dict) or not str(body.get("description", "")).strip():
            problems.add("vcpkg.json: feature '%s' has no description", name)
        elif not body.get("dependencies") and name not in shape_features:
            problems.add("vcpkg.json: feature '%s' pulls no dependency", name)
        elif isinstance(body.get("supports"), str) and supported(body["supports"], set()) is None:
            problems.add("vcpkg.json: feature '%s': cannot read supports %r", name, body["supports"])
    defaults = manifest.get("default-features", [])
    for name in defaults:
        if dep_name(name) not in features:
            problems.add("vcpkg.json: default feature '%s' is not a feature", dep_name(name))

    # Features ↔ options, both ways.
    options = configure_options(portfile)
    if options is None:
        problems.add("portfile.cmake: no vcpkg_cmake_configure(... OPTIONS ...)")
        options = []
    if "${FEATURE_OPTIONS}" not in (cmake_call_args(portfile, "vcpkg_cmake_configure") or []):
        problems.add("portfile.cmake: vcpkg_cmake_configure does not pass ${FEATURE_OPTIONS}")
    for name in features:
        mapped = [o for f, o in pairs if f == name]
        if len(mapped) != 1:
            problems.add("feature '%s' maps to %d options in portfile.cmake (%s), not exactly one",
                         name, len(mapped), ", ".join(mapped) or "none")
    for f, o in pairs:
        if f not in features:
            problems.add("portfile.cmake maps '%s', which vcpkg.json does not declare", f)
    known = build_with_options(source)
    fixed = {o.split("=")[0]: o.split("=", 1)[1] for o in options if "=" in o}
    for option in sorted(known):
        by = [f for f, o in pairs if o == option]
        if len(by) > 1:
            problems.add("%s is mapped by %d features (%s)", option, len(by), ", ".join(by))
        if not by and option not in fixed:
            problems.add("%s is neither mapped by a feature nor set in vcpkg_cmake_configure's OPTIONS", option)
        if by and option in fixed:
            problems.add("%s is both a feature option and fixed in OPTIONS", option)
        if option in fixed and fixed[option] not in ("ON", "OFF"):
            problems.add("%s=%s: a port sets ON or OFF, never AUTO", option, fixed[option])
    for f, o in pairs:
        if o not in known and o not in shape_options:
            problems.add("portfile.cmake maps '%s' to %s, which the build does not define", f, o)
    # Each plugin folder names its feature (plugin.json packages.vcpkg_feature).
    for d in plugin_descriptors(source):
        feature = d.get("packages", {}).get("vcpkg_feature")
        if feature and (feature, d["option"]) not in pairs:
            problems.add("plugins/%s/plugin.json: vcpkg feature '%s' is not mapped to %s in portfile.cmake",
                         d["name"], feature, d["option"])

    check_backend_dependencies(source, manifest, features, pairs, problems)
    check_port_build(source, portfile, options, features, problems)
    check_registry_form(source, problems)

    for needle, what in (("vcpkg_cmake_install", "vcpkg_cmake_install()"),
                         ("vcpkg_copy_pdbs", "vcpkg_copy_pdbs()"),
                         ("vcpkg_cmake_config_fixup", "vcpkg_cmake_config_fixup()"),
                         ("vcpkg_fixup_pkgconfig", "vcpkg_fixup_pkgconfig()"),
                         ("debug/include", "removal of debug/include"),
                         ("debug/share", "removal of debug/share"),
                         ("vcpkg_install_copyright", "the copyright file"),
                         ("usage", "the usage file")):
        if needle not in portfile:
            problems.add("portfile.cmake lacks %s", what)
    return problems, {"features": features, "defaults": [dep_name(d) for d in defaults],
                      "pairs": pairs, "options": options}


# What a plugin's CMakeLists.txt finds (find_package names and pkg-config
# modules) → the vcpkg port that provides it.
PORT_OF_PACKAGE = {
    "PNG": "libpng", "ZLIB": "zlib", "JPEG": "libjpeg-turbo", "TIFF": "tiff", "GIF": "giflib",
    "WebP": "libwebp", "libheif": "libheif", "libraw": "libraw", "CURL": "curl", "LibZip": "libzip",
    "libavformat": "ffmpeg", "libavcodec": "ffmpeg", "libavutil": "ffmpeg", "libavfilter": "ffmpeg",
    "libswscale": "ffmpeg", "cfitsio": "cfitsio", "libwebp": "libwebp", "libwebpdemux": "libwebp", "libwebpmux": "libwebp",
    "libraw_r": "libraw", "libjxl": "libjxl", "libjxl_threads": "libjxl", "OpenEXR": "openexr",
    "OpenJPEG": "openjpeg", "libopenjp2": "openjpeg", "GDCM": "gdcm", "libdeflate": "libdeflate",
}
EXPLICITLY_OFF = ("IMIO_BUILD_TESTS", "IMIO_BUILD_EXAMPLES", "IMIO_BUILD_BENCHMARKS", "IMIO_BUILD_DOCS")


def plugin_backends(source, name):
    """(find_package names, pkg-config modules) of a plugin's CMakeLists.txt."""
    with open(os.path.join(source, "plugins", name, "CMakeLists.txt"), encoding="utf-8") as f:
        text = re.sub(r"#[^\n]*", "", f.read())
    packages = re.findall(r"\bfind_package\((\w+)", text)
    modules = []
    for args in re.findall(r"\bimio_find_pkg_config\(([^)]*)\)", text):
        modules += args.split()[1:]
    return [p for p in packages if p != "PkgConfig"], modules


def sub_option_features(source, name, pairs):
    """The features mapped to the optional backends a plugin's CMakeLists.txt
    declares with imio_tristate_option (libpng's IMIO_WITH_LIBDEFLATE)."""
    with open(os.path.join(source, "plugins", name, "CMakeLists.txt"), encoding="utf-8") as f:
        text = re.sub(r"#[^\n]*", "", f.read())
    options = set(re.findall(r"\bimio_tristate_option\((IMIO_WITH_\w+)", text))
    return [f for f, o in pairs if o in options]


def dependency_names(deps):
    return {d if isinstance(d, str) else d.get("name") for d in deps}


def check_backend_dependencies(source, manifest, features, pairs, problems):
    """Each feature declares the ports of what its plugin finds (an optional
    backend of a plugin: the feature of its own option); a plugin built in
    every port build (no feature) relies on top-level dependencies."""
    names = dependency_names
    top = names(manifest.get("dependencies", []))
    for d in plugin_descriptors(source):
        feature = d.get("packages", {}).get("vcpkg_feature")
        declared = top | (names(features.get(feature, {}).get("dependencies", [])) if feature else set())
        for sub in sub_option_features(source, d["name"], pairs):
            declared |= names(features.get(sub, {}).get("dependencies", []))
        packages, modules = plugin_backends(source, d["name"])
        for found in packages + modules:
            port = PORT_OF_PACKAGE.get(found)
            if port is None:
                problems.add("plugins/%s/CMakeLists.txt finds '%s', which check_port.py cannot map to a vcpkg port "
                             "(add it to PORT_OF_PACKAGE)", d["name"], found)
            elif port not in declared:
                problems.add("plugins/%s finds %s (vcpkg port %s), which %s does not declare", d["name"], found, port,
                             "feature '%s'" % feature if feature else "vcpkg.json's dependencies")
            elif feature and port in top and port not in names(features[feature].get("dependencies", [])):
                problems.add("feature '%s' does not declare %s, which the %s plugin uses directly "
                             "(a top-level dependency today, but the feature must say so)", feature, port, d["name"])


def option_defaults(source):
    """option(NAME "doc" DEFAULT) of the top-level CMakeLists.txt, as a port
    build (top level) sees them."""
    with open(os.path.join(source, "CMakeLists.txt"), encoding="utf-8") as f:
        text = f.read()
    out = {}
    for name, default in re.findall(r'option\((IMIO_\w+)\s+"[^"]*"\s+([^)\s]+)\)', text):
        out[name] = "ON" if default == "${IMIO_IS_TOP_LEVEL}" else default
    return out


def check_port_build(source, portfile, options, features, problems):
    """The port builds the library only, acquires pkg-config for the features
    that need it, and passes no option that restates a default."""
    fixed = dict(o.split("=", 1) for o in options if "=" in o)
    for name in EXPLICITLY_OFF:
        if fixed.get(name) != "OFF":
            problems.add("portfile.cmake: %s=OFF is missing from vcpkg_cmake_configure's OPTIONS", name)
    defaults = option_defaults(source)
    for name, value in fixed.items():
        if name in defaults and name not in EXPLICITLY_OFF and defaults[name] == value:
            problems.add("portfile.cmake: -D%s=%s restates the default", name, value)
    if "IMIO_INSTALL_PKGCONFIGDIR" in fixed and fixed["IMIO_INSTALL_PKGCONFIGDIR"] == "lib/pkgconfig":
        problems.add("portfile.cmake: -DIMIO_INSTALL_PKGCONFIGDIR=lib/pkgconfig restates the default")
    # pkg-config: acquired, passed, and for exactly the features of the
    # plugins that call imio_find_pkg_config.
    text = re.sub(r"#[^\n]*", "", portfile)
    if not re.search(r"vcpkg_find_acquire_program\(\s*PKGCONFIG\s*\)", text):
        problems.add("portfile.cmake lacks vcpkg_find_acquire_program(PKGCONFIG)")
    if "-DPKG_CONFIG_EXECUTABLE=${PKGCONFIG}" not in text:
        problems.add("portfile.cmake does not pass -DPKG_CONFIG_EXECUTABLE=${PKGCONFIG}")
    m = re.search(r"foreach\(feature IN ITEMS ([^)]*)\)", text)
    listed = set(m.group(1).split()) if m else set()
    needed = set()
    pairs = feature_map(portfile) or []
    for d in plugin_descriptors(source):
        feature = d.get("packages", {}).get("vcpkg_feature")
        # A module an optional backend's feature pulls needs pkg-config for that feature only.
        subs = {port: sub for sub in sub_option_features(source, d["name"], pairs)
                for port in dependency_names(features.get(sub, {}).get("dependencies", []))}
        for module in plugin_backends(source, d["name"])[1]:
            owner = subs.get(PORT_OF_PACKAGE.get(module), feature)
            if owner:
                needed.add(owner)
    if listed != needed:
        problems.add("portfile.cmake acquires pkg-config for the features [%s]; the plugins that use pkg-config "
                     "are those of [%s]", " ".join(sorted(listed)), " ".join(sorted(needed)))


def check_registry_form(source, problems):
    """packaging/vcpkg-registry/ports/imio: generated from the overlay port,
    current, and shaped as a registry port."""
    script = os.path.join(source, "scripts", "registry_port.py")
    proc = subprocess.run([sys.executable, script, "--check"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if proc.returncode != 0:
        problems.add("the registry port is stale: %s", proc.stdout.strip())
    path = os.path.join(source, "packaging", "vcpkg-registry", "ports", "imio", "portfile.cmake")
    if not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"#[^\n]*", "", f.read())
    args = cmake_call_args(text, "vcpkg_from_github") or []
    for key in ("OUT_SOURCE_PATH", "REPO", "REF", "SHA512", "HEAD_REF"):
        if key not in args:
            problems.add("registry portfile: vcpkg_from_github lacks %s", key)
    if 'REF' in args and args[args.index("REF") + 1] != '"v${VERSION}"':
        problems.add("registry portfile: REF is not the release tag \"v${VERSION}\"")
    if "CMAKE_CURRENT_LIST_DIR}/../.." in text:
        problems.add("registry portfile: still builds the checkout around it")


# ---------------------------------------------------------------- replay

def feature_options(port, chosen):
    """What vcpkg_check_features produces for the chosen features."""
    return ["%s=%s" % (o, "ON" if f in chosen else "OFF") for f, o in port["pairs"]]


def post_build_checks(prefix, forbidden, problems, debug_info):
    """vcpkg's post-build checks that apply to an installed tree. No file may
    hold an absolute path of the source, build or staging folders; with
    debug_info (a Debug build) the binaries are exempt: their DWARF names the
    sources, in vcpkg's debug packages too, and vcpkg's own check reads only
    text files (headers, .cmake, .pc, scripts)."""
    for top in os.listdir(prefix):
        if top not in ("include", "lib", "share", "bin"):
            problems.add("unexpected top-level folder %s/ in the installed tree", top)
    if os.path.isdir(os.path.join(prefix, "debug")):
        problems.add("a debug/ folder was installed")
    include = os.path.join(prefix, "include")
    for folder, _, files in os.walk(include):
        for name in files:
            rel = os.path.relpath(os.path.join(folder, name), include)
            if not rel.startswith("imio" + os.sep):
                problems.add("header outside include/imio: include/%s", rel)
    needles = [p.encode() for p in forbidden if p]
    for folder, _, files in os.walk(prefix):
        for name in files:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                continue
            with open(path, "rb") as f:
                data = f.read()
            if debug_info and data.startswith((b"\x7fELF", b"!<arch>\n")):
                continue
            for needle in needles:
                if needle in data:
                    problems.add("%s contains the absolute path %s", os.path.relpath(path, prefix),
                                 needle.decode())
    if not any(os.path.isfile(os.path.join(prefix, "share", "imio", n)) for n in ("imioConfig.cmake",)):
        problems.add("share/imio/imioConfig.cmake is missing (vcpkg_cmake_config_fixup expects share/<port>)")
    if not os.path.isfile(os.path.join(prefix, "lib", "pkgconfig", "imio.pc")):
        problems.add("lib/pkgconfig/imio.pc is missing")
    check_exported_target(prefix, problems)


def check_exported_target(prefix, problems):
    """The exported imio::imio: each include folder once, and no absolute
    path in the link interface (a static imio's consumers are on other
    machines); FindLibZip.cmake only where imioConfig.cmake uses it."""
    share = os.path.join(prefix, "share", "imio")
    targets = os.path.join(share, "imioTargets.cmake")
    if not os.path.isfile(targets):
        problems.add("share/imio/imioTargets.cmake is missing")
        return
    with open(targets, encoding="utf-8") as f:
        text = f.read()
    for value in re.findall(r'INTERFACE_INCLUDE_DIRECTORIES "([^"]*)"', text):
        dirs = value.split(";")
        if len(dirs) != len(set(dirs)):
            problems.add("imioTargets.cmake lists an include folder twice: %s", value)
    for value in re.findall(r'INTERFACE_LINK_LIBRARIES "([^"]*)"', text):
        for item in value.split(";"):
            bare = re.sub(r"^\\\$<LINK_ONLY:(.*)>$", r"\1", item)
            if bare.startswith("/") or re.match(r"^[A-Za-z]:[/\\]", bare):
                problems.add("imioTargets.cmake links the absolute path %s", bare)
    with open(os.path.join(share, "imioConfig.cmake"), encoding="utf-8") as f:
        config = f.read()
    has_module = os.path.isfile(os.path.join(share, "FindLibZip.cmake"))
    uses_module = "find_dependency(LibZip" in config
    if has_module != uses_module:
        problems.add("FindLibZip.cmake is %s but imioConfig.cmake %s it", "installed" if has_module else "missing",
                     "uses" if uses_module else "does not use")


def supported(expression, identifiers):
    """Evaluates a vcpkg platform expression ("!static", "linux & !arm",
    "(a | b) & c") with the given identifiers true; None when unreadable."""
    tokens = re.findall(r"[A-Za-z0-9_-]+|[!&|(),]", expression)
    if "".join(tokens) != re.sub(r"\s+", "", expression):
        return None
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def unary():
        if peek() == "!":
            take()
            value = unary()
            return None if value is None else not value
        if peek() == "(":
            take()
            value = either()
            return value if take_if(")") else None
        word = take() if peek() not in (None, "&", "|", ")", ",", "!") else None
        return None if word is None else word in identifiers

    def take_if(token):
        if peek() == token:
            take()
            return True
        return False

    def both():
        value = unary()
        while value is not None and peek() == "&":
            take()
            right = unary()
            value = None if right is None else value and right
        return value

    def either():
        value = both()
        while value is not None and peek() in ("|", ","):
            take()
            right = both()
            value = None if right is None else value or right
        return value

    value = either()
    return value if pos == len(tokens) else None


def replay(source, args, port):
    problems = Problems()
    # The linkages as vcpkg's platform expressions see them (Linux x64),
    # and the build type each is replayed in.
    platform = {"shared": {"linux", "x64"}, "static": {"linux", "x64", "static"}}
    build_type = {"shared": "Release", "static": "Debug"}

    def sets(linkage):
        return {
            "core": [],
            "default": port["defaults"],
            "all": sorted(f for f, body in port["features"].items()
                          if supported(body.get("supports", ""), platform[linkage]) is not False),
        }
    # Options of format plugins (components of the CMake package); the
    # core's resource options (IMIO_WITH_HTTP, IMIO_WITH_ZIP) are not.
    planned = planned_plugins(source)
    plugin_of = {o: o[len("IMIO_WITH_"):].lower() for _, o in port["pairs"]
                 if o[len("IMIO_WITH_"):].lower() in planned}
    # One build folder per linkage, reused across feature sets: only what a
    # changed option touches is rebuilt. The linkages run side by side: each
    # one's serial steps (configure, install, consumer builds) overlap the
    # other's compiling, which saves minutes on two cores.
    def one_linkage(linkage):
        found, log = Problems(), []
        build_dir = os.path.join(args.work, "build-" + linkage)
        for set_name in args.sets.split(","):
            chosen = sets(linkage)[set_name]
            opts = feature_options(port, chosen) + port["options"]
            enabled = [plugin_of[o.split("=")[0]] for o in opts if o.split("=")[0] in plugin_of and o.endswith("=ON")]
            if "IMIO_WITH_NPY=ON" in opts:
                enabled.append("npy")
            work = os.path.join(args.work, "%s-%s" % (set_name, linkage))
            started = time.monotonic()
            cmd = [args.cmake,
                   "-DSOURCE_DIR=" + source,
                   "-DCONSUMER_DIR=" + os.path.join(source, "tests", "install", "consumer"),
                   "-DWORK_DIR=" + work,
                   "-DBUILD_DIR=" + build_dir,
                   "-DGENERATOR=" + args.generator,
                   "-DMAKE_PROGRAM=" + (args.make_program or ""),
                   "-DCXX_COMPILER=" + args.cxx,
                   "-DBUILD_TYPE=" + build_type[linkage],
                   "-DSHARED=" + ("ON" if linkage == "shared" else "OFF"),
                   "-DWARNINGS_AS_ERRORS=ON",
                   "-DEXTRA_OPTIONS=" + ",".join(opts),
                   "-DENABLED_PLUGINS=" + ",".join(enabled),
                   "-DPKG_CONFIG=" + (args.pkg_config or ""),
                   "-P", os.path.join(source, "tests", "install", "run_install_test.cmake")]
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if proc.returncode != 0:
                found.add("%s/%s: configure, build, install or consumer failed:\n%s",
                          set_name, linkage, proc.stdout[-6000:])
                log.append("port replay: %s/%s FAILED" % (set_name, linkage))
                continue
            prefix = os.path.join(work, "moved-prefix")
            if not os.path.isdir(prefix):
                prefix = os.path.join(work, "prefix")
            before = len(found)
            post_build_checks(prefix, [os.path.realpath(source), os.path.realpath(build_dir),
                                       os.path.realpath(work)], found, build_type[linkage] == "Debug")
            for i in range(before, len(found)):
                found[i] = "%s/%s: %s" % (set_name, linkage, found[i])
            log.append("port replay: %s/%s %s (features [%s]) %s in %.0f s" % (
                set_name, linkage, build_type[linkage], " ".join(chosen) or "none",
                "passed" if len(found) == before else "FAILED", time.monotonic() - started))
        return found, log

    linkages = args.linkage.split(",")
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(linkages)) as pool:
        for found, log in pool.map(one_linkage, linkages):
            print("\n".join(log), flush=True)
            problems += found
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", required=True)
    ap.add_argument("what", choices=("manifest", "replay"))
    ap.add_argument("--work")
    ap.add_argument("--cxx", default="c++")
    ap.add_argument("--cmake", default=shutil.which("cmake") or "cmake")
    ap.add_argument("--generator", default="Ninja")
    ap.add_argument("--make-program", default="")
    ap.add_argument("--pkg-config", default=shutil.which("pkg-config") or "")
    ap.add_argument("--sets", default="core,default,all")
    ap.add_argument("--linkage", default="shared,static")
    args = ap.parse_args()
    source = os.path.realpath(args.source)

    problems, port = check_manifest(source)
    if args.what == "replay" and port is not None and not problems:
        if not args.work:
            ap.error("replay needs --work")
        problems += replay(source, args, port)
    for p in problems:
        print("port check: " + p)
    print("port check: %s" % ("FAILED (%d problems)" % len(problems) if problems else "passed"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
