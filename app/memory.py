"""The process's memory after large work (exports): given back to the system, and glibc
set up so that large blocks do not stay in a fragmented heap. Both do nothing off glibc."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc


def return_memory() -> None:
    """Give what a large export used back to the system: Python frees its objects, but
    glibc keeps the freed heap of the process unless asked (a worker would otherwise hold
    hundreds of MiB after a national export)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to ask
        _libc().malloc_trim(0)


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
LARGE_BLOCK = 128 * 1024


def map_large_blocks() -> None:
    """Have glibc serve every block of LARGE_BLOCK bytes or more from its own memory mapping,
    unmapped when freed. By default glibc raises that threshold to the largest block freed
    (up to 32 MiB): after one export, a file's bytes and the driver's buffers land in the
    heap, which stays fragmented (a worker held ~100 MiB more after national exports)."""
    with contextlib.suppress(OSError, AttributeError):
        _libc().mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK)


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
