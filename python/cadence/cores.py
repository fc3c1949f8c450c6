"""How many cores this process may use: the default of every ``--jobs`` and of the Floor
actors' shared decision threads."""

from __future__ import annotations

import os


def cores() -> int:
    """The cores this process may run on: its CPU affinity where the OS tells it (a container or
    ``taskset`` may allow fewer than the machine has), else the machine's count; at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1
