"""``cadence bench aec``: Cadence's echo canceller against WebRTC's AEC3 (LiveKit's SDK).

    cadence bench aec --corpus DIR/dev [--pairs 24] [--seed 0] [--move-at S] [--json OUT] [--markdown OUT]

Each case pairs a duplex file's persona track (what the persona played: real TTS
voices) with a half-duplex file's mic (the user's side: speech, noise, level, from
the corpus), both from a ``cadence corpus floor`` split. The persona's echo reaches
the mic through a path drawn as the corpus draws it (20–80 ms late, −30 to −10 dB,
low-passed at 2–5 kHz), so every part of the mic is known and the cancellers are
scored against the truth:

* **ERLE**, over frames of echo alone (the persona audible, no user speech within
  100 ms, and the echo at least 20 dB above the user's room noise, so the noise does not
  cap the ratio below 20 dB): mic energy over output energy. Reported for the first 3 s
  of persona speech in a case (convergence) and after. A linear canceller's ERLE is
  capped by the room noise it cannot remove: the table's header gives the ERLE of a
  perfect one (output = the user's track);
* **echo removed, after** (linear methods): the echo's energy over what is left of it
  (``out − user``) in the same frames after the first 3 s, so the noise does not cap it;
* **double talk** (the user's labelled speech while the echo is audible): output energy
  over the user's own energy, dB. The mic alone reads the echo on top (> 0 dB); a
  canceller should bring it to 0 dB; a suppressor that ducks the user reads < 0 dB;
* **echo removed in double talk** (``none`` and ``cadence``: linear, without delay, so
  ``out − user`` is what is left of the echo): echo energy over it, dB. WebRTC's APM
  delays and reshapes its output (by ~8–11 ms here), so the subtraction does not apply;
* with ``--move-at S``, the echo path moves S seconds into each case (a second path drawn
  the same way: the user turned the volume or moved the laptop), and **ERLE after the move**
  reads the first 3 s of persona speech after it (those frames leave "after");
* **µs per frame**, one core: Cadence's is one call per case; WebRTC's includes the
  per-frame Python loop, the int16 conversion and LiveKit's FFI call its API requires.

Methods: ``none`` (the raw mic), ``cadence`` (``EchoCanceller``: frequency-domain
Kalman filter with a shadow filter, no suppressor) and ``webrtc-aec3`` (``livekit.rtc.AudioProcessingModule``
with echo cancellation only: WebRTC's AEC3 with its delay estimator and residual-echo
suppressor, fed 10 ms int16 frames, stream delay 0).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cadence._core import FRAME_SAMPLES, INTERNAL_RATE, EchoCanceller
from cadence.bench.ring import machine
from cadence.errors import InvalidArgumentError
from cadence.floor.bench import load_frames
from cadence.floor.corpus.voices import frame_db
from cadence.floor.persona_sim import EchoPath
from cadence.floor.scoring import manifest_entries
from cadence import cli_args

CASE_S = 30.0
CONVERGE_S = 3.0
ECHO_AUDIBLE_DBFS = -60.0  # a frame's echo power must reach this to count
ALONE_MARGIN = 100.0  # echo-alone frames: echo energy ≥ 20 dB over the user track's


def _webrtc_aec3() -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    from livekit.rtc import AudioFrame, AudioProcessingModule  # type: ignore[import-untyped]

    def run(mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        apm = AudioProcessingModule(echo_cancellation=True)
        out = np.empty_like(mic)
        to16 = lambda a: (np.clip(a, -1.0, 1.0) * 32767.0).astype(np.int16)  # noqa: E731
        for i in range(len(mic)):
            apm.process_reverse_stream(AudioFrame(to16(ref[i]).tobytes(), INTERNAL_RATE, 1, FRAME_SAMPLES))
            apm.set_stream_delay_ms(0)
            frame = AudioFrame(to16(mic[i]).tobytes(), INTERNAL_RATE, 1, FRAME_SAMPLES)
            apm.process_stream(frame)
            out[i] = np.frombuffer(frame.data, np.int16) / 32767.0
        return out

    return run


def _cadence(mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return EchoCanceller().process(mic, ref)


METHODS: dict[str, Callable[[], Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "none": lambda: (lambda mic, ref: mic),
    "cadence": lambda: _cadence,
    "webrtc-aec3": _webrtc_aec3,
}


def _speech_frames(entry: dict[str, Any], n: int, margin_s: float = 0.1) -> np.ndarray:
    """(n,) bool: the user's labelled speech (meta.segments), widened by ``margin_s``."""
    out = np.zeros(n, bool)
    for seg in entry.get("meta", {}).get("segments", []):
        a = max(0, int((seg[0] - margin_s) * 100))
        b = min(n, int(np.ceil((seg[1] + margin_s) * 100)))
        out[a:b] = True
    return out


def _echo(ref: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, float]]:
    """The persona's echo through a path drawn as the corpus draws it (``EchoPath``: 20–80 ms
    late, −30 to −10 dB, low-passed at 2–5 kHz); ``ref`` holds whole 10 ms frames."""
    path = EchoPath(rng)
    return np.concatenate([path.push(f) for f in ref.reshape(-1, FRAME_SAMPLES)]), path.meta()


def make_cases(corpus: Path, pairs: int, seed: int, move_at: float | None = None) -> list[dict[str, Any]]:
    """Cases of (mic, ref, echo, user frames, labels, path) from a corpus split; with ``move_at``
    the echo path changes that many seconds in (a second path, drawn as the first)."""
    entries = manifest_entries(corpus / "manifest.jsonl")
    refs = [e for e in entries if e.get("meta", {}).get("persona_audio")]
    users = [e for e in entries if not e.get("meta", {}).get("duplex") and e.get("meta", {}).get("segments")]
    if not refs or not users:
        raise InvalidArgumentError(f"{corpus}: needs duplex files (persona_audio) and half-duplex files with "
                                   "meta.segments; `cadence corpus floor` splits have both")
    rng = np.random.default_rng(seed)
    n = int(CASE_S * 100)
    cases = []
    for k in range(pairs):
        r, u = refs[k % len(refs)], users[int(rng.integers(len(users)))]
        ref = load_frames(str(corpus / r["meta"]["persona_audio"]))
        user = load_frames(str(corpus / u["audio"]))
        # start where the persona talks, so each case holds speech on both sides
        first = int(r["meta"]["persona"][0][0] * 100) if r["meta"].get("persona") else 0
        ref = ref[first : first + n]
        m = min(len(ref), len(user))
        ref, user = ref[:m], user[:m]
        echo, path1 = _echo(ref.reshape(-1), rng)
        path: dict[str, Any] = path1
        move = None
        if move_at is not None:
            move = min(int(move_at * 100), m)
            # its own generator: the cases are otherwise the same as without a move
            echo2, path2 = _echo(ref.reshape(-1), np.random.default_rng([seed, 1000 + k]))
            echo[move * FRAME_SAMPLES :] = echo2[move * FRAME_SAMPLES :]
            path = {"first": path1, "moved": path2}
        echo = echo.reshape(m, FRAME_SAMPLES)
        cases.append({"mic": (echo + user).astype(np.float32), "ref": ref, "echo": echo, "user": user,
                      "talk": _speech_frames(u, m), "path": path, "move_frame": move,
                      "files": [r["audio"], u["audio"]]})
    return cases


def _ratio_db(a: np.ndarray, b: np.ndarray) -> float | None:
    return None if len(a) == 0 or a.sum() <= 0 else float(10 * np.log10(a.sum() / max(b.sum(), 1e-20)))


def score_case(case: dict[str, Any], out: np.ndarray, linear: bool) -> dict[str, float | None]:
    """One case's figures (dB; None where the case has no such frames)."""
    audible = frame_db(case["echo"].reshape(-1), INTERNAL_RATE) > ECHO_AUDIBLE_DBFS
    first = np.cumsum(audible) <= CONVERGE_S * 100
    e = lambda x: np.sum(np.asarray(x, np.float64) ** 2, axis=1)  # noqa: E731
    mic, o, user, echo, rest = e(case["mic"]), e(out), e(case["user"]), e(case["echo"]), e(out - case["user"])
    # echo alone: no user speech near, and the echo 20 dB over the rest of the mic (the user's
    # room noise), so the mic is the echo and the ratio is not capped by the noise
    alone = audible & ~case["talk"] & (echo > ALONE_MARGIN * user)
    early, late = alone & first, alone & ~first
    moved = np.zeros_like(alone)
    if case.get("move_frame") is not None:
        after = np.arange(len(audible)) >= case["move_frame"]
        moved = alone & after & (np.cumsum(audible & after) <= CONVERGE_S * 100)
        early &= ~moved  # a move inside the first 3 s: its frames count once, as after the move
        late &= ~moved
    double = audible & case["talk"]
    return {"erle_first_3s_db": _ratio_db(mic[early], o[early]), "erle_after_db": _ratio_db(mic[late], o[late]),
            "erle_after_move_db": _ratio_db(mic[moved], o[moved]),
            "echo_removed_after_db": _ratio_db(echo[late], rest[late]) if linear else None,
            "double_talk_out_over_user_db": _ratio_db(o[double], user[double]),
            "double_talk_echo_removed_db": _ratio_db(echo[double], rest[double]) if linear else None}


def summarize(scores: list[dict[str, float | None]], us_per_frame: float) -> dict[str, Any]:
    """The median over cases of each figure."""
    out: dict[str, Any] = {}
    for k in scores[0]:
        v = [x for s in scores if (x := s[k]) is not None]
        out[k] = float(np.median(v)) if v else None
    out["us_per_frame"] = us_per_frame
    out["cases"] = scores
    return out


COLS = (("method", None), ("ERLE, first 3 s (dB)", "erle_first_3s_db"), ("ERLE, after (dB)", "erle_after_db"),
        ("echo removed, after (dB)", "echo_removed_after_db"),
        ("ERLE, 3 s after the path moves (dB)", "erle_after_move_db"),
        ("double talk: out over user (dB)", "double_talk_out_over_user_db"),
        ("double talk: echo removed (dB)", "double_talk_echo_removed_db"), ("µs per frame", "us_per_frame"))


def _db(v: float | None) -> str:
    return "–" if v is None else f"{v:.1f}"


def markdown(summary: dict[str, dict[str, Any]], meta: dict[str, Any]) -> str:
    cols = [c for c in COLS if c[1] != "erle_after_move_db" or meta.get("move_at") is not None]
    lines = [f"Corpus `{meta['corpus']}`: {meta['pairs']} cases of up to {CASE_S:.0f} s (seed {meta['seed']}); "
             f"each figure is the median over cases. Machine: {meta['machine']['cpu']}, "
             f"{meta['machine']['cores']} cores. A perfect linear canceller (output = the user's track) "
             f"reads an ERLE of {_db(meta['ideal']['erle_first_3s_db'])} / {_db(meta['ideal']['erle_after_db'])} dB "
             "(the user's room noise caps it); more needs a suppressor."
             + ("" if meta.get("move_at") is None else f" The echo path moves {meta['move_at']:g} s into each case."),
             "",
             "| " + " | ".join(c for c, _ in cols) + " |", "|" + "|".join("---" if k is None else "---:" for _, k in cols) + "|"]
    for name, s in summary.items():
        cells = [name] + ["–" if s[k] is None else (f"{s[k]:.1f}" if k != "us_per_frame" else f"{s[k]:.0f}")
                          for _, k in cols[1:] if k is not None]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="cadence bench aec", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True, type=Path, help="a split folder (manifest.jsonl) with duplex files")
    ap.add_argument("--pairs", type=int, default=24)
    ap.add_argument("--seed", type=cli_args.seed, default=0)
    ap.add_argument("--move-at", type=float, default=None,
                    help="seconds into each case at which the echo path moves (a second path)")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--json", type=cli_args.out_file, default=None)
    ap.add_argument("--markdown", type=cli_args.out_file, default=None)
    args = ap.parse_args(argv)
    names = [m for m in args.methods.split(",") if m]
    if not names or any(m not in METHODS for m in names):
        raise InvalidArgumentError(f"--methods {args.methods!r}: expected names from {list(METHODS)}")
    if args.pairs < 1:
        raise InvalidArgumentError("--pairs must be at least 1")
    if args.move_at is not None and not 0.0 < args.move_at < CASE_S:
        raise InvalidArgumentError(f"--move-at must be inside a case (0, {CASE_S:.0f}) s, got {args.move_at}")
    cases = make_cases(args.corpus, args.pairs, args.seed, args.move_at)
    summary: dict[str, dict[str, Any]] = {}
    for name in names:
        run = METHODS[name]()
        scores, compute, frames = [], 0.0, 0
        for case in cases:
            t = time.perf_counter()
            out = run(case["mic"], case["ref"])
            compute += time.perf_counter() - t
            frames += len(out)
            scores.append(score_case(case, out, linear=name != "webrtc-aec3"))
        summary[name] = summarize(scores, compute / frames * 1e6)
    ideal = summarize([score_case(c, c["user"], linear=True) for c in cases], 0.0)
    meta = {"corpus": str(args.corpus), "pairs": len(cases), "seed": args.seed, "move_at": args.move_at,
            "machine": machine(),
            "ideal": {k: ideal[k] for k in ("erle_first_3s_db", "erle_after_db")},
            "paths": [c["path"] for c in cases], "files": [c["files"] for c in cases]}
    text = markdown(summary, meta)
    print(text)
    if args.markdown:
        args.markdown.write_text("# Echo cancellation (`cadence bench aec`)\n\n" + text)
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "meta": meta}, indent=1))
    return 0
