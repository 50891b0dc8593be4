#!/usr/bin/env python3
"""Count the pixels of given colours in a PNG, for screenshot tests.

    png-colors.py [--tol N] [--region X0,Y0,X1,Y1] [--min N] PNG [RRGGBB ...]

With colours: one line per colour, "RRGGBB COUNT X0 Y0 X1 Y1": how many
pixels are within --tol (default 6) of it on every channel, and the
inclusive bounding box of those pixels ("- - - -" when there are none).
Exits 1 when a colour has fewer than --min pixels (default 1), so a test
can say `png-colors.py --min 200 --region 0,0,1280,700 shot.png 0072b2`.

Without colours: the --top (default 20) most frequent exact colours, one
"RRGGBB COUNT" line each.

Coordinates are pixels, (0, 0) top left; a region includes X0,Y0 and
excludes X1,Y1. Alpha is ignored (screenshots are opaque). Only what
Chromium writes is read: 8-bit RGB or RGBA, not interlaced, all five
filter types. Standard library only.
"""

import argparse
import struct
import sys
import zlib
from collections import Counter
from itertools import accumulate

SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PngError(Exception):
    pass


def read_chunks(data):
    """Yield (type, body) for each chunk, checking lengths and CRCs."""
    if data[:8] != SIGNATURE:
        raise PngError("not a PNG file")
    pos = 8
    while pos + 12 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length or pos + 12 + length > len(data):
            raise PngError("truncated chunk %r" % ctype)
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(ctype + body) != crc:
            raise PngError("bad CRC in chunk %r" % ctype)
        yield ctype, body
        pos += 12 + length
        if ctype == b"IEND":
            return
    raise PngError("no IEND chunk")


def add_bytes(a, b):
    """Bytewise (a + b) mod 256 of two equal-length byte strings, in a few
    big-integer operations rather than a Python loop (no carry crosses a
    byte: the top bits are added apart, with xor)."""
    n = len(a)
    if n == 0:
        return b""
    lo = int.from_bytes(b"\x7f" * n, "big")
    hi = int.from_bytes(b"\x80" * n, "big")
    x = int.from_bytes(a, "big")
    y = int.from_bytes(b, "big")
    return (((x & lo) + (y & lo)) ^ ((x ^ y) & hi)).to_bytes(n, "big")


def unfilter_row(ftype, raw, prev, bpp):
    """The reconstructed scanline (PNG spec, section 9)."""
    if ftype == 0:  # None
        return bytes(raw)
    if ftype == 2:  # Up
        return add_bytes(raw, prev)
    out = bytearray(raw)
    n = len(raw)
    if ftype == 1:  # Sub: a running sum per channel
        mask = (255).__and__
        for c in range(bpp):
            out[c::bpp] = bytes(map(mask, accumulate(raw[c::bpp])))
        return bytes(out)
    if ftype == 3:  # Average
        for i in range(bpp):
            out[i] = (raw[i] + (prev[i] >> 1)) & 255
        for i in range(bpp, n):
            out[i] = (raw[i] + ((out[i - bpp] + prev[i]) >> 1)) & 255
        return bytes(out)
    if ftype == 4:  # Paeth
        for i in range(bpp):
            out[i] = (raw[i] + prev[i]) & 255
        for i in range(bpp, n):
            a = out[i - bpp]
            b = prev[i]
            c = prev[i - bpp]
            pa = b - c if b > c else c - b
            pb = a - c if a > c else c - a
            pc = a + b - c - c
            if pc < 0:
                pc = -pc
            if pa <= pb and pa <= pc:
                p = a
            elif pb <= pc:
                p = b
            else:
                p = c
            out[i] = (raw[i] + p) & 255
        return bytes(out)
    raise PngError("bad filter type %d" % ftype)


def decode(path):
    """(width, height, rows): rows are RGBA scanlines, 4 bytes a pixel."""
    with open(path, "rb") as f:
        data = f.read()
    header = None
    idat = []
    for ctype, body in read_chunks(data):
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
    if header is None:
        raise PngError("no IHDR chunk")
    width, height, depth, ctype, _comp, _filt, interlace = header
    if depth != 8 or ctype not in (2, 6):
        raise PngError("only 8-bit RGB or RGBA is read (depth %d, colour type %d)" % (depth, ctype))
    if interlace:
        raise PngError("interlaced PNG not supported")
    bpp = 3 if ctype == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(idat))
    if len(raw) < height * (stride + 1):
        raise PngError("image data too short")
    rows = []
    prev = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = unfilter_row(raw[start], raw[start + 1:start + 1 + stride], prev, bpp)
        prev = line
        if bpp == 3:
            rgba = bytearray(width * 4)
            for c in range(3):
                rgba[c::4] = line[c::3]
            rgba[3::4] = b"\xff" * width
            line = bytes(rgba)
        rows.append(line)
    return width, height, rows


def to_rrggbb(v):
    """The RGB of a native-order RGBA uint32."""
    b = v.to_bytes(4, sys.byteorder)
    return (b[0] << 16) | (b[1] << 8) | b[2]


def parse_region(s, width, height):
    try:
        x0, y0, x1, y1 = (int(v) for v in s.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("region is X0,Y0,X1,Y1")
    return max(0, x0), max(0, y0), min(width, x1), min(height, y1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("png")
    ap.add_argument("colors", nargs="*", metavar="RRGGBB")
    ap.add_argument("--tol", type=int, default=6, help="per-channel tolerance (default 6)")
    ap.add_argument("--region", help="X0,Y0,X1,Y1: count only there")
    ap.add_argument("--min", type=int, default=1, help="exit 1 below this count (default 1)")
    ap.add_argument("--top", type=int, default=20, help="colours listed without RRGGBB")
    args = ap.parse_args()

    targets = []
    for c in args.colors:
        c = c.lstrip("#")
        try:
            if len(c) != 6:
                raise ValueError
            targets.append(int(c, 16))
        except ValueError:
            ap.error("colour %r is not RRGGBB" % c)

    try:
        width, height, rows = decode(args.png)
    except (OSError, PngError, zlib.error) as e:
        print("png-colors: %s: %s" % (args.png, e), file=sys.stderr)
        return 2
    x0, y0, x1, y1 = 0, 0, width, height
    if args.region:
        x0, y0, x1, y1 = parse_region(args.region, width, height)

    # Count exact pixel values first (a C-speed pass over uint32s); the
    # tolerance is then applied to the few thousand distinct values.
    counts = Counter()
    for y in range(y0, y1):
        counts.update(memoryview(rows[y]).cast("I")[x0:x1])
    rgb_counts = Counter()
    for v, n in counts.items():
        rgb_counts[to_rrggbb(v)] += n

    if not targets:
        for rgb, n in rgb_counts.most_common(args.top):
            print("%06x %d" % (rgb, n))
        return 0

    status = 0
    for t in targets:
        tr, tg, tb = t >> 16, (t >> 8) & 255, t & 255
        near = set()
        total = 0
        for v, n in counts.items():
            rgb = to_rrggbb(v)
            if (abs((rgb >> 16) - tr) <= args.tol and abs(((rgb >> 8) & 255) - tg) <= args.tol
                    and abs((rgb & 255) - tb) <= args.tol):
                near.add(v)
                total += n
        box = None
        if near:
            for y in range(y0, y1):
                px = memoryview(rows[y]).cast("I")[x0:x1]
                hit = near.intersection(px)
                if not hit:
                    continue
                seq = px.tolist()
                first = min(seq.index(v) for v in hit)
                last = len(seq) - 1 - min(seq[::-1].index(v) for v in hit)
                if box is None:
                    box = [x0 + first, y, x0 + last, y]
                else:
                    box[0] = min(box[0], x0 + first)
                    box[2] = max(box[2], x0 + last)
                    box[3] = y
        where = "%d %d %d %d" % tuple(box) if box else "- - - -"
        print("%06x %d %s" % (t, total, where))
        if total < args.min:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
