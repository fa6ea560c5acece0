#!/usr/bin/env python3
"""Runs the corpus conformance tool and fails unless it reports 0 failed.

    conformance_gate.py [--jobs N] -- COMMAND...

COMMAND's output is passed through. The gate fails (exit 1) when COMMAND
prints a FAIL line, or when it does not end with its 'N passed, M failed'
summary (it crashed). The tool applies the documented differences
(DECISIONS D4, D9, D12, D14, D24 …) and knows the goldens' own defects
itself, so imio has no list of tolerated failures.

One rule the tool lacks is applied here, by checking imio itself: D11 over
D12. The tool takes an improps call's expected shape from imageio's imread
of the same call, which pyav pre-sizes by the declared frame count (D12);
for imread the tool applies D12, for improps it does not. An improps FAIL
that differs only in the frame count (shape[0], n_images) passes when imio's
own imread of that file and index has exactly imio's improps shape (D11),
which the gate checks by running `imio convert` into a .npy file.

A second rule: truncated files are errors for improps as for imread
(issue #17). A TIFF cut inside its header or first IFD reads in imageio
(tifffile) as an empty float64 array, and imageio's improps describes the
header of a file whose pixel data are cut; imio raises DecodeError for both
(docs/differences-from-imageio.md). A FAIL of such a file passes when imio
itself, asked by the gate, answers `imio props` of the file with a
DecodeError that says "truncated", and the golden shows imageio could not
return its pixels either: its imread() raised or returned the empty (0,)
array.

A third rule: a video packet the file ends inside is dropped (issue #17),
where PyAV decodes it into a frame whose missing part the decoder invents.
A FAIL of a video file passes when PyAV (python3-av) finds cut packets in
it (FFmpeg flags them corrupt) and imio's frame count, asked by the gate,
equals the frames PyAV decodes from the packets that are whole.

A fourth rule: metadata where imageio's legacy plugin has none (issue #24).
imageio's NPZ and FITS plugins raise RuntimeError "The npz/fits format does
not support meta data."; imio's npy and fits plugins answer with the
member's header and the FITS header (an addition,
docs/differences-from-imageio.md). An immeta FAIL "expected RuntimeError, got
a result" passes when the golden's error says exactly that and imio's `meta`
of the same call, asked by the gate, is a JSON object.

A fifth rule: improps checks the index (D9, D11). imageio's SpePlugin
describes any integer index, past the end too, where its own imread raises
IndexError; imio's improps equals imio's imread, an IndexError. An improps
FAIL passes when the golden's imread of the same call raised IndexError and
imio's `props`, asked by the gate, raises IndexError.

A sixth rule: imiter where imageio crashed in its own glue (issue #24).
imageio's v3 DICOM wrapper raises "DICOM plugin should know what to expect."
before any frame, and SpePlugin.iter() raises TypeError for the constructor
kwargs its imread accepts; the golden records 0 frames. An imiter FAIL "N
frames vs 0" passes when the golden's error is such a crash and imio's frames,
made by the gate with `imio iter`, equal one by one the frames the golden's
imread(index=k) calls return (same shape, dtype and SHA-256), k = 0, 1, ...
as far as those goldens go.

A seventh rule: imiter of a file imageio cannot read at all (issue #24).
imageio's legacy DICOM parser loses track in an Enhanced MR file's
undefined-length functional-group sequences and raises TypeError "No pixel
data found in this dataset." from every call; the tool passes imio's
imread, improps and immeta of such a file ("imageio crashed, imio read it"),
but its imiter branch compares the frame count with the golden's 0. An
imiter FAIL "N frames vs 0" passes when the golden's imiter and imread()
both raised one of the tool's imageio-crash exceptions (TypeError,
AttributeError, KeyError, NameError, UnboundLocalError), imio's `props
--index all` says N images, and imio's frames, made by the gate with `imio
iter`, equal one by one imio's own `convert --index k` (same shape, dtype
and SHA-256): imio agrees with itself (D11), as the tool's crash rule asks
of the other calls.

With --jobs N and an `--only A,B,...` in COMMAND, COMMAND runs once per
family, N at a time (the tool itself is serial: one imio process per call),
and the outputs are joined in family order with one summed summary line.
"""
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile

SUMMARY = re.compile(r"(\d+) passed, (\d+) failed(?:, (\d+) skipped)?")
# Longest first, so that N workers finish together (seconds on a quiet 2-core machine).
COST = {"png": 80, "video": 70, "tiff": 55, "jpeg": 50, "gif": 35, "bmp": 12, "other": 5}


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


IMPROPS_COUNT = re.compile(r"FAIL (\S+) improps\((|index=\.\.\.)\): shape (\[[^]]*\]) vs (\[[^]]*\])"
                           r"(?:, n_images (\d+) vs (\d+))?")


def option(command, name):
    return command[command.index(name) + 1] if name in command[:-1] else None


def imread_shape(imio, path, index_all):
    """The shape of imio's imread of `path` (imio::all when asked), through `imio convert` to .npy."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "a.npy")
        args = [imio, "convert", path, out] + (["--index", "all"] if index_all else [])
        if subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            return None
        with open(out, "rb") as f:
            head = f.read(4096)
        # the .npy header's dict holds 'shape': (a, b, ...)
        m = re.search(rb"'shape': \(([^)]*)\)", head)
        return [int(x) for x in m.group(1).split(b",") if x.strip()] if m else None


def d11_over_d12(line, command):
    """Whether an improps FAIL line is only the frame count imageio pre-sized
    (D12), with imio's improps equal to imio's own imread (D11)."""
    m = IMPROPS_COUNT.fullmatch(line)
    imio = option(command, "--imio")
    if not m or not imio:
        return False
    got, want = json.loads(m.group(3)), json.loads(m.group(4))
    if len(got) != len(want) or got[1:] != want[1:] or got[0] == want[0]:
        return False
    if m.group(5) is not None and int(m.group(5)) != got[0]:
        return False
    corpus, name = m.group(1).split("/", 1)
    roots = [arg for arg in command if os.path.basename(arg.rstrip("/")) == corpus and os.path.isdir(arg)]
    if not roots:
        return False
    return imread_shape(imio, os.path.join(roots[0], name), m.group(2) != "") == got


FAIL_LINE = re.compile(r"FAIL (\S+) (\w+\(.*?\)): ")


def corpus_root(command, corpus):
    roots = [arg for arg in command if os.path.basename(arg.rstrip("/")) == corpus and os.path.isdir(arg)]
    return roots[0] if roots else None


def truncated_file(line, command):
    """Whether a FAIL line is a truncated file that imio reports as one and imageio could not read either."""
    m = FAIL_LINE.match(line)
    imio = option(command, "--imio")
    if not m or not imio:
        return False
    corpus, name = m.group(1).split("/", 1)
    root = corpus_root(command, corpus)
    if not root:
        return False
    with open(os.path.join(root, "expected.json")) as f:
        golden = json.load(f)["files"].get(name, {}).get("calls", {}).get("imread()", {})
    unreadable = "error" in golden or (golden.get("result") or {}).get("shape") == [0]
    if not unreadable:
        return False
    proc = subprocess.run([imio, "props", os.path.join(root, name)], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    return proc.returncode == 1 and proc.stderr.startswith("imio: DecodeError: ") and "truncated" in proc.stderr


def whole_packet_frames(path):
    """(frames PyAV decodes from the whole packets of the first video stream, whether any packet is cut),
    or None without PyAV."""
    try:
        import av
        import av.logging
    except ImportError:
        return None
    # FFmpeg's own log ("Packet corrupt ...", "partial file") is what this
    # looks for, not news: without this it reached CI's output on stderr.
    av.logging.set_level(av.logging.PANIC)
    frames, cut = 0, False
    try:
        container = av.open(path)
    except av.AVError:  # not a container FFmpeg opens: not a video
        return None
    with container:
        for packet in container.demux(container.streams.video[0]):
            if packet.is_corrupt:
                cut = True
                continue
            try:
                frames += len(packet.decode())  # the last, empty packet flushes the decoder
            except av.AVError:
                pass
    return frames, cut


def cut_video_packet(line, command, counts={}):
    """Whether a FAIL line is a video whose cut packets imio dropped, with PyAV's count of the rest."""
    m = FAIL_LINE.match(line)
    imio = option(command, "--imio")
    if not m or not imio:
        return False
    corpus, name = m.group(1).split("/", 1)
    root = corpus_root(command, corpus)
    if not root:
        return False
    path = os.path.join(root, name)
    if path not in counts:
        whole = whole_packet_frames(path)
        proc = subprocess.run([imio, "props", path, "--index", "all"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
        got = json.loads(proc.stdout).get("n_images") if proc.returncode == 0 else None
        counts[path] = bool(whole) and whole[1] and got == whole[0]
    return counts[path]


NO_META = re.compile(r"The \w+ format does not support meta data\.")


def golden_call(command, line):
    """(corpus root, file name, the golden's call record) of a FAIL line, or None."""
    m = FAIL_LINE.match(line)
    if not m:
        return None
    corpus, name = m.group(1).split("/", 1)
    root = corpus_root(command, corpus)
    if not root:
        return None
    with open(os.path.join(root, "expected.json")) as f:
        call = json.load(f)["files"].get(name, {}).get("calls", {}).get(m.group(2))
    return (root, name, call) if call else None


def cli_args(kwargs):
    """The `imio` options of a golden call's kwargs (as conformance.py passes them)."""
    out = []
    for k, v in kwargs.items():
        if k == "index":
            out += ["--index", "all" if v == "..." else str(v)]
        elif k == "plugin":
            out += ["--plugin", v]
        else:
            out += ["--kw", "%s=%s" % (k, json.dumps(v))]
    return out


def metadata_addition(line, command):
    """Whether an immeta FAIL is imageio's legacy 'does not support meta data' answered by imio's metadata."""
    imio = option(command, "--imio")
    found = golden_call(command, line) if imio and " immeta(" in line and "got a result" in line else None
    if not found:
        return False
    root, name, call = found
    message = (call.get("error") or {}).get("message", "")
    if message == "Not a FITS file":  # Pillow 9.4's artefact: conformance.py compares with plugin='FITS'
        key = FAIL_LINE.match(line).group(2)
        twin = key[:-1] + (", " if not key.endswith("()") else "") + "plugin='FITS')"
        with open(os.path.join(root, "expected.json")) as f:
            message = ((json.load(f)["files"][name]["calls"].get(twin) or {}).get("error") or {}).get("message", "")
    if not NO_META.fullmatch(message):
        return False
    proc = subprocess.run([imio, "meta", os.path.join(root, name)] + cli_args(call.get("kwargs", {})),
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        return proc.returncode == 0 and isinstance(json.loads(proc.stdout), dict)
    except ValueError:
        return False


def props_index_error(line, command):
    """Whether an improps FAIL is an out-of-range index that imageio's imread rejects too (D9, D11)."""
    imio = option(command, "--imio")
    found = golden_call(command, line) if imio and " improps(" in line and "IndexError" in line else None
    if not found:
        return False
    root, name, call = found
    m = FAIL_LINE.match(line)
    with open(os.path.join(root, "expected.json")) as f:
        twin = json.load(f)["files"][name]["calls"].get(m.group(2).replace("improps", "imread", 1), {})
    if (twin.get("error") or {}).get("kind") != "IndexError":
        return False
    proc = subprocess.run([imio, "props", os.path.join(root, name)] + cli_args(call.get("kwargs", {})),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return proc.returncode != 0 and proc.stderr.startswith("imio: IndexError: ")


GLUE_CRASH = re.compile(r"DICOM plugin should know what to expect\.|\w+\.iter\(\) got an unexpected keyword argument")


def npy_sha256(path):
    """(shape, dtype name, SHA-256 of the data) of a C-order little-endian .npy file."""
    import hashlib
    with open(path, "rb") as f:
        data = f.read()
    hlen = int.from_bytes(data[8:10], "little") if data[6] == 1 else int.from_bytes(data[8:12], "little")
    start = (10 if data[6] == 1 else 12) + hlen
    header = data[(10 if data[6] == 1 else 12):start].decode("latin1")
    shape = [int(x) for x in re.search(r"'shape': \(([^)]*)\)", header).group(1).split(",") if x.strip()]
    descr = re.search(r"'descr': '([^']*)'", header).group(1)
    names = {"|u1": "uint8", "|i1": "int8", "<u2": "uint16", "<i2": "int16", "<u4": "uint32", "<i4": "int32",
             "<f4": "float32", "<f8": "float64", "<u8": "uint64", "<i8": "int64", "|b1": "bool", "<f2": "float16"}
    return shape, names.get(descr, descr), hashlib.sha256(data[start:]).hexdigest()


def iter_after_glue_crash(line, command):
    """Whether an imiter FAIL is imageio's glue crash, with imio's frames equal to the golden's imread(index=k)."""
    imio = option(command, "--imio")
    found = golden_call(command, line) if imio and " imiter(" in line and line.endswith(" vs 0") else None
    if not found:
        return False
    root, name, call = found
    if not GLUE_CRASH.search((call.get("error") or {}).get("message", "")):
        return False
    with open(os.path.join(root, "expected.json")) as f:
        calls = json.load(f)["files"][name]["calls"]
    frames = []
    while (calls.get("imread(index=%d)" % len(frames)) or {}).get("result"):
        frames.append(calls["imread(index=%d)" % len(frames)]["result"])
    if not frames:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        args = [imio, "iter", os.path.join(root, name), tmp] + cli_args(call.get("kwargs", {}))
        if subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            return False
        got = sorted(f for f in os.listdir(tmp) if f.endswith(".npy"))
        if len(got) != len(frames):
            return False
        return all(npy_sha256(os.path.join(tmp, g)) == (e["shape"], e["dtype"], e.get("sha256"))
                   for g, e in zip(got, frames))


IMAGEIO_CRASHES = {"TypeError", "AttributeError", "KeyError", "NameError", "UnboundLocalError"}


def iter_where_imageio_crashed(line, command):
    """Whether an imiter FAIL is a file imageio's reader crashed on, with imio's frames equal to its own imread(index=k)."""
    imio = option(command, "--imio")
    found = golden_call(command, line) if imio and " imiter(" in line and line.endswith(" vs 0") else None
    if not found:
        return False
    root, name, call = found
    with open(os.path.join(root, "expected.json")) as f:
        calls = json.load(f)["files"][name]["calls"]
    if (call.get("error") or {}).get("kind") not in IMAGEIO_CRASHES:
        return False
    if (calls.get("imread()", {}).get("error") or {}).get("kind") not in IMAGEIO_CRASHES:
        return False
    path = os.path.join(root, name)
    extra = cli_args(call.get("kwargs", {}))
    props = subprocess.run([imio, "props", path, "--index", "all"] + extra, capture_output=True, text=True)
    if props.returncode != 0:
        return False
    n = json.loads(props.stdout).get("n_images") or 0
    m = re.search(r": (\d+) frames vs 0$", line)
    if not m or int(m.group(1)) != n or n == 0:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        frames_dir = os.path.join(tmp, "frames")
        os.makedirs(frames_dir)
        if subprocess.run([imio, "iter", path, frames_dir] + extra, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode != 0:
            return False
        got = sorted(f for f in os.listdir(frames_dir) if f.endswith(".npy"))
        if len(got) != n:
            return False
        for k, g in enumerate(got):
            one = os.path.join(tmp, "one.npy")
            if subprocess.run([imio, "convert", path, one, "--index", str(k)] + extra, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode != 0:
                return False
            if npy_sha256(one) != npy_sha256(os.path.join(frames_dir, g)):
                return False
    return True


def main(argv):
    args = argv[1:]
    jobs = 1
    if len(args) >= 2 and args[0] == "--jobs":
        jobs = int(args[1])
        del args[0:2]
    if len(args) < 2 or args[0] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    command = args[1:]
    if jobs > 1 and "--only" in command[:-1]:
        code, output = run_split(command, jobs)
    else:
        code, output = run(command)
    sys.stdout.write(output)
    lines = output.splitlines()
    fails = [line for line in lines if line.startswith("FAIL ")]
    summary = [m for m in map(SUMMARY.fullmatch, lines) if m]
    # Each rule, in order, on the FAIL lines no earlier rule passed.
    rules = (
        (d11_over_d12, "passes through D11 over D12 (imio's improps equals its imread)"),
        (truncated_file, "passes as a truncated file (a DecodeError; imageio could not read it either)"),
        (metadata_addition, "passes as metadata imageio's legacy plugin does not have"),
        (props_index_error, "passes as an index imageio's imread rejects too (D9, D11)"),
        (iter_after_glue_crash, "passes as imageio's glue crash, imio's frames equal its imread(index=k)"),
        (iter_where_imageio_crashed, "passes as a file imageio crashed on, imio's frames equal its own imread(index=k)"),
        (cut_video_packet, "passes as a video whose cut packet imio drops (PyAV decodes it)"),
    )
    passed = []
    for rule, why in rules:
        for line in [line for line in fails if line not in passed and rule(line, command)]:
            print("gate: %s: %s" % (why, line[len("FAIL "):]))
            passed.append(line)
    fails = [line for line in fails if line not in passed]
    problems = []
    if not summary:
        problems.append("the conformance tool ended without its summary line (exit %d)" % code)
    elif int(summary[-1].group(2)) != len(passed) or fails:
        problems.append("%d failure(s); the gate requires 0 failed" % max(len(fails), int(summary[-1].group(2)) - len(passed)))
    if problems:
        print("conformance gate: FAILED: " + "; ".join(problems))
        return 1
    print("conformance gate: passed (0 failed%s)" % (", %d through the gate's rules" % len(passed) if passed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
