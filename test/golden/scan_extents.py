#!/usr/bin/env python3
"""Scan a directory tree for the golden-fixture generator (generate.mjs).

Prints JSON: {"dirs": [...], "files": [{path, size, blocks, data, alloc}]}
  data  = [[offset, length], ...] from SEEK_DATA/SEEK_HOLE (what qemu's
          file-posix driver sees)
  alloc = [[offset, length], ...] allocated ranges (FIEMAP, incl. unwritten
          extents) that are NOT data, i.e. fallocated-but-unwritten space,
          which SEEK_DATA reports as holes but st_blocks counts.
Only the generator runs this; tests never need python.
"""
import errno
import fcntl
import json
import os
import struct
import sys

FS_IOC_FIEMAP = 0xC020660B
FIEMAP_FLAG_SYNC = 0x1
FIEMAP_EXTENT_LAST = 0x1
HDR = struct.Struct("=QQLLLL")          # struct fiemap (32 bytes)
EXT = struct.Struct("=QQQQQLLLL")       # struct fiemap_extent (56 bytes)
BATCH = 512


def data_extents(fd, size):
    out, pos = [], 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                break
            raise
        end = os.lseek(fd, start, os.SEEK_HOLE)
        out.append([start, end - start])
        pos = end
    return out


def fiemap_extents(fd, size):
    out, start = [], 0
    while start < size:
        buf = bytearray(HDR.size + EXT.size * BATCH)
        HDR.pack_into(buf, 0, start, (1 << 64) - 1 - start, FIEMAP_FLAG_SYNC, 0, BATCH, 0)
        fcntl.ioctl(fd, FS_IOC_FIEMAP, buf)
        mapped = HDR.unpack_from(buf, 0)[3]
        if mapped == 0:
            break
        last = False
        for i in range(mapped):
            logical, _phys, length, _r1, _r2, flags, *_ = EXT.unpack_from(buf, HDR.size + i * EXT.size)
            out.append([logical, length])
            start = logical + length
            last = bool(flags & FIEMAP_EXTENT_LAST)
        if last:
            break
    # clip to file size
    return [[o, min(o + l, size) - o] for o, l in out if o < size]


def merge(ranges):
    """Join touching ranges (FIEMAP splits at physical discontinuities)."""
    out = []
    for o, l in ranges:
        if out and out[-1][0] + out[-1][1] == o:
            out[-1][1] += l
        else:
            out.append([o, l])
    return out


def subtract(ranges, minus):
    """ranges minus minus (both sorted lists of [off, len])."""
    out = []
    for o, l in ranges:
        cur, end = o, o + l
        for mo, ml in minus:
            me = mo + ml
            if me <= cur or mo >= end:
                continue
            if mo > cur:
                out.append([cur, mo - cur])
            cur = max(cur, me)
        if cur < end:
            out.append([cur, end - cur])
    return out


def scan(root):
    dirs, files = [], []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root)
        if rel != ".":
            dirs.append(rel)
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                raise SystemExit(f"unsupported file type: {path}")
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
                st = os.fstat(fd)
                data = data_extents(fd, st.st_size)
                alloc = merge(subtract(fiemap_extents(fd, st.st_size), data))
            finally:
                os.close(fd)
            files.append({
                "path": os.path.relpath(path, root),
                "size": st.st_size,
                "blocks": st.st_blocks,
                "data": data,
                "alloc": alloc,
            })
    return {"dirs": dirs, "files": files}


if __name__ == "__main__":
    json.dump(scan(sys.argv[1]), sys.stdout)
