"""``cadence bench runtime``: actor hop latency and burst throughput vs baselines.

Three systems carry the same 20 ms PCM frames (320 float32 samples, 1280 bytes)
through a chain of 8 pass-through stages and a sink, measured in the same run:

- ``cadence.actors``: 8 actors (mailbox 64, ``BLOCK``), stall watchdog on;
- ``cadence.actors (traced)``: the same with hop tracing on;
- ``trio channels``: 8 tasks joined by ``trio.open_memory_channel(64)``;
- ``pipecat``: a Pipecat ``Pipeline`` of 8 pass-through ``FrameProcessor``\\ s
  carrying ``InputAudioRawFrame``, run by its ``PipelineWorker``/``WorkerRunner``
  (asyncio, its own run; imported lazily: a benchmark-only dependency).

Stage 1 stamps each frame on entry; the sink stamps it on arrival: 8 hops
(1→2 … 7→8, 8→sink), so the ingress path of each framework is not counted.
Per-hop latency = end-to-end latency of one frame in flight (paced) / 8.
Burst throughput = frames / (first entry → last arrival) with all frames sent
as fast as the system accepts them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from typing import Any, Callable

import msgspec
import trio

from cadence.errors import InvalidArgumentError
from cadence import cli_args

__all__ = ["main", "run_all"]

STAGES = 8
CAPACITY = 64
SAMPLES = 320  # 20 ms at 16 kHz
PCM = b"\x00" * (4 * SAMPLES)


def _frame_factory() -> Callable[[int], Any]:
    from cadence.messages import AudioFrame

    def make(seq: int) -> Any:
        return AudioFrame(conversation_id="bench", ts_ns=seq * 20_000_000, seq=seq, pcm=PCM)

    return make


class Probe:
    """Entry and arrival stamps (perf_counter_ns) per frame index."""

    def __init__(self, n: int) -> None:
        self.t_in = [0] * n
        self.t_out = [0] * n
        self.arrived = 0


def _summary(name: str, paced: Probe, burst: Probe) -> dict[str, Any]:
    e2e = sorted(o - i for i, o in zip(paced.t_in, paced.t_out))
    hop = [x / STAGES / 1000.0 for x in e2e]  # µs
    window = max(burst.t_out) - min(burst.t_in)
    return {
        "system": name,
        "hop_p50_us": statistics.median(hop),
        "hop_p99_us": hop[min(len(hop) - 1, int(0.99 * len(hop)))],
        "e2e_p50_us": statistics.median(e2e) / 1000.0,
        "burst_fps": len(burst.t_out) / (window / 1e9),
        "paced_frames": len(e2e),
        "burst_frames": len(burst.t_out),
    }


# -- cadence.actors ---------------------------------------------------------------------------
async def _actors_run(paced_n: int, burst_n: int, traced: bool,
                      trace_path: str | None = None) -> tuple[Probe, Probe]:
    from cadence.actors import Actor, ActorRef, MailboxSpec, Tracer, Watchdog, open_actor_system

    make = _frame_factory()
    spec = MailboxSpec(CAPACITY)
    now = time.perf_counter_ns

    class Stage(Actor):
        def __init__(self, nxt: ActorRef, probe: list[Probe] | None) -> None:
            self.send = nxt.send
            self.probe = probe

        async def handle(self, msg: Any) -> None:
            if self.probe is not None:
                self.probe[0].t_in[msg.seq] = now()
            await self.send(msg)

    class Sink(Actor):
        def __init__(self, probe: list[Probe], done: list[Any]) -> None:
            self.probe, self.done = probe, done

        async def handle(self, msg: Any) -> None:
            p = self.probe[0]
            p.t_out[msg.seq] = now()
            p.arrived += 1
            if p.arrived == len(p.t_out):
                self.done[0].set()

    results = []
    tracer = Tracer() if traced else None
    async with open_actor_system(tracer=tracer, watchdog=Watchdog(0.02)) as system:
        probe: list[Probe] = [Probe(1)]
        done: list[trio.Event] = [trio.Event()]
        nxt = system.spawn(lambda: Sink(probe, done), "sink", mailbox=spec)
        for i in range(STAGES, 0, -1):
            def stage(n: ActorRef = nxt, i: int = i) -> Actor:
                return Stage(n, probe if i == 1 else None)

            nxt = system.spawn(stage, f"stage{i}", mailbox=spec)
        first = nxt
        # paced: one frame in flight
        paced = Probe(paced_n)
        for seq in range(paced_n):
            probe[0], done[0] = Probe(1), trio.Event()
            await first.send(make(0))
            await done[0].wait()
            paced.t_in[seq], paced.t_out[seq] = probe[0].t_in[0], probe[0].t_out[0]
        results.append(paced)
        # burst
        frames = [make(seq) for seq in range(burst_n)]
        probe[0], done[0] = Probe(burst_n), trio.Event()
        for f in frames:
            await first.send(f)
        await done[0].wait()
        results.append(probe[0])
    # after the system has stopped: the sink sets `done` inside its handler, so the
    # waiter may run before that handler's span is recorded
    if trace_path is not None and tracer is not None:
        tracer.write(trace_path)
    return results[0], results[1]


# -- raw trio memory channels -----------------------------------------------------------------
async def _trio_run(paced_n: int, burst_n: int) -> tuple[Probe, Probe]:
    make = _frame_factory()
    now = time.perf_counter_ns
    probe: list[Probe] = [Probe(1)]
    done: list[trio.Event] = [trio.Event()]
    chans = [trio.open_memory_channel[Any](CAPACITY) for _ in range(STAGES + 1)]

    async def stage(i: int) -> None:
        recv, send = chans[i][1], chans[i + 1][0]
        async for msg in recv:
            if i == 0:
                probe[0].t_in[msg.seq] = now()
            await send.send(msg)

    async def sink() -> None:
        async for msg in chans[STAGES][1]:
            p = probe[0]
            p.t_out[msg.seq] = now()
            p.arrived += 1
            if p.arrived == len(p.t_out):
                done[0].set()

    out = []
    async with trio.open_nursery() as nursery:
        for i in range(STAGES):
            nursery.start_soon(stage, i)
        nursery.start_soon(sink)
        first = chans[0][0]
        paced = Probe(paced_n)
        for seq in range(paced_n):
            probe[0], done[0] = Probe(1), trio.Event()
            await first.send(make(0))
            await done[0].wait()
            paced.t_in[seq], paced.t_out[seq] = probe[0].t_in[0], probe[0].t_out[0]
        out.append(paced)
        frames = [make(seq) for seq in range(burst_n)]
        probe[0], done[0] = Probe(burst_n), trio.Event()
        for f in frames:
            await first.send(f)
        await done[0].wait()
        out.append(probe[0])
        nursery.cancel_scope.cancel()
    return out[0], out[1]


# -- Pipecat ------------------------------------------------------------------------------------
def _pipecat_run(paced_n: int, burst_n: int) -> tuple[Probe, Probe]:
    import asyncio

    from loguru import logger

    logger.disable("pipecat")
    from pipecat.frames.frames import EndFrame, InputAudioRawFrame
    from pipecat.pipeline.pipeline import Pipeline
    from pipecat.pipeline.worker import PipelineParams, PipelineWorker
    from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
    from pipecat.workers.runner import WorkerRunner

    now = time.perf_counter_ns
    probe: list[Probe] = [Probe(1)]
    done: list[Any] = [None]

    class Stage(FrameProcessor):
        def __init__(self, first: bool) -> None:
            super().__init__()
            self.first = first

        async def process_frame(self, frame: Any, direction: FrameDirection) -> None:
            await super().process_frame(frame, direction)
            if self.first and isinstance(frame, InputAudioRawFrame):
                probe[0].t_in[frame.seq] = now()  # type: ignore[attr-defined]
            await self.push_frame(frame, direction)

    class Sink(FrameProcessor):
        async def process_frame(self, frame: Any, direction: FrameDirection) -> None:
            await super().process_frame(frame, direction)
            if isinstance(frame, InputAudioRawFrame):
                p = probe[0]
                p.t_out[frame.seq] = now()  # type: ignore[attr-defined]
                p.arrived += 1
                if p.arrived == len(p.t_out):
                    done[0].set()
            await self.push_frame(frame, direction)

    def make(seq: int) -> Any:
        f = InputAudioRawFrame(audio=PCM, sample_rate=16000, num_channels=1)
        f.seq = seq  # type: ignore[attr-defined]
        return f

    async def main() -> tuple[Probe, Probe]:
        procs = [Stage(i == 0) for i in range(STAGES)] + [Sink()]
        worker = PipelineWorker(Pipeline(procs), cancel_on_idle_timeout=False, params=PipelineParams())
        started = asyncio.Event()

        @worker.event_handler("on_pipeline_started")
        async def _started(worker: Any, frame: Any) -> None:
            started.set()

        async def drive() -> tuple[Probe, Probe]:
            await asyncio.wait_for(started.wait(), 10)
            paced = Probe(paced_n)
            for seq in range(paced_n):
                probe[0], done[0] = Probe(1), asyncio.Event()
                await worker.queue_frame(make(0))
                await done[0].wait()
                paced.t_in[seq], paced.t_out[seq] = probe[0].t_in[0], probe[0].t_out[0]
            frames = [make(seq) for seq in range(burst_n)]
            probe[0], done[0] = Probe(burst_n), asyncio.Event()
            for f in frames:
                await worker.queue_frame(f)
            await done[0].wait()
            burst = probe[0]
            await worker.queue_frame(EndFrame())
            return paced, burst

        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(worker)
        _, result = await asyncio.gather(runner.run(), drive())
        return result

    return asyncio.run(main())


# -- report --------------------------------------------------------------------------------------
def _machine() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        from importlib.metadata import version

        pipecat = version("pipecat-ai")
    except Exception:
        pipecat = "not installed"
    return {"cpu": cpu, "cores": str(os.cpu_count()), "python": platform.python_version(),
            "trio": trio.__version__, "msgspec": msgspec.__version__, "pipecat": pipecat}


def run_all(paced_n: int, burst_n: int, trace_path: str | None = None,
            with_pipecat: bool = True) -> dict[str, Any]:
    rows = [
        _summary("cadence.actors", *trio.run(_actors_run, paced_n, burst_n, False)),
        _summary("cadence.actors (traced)", *trio.run(_actors_run, paced_n, burst_n, True)),
        _summary("trio channels", *trio.run(_trio_run, paced_n, burst_n)),
    ]
    if with_pipecat:
        rows.append(_summary("pipecat", *_pipecat_run(paced_n, burst_n)))
    if trace_path is not None:
        trio.run(_actors_run, 20, 50, True, trace_path)
    ours = rows[0]
    ratios: dict[str, float] = {}
    for row in rows[1:]:
        key = row["system"].replace(" ", "_").replace("(", "").replace(")", "").replace(".", "_")
        ratios[f"hop_p50_vs_{key}"] = ours["hop_p50_us"] / row["hop_p50_us"]
        ratios[f"burst_vs_{key}"] = ours["burst_fps"] / row["burst_fps"]
    return {"machine": _machine(), "stages": STAGES, "frame_bytes": len(PCM),
            "rows": rows, "ratios": ratios}


def _table(res: dict[str, Any]) -> str:
    lines = ["| system | hop p50 (µs) | hop p99 (µs) | e2e p50 (µs) | burst (frames/s) |",
             "|---|---:|---:|---:|---:|"]
    for r in res["rows"]:
        lines.append(f"| {r['system']} | {r['hop_p50_us']:.1f} | {r['hop_p99_us']:.1f} | "
                     f"{r['e2e_p50_us']:.1f} | {r['burst_fps']:,.0f} |")
    return "\n".join(lines)


def _ratio_lines(res: dict[str, Any]) -> list[str]:
    rows = {r["system"]: r for r in res["rows"]}
    ours = rows["cadence.actors"]
    out = []
    for name, r in rows.items():
        if name == "cadence.actors":
            continue
        out.append(f"- vs {name}: per-hop cost {ours['hop_p50_us'] / r['hop_p50_us']:.2f}×, "
                   f"burst throughput {ours['burst_fps'] / r['burst_fps']:.2f}×")
    if "pipecat" in rows:
        p = rows["pipecat"]
        hop_ok = ours["hop_p50_us"] <= p["hop_p50_us"] / 4
        fps_ok = ours["burst_fps"] >= 5 * p["burst_fps"]
        out.append(f"- goal per-hop ≤ 1/4 of Pipecat's: {'met' if hop_ok else 'NOT met'}; "
                   f"goal burst ≥ 5× Pipecat's: {'met' if fps_ok else 'NOT met'}")
    return out


def _markdown(res: dict[str, Any], argv: list[str]) -> str:
    m = res["machine"]
    return "\n".join([
        "# Actor runtime benchmark",
        "",
        f"`cadence bench runtime {' '.join(argv)}`: {res['stages']} pass-through stages + sink, "
        f"20 ms PCM frames ({res['frame_bytes']} bytes, `AudioFrame` / Pipecat `InputAudioRawFrame`), "
        f"mailboxes/channels of {CAPACITY} (block). Per-hop = paced end-to-end / {res['stages']} "
        "(stage-1 entry → sink arrival); burst = frames / (first entry → last arrival).",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores (shared), Python {m['python']}, trio {m['trio']}, "
        f"msgspec {m['msgspec']}, pipecat-ai {m['pipecat']}.",
        "",
        _table(res),
        "",
        "Ratios (cadence.actors ÷ baseline; hop < 1 and burst > 1 are better):",
        "",
        *_ratio_lines(res),
        "",
        "cadence.actors runs with the stall watchdog on; the traced row adds hop tracing.",
        "Mailbox puts/gets that need not wait yield to the scheduler every 16th time "
        "(`THROUGHPUT`, as Akka's dispatcher throughput), which is why the runtime beats raw "
        "trio channels, which yield on every send and receive. p99 on a shared 2-core machine is "
        "dominated by preemption from other processes; compare p50s.",
        "",
    ])


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="cadence bench runtime", description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=5000, help="frames in the burst (default 5000)")
    ap.add_argument("--paced", type=int, default=1000, help="frames sent one at a time (default 1000)")
    ap.add_argument("--json", metavar="OUT", type=cli_args.out_file, help="write the results as JSON")
    ap.add_argument("--markdown", metavar="OUT", type=cli_args.out_file, help="write the results table as markdown")
    ap.add_argument("--trace", metavar="OUT", help="write a Perfetto trace of a short traced run")
    ap.add_argument("--no-pipecat", action="store_true", help="skip the Pipecat baseline")
    args = ap.parse_args(argv)
    if args.frames < 1 or args.paced < 1:
        raise InvalidArgumentError("--frames and --paced must be >= 1")
    res = run_all(args.paced, args.frames, args.trace, not args.no_pipecat)
    print(_table(res))
    print("\n".join(_ratio_lines(res)))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=2)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(_markdown(res, argv))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
