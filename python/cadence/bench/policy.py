"""``cadence bench policy``: what one call's Floor stage costs, as the live actor feeds it.

The Floor actor hands its policy the mic frames (and, in full duplex, the frames the
persona played) 2 at a time (``CHUNK``). This bench does the same with the whole policy,
from raw audio to decisions, and reports the CPU it takes: µs per 10 ms frame, the share
of one core, and so how many calls one core can carry. The CPU is the process's
(``time.process_time``, every thread: a policy's worker threads count too), the best of
``--repeat`` passes. Baselines in the same run, on the same frames: a Silero VAD with a
500 ms silence timeout (``silence-500``) and Pipecat's stack (``smart-turn-v3``: Silero,
then Smart Turn v3.2 on the last 8 s at each VAD stop). The memory column is the resident
memory each further call's policy adds when it is built, once a first has loaded what all
calls share (a long call's memory stays flat: floor.md, session 50).

Cadence's cost is split into its stages, each timed alone on the same chunks: the input
stage (Rust features, Silero VAD, the mic AGC, the echo estimate and normalisation:
``FloorFeaturizer``), the networks (the turn's pass blind to the persona and the
persona's own networks, the two passes a call runs once the persona has spoken), and the
rest (the speech rule's echo canceller and the decision logic), which is the whole less
the two. A last table runs 1 and 2 Cadence calls side by side, one thread each, on the
wall clock: the GIL is released in the Rust passes and in onnxruntime, not in the decision
logic, so this is what the cores give together. A last pair feeds one Cadence call one frame at
a time, back to back and then one frame per 10 ms of wall time, as a live call wakes (the
policy's thread CPU, on the same first 6 s): live, the caches and predictors are cold. The audio is ``cadence bench features``'
(an espeak-ng monologue with pauses, a second voice's echo in the mic from 1 s on;
``--audio`` takes any WAV as the user's side).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from cadence.bench.features import cli_main, side_by_side

CHUNK = 2  # frames per call, as the Floor actor drains them
PACED_FRAMES = 600  # the paced feed's frames: 6 s of wall time
POLICIES = ("cadence", "silence-500", "smart-turn-v3")


def best_cpu(run: Callable[[], object], repeat: int) -> float:
    """The least process CPU time (s, all threads) of ``repeat`` runs of ``run``."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        run()
        best = min(best, time.process_time() - t0)
    return best


def _feed(policy: Any, mic: np.ndarray, ref: np.ndarray, with_ref: bool) -> list[Any]:
    """Reset ``policy`` and feed it the call in ``CHUNK``-frame steps; its decisions."""
    policy.reset()
    decisions: list[Any] = []
    for a in range(0, len(mic), CHUNK):
        b = a + CHUNK
        decisions += policy.process(mic[a:b], reference=ref[a:b]) if with_ref else policy.process(mic[a:b])
    if hasattr(policy, "drain"):
        policy.drain()  # a call still in a worker thread is part of the cost
    return decisions


def _rss_mb() -> float | None:
    """This process's resident memory (MB), where /proc tells it (Linux); else None."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


def memory_per_call(spec: Any, n: int = 10) -> float | None:
    """MB of resident memory each further call's policy adds (``n`` more built after a first)."""
    from cadence.floor.bench import make_policy

    first = make_policy(spec)  # what the first call loads once (sessions, weights) is not per call
    before = _rss_mb()
    more = [make_policy(spec) for _ in range(n)]
    after = _rss_mb()
    del first, more
    return None if before is None or after is None else max(0.0, after - before) / n


def _calls_at_once(mic: np.ndarray, ref: np.ndarray, n_calls: int) -> float:
    """Wall seconds for ``n_calls`` Cadence calls fed side by side, one thread each (as one Floor
    actor per call runs its policy in a worker thread): the GIL is released in the Rust passes
    and in Silero's onnxruntime session, and held in the decision logic."""
    from cadence.floor.policy import CadencePolicy

    policies = [CadencePolicy(patience=0.5) for _ in range(n_calls)]
    for p in policies:
        _feed(p, mic[:50], ref[:50], True)  # sessions and caches warm
    return side_by_side([partial(_feed, p, mic, ref, True) for p in policies])


def _stages(mic: np.ndarray, ref: np.ndarray, repeat: int) -> dict[str, float]:
    """CPU seconds of Cadence's input stage and of its two network passes, each alone."""
    from cadence.floor.features import FloorFeaturizer
    from cadence.floor.model import FloorModel, default_persona_weights_path
    from cadence.floor.policy import blind_to_persona

    spans = [(a, a + CHUNK) for a in range(0, len(mic), CHUNK)]
    featurizer = FloorFeaturizer()

    def features() -> list[np.ndarray]:
        featurizer.reset()
        return [featurizer.process(mic[a:b], ref[a:b]) for a, b in spans]

    xs = features()
    blind = [blind_to_persona(x) for x in xs]
    turn, persona = FloorModel(), FloorModel(default_persona_weights_path())

    def networks() -> None:
        turn.reset()
        persona.reset()
        for x, xb in zip(xs, blind):
            turn.process(xb)
            persona.process(x)

    return {"input stage": best_cpu(features, repeat), "networks (two passes)": best_cpu(networks, repeat)}


def paced(mic: np.ndarray, ref: np.ndarray, frames: int = PACED_FRAMES) -> dict[str, Any]:
    """Cadence fed one frame per call, back to back and then one frame per 10 ms of wall time (as
    a live call wakes), on the same first ``frames`` frames: the policy's thread CPU per frame."""
    from cadence.floor.policy import CadencePolicy

    policy = CadencePolicy(patience=0.5)
    n = min(frames, len(mic))

    def run(gap_s: float) -> float:
        policy.reset()
        cpu, t0 = 0.0, time.perf_counter()
        for i in range(n):
            if gap_s:
                time.sleep(max(0.0, t0 + (i + 1) * gap_s - time.perf_counter()))
            c = time.thread_time()
            policy.process(mic[i : i + 1], ref[i : i + 1])
            cpu += time.thread_time() - c
        return cpu / n * 1e6

    run(0.0)  # sessions and caches warm
    return {"frames": n, "back_to_back_us_per_frame": run(0.0), "paced_us_per_frame": run(0.01)}


def bench(mic: np.ndarray, ref: np.ndarray, repeat: int) -> dict[str, Any]:
    from cadence.floor.bench import PolicySpec, _takes_reference, make_policy

    n = len(mic)
    rows: list[dict[str, Any]] = []
    for name in POLICIES:
        spec = PolicySpec(name, name, (("patience", 0.5),) if name == "cadence" else ())
        policy = make_policy(spec)
        with_ref = _takes_reference(policy)
        decisions = len(_feed(policy, mic, ref, with_ref))  # a warm-up pass: sessions, caches
        secs = best_cpu(lambda: _feed(policy, mic, ref, with_ref), repeat)
        rows.append({"policy": name, "reads_reference": with_ref, "decisions": decisions,
                     "us_per_frame": secs / n * 1e6, "mb_per_call": memory_per_call(spec)})
    stages = {k: v / n * 1e6 for k, v in _stages(mic, ref, repeat).items()}
    whole = rows[0]["us_per_frame"]
    stages["echo canceller and decisions (the rest)"] = whole - sum(stages.values())
    calls = [{"calls": k, "frames_per_s": k * n / min(_calls_at_once(mic, ref, k) for _ in range(repeat))}
             for k in (1, 2)]
    return {"frames": n, "chunk_frames": CHUNK, "rows": rows, "cadence_stages_us_per_frame": stages,
            "calls_at_once": calls, "paced": paced(mic, ref)}


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        "# One call's Floor stage: CPU per call, as the live actor feeds it",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, numpy {m['numpy']}.",
        f"Command: `cadence bench policy --repeat {result['repeat']}`; {result['frames']} frames "
        f"({result['frames'] / 100:.0f} s) of {result['audio']} with a persona echo (full duplex), fed "
        f"{result['chunk_frames']} frames at a time; process CPU time (all threads), the best of the passes.",
        "",
        "| policy | reads the persona's playback | µs CPU / 10 ms frame | share of one core | calls per core | cost ÷ Cadence "
        "| memory per further call |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    ours = result["rows"][0]["us_per_frame"]
    for r in result["rows"]:
        us = r["us_per_frame"]
        mb = "–" if r["mb_per_call"] is None else f"{r['mb_per_call']:.2f} MB"
        lines.append(f"| {r['policy']} | {'yes' if r['reads_reference'] else 'no'} | {us:.1f} | "
                     f"{us / 1e4:.2%} | {1e4 / us:,.0f} | {us / ours:.2f}× | {mb} |")
    lines += ["", "Cadence's stages, each timed alone on the same chunks (the rest is the whole less the two):", "",
              "| stage | µs CPU / frame | share of Cadence's |", "|---|---:|---:|"]
    for stage, us in result["cadence_stages_us_per_frame"].items():
        lines.append(f"| {stage} | {us:.1f} | {us / ours:.0%} |")
    lines += ["", "Cadence calls side by side, one thread each (wall clock, all calls together):", "",
              "| calls | frames / s | ÷ 1 call | real-time calls this rate would carry |", "|---:|---:|---:|---:|"]
    one = result["calls_at_once"][0]["frames_per_s"]
    for c in result["calls_at_once"]:
        lines.append(f"| {c['calls']} | {c['frames_per_s']:,.0f} | {c['frames_per_s'] / one:.2f}× | "
                     f"{c['frames_per_s'] / 100:,.0f} |")
    pc = result["paced"]
    b2b, live = pc["back_to_back_us_per_frame"], pc["paced_us_per_frame"]
    lines += ["", f"Cadence fed one frame per call on the first {pc['frames']} frames (the policy's thread CPU; "
              "a live call wakes once per 10 ms, with the caches cold):", "",
              "| fed | µs CPU / frame | ÷ back to back |", "|---|---:|---:|",
              f"| back to back | {b2b:.1f} | 1.00× |",
              f"| one frame per 10 ms of wall time, as live | {live:.1f} | {live / b2b:.2f}× |"]
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return cli_main(argv, "cadence bench policy", __doc__ or "", bench, markdown)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
