"""``cadence bench features``: cost of the floor model's input stage, Rust vs its Python reference.

The floor stage turns every 10 ms mic frame (and, in full duplex, the frame the
persona played) into the model's 60 inputs: Rust DSP features, Silero VAD, then
the echo estimate and speaker normalisation. The last step runs in Rust
(``FloorNormalizer``); its Python reference (``cadence.floor.reference``) is
the baseline, on the same frames in the same run, and the outputs are compared.
The audio is a real espeak-ng monologue with pauses (``--audio`` takes any WAV
instead); the duplex reference is a second voice whose echo is mixed into the
mic at −18 dB, 60 ms late. Frames are fed in chunks of 1 frame (the streaming
path) and 10 frames; each cell is the best of ``--repeat`` passes (one core).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cadence._core import FeatureExtractor, FloorNormalizer, resample
from cadence.bench.ring import machine
from cadence.errors import CadenceError
from cadence.floor.features import N_MELS
from cadence.floor.reference import ReferenceNormalizer
from cadence import cli_args

CHUNKS = (1, 10)
_TEXT = ("I was thinking, um, that we could go to the beach tomorrow. ... "
         "Or maybe, you know, the lake. ... What do you think? ... "
         "My sister said the road is closed, so we would have to leave early. ... ")


def _espeak(text: str, voice: str) -> np.ndarray:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise CadenceError("cadence bench features needs espeak-ng (or --audio WAV)")
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "x.wav"
        subprocess.run([exe, "-v", voice, "-w", str(out), text], check=True, capture_output=True)
        pcm = np.frombuffer(out.read_bytes()[44:], dtype="<i2").astype(np.float32) / 32768.0
    return resample(pcm, 22050, 16000)


def _frames(x: np.ndarray, n: int) -> np.ndarray:
    x = np.pad(x, (0, max(0, n * 160 - len(x))))[: n * 160]
    return np.ascontiguousarray(x.reshape(n, 160), np.float32)


def test_audio(audio: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """(mic frames, reference frames) for the run."""
    if audio is not None:
        from cadence.floor.bench import load_frames

        user = load_frames(str(audio)).reshape(-1)
    else:
        user = _espeak(_TEXT * 2, "en-us")
    persona = _espeak(_TEXT, "en-gb")
    n = len(user) // 160
    ref = _frames(np.concatenate([np.zeros(16000, np.float32), persona]), n)
    echo = np.zeros(n * 160, np.float32)
    echo[960:] = 0.126 * ref.reshape(-1)[:-960]
    mic = user[: n * 160] + echo + 1e-3 * np.random.default_rng(0).standard_normal(n * 160).astype(np.float32)
    return _frames(mic, n), ref


def best_time(run: Callable[[], np.ndarray], repeat: int) -> tuple[float, np.ndarray]:
    """The shortest wall time of ``repeat`` runs of ``run``, and its output."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = run()
        best = min(best, time.perf_counter() - t0)
    assert out is not None
    return best, out


def side_by_side(tasks: list[Callable[[], object]]) -> float:
    """Wall seconds for ``tasks`` run at once, one thread each, started together."""
    start = threading.Barrier(len(tasks) + 1)

    def work(task: Callable[[], object]) -> None:
        start.wait()
        task()

    threads = [threading.Thread(target=work, args=(task,)) for task in tasks]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def bench(mic: np.ndarray, ref: np.ndarray, repeat: int) -> dict[str, Any]:
    from cadence.floor.vad import SileroVad

    n = mic.shape[0]
    ex = FeatureExtractor(n_mels=N_MELS)
    raw = ex.process(mic)
    vad = SileroVad().frame_probs(mic).astype(np.float32)
    rows: list[dict[str, Any]] = []
    outputs: dict[str, np.ndarray] = {}
    for chunk in CHUNKS:
        spans = [(a, min(a + chunk, n)) for a in range(0, n, chunk)]

        def rust() -> np.ndarray:
            fn = FloorNormalizer(n_mels=N_MELS)
            return np.concatenate([fn.process(raw[a:b], vad[a:b], mic[a:b], ref[a:b]) for a, b in spans])

        def python() -> np.ndarray:
            rn = ReferenceNormalizer()
            return np.concatenate([rn.process(raw[a:b], vad[a:b], mic[a:b], ref[a:b]) for a, b in spans])

        def extractor() -> np.ndarray:
            fx = FeatureExtractor(n_mels=N_MELS)
            return np.concatenate([fx.process(mic[a:b]) for a, b in spans])

        for impl, run in (("FloorNormalizer (Rust)", rust), ("Python reference", python),
                          ("FeatureExtractor (Rust, for scale)", extractor)):
            secs, out = best_time(run, repeat)
            outputs[f"{impl}/{chunk}"] = out
            rows.append({"impl": impl, "chunk_frames": chunk, "us_per_frame": secs / n * 1e6,
                         "realtime_factor": n * 0.01 / secs})
    diff = max(float(np.max(np.abs(outputs[f"FloorNormalizer (Rust)/{c}"] - outputs[f"Python reference/{c}"])))
               for c in CHUNKS)
    return {"frames": n, "rows": rows, "max_abs_diff_rust_vs_python": diff}


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        "# Floor input stage: Rust FloorNormalizer vs its Python reference",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, numpy {m['numpy']}.",
        f"Command: `cadence bench features --repeat {result['repeat']}`; {result['frames']} frames "
        f"({result['frames'] / 100:.0f} s) of {result['audio']} with a persona echo (full duplex).",
        "",
        "| chunk (frames) | impl | µs / frame | realtime factor | cost ÷ FloorNormalizer |",
        "|---:|---|---:|---:|---:|",
    ]
    for chunk in CHUNKS:
        cells = [r for r in result["rows"] if r["chunk_frames"] == chunk]
        ours = cells[0]["us_per_frame"]
        for r in cells:
            lines.append(f"| {chunk} | {r['impl']} | {r['us_per_frame']:.2f} | {r['realtime_factor']:,.0f}× | "
                         f"{r['us_per_frame'] / ours:.1f}× |")
    lines += [
        "",
        f"Largest difference between the Rust and Python outputs: {result['max_abs_diff_rust_vs_python']:.1e}.",
        "The extractor row (raw DSP features, same chunks) is there for scale; it is not a baseline.",
        "",
    ]
    return "\n".join(lines)


def cli_main(argv: list[str] | None, prog: str, doc: str,
             measure: Callable[[np.ndarray, np.ndarray, int], dict[str, Any]],
             render: Callable[[dict[str, Any]], str]) -> int:
    """The command line of a bench on this module's test audio (``--audio``, ``--repeat``,
    ``--json``, ``--markdown``): ``measure(mic, reference, repeat)`` gives the results,
    ``render`` their markdown."""
    ap = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    ap.add_argument("--audio", type=Path, help="a WAV to use as the user's side (default: espeak-ng speech)")
    ap.add_argument("--repeat", type=int, default=3, help="passes per cell; the best counts (default 3)")
    ap.add_argument("--json", type=cli_args.out_file, help="write raw results as JSON here")
    ap.add_argument("--markdown", type=cli_args.out_file, help="write the markdown table here")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")
    mic, ref = test_audio(args.audio)
    result = {"machine": machine(), "repeat": args.repeat,
              "audio": str(args.audio) if args.audio else "espeak-ng speech", **measure(mic, ref, args.repeat)}
    report(render(result), result, args.json, args.markdown)
    return 0


def report(md: str, result: dict[str, Any], json_path: Path | None, md_path: Path | None) -> None:
    """Print a bench's markdown, and write it and the raw results where asked."""
    print(md)
    if json_path:
        json_path.write_text(json.dumps(result, indent=2))
    if md_path:
        md_path.write_text(md)


def main(argv: list[str] | None = None) -> int:
    return cli_main(argv, "cadence bench features", __doc__ or "", bench, markdown)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
