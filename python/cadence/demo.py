"""``cadence demo``: until the conversation demo exists, run the runtime benchmark."""

from __future__ import annotations


def main(argv: list[str]) -> int:
    from cadence.bench import runtime

    return runtime.main(argv)
