"""``cadence corpus floor-phone``: turn ends from a real telephone conversation.

    cadence corpus floor-phone --out DIR [--files N] [--seed S] [--call WAV --stm STM]

``floor-recorded`` reads speaker-test labels; this split reads people talking. The
``pyannote-audio`` package carries a 30 s excerpt of a recorded telephone call
between two speakers (``pyannote/audio/sample/sample.wav``, 16 kHz mono, both
voices on one channel) with its transcript (``sample.stm``: who speaks when, and
what). ``scripts/setup.sh`` installs the package without its dependencies, for
these two files only.

Each speaker in turn plays the user. A turn is a run of that speaker's transcript
lines with no line of the other between them; it is cut from the call at the
transcript's times, so its ending is a real turn end, with the prosody, the
phrasing ("Neither did I.", "This is Diane in New Jersey.") and the pauses of
conversation. Where the other speaker talked, the file holds silence: that is the
persona's window, 2.5 s after each turn (the other speaker's backchannels inside
a turn stay in, as a mic would hear them). The call's last line runs into the end
of the recording (whether it was finished is unknown) and is left out: 4 turns per
speaker remain, 8 turn ends in all.

Labels come from the energy, as in ``floor-recorded`` (``clip_runs``: frames within
40 dB of the turn's loudest, merged over gaps < 150 ms): the end of a turn's last
run is the ``shift``; a gap of 150 ms or more inside a turn is a ``hold``. File k
is speaker k mod 2 at a seeded mic level and noise (``condition_audio``). It is
8 real turn ends under varied conditions, not a conversational corpus: too few
for a rate, enough to see whether a policy answers people at all.

``--call WAV --stm STM`` builds the same kind of split from your own recorded call
and its NIST STM transcript (``file channel speaker start end words`` per line;
the speakers on one channel, a few seconds of turns each); file k is then the k-th
speaker (in name order) modulo their number.
"""

from __future__ import annotations

import argparse
import json
import os
from importlib import metadata
from typing import Any

import numpy as np
import soundfile as sf  # type: ignore[import-untyped]

from cadence.errors import InvalidArgumentError

from .recorded import AFTER_S, LEAD_S, clip_runs, condition_audio

__all__ = ["sample_paths", "read_turns", "build", "main"]

_SAMPLE = "pyannote/audio/sample/sample"
END_MARGIN_S = 0.1  # a line ending this close to the recording's end may be cut off


def sample_paths() -> tuple[str, str]:
    """(wav, stm) of the telephone sample the installed ``pyannote-audio`` carries."""
    try:
        dist = metadata.distribution("pyannote.audio")
    except metadata.PackageNotFoundError as e:
        raise InvalidArgumentError(
            "floor-phone needs the pyannote-audio package for its sample call: "
            "pip install --no-deps pyannote-audio==4.0.7 (scripts/setup.sh does)") from e
    paths = (str(dist.locate_file(_SAMPLE + ".wav")), str(dist.locate_file(_SAMPLE + ".stm")))
    for p in paths:
        if not os.path.isfile(p):
            raise InvalidArgumentError(f"the installed pyannote-audio has no {p}")
    return paths


def read_turns(stm: str, duration_s: float) -> list[tuple[str, float, float, str]]:
    """(speaker, start, end, words) per turn: consecutive transcript lines of one speaker
    merged; a final line that reaches the recording's end is dropped."""
    lines = []
    with open(stm) as f:
        for n, row in enumerate(f, 1):
            parts = row.split(maxsplit=5)
            if len(parts) < 5 or row.startswith(";;"):  # blank, short, or an STM comment
                continue
            try:
                start, end = float(parts[3]), float(parts[4])
            except ValueError as e:
                raise InvalidArgumentError(f"{stm}:{n}: start and end must be seconds: {row.strip()!r}") from e
            if not 0.0 <= start < end:
                raise InvalidArgumentError(f"{stm}:{n}: a line must end after it starts: {row.strip()!r}")
            lines.append((parts[2], start, end, parts[5].strip() if len(parts) > 5 else ""))
    lines.sort(key=lambda r: r[1])
    if lines and lines[-1][2] > duration_s - END_MARGIN_S:
        lines.pop()
    turns: list[tuple[str, float, float, str]] = []
    for who, a, b, words in lines:
        if turns and turns[-1][0] == who:
            turns[-1] = (who, turns[-1][1], b, f"{turns[-1][3]} {words}")
        else:
            turns.append((who, a, b, words))
    return turns


def _file(k: int, call: np.ndarray, rate: int, turns: list[tuple[str, float, float, str]],
          speakers: list[str], seed: int, speech_rms: float, source: str) -> tuple[np.ndarray, dict[str, Any]]:
    rng = np.random.default_rng([seed, k])
    who = speakers[k % len(speakers)]
    pieces = [np.zeros(int(LEAD_S * rate), np.float32)]
    t = LEAD_S
    events: list[dict[str, Any]] = []
    segments: list[list[Any]] = []
    for speaker, a, b, words in turns:
        if speaker != who:
            continue
        x = call[int(round(a * rate)):int(round(b * rate))]
        try:
            runs = clip_runs(x, rate)
        except InvalidArgumentError as err:
            raise InvalidArgumentError(f"{speaker}'s turn {a:.2f}-{b:.2f} s of the call: {err}") from err
        for (_s, e), (s2, _e2) in zip(runs, runs[1:]):
            events.append({"type": "hold", "start": round(t + e, 4), "end": round(t + s2, 4)})
        events.append({"type": "shift", "t": round(t + runs[-1][1], 4)})
        segments.append([round(t + runs[0][0], 4), round(t + runs[-1][1], 4), words, "final"])
        pieces += [x, np.zeros(int(AFTER_S * rate), np.float32)]
        t += len(x) / rate + AFTER_S
    audio, condition = condition_audio(np.concatenate(pieces), rate, rng, speech_rms)
    meta = {"source": source, "speaker": who, **condition,
            "voice": f"recorded:phone-{who}", "segments": segments}
    return audio, {"events": events, "meta": meta}


def build(out: str, files: int = 24, seed: int = 0, call_wav: str | None = None, stm: str | None = None) -> str:
    """Write the split; returns its folder (``out/phone``). Without ``call_wav``/``stm``: the
    sample call that pyannote-audio carries."""
    if files < 1:
        raise InvalidArgumentError(f"--files must be >= 1, got {files}")
    if (call_wav is None) != (stm is None):
        raise InvalidArgumentError("--call and --stm go together (a recorded call and its transcript)")
    wav, stm = (call_wav, stm) if call_wav is not None and stm is not None else sample_paths()
    call, rate = sf.read(wav, dtype="float32", always_2d=True)
    call = call.mean(axis=1)
    turns = read_turns(stm, len(call) / rate)
    speakers = sorted({t[0] for t in turns})
    if not speakers:
        raise InvalidArgumentError(f"no transcript lines in {stm} (expected: file channel speaker start end words)")
    excerpts = [call[int(round(a * rate)):int(round(b * rate))] for _w, a, b, _x in turns]
    speech_rms = float(np.sqrt(np.mean(np.concatenate(excerpts).astype(np.float64) ** 2)))
    source = "pyannote-audio's sample telephone call" if call_wav is None else f"the call {os.path.basename(wav)}"
    split = os.path.join(out, "phone")
    os.makedirs(os.path.join(split, "audio"), exist_ok=True)
    with open(os.path.join(split, "manifest.jsonl"), "w") as f:
        for k in range(files):
            audio, row = _file(k, call, rate, turns, speakers, seed, speech_rms, source)
            rel = f"audio/phone_{k:03d}.wav"
            sf.write(os.path.join(split, rel), audio, rate, subtype="PCM_16")
            f.write(json.dumps({"audio": rel, **row}) + "\n")
    return split


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="cadence corpus floor-phone", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--files", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--call", default=None, help="your own recorded call (WAV; default: pyannote-audio's sample)")
    ap.add_argument("--stm", default=None, help="its transcript (NIST STM)")
    args = ap.parse_args(argv)
    split = build(args.out, args.files, args.seed, args.call, args.stm)
    print(f"wrote {args.files} files to {split}")
    return 0
