#!/usr/bin/env python3
"""Every file of ../shared/corpus/{png,pngsuite,jpeg,gif,tiff,video,raw}
read by imio (its `imio convert FILE OUT.npy`, the default index) and by a
second reader that imio does not use:

  png, pngsuite  Pillow 9.4, converted as imageio's pillow plugin does
  jpeg           Pillow 9.4 (same libjpeg-turbo: exact)
  gif            Pillow 9.4 with imageio's RGB_AFTER_DIFFERENT_PALETTE_ONLY
  tiff           tifffile (series 0); files tifffile cannot decode without
                 imagecodecs are first rewritten uncompressed by libtiff's
                 `tiffcp -c none`; Pillow for old-style JPEG
  video          PyAV, every frame as rgb24
  raw            dcraw_emu with rawpy's defaults (-g 2.222 4.5)

A file passes when both read it and the pixels agree (exactly, or within
the codec tolerance stated in TOLERANCE), or when neither can read it and
imio raises an imio error. Anything else fails unless the file is listed,
with a reason, in the exceptions file. "No error" alone is never a pass.

Usage: second_reader.py --imio PATH/TO/imio --corpus ../shared/corpus
                        --exceptions tests/corpus/second_reader_exceptions.txt
Exits 0 when every file passes; prints one line per file that does not,
then "N passed, M failed, K skipped".
"""
import argparse
import io
import logging
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np

FOLDERS = ["png", "pngsuite", "jpeg", "gif", "tiff", "video", "raw"]
NOT_IMAGES = {".md", ".tsv", ".rgb", ".ppm", ".json", ".txt"}
# Largest absolute difference allowed per family, with the reason:
TOLERANCE = {
    "png": 0,       # lossless, and the same zlib
    "pngsuite": 0,
    "jpeg": 0,      # Pillow links the same libjpeg-turbo with the same settings (ISLOW, fancy upsampling)
    "gif": 0,       # palette indices
    "tiff": 0,      # lossless codecs; JPEG pages go through the same libjpeg in libtiff
    "video": 0,     # same FFmpeg libraries and swscale
    "raw": 0,       # same LibRaw, same development parameters
}

SKIPPED = 77  # ctest's SKIP_RETURN_CODE for this test

warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)


class Unreadable(Exception):
    """The second reader cannot read the file."""


def load_exceptions(path):
    out = {}
    if path and os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            rel, _, reason = line.partition("\t")
            out[rel.strip()] = reason.strip()
    return out


# ---------------------------------------------------------------- second readers

def pillow_frames(path, gif=False):
    from PIL import GifImagePlugin, Image, ImageSequence
    if gif:
        GifImagePlugin.LOADING_STRATEGY = GifImagePlugin.LoadingStrategy.RGB_AFTER_DIFFERENT_PALETTE_ONLY
    try:
        im = Image.open(path)
        frames = []
        animated = getattr(im, "is_animated", False) or im.format == "GIF"
        for f in ImageSequence.Iterator(im):
            frames.append(pillow_array(f, gif))
            if not animated:
                break
        return (np.stack(frames) if animated else frames[0]), im.format
    except Exception as e:  # noqa: BLE001 - any failure means "cannot read"
        raise Unreadable(f"Pillow: {type(e).__name__}: {e}") from None


def pillow_array(im, gif):
    # imageio's pillow plugin: palette images expand to RGB(A); GIF frames
    # are RGB after the first unless the file is gray (D15: RGB throughout).
    if gif:
        return np.asarray(im.convert("L" if im.mode == "L" else "RGB"))
    if im.mode == "P":
        return np.asarray(im.convert(im.palette.mode))  # imageio: image.convert(image.palette.mode)
    if im.mode == "1":
        return np.asarray(im).astype(bool)
    return np.asarray(im)


def unpacked_tiff(path, tmp):
    """A one-page striped TIFF of N-bit samples (tifffile needs imagecodecs
    for them): tifffile parses the tags, libtiff's tiffcp removes any
    compression, and the samples are unpacked here, MSB first, each row
    padded to a byte (TIFF 6.0 §BitsPerSample)."""
    import tifffile
    with tifffile.TiffFile(path) as t:
        if len(t.pages) != 1 or t.pages[0].is_tiled:
            raise Unreadable("not a one-page striped TIFF")
        compressed = t.pages[0].compression != 1
    if compressed:
        plain = os.path.join(tmp, "plain.tif")
        if subprocess.run(["tiffcp", "-c", "none", path, plain], capture_output=True).returncode != 0:
            raise Unreadable("tiffcp cannot rewrite it uncompressed")
        path = plain
    with tifffile.TiffFile(path) as t:
        p = t.pages[0]
        bits, spp, h, w = p.bitspersample, p.samplesperpixel, p.imagelength, p.imagewidth
        if not isinstance(bits, int) or bits > 32:
            raise Unreadable("mixed or wide bit depths")
        planes = spp if p.planarconfig == 2 else 1
        per_row = w * (1 if p.planarconfig == 2 else spp)
        row_bytes = (per_row * bits + 7) // 8
        rps = min(p.rowsperstrip or h, h)
        strips = (h + rps - 1) // rps
        weights = (1 << np.arange(bits - 1, -1, -1, dtype=np.uint64))
        fh = t.filehandle
        out = []
        for plane in range(planes):
            rows = []
            for s in range(strips):
                i = plane * strips + s
                n = min(rps, h - s * rps)
                fh.seek(p.dataoffsets[i])
                buf = np.frombuffer(fh.read(p.databytecounts[i]), np.uint8)[: n * row_bytes].reshape(n, row_bytes)
                if bits % 8 == 0:
                    # whole bytes (24-bit): each sample in the file's byte order
                    b = buf[:, : per_row * bits // 8].reshape(n, per_row, bits // 8).astype(np.uint64)
                    if t.byteorder == "<":
                        b = b[..., ::-1]
                    rows.append((b * (1 << (8 * np.arange(bits // 8 - 1, -1, -1, dtype=np.uint64)))).sum(-1))
                    continue
                b = np.unpackbits(buf, axis=1, bitorder="little" if p.fillorder == 2 else "big")
                b = b[:, : per_row * bits].reshape(n, per_row, bits).astype(np.uint64)
                rows.append((b * weights).sum(-1))
            out.append(np.concatenate(rows))
    dtype = np.uint8 if bits <= 8 else np.uint16 if bits <= 16 else np.uint32
    if p.planarconfig == 2:
        return np.stack(out).astype(dtype)
    a = out[0].reshape(h, w, spp) if spp > 1 else out[0].reshape(h, w)
    return a.astype(dtype)


def tifffile_array(path, tmp):
    import tifffile
    try:
        return tifffile.imread(path)
    except NotImplementedError:
        return unpacked_tiff(path, tmp)
    except Exception as first:  # noqa: BLE001
        # tifffile without imagecodecs: let libtiff rewrite it uncompressed.
        plain = os.path.join(tmp, "plain.tif")
        r = subprocess.run(["tiffcp", "-c", "none", path, plain], capture_output=True)
        if r.returncode == 0:
            try:
                return tifffile.imread(plain)
            except Exception:  # noqa: BLE001
                pass
        try:
            a, _ = pillow_frames(path)
            return a
        except Unreadable:
            raise Unreadable(f"tifffile: {type(first).__name__}: {first}; tiffcp and Pillow cannot either") from None


def pyav_frames(path):
    import av
    try:
        with av.open(path) as c:
            # One decoding thread: PyAV's default slice threading gives VP8 frames that differ
            # from run to run under load (measured on fixture.webm: 2 distinct results in 15,
            # up to 8 levels apart); the single-threaded decode is the reproducible reference.
            stream = c.streams.video[0]
            stream.thread_type = "NONE"
            stream.thread_count = 1
            frames = [f.to_ndarray(format="rgb24") for f in c.decode(stream)]
    except Exception as e:  # noqa: BLE001
        raise Unreadable(f"PyAV: {type(e).__name__}: {e}") from None
    if not frames:
        raise Unreadable("PyAV decodes no frame")
    return np.stack(frames)


def dcraw_emu_array(path, tmp):
    from PIL import Image
    out = os.path.join(tmp, "dcraw.ppm")
    r = subprocess.run(["dcraw_emu", "-g", "2.222", "4.5", "-Z", out, path], capture_output=True, timeout=120)
    if r.returncode != 0 or not os.path.exists(out):
        raise Unreadable(f"dcraw_emu: {r.stderr.decode(errors='replace').strip()[:120]}")
    a = np.asarray(Image.open(out))
    os.remove(out)
    return a


def djpeg_array(path, tmp):
    from PIL import Image
    out = os.path.join(tmp, "djpeg.pnm")
    r = subprocess.run(["djpeg", "-outfile", out, path], capture_output=True)
    if r.returncode not in (0, 2) or not os.path.exists(out):  # 2: warnings
        raise Unreadable(f"djpeg: {r.stderr.decode(errors='replace').strip()[:120]}")
    a = np.asarray(Image.open(out))
    os.remove(out)
    return a


def second_reader(family, path, tmp):
    if family == "jpeg":
        try:
            return pillow_frames(path)[0]
        except Unreadable:
            return djpeg_array(path, tmp)  # libjpeg-turbo's own tool
    if family in ("png", "pngsuite"):
        return pillow_frames(path)[0]
    if family == "gif":
        return pillow_frames(path, gif=True)[0]
    if family == "tiff":
        return tifffile_array(path, tmp)
    if family == "video":
        return pyav_frames(path)
    if family == "raw":
        try:
            return dcraw_emu_array(path, tmp)
        except Unreadable:
            return pyav_frames(path)  # a RAW file LibRaw refuses may hold a picture FFmpeg finds
    raise ValueError(family)


# ---------------------------------------------------------------- comparing

def comparable(got, want):
    """Brings imio's documented differences (D14: 16-bit PNG stays uint16;
    D20: native byte order) onto the second reader's view; None when the
    arrays cannot be compared."""
    want = np.asarray(want)
    if want.dtype.byteorder not in ("=", "|"):
        want = want.astype(want.dtype.newbyteorder("="))
    if got.dtype == np.uint16 and want.dtype == np.uint8 and got.shape == want.shape:
        got = (got >> 8).astype(np.uint8)  # Pillow's 8-bit view of 16-bit PNG colour
    if want.dtype in (np.int32, np.int64) and got.dtype == np.uint16:
        want = want.astype(np.uint16)  # Pillow's "I" for 16-bit gray
    if got.dtype == np.uint16 and want.dtype == np.uint8 and got.shape[-1:] == (2,) and want.shape[-1:] == (4,):
        # 16-bit gray+alpha: Pillow's 8-bit RGBA view (D14 keeps it (H,W,2) uint16)
        g8 = (got >> 8).astype(np.uint8)
        got = np.concatenate([g8[..., :1], g8[..., :1], g8[..., :1], g8[..., 1:]], axis=-1)
    if got.shape != want.shape:
        if got.shape[1:] == want.shape and got.shape[0] == 1:
            got = got[0]
        elif want.shape[1:] == got.shape and want.shape[0] == 1:
            want = want[0]
    return got, want


def check(family, rel, path, imio_exe, tmp):
    """Returns (ok, message)."""
    npy = os.path.join(tmp, "imio.npy")
    if os.path.exists(npy):
        os.remove(npy)
    r = subprocess.run([imio_exe, "convert", path, npy], capture_output=True, timeout=120)
    imio_error = None
    if r.returncode != 0:
        imio_error = r.stderr.decode(errors="replace").strip().splitlines()[-1][:200] if r.stderr else "no message"
        if r.returncode != 1 or not imio_error.startswith("imio: "):
            return False, f"imio did not fail cleanly (exit {r.returncode}): {imio_error}"
    try:
        want = second_reader(family, path, tmp)
    except Unreadable as e:
        if imio_error:
            return True, "neither reads it"
        size = np.load(npy).size if os.path.exists(npy) else -1
        return False, f"imio reads it ({'an empty array' if size == 0 else 'pixels'}), the second reader cannot ({e})"
    if imio_error:
        return False, f"the second reader reads it {np.asarray(want).shape}, imio raises: {imio_error}"
    got = np.load(npy)
    if got.size == 0:
        return False, f"imio returns an empty array {got.shape}, the second reader {np.asarray(want).shape}"
    got, want = comparable(got, want)
    if got.shape != want.shape or got.dtype != want.dtype:
        return False, f"imio {got.shape} {got.dtype}, second reader {want.shape} {want.dtype}"
    if got.dtype == bool:
        diff = int(np.count_nonzero(got != want))
    else:
        diff = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)))) if got.size else 0.0
    if diff > TOLERANCE[family]:
        return False, f"pixels differ: max abs difference {diff} > {TOLERANCE[family]}"
    return True, "equal" if diff == 0 else f"within {TOLERANCE[family]}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--imio", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--exceptions", default="")
    ap.add_argument("--only", default="", help="comma-separated folders")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if not os.path.isdir(args.corpus):
        print(f"skipped: the corpus folder {args.corpus} is absent (it lives in ../shared/corpus beside the checkout)")
        return SKIPPED
    try:
        import av, PIL, tifffile  # noqa: F401
    except ImportError as e:
        print(f"skipped: the second readers need numpy, Pillow, tifffile and PyAV ({e})")
        return SKIPPED
    exceptions = load_exceptions(args.exceptions)
    folders = args.only.split(",") if args.only else FOLDERS
    passed = failed = listed = 0
    used = set()
    with tempfile.TemporaryDirectory() as tmp:
        for family in folders:
            root = os.path.join(args.corpus, family)
            files = []
            for d, _, names in os.walk(root):
                files += [os.path.join(d, n) for n in names if os.path.splitext(n)[1].lower() not in NOT_IMAGES]
            for path in sorted(files):
                rel = os.path.relpath(path, args.corpus)
                try:
                    ok, msg = check(family, rel, path, args.imio, tmp)
                except subprocess.TimeoutExpired:
                    ok, msg = False, "timed out"
                if ok:
                    passed += 1
                    if args.verbose:
                        print(f"ok    {rel}: {msg}")
                elif rel in exceptions:
                    listed += 1
                    used.add(rel)
                    if args.verbose:
                        print(f"known {rel}: {msg} [listed: {exceptions[rel]}]")
                else:
                    failed += 1
                    print(f"FAIL  {rel}: {msg}")
    for rel in sorted(set(exceptions) - used):
        if rel.split("/")[0] in folders:
            failed += 1
            print(f"FAIL  {rel}: listed in the exceptions file but passes (or is gone): remove it")
    print(f"{listed} of the passes are files listed in the exceptions file")
    print(f"{passed + listed} passed, {failed} failed, 0 skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
