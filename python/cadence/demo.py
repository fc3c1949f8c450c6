"""``cadence demo``: the Floor stage on a live conversation (``cadence.floor.demo``),
then the actor runtime against its baselines (``cadence bench runtime``)."""

from __future__ import annotations


def main(argv: list[str]) -> int:
    from cadence.bench import runtime
    from cadence.floor import demo

    rc = demo.run(argv)
    if rc:
        return rc
    print("\n--- the actor runtime under the stages: cadence bench runtime ---\n")
    return runtime.main([])
