"""Benchmark the renderer kernels against their baselines on a 1080p frame batch.

For each op it times, in the same run and on the same inputs:
  - triton: the Triton kernel (cadence_kernels.<op>.<op>), on the current device
  - eager:  the torch-eager baseline (same device)
  - naive:  the numpy reference (CPU)
and reports median ms per call, effective GB/s (the bytes the op must move at
minimum, divided by the time: the same byte count for every implementation) and
the speed-up of the kernel over each baseline.

Without a CUDA device the kernels run on the triton interpreter (TRITON_INTERPRET=1)
on CPU tensors: those numbers measure the interpreter, not the kernel, and are
reported only to show the harness works; the default batch then drops to 1.

    .venv/bin/python benches/bench_kernels.py            # auto device
    .venv/bin/python benches/bench_kernels.py --batch 8 --reps 50 --md out.md
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def _pick_device() -> str:
    import torch

    if torch.cuda.is_available() and os.environ.get("TRITON_INTERPRET", "") not in ("1", "true"):
        return "cuda"
    os.environ["TRITON_INTERPRET"] = "1"  # before cadence_kernels imports triton kernels
    return "cpu"


@dataclass
class Row:
    op: str
    impl: str
    ms: float
    gbps: float
    note: str = ""


def time_it(fn: Callable[[], object], device: str, reps: int, warmup: int) -> float:
    """Median wall time in ms of ``fn`` (device-synchronised on CUDA)."""
    import torch

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def smooth_flow(rng: np.random.Generator, b: int, h: int, w: int, amp: float) -> np.ndarray:
    """A smooth, landmark-like displacement field: a few Gaussian bumps per stream."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    flow = np.zeros((b, h, w, 2), np.float32)
    for s in range(b):
        for _ in range(6):
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            sigma = rng.uniform(0.05, 0.2) * min(h, w)
            g = np.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2 * sigma**2))
            flow[s, ..., 0] += rng.uniform(-amp, amp) * g
            flow[s, ..., 1] += rng.uniform(-amp, amp) * g
    return flow


def bench_composite(device: str, b: int, h: int, w: int, lh: int, lw: int, reps: int, warmup: int) -> list[Row]:
    import torch

    from cadence_kernels.composite import composite, composite_eager, composite_naive

    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (b, h, w, 3), dtype=np.uint8)
    a = rng.integers(0, 256, (b, lh, lw, 1))
    layer = np.concatenate([rng.integers(0, 256, (b, lh, lw, 3)) * a // 255, a], -1).astype(np.uint8)
    # Mouth-sized layer near the lower middle of each frame, one stream clipped at the border.
    xy = np.stack([rng.integers(0, w - lw, b), rng.integers(0, h - lh, b)], 1)
    xy[-1] = (w - lw // 2, h - lh // 2)
    ft = torch.from_numpy(frame).to(device)
    lt = torch.from_numpy(layer).to(device)
    xyt = torch.from_numpy(xy.astype(np.int32)).to(device)
    # Minimum traffic: read layer RGBA, read + write frame RGB, per composited pixel.
    nbytes = b * lh * lw * (4 + 3 + 3)
    rows = []
    ms = time_it(lambda: composite(ft, lt, xyt, inplace=True), device, reps, warmup)
    rows.append(Row("composite", "triton", ms, nbytes / ms / 1e6, "in place"))
    ms = time_it(lambda: composite_eager(ft, lt, xyt, inplace=True), device, reps, warmup)
    rows.append(Row("composite", "torch eager", ms, nbytes / ms / 1e6, "in place, loop over streams"))
    ms = time_it(lambda: composite_naive(frame, layer, xy), "cpu", max(1, reps // 4), 1)
    rows.append(Row("composite", "numpy naive", ms, nbytes / ms / 1e6, "copies the frame"))
    return rows


def bench_warp(device: str, b: int, h: int, w: int, reps: int, warmup: int) -> list[Row]:
    import torch

    from cadence_kernels.warp import warp, warp_eager, warp_naive

    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (b, h, w, 3), dtype=np.uint8)
    flow = smooth_flow(rng, b, h, w, amp=0.03 * min(h, w))
    it = torch.from_numpy(img).to(device)
    flt = torch.from_numpy(flow).to(device)
    out = torch.empty_like(it)
    # Minimum traffic: image in once, flow in, image out.
    nbytes = b * h * w * (3 + 8 + 3)
    rows = []
    ms = time_it(lambda: warp(it, flt, out=out), device, reps, warmup)
    rows.append(Row("warp", "triton", ms, nbytes / ms / 1e6, "preallocated out"))
    ms = time_it(lambda: warp_eager(it, flt), device, reps, warmup)
    rows.append(Row("warp", "torch eager", ms, nbytes / ms / 1e6, "grid_sample"))
    ms = time_it(lambda: warp_naive(img, flow), "cpu", max(1, reps // 4), 1)
    rows.append(Row("warp", "numpy naive", ms, nbytes / ms / 1e6, ""))
    return rows


def to_markdown(rows: list[Row], header: str) -> str:
    lines = [header, "", "| op | impl | ms | GB/s | kernel speed-up | note |", "|---|---|---:|---:|---:|---|"]
    for r in rows:
        kern = next(k for k in rows if k.op == r.op and k.impl == "triton")
        lines.append(f"| {r.op} | {r.impl} | {r.ms:.3f} | {r.gbps:.2f} | {r.ms / kern.ms:.2f}× | {r.note} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, default=None, help="streams per batch (default 4 on GPU, 1 on CPU)")
    p.add_argument("--height", type=int, default=1080)
    p.add_argument("--width", type=int, default=1920)
    p.add_argument("--layer", type=int, nargs=2, default=(256, 384), metavar=("H", "W"), help="composite layer size")
    p.add_argument("--reps", type=int, default=None, help="timed repetitions (default 100 GPU, 3 CPU)")
    p.add_argument("--md", default=None, help="also write the markdown table to this path")
    args = p.parse_args(argv)

    try:
        device = _pick_device()
        import triton  # type: ignore[import-untyped]
    except ImportError as exc:
        print(f"bench_kernels: needs torch and triton ({exc})", file=sys.stderr)
        return 2
    import torch

    gpu = device == "cuda"
    b = args.batch or (4 if gpu else 1)
    reps = args.reps or (100 if gpu else 3)
    warmup = 10 if gpu else 1
    h, w = args.height, args.width
    if gpu:
        where = torch.cuda.get_device_name()
        caveat = ""
    else:
        where = f"CPU, triton interpreter (torch {torch.__version__}, triton {triton.__version__})"
        caveat = (
            "\n> No GPU: the triton rows time the triton *interpreter* (numpy under the hood), "
            "not a compiled kernel. They show the harness works; they say nothing about GPU speed."
        )
    rows = bench_composite(device, b, h, w, args.layer[0], args.layer[1], reps, warmup)
    rows += bench_warp(device, b, h, w, reps, warmup)
    header = (
        f"### cadence_kernels, {b}×{h}×{w} RGB uint8 (composite layer {args.layer[0]}×{args.layer[1]}), "
        f"{where}, median of {reps}\n{caveat}"
    )
    md = to_markdown(rows, header)
    print(md)
    if args.md:
        with open(args.md, "w") as fh:
            fh.write(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
