"""Refuse work that cannot fit in memory before allocating it: a clear error, not a MemoryError.

NumPy raises MemoryError only when one allocation fails; a run whose arrays fit one by one but
not together is killed by the OS instead, losing its log. So sizes are estimated up front and
compared with the memory the OS says is available (MemAvailable on Linux; physical memory
elsewhere; no check where neither is known).
"""

from __future__ import annotations

import os

from babysit.errors import BabysitError

GIB = 2**30


def available_bytes() -> int | None:
    """Memory available to a new allocation, as the OS reports it; None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def require_memory(needed: float, what: str, advice: str) -> None:
    """A BabysitError if `needed` bytes exceed what is available; `what` names the consumer."""
    available = available_bytes()
    if available is not None and needed > available:
        raise BabysitError(f"{what} needs about {needed / GIB:,.1f} GiB of memory but only "
                           f"{available / GIB:,.1f} GiB is available: {advice}")
