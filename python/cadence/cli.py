"""The ``cadence`` command line.

Each subcommand lives in the module that owns it and is imported only when
used, so ``cadence --help`` stays fast and optional dependencies stay optional.
A subcommand module exposes ``main(argv: list[str]) -> int``.
"""

from __future__ import annotations

import importlib
import sys

# (group, name) -> (module, one-line help)
COMMANDS: dict[tuple[str, str], tuple[str, str]] = {
    ("bench", "runtime"): ("cadence.bench.runtime", "actor hop latency and burst throughput vs trio channels and Pipecat"),
    ("bench", "ring"): ("cadence.bench.ring", "AudioRing and Framer throughput vs numpy ring and deque"),
    ("bench", "features"): ("cadence.bench.features", "floor input stage: Rust FloorNormalizer vs its Python reference"),
    ("bench", "model"): ("cadence.bench.model", "floor model forward pass: Rust FloorEnsemble vs its numpy reference"),
    ("bench", "policy"): ("cadence.bench.policy", "one call's Floor stage: CPU per call vs silence-500 and Pipecat's Smart Turn stack"),
    ("bench", "calls"): ("cadence.bench.calls", "live calls per process: N Floor actors in real time vs one-at-a-time and the baselines"),
    ("bench", "aec"): ("cadence.bench.aec", "echo canceller vs WebRTC AEC3 (LiveKit) on corpus voices, scored against the truth"),
    ("bench", "floor"): ("cadence.floor.bench", "turn-taking benchmark on a labeled corpus vs silence baselines"),
    ("bench", "floor-loop"): ("cadence.floor.loop", "turn-taking in a closed loop: the persona talks back, its echo in the mic"),
    ("bench", "intervals"): ("cadence.floor.coverage", "how often the floor bench's 95 % intervals hold the truth (simulated splits)"),
    ("bench", "floor-stops"): ("cadence.floor.at_stops", "Cadence's model vs Smart Turn at Pipecat's VAD stops (AUC)"),
    ("score", "floor"): ("cadence.floor.score", "score turn-taking decisions made elsewhere with the benchmark's rules"),
    ("corpus", "floor"): ("cadence.floor.corpus", "generate a labeled turn-taking corpus with offline voices"),
    ("corpus", "floor-recorded"): ("cadence.floor.corpus.recorded", "a small turn-taking split from a recorded human voice (alsa-utils clips)"),
    ("corpus", "floor-prompts"): ("cadence.floor.corpus.prompts", "turn ends and unfinished phrases read by a human voice (Asterisk's prompts)"),
    ("corpus", "floor-phone"): ("cadence.floor.corpus.phone", "turn ends from a recorded telephone call (pyannote-audio's sample)"),
    ("corpus", "floor-noisier"): ("cadence.floor.corpus.noisier", "a copy of a labeled split with stationary noise at a given SNR under the user"),
    ("corpus", "floor-shift"): ("cadence.floor.corpus.shift", "a copy of a labeled split spoken higher, lower, faster or slower (sox; labels follow)"),
    ("train", "floor"): ("cadence.floor.train", "train the floor model and export its weights"),
    ("train", "heads"): ("cadence.floor.heads", "fit the floor model's voice and pause heads on its frozen networks"),
    ("train", "judge"): ("cadence.floor.judge_head", "fit Cadence's hold/shift head on Smart Turn v3.2's speech encoder"),
    ("tune", "floor"): ("cadence.floor.tune", "sweep floor-policy settings offline on a labeled split"),
    ("select", "floor"): ("cadence.floor.select", "rank ensembles of trained floor networks on dev splits"),
}
TOP: dict[str, tuple[str, str]] = {
    "demo": ("cadence.demo", "run the offline demo"),
}


def _usage() -> str:
    lines = ["usage: cadence <command> [<subcommand>] [options]", "", "commands:"]
    for name, (_, help_) in TOP.items():
        lines.append(f"  {name:<18} {help_}")
    for (group, name), (_, help_) in COMMANDS.items():
        lines.append(f"  {group + ' ' + name:<18} {help_}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if args[0] in TOP:
        module, rest = TOP[args[0]][0], args[1:]
    elif len(args) >= 2 and (args[0], args[1]) in COMMANDS:
        module, rest = COMMANDS[(args[0], args[1])][0], args[2:]
    else:
        print(f"cadence: unknown command: {' '.join(args[:2])}\n", file=sys.stderr)
        print(_usage(), file=sys.stderr)
        return 2
    from cadence.errors import CadenceError

    try:
        return int(importlib.import_module(module).main(rest) or 0)
    except CadenceError as e:  # bad input or setup: one clear line, not a traceback
        print(f"cadence {' '.join(args[:1] if args[0] in TOP else args[:2])}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
