"""``cadence bench calls``: how many live calls one process carries, Floor stage included.

N Floor actors run in one actor system, as a server runs one per call. Each is fed one 10 ms
``AudioFrame`` every 10 ms of wall time on a fixed schedule, with the persona's playback written
to its reference ring in step: ``cadence bench features``' duplex audio (espeak-ng speech with
pauses, a second voice's echo in the mic), call k starting 37·k frames in. Calls are spread over
the 10 ms (call k's frames are due k·10/N ms after call 0's), as calls that began at different
moments are. The feeders keep to the schedule until an actor's mailbox is full (2.56 s of frames
waiting; then its sends wait). A sink actor subscribes to ``FloorState``. Each state is timed
from the moment its frame's audio was complete (the schedule) to its arrival at the sink: the
*lag* the stage adds to any decision made on that frame. The first second is not scored (start-up).

Each (N, system) runs ``--rounds`` times, the systems taking turns within a round, every run in a
fresh actor system. A system *keeps up* with N calls when every state arrived in every round and
the median over the rounds of the lag's p99 is within ``--budget-ms`` (50 ms: a fifth of a 250 ms
turn-end target). It has *fallen behind* when a state was lost or that median passes ``--stop-ms``
(500 ms); larger N are then not run for it. "Most calls kept up" is the largest N up to which
every N run kept up.

Systems, all in the same Floor actor (the same mailbox, validation, reference ring, worker-thread
hop, messages, and, but for the two older Cadence rows, the shared decision threads), so that the
rows differ only in what each call computes:

* ``cadence``: the Floor stage as shipped: frames that waited during a worker call are decided
  together (``Actor.coalesce``), and the actors share a worker thread per core for their
  decision calls (``shared_limiter``);
* ``cadence-thread-per-call``: the same with each call's decision calls in threads of their own
  (trio's default limiter: the actor of session 51);
* ``cadence-one-at-a-time``: that, with each frame handled alone, one worker call per frame
  (the actor before session 51);
* ``silence-500``, ``smart-turn-v3``: the baselines' policies (Silero VAD with a 500 ms silence
  timeout; Pipecat's Silero + Smart Turn v3.2 stack) in the same actor, frames taken together
  too. They decide on the mic alone (the persona's playback is read from the ring and not used).
  They have no probabilities: their ``FloorState`` carries zeros, and as ``user_speaking`` whether
  they hold the user's turn open (from the VAD's speech start to their commit);
* ``runtime``: the same actor with a policy that decides nothing, so what the actor path and the
  bench's own feeders and sink cost alone: a floor under every system, not a baseline to beat.

CPU is the process's (``time.process_time``: every thread) over the fed seconds, in cores and in
µs per frame decided by then; ``frames/call`` is the frames each worker call took on average.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import trio

from cadence._core import AudioRing
from cadence.bench.features import report, test_audio
from cadence.bench.ring import machine
from cadence.floor.actor import FRAME_NS, FloorActor
from cadence.floor.model import OUTPUTS
from cadence.floor.protocol import Decision
from cadence import cli_args

SYSTEMS = ("cadence", "cadence-thread-per-call", "cadence-one-at-a-time", "silence-500", "smart-turn-v3", "runtime")
T0_NS = 1_000_000_000  # media time of each call's first sample
N_OUT = len(OUTPUTS)  # the policy's output columns, as ``chunk_probs`` holds them
SKIP_S = 1.0  # start-up, not scored


class _Quiet:
    """The ``runtime`` system's policy: it decides nothing and hears no one (no compute), so a
    run with it costs what the actor path costs."""

    def __init__(self, patience: float) -> None:
        self.frame = 0
        self.chunk_probs = np.zeros((0, N_OUT), np.float32)
        self.frame_flags: list[tuple[bool, bool]] = []
        self.spec_confidences: list[float] = []
        self.wait_for_judge = False

    def process(self, frames: np.ndarray, reference: np.ndarray | None = None) -> list[Decision]:
        self.frame += len(frames)
        self.chunk_probs = np.zeros((len(frames), N_OUT), np.float32)
        self.frame_flags = [(False, False)] * len(frames)
        return []


class _Hosted(_Quiet):
    """A baseline policy (``process(frames)``) in the Floor actor's place: it runs frame by frame,
    as the baselines do inside, and reports per frame whether it holds the user's turn open."""

    def __init__(self, policy: Any, speaking: Callable[[], bool]) -> None:
        super().__init__(0.5)
        self.policy = policy
        self._speaking = speaking

    def process(self, frames: np.ndarray, reference: np.ndarray | None = None) -> list[Decision]:
        out: list[Decision] = []
        flags: list[tuple[bool, bool]] = []
        for i in range(len(frames)):
            out += self.policy.process(frames[i : i + 1])
            flags.append((self._speaking(), False))
        self.frame += len(frames)
        self.chunk_probs = np.zeros((len(frames), N_OUT), np.float32)
        self.frame_flags = flags
        return out


def _factory(system: str) -> Callable[[float], Any] | None:
    """The policy factory for ``system`` (None: the Floor actor's own, Cadence's)."""
    if system.startswith("cadence"):
        return None
    if system == "runtime":
        return _Quiet
    if system == "silence-500":
        from cadence.floor.baselines import SilenceBaseline

        def silence(p: float) -> _Hosted:
            b = SilenceBaseline(500)
            return _Hosted(b, lambda: b._ep.in_speech)

        return silence
    if system == "smart-turn-v3":
        from cadence.floor.smart_turn import SmartTurnBaseline

        def smart(p: float) -> _Hosted:
            b = SmartTurnBaseline()
            return _Hosted(b, lambda: b.triggered)

        return smart
    raise ValueError(f"unknown system {system!r}; known: {', '.join(SYSTEMS)}")


class _Counted(FloorActor):
    """The Floor actor, counting its worker calls and the frames they took."""

    calls = 0
    frames = 0

    def _compute(self, frames: np.ndarray, ref: np.ndarray | None) -> Any:
        self.calls += 1  # one worker call at a time per actor
        self.frames += len(frames)
        return super()._compute(frames, ref)


class _OneAtATime(_Counted):
    coalesce: ClassVar[tuple[type, ...]] = ()  # each frame handled alone


def run_point(system: str, n_calls: int, seconds: float, mic: np.ndarray, ref: np.ndarray,
              factory: Callable[[float], Any] | None = None, worker_threads: int = 0,
              aligned: bool = False) -> dict[str, Any]:
    """``n_calls`` live calls of ``system`` for ``seconds``, in a fresh actor system; ``factory``
    builds each call's policy in place of the system's own; ``worker_threads`` > 0: the actors'
    decision calls share a limiter of that many threads (every system); ``aligned``: every call's frames are due
    at the same moment (not spread over the 10 ms)."""
    from cadence.actors import Actor, MailboxSpec, Overflow, open_actor_system
    from cadence.messages import AudioFrame, FloorState

    n = int(round(seconds * 100))
    while n + 37 * n_calls >= len(mic):
        mic, ref = np.tile(mic, (2, 1)), np.tile(ref, (2, 1))  # long runs loop the audio
    factory = factory or _factory(system)
    cls = _OneAtATime if system == "cadence-one-at-a-time" else _Counted
    lags: list[list[float]] = [[] for _ in range(n_calls)]
    speaking = [0]
    started: dict[str, float] = {}
    phase = [0.0 if aligned else k * 0.01 / n_calls for k in range(n_calls)]  # call k's frames are due this much later
    actors: list[_Counted] = []
    out: dict[str, Any] = {}
    limiter: list[trio.CapacityLimiter | None] = [None]

    class Sink(Actor):
        mailbox = MailboxSpec(capacity=1 << 20, overflow=Overflow.BLOCK)

        async def handle(self, msg: FloorState) -> None:
            now = time.perf_counter()
            k = int(msg.conversation_id[1:])
            i = (msg.ts_ns - T0_NS) // FRAME_NS  # frames complete when this state was due
            lags[k].append((now - (started["t0"] + phase[k] + i * 0.01)) * 1e3)
            speaking[0] += msg.user_speaking

    def make(k: int, ring: AudioRing) -> _Counted:
        a = cls(f"c{k}", reference=ring, policy_factory=factory, limiter=limiter[0])
        actors.append(a)
        return a

    async def main() -> None:
        if worker_threads:
            limiter[0] = trio.CapacityLimiter(worker_threads)
        elif system in ("cadence-thread-per-call", "cadence-one-at-a-time"):
            limiter[0] = trio.to_thread.current_default_thread_limiter()
        async with open_actor_system(shutdown_timeout=10.0) as system_:
            rings = [AudioRing(160 * 1000) for _ in range(n_calls)]
            refs = [system_.spawn(partial(make, k, rings[k]), f"floor{k}") for k in range(n_calls)]
            sink = system_.spawn(Sink, "sink")
            system_.subscribe(sink, FloorState)
            while len(actors) < n_calls or not all(hasattr(a, "policy") for a in actors):
                await trio.sleep(0.01)  # every policy built (in worker threads)
            for a in actors:
                a.calls = a.frames = 0
            t0 = started["t0"] = time.perf_counter()
            c0 = time.process_time()

            async def feed(k: int) -> None:
                off, due = 37 * k, t0 + phase[k]
                for i in range(n):
                    await trio.sleep(max(0.0, due + (i + 1) * 0.01 - time.perf_counter()))
                    rings[k].write(ref[off + i])
                    frame = AudioFrame.from_samples(f"c{k}", T0_NS + i * FRAME_NS, i, mic[off + i])
                    await refs[k].send(frame)

            async with trio.open_nursery() as nursery:
                for k in range(n_calls):
                    nursery.start_soon(feed, k)
            wall = time.perf_counter() - t0
            out["cpu_s"], out["wall_s"] = time.process_time() - c0, wall
            out["calls"], out["frames"] = sum(a.calls for a in actors), sum(a.frames for a in actors)
            with trio.move_on_after(max(5.0, seconds)):  # the states still due
                while sum(map(len, lags)) < n * n_calls:
                    await trio.sleep(0.01)

    trio.run(main)
    skip = int(SKIP_S * 100)
    scored = np.array([x for per in lags for x in per[skip:]] or [np.nan])
    last = np.array([x for per in lags for x in per[skip:][-100:]] or [np.nan])  # each call's last second
    got = sum(map(len, lags))
    return {
        "system": system, "calls": n_calls, "seconds": seconds, "states": got, "expected": n * n_calls,
        "lag_ms": {f"p{q}": float(np.percentile(scored, q)) for q in (50, 90, 99)},
        "lag_max_ms": float(np.max(scored)),
        "lag_p50_last_second_ms": float(np.percentile(last, 50)),
        "cpu_cores": out["cpu_s"] / out["wall_s"],
        "cpu_us_per_frame": out["cpu_s"] / max(out["frames"], 1) * 1e6,
        "frames_per_worker_call": out["frames"] / max(out["calls"], 1),
        "user_speaking_share": speaking[0] / max(got, 1),
    }


def summarize(runs: list[dict[str, Any]], budget_ms: float, stop_ms: float) -> dict[str, Any]:
    """One (N, system)'s rounds: medians, the p99's range, whether it kept up or fell behind."""
    med = lambda key: float(np.median([r[key] for r in runs]))  # noqa: E731
    p99 = [r["lag_ms"]["p99"] for r in runs]
    lost = any(r["states"] != r["expected"] for r in runs)
    return {
        "system": runs[0]["system"], "calls": runs[0]["calls"], "rounds": len(runs), "states_lost": lost,
        "lag_p50_ms": float(np.median([r["lag_ms"]["p50"] for r in runs])),
        "lag_p99_ms": float(np.median(p99)), "lag_p99_range_ms": [min(p99), max(p99)],
        "lag_p50_last_second_ms": med("lag_p50_last_second_ms"),
        "cpu_cores": med("cpu_cores"), "cpu_us_per_frame": med("cpu_us_per_frame"),
        "frames_per_worker_call": med("frames_per_worker_call"),
        "keeps_up": not lost and float(np.median(p99)) <= budget_ms,
        "fallen_behind": lost or float(np.median(p99)) > stop_ms,
    }


def most_kept_up(rows: list[dict[str, Any]], system: str) -> int:
    """The largest N up to which every N run for ``system`` kept up (0: not even the first)."""
    most = 0
    for r in sorted((r for r in rows if r["system"] == system), key=lambda r: r["calls"]):
        if not r["keeps_up"]:
            break
        most = r["calls"]
    return most


def bench(systems: list[str], counts: list[int], seconds: float, budget_ms: float, stop_ms: float,
          mic: np.ndarray, ref: np.ndarray, worker_threads: int = 0, rounds: int = 1, aligned: bool = False,
          log: Callable[[str], None] = print) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    behind: dict[str, int] = {}
    for n_calls in counts:
        live = [s for s in systems if s not in behind]
        mine: dict[str, list[dict[str, Any]]] = {s: [] for s in live}
        for r in range(rounds):
            for system in live:
                p = run_point(system, n_calls, seconds, mic, ref, worker_threads=worker_threads, aligned=aligned)
                p["round"] = r
                runs.append(p)
                mine[system].append(p)
                log(f"{system} × {n_calls} (round {r + 1}): {p['states']}/{p['expected']} states, lag p50 "
                    f"{p['lag_ms']['p50']:.1f} p99 {p['lag_ms']['p99']:.1f} ms, {p['cpu_cores']:.2f} cores")
        for system in live:
            row = summarize(mine[system], budget_ms, stop_ms)
            rows.append(row)
            if row["fallen_behind"]:
                behind[system] = n_calls
    most = {s: most_kept_up(rows, s) for s in systems}
    return {"systems": systems, "counts": counts, "seconds": seconds, "rounds": rounds, "budget_ms": budget_ms,
            "stop_ms": stop_ms, "worker_threads": worker_threads, "aligned": aligned,
            "rows": rows, "runs": runs, "most_calls_kept_up": most, "first_behind": behind}


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    budget = result["budget_ms"]
    lines = [
        "# Live calls per process: the Floor stage in N actors, fed in real time",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, numpy {m['numpy']}.",
        f"Command: `{result['command']}`; each call {result['seconds']:g} s of 10 ms frames in real time "
        f"(the first {SKIP_S:g} s not scored), the calls' frames "
        f"{'due at the same moment' if result['aligned'] else 'spread over the 10 ms'}; worker threads: "
        f"{result['worker_threads'] or 'each system’s own'}; keeps up = every state arrived and the median "
        f"lag p99 ≤ {budget:g} ms at this N and every smaller one run.",
        "",
        "| system | most calls kept up | ÷ cadence | largest N kept up (any below may not have) "
        f"| first N fallen behind (p99 > {result['stop_ms']:g} ms or a state lost) |",
        "|---|---:|---:|---:|---:|",
    ]
    ours = result["most_calls_kept_up"].get("cadence") or 0
    for s in result["systems"]:
        most = result["most_calls_kept_up"][s]
        ratio = f"{most / ours:.2f}×" if ours else "–"
        largest = max([r["calls"] for r in result["rows"] if r["system"] == s and r["keeps_up"]], default=0)
        lines.append(f"| {s} | {most} | {ratio} | {largest} | {result['first_behind'].get(s, '–')} |")
    lines += ["", f"Each row: the median over {result['rounds']} round(s) (the p99's range in brackets).", "",
              "| calls | system | lag p50 ms | lag p99 ms | p50 in the last second | states lost | CPU cores "
              "| µs CPU / frame | frames / worker call | kept up |",
              "|---:|---|---:|---|---:|---|---:|---:|---:|---|"]
    for r in result["rows"]:
        lo, hi = r["lag_p99_range_ms"]
        span = f" [{lo:.1f}–{hi:.1f}]" if r["rounds"] > 1 else ""
        lines.append(f"| {r['calls']} | {r['system']} | {r['lag_p50_ms']:.1f} | {r['lag_p99_ms']:.1f}{span} | "
                     f"{r['lag_p50_last_second_ms']:.1f} | {'yes' if r['states_lost'] else 'no'} | {r['cpu_cores']:.2f} | "
                     f"{r['cpu_us_per_frame']:.0f} | {r['frames_per_worker_call']:.2f} | "
                     f"{'yes' if r['keeps_up'] else 'no'} |")
    lines.append("")
    return "\n".join(lines)


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated call counts, got {text!r}") from None
    if not values or min(values) < 1 or values != sorted(set(values)):
        raise argparse.ArgumentTypeError(f"call counts must be ≥ 1 and increasing, got {text!r}")
    return values


def _shown(argv: list[str]) -> list[str]:
    """The arguments that set what was measured (not where it was written)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a in ("--json", "--markdown"):
            skip = True  # and its value
        elif not a.startswith(("--json=", "--markdown=")):
            out.append(a)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="cadence bench calls", description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--calls", type=_ints, default=[1, 4, 8, 12, 16, 20, 24], help="call counts (default 1,…,24)")
    ap.add_argument("--seconds", type=float, default=8.0, help="fed seconds per call and point (default 8)")
    ap.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated, of: {', '.join(SYSTEMS)}")
    ap.add_argument("--budget-ms", type=float, default=50.0, help="lag p99 a system may add and keep up (50)")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each (N, system), taking turns (default 3)")
    ap.add_argument("--aligned", action="store_true",
                    help="every call's frames due at the same moment (default: spread over the 10 ms)")
    ap.add_argument("--stop-ms", type=float, default=500.0,
                    help="lag p99 past which a system has fallen behind and larger N are skipped (500)")
    ap.add_argument("--worker-threads", type=int, default=0,
                    help="every system's actors share this many decision threads (default 0: each system's own)")
    ap.add_argument("--audio", type=Path, help="a WAV to use as the user's side (default: espeak-ng speech)")
    ap.add_argument("--json", type=cli_args.out_file, help="write raw results as JSON here")
    ap.add_argument("--markdown", type=cli_args.out_file, help="write the markdown tables here")
    args = ap.parse_args(argv)
    systems = [s for s in args.systems.split(",") if s]
    bad = [s for s in systems if s not in SYSTEMS]
    if bad or not systems:
        ap.error(f"unknown system(s) {bad}; known: {', '.join(SYSTEMS)}")
    if len(set(systems)) != len(systems):
        ap.error(f"a system is named twice in {args.systems!r}")
    if args.rounds < 1:
        ap.error("--rounds must be ≥ 1")
    if args.audio is not None and not args.audio.is_file():
        ap.error(f"--audio {args.audio}: no such file")
    if not 1.5 <= args.seconds <= 600:
        ap.error("--seconds must be in [1.5, 600] (the first second is not scored)")
    if not args.budget_ms > 0:
        ap.error("--budget-ms must be > 0")
    if not args.stop_ms >= args.budget_ms:
        ap.error("--stop-ms must be ≥ --budget-ms")
    if args.worker_threads < 0:
        ap.error("--worker-threads must be ≥ 0")
    mic, ref = test_audio(args.audio)
    result = {"machine": machine(), "command": " ".join(["cadence bench calls", *_shown(argv if argv is not None else sys.argv[1:])]),
              **bench(systems, args.calls, args.seconds, args.budget_ms, args.stop_ms, mic, ref, args.worker_threads,
                      args.rounds, args.aligned,
                      log=lambda s: print(s, file=sys.stderr, flush=True))}
    report(markdown(result), result, args.json, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
