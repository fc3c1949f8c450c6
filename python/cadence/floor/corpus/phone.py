"""``cadence corpus floor-phone``: turn ends from a real telephone conversation.

    cadence corpus floor-phone --out DIR [--files N] [--seed S] [--call WAV --stm STM]

``floor-recorded`` reads speaker-test labels; this split reads people talking. The
``pyannote-audio`` package carries a 30 s excerpt of a recorded telephone call
between two speakers (``pyannote/audio/sample/sample.wav``, 16 kHz mono, both
voices on one channel) with its transcript (``sample.stm``: who speaks when, and
what). ``scripts/setup.sh`` installs the package without its dependencies, for
these two files only.

Each speaker in turn plays the user. A turn is a run of that speaker's transcript
lines up to a line of the other speaker that is not inside it (a line wholly inside
the turn is a backchannel: it stays in the audio, as a mic would hear it). It is cut
from the call from its first line's start to where its energy decays after its last
line, but never into the other speaker's next line, with 10 ms fades at both cuts; so
it ends at a real turn end, with the prosody, the phrasing ("Neither did I.", "This
is Diane in New Jersey.") and the pauses of conversation. After each turn the file
holds 2.5 s of silence, the persona's window. The turn that reaches the end of the
recording (whether it was finished is unknown) is left out: 4 turns per speaker
remain, 8 turn ends in all.

Labels come from the energy of the clean call: speech is a 10 ms frame more than
``SPEECH_ABOVE_FLOOR_DB`` (20 dB) above the call's noise floor (its 10th-percentile
frame level), in runs merged over gaps < 150 ms (``clip_runs``). The end of a turn's
last run is the ``shift``; a gap of 150 ms or more inside a turn is a ``hold`` (this
call has four, 180–270 ms). File k is speaker k mod 2 under a seeded mic level and
noise (``condition_audio``). It is 8 real turn ends under varied conditions, not a
conversational corpus: too few for a rate, enough to see whether a policy answers
people at all.

``--call WAV --stm STM`` builds the same kind of split from your own recorded call
and its NIST STM transcript (``file channel speaker start end [<label>] words`` per
line, one file id; a stereo call is mixed to mono); file k is then the k-th speaker
(in name order) modulo their number.
"""

from __future__ import annotations

import argparse
import math
import os
from importlib import metadata
from typing import Any

import numpy as np
import soundfile as sf  # type: ignore[import-untyped]

from cadence.errors import InvalidArgumentError
from cadence import cli_args

from .recorded import AFTER_S, LEAD_S, clip_runs, condition_audio, mean_rms, turn_labels, write_split
from .voices import frame_db

__all__ = ["Turn", "sample_paths", "read_turns", "cut_turns", "build", "main"]

_SAMPLE = "pyannote/audio/sample/sample"
END_MARGIN_S = 0.1  # a turn ending this close to the recording's end may be cut off
SPEECH_ABOVE_FLOOR_DB = 20.0  # speech: this far above the call's noise floor
DECAY_MAX_S = 0.4  # a turn's cut may run this far past its last line, while its energy lasts
GUARD_S = 0.02  # and stops this short of the other speaker's next line
FADE_S = 0.01
_NOT_SPEAKERS = {"inter_segment_gap", "excluded_region"}  # STM lines that are not speech

Turn = tuple[str, float, float, str]  # (speaker, start s, end s, words)


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


def _read_lines(stm: str, duration_s: float) -> list[Turn]:
    """The transcript's speech lines, checked, in order of start."""
    lines: list[Turn] = []
    files: set[str] = set()
    with open(stm) as f:
        for n, row in enumerate(f, 1):
            text = row.strip()
            if not text or text.startswith(";;"):  # blank, or an STM comment
                continue
            parts = text.split(maxsplit=5)
            if len(parts) < 5:
                raise InvalidArgumentError(f"{stm}:{n}: expected 'file channel speaker start end words', got {text!r}")
            try:
                start, end = float(parts[3]), float(parts[4])
            except ValueError as e:
                raise InvalidArgumentError(f"{stm}:{n}: start and end must be seconds: {text!r}") from e
            if not (math.isfinite(start) and math.isfinite(end) and 0.0 <= start < end):
                raise InvalidArgumentError(f"{stm}:{n}: a line must have finite times and end after it starts: {text!r}")
            if end > duration_s + 0.05:
                raise InvalidArgumentError(f"{stm}:{n}: the line ends at {end:g} s, after the call's "
                                           f"{duration_s:.2f} s: {text!r}")
            files.add(parts[0])
            if parts[2] in _NOT_SPEAKERS:
                continue
            words = parts[5] if len(parts) > 5 else ""
            if words.startswith("<") and ">" in words:  # the optional <o,f0,male> label field
                words = words[words.index(">") + 1:].strip()
            lines.append((parts[2], start, end, words))
    if len(files) > 1:
        raise InvalidArgumentError(f"{stm} transcribes {len(files)} files ({', '.join(sorted(files))}); "
                                   "give it the lines of the one call")
    return sorted(lines, key=lambda r: r[1])


def read_turns(stm: str, duration_s: float) -> list[Turn]:
    """(speaker, start, end, words) per turn: a speaker's lines merged up to a line of the
    other that is not wholly inside the turn; the turn that reaches the recording's end is
    dropped."""
    turns: list[Turn] = []
    for who, a, b, words in _read_lines(stm, duration_s):
        if turns and turns[-1][0] == who:
            t = turns[-1]
            turns[-1] = (who, t[1], max(t[2], b), f"{t[3]} {words}".strip())
        elif turns and turns[-1][1] <= a and b <= turns[-1][2]:
            continue  # a backchannel inside the turn: it stays in the audio
        else:
            turns.append((who, a, b, words))
    if turns:
        last = max(range(len(turns)), key=lambda i: turns[i][2])
        if turns[last][2] > duration_s - END_MARGIN_S:
            turns.pop(last)
    return turns


def cut_turns(call: np.ndarray, rate: int, turns: list[Turn]) -> list[tuple[np.ndarray, list[tuple[float, float]]]]:
    """(audio, speech runs in s) per turn: the call from the turn's start to where its
    energy decays after its end (at most ``DECAY_MAX_S``, never into another speaker's
    next line), faded in and out; speech is ``SPEECH_ABOVE_FLOOR_DB`` above the noise floor."""
    above = float(np.percentile(frame_db(call, rate), 10)) + SPEECH_ABOVE_FLOOR_DB
    fade = np.linspace(0.0, 1.0, int(FADE_S * rate), dtype=np.float32)
    out = []
    for i, (who, a, b, _words) in enumerate(turns):
        nxt = min([t[1] for t in turns[i + 1:] if t[0] != who] + [len(call) / rate])
        limit = int(min(b + DECAY_MAX_S, max(b, nxt - GUARD_S)) * rate)
        end = int(round(b * rate))
        hop = rate // 100
        while end + hop <= limit and frame_db(call[end:end + hop], rate)[0] > above:
            end += hop
        x = call[int(round(a * rate)):end].copy()
        if len(x) > 2 * len(fade):
            x[:len(fade)] *= fade
            x[-len(fade):] *= fade[::-1]
        try:
            runs = clip_runs(x, rate, above_db=above)
        except InvalidArgumentError as err:
            raise InvalidArgumentError(f"{who}'s turn {a:.2f}-{b:.2f} s of the call: {err}") from err
        if not runs:
            raise InvalidArgumentError(f"{who}'s turn {a:.2f}-{b:.2f} s of the call: no speech above the noise floor")
        out.append((x, runs))
    return out


def _file(k: int, turns: list[Turn], cuts: list[tuple[np.ndarray, list[tuple[float, float]]]], rate: int,
          speakers: list[str], seed: int, speech_rms: float, source: str,
          ) -> tuple[np.ndarray, int, dict[str, Any]]:
    """Audio, rate and manifest row (audio path left to the caller) of file ``k``: speaker k mod n's
    turns in call order, each followed by the persona's window, under a seeded condition."""
    rng = np.random.default_rng([seed, k])
    who = speakers[k % len(speakers)]
    pieces = [np.zeros(int(LEAD_S * rate), np.float32)]
    t = LEAD_S
    events: list[dict[str, Any]] = []
    segments: list[list[Any]] = []
    for (speaker, _a, _b, words), (x, runs) in zip(turns, cuts):
        if speaker != who:
            continue
        turn_events, segment = turn_labels(t, runs, words)
        events += turn_events
        segments.append(segment)
        pieces += [x, np.zeros(int(AFTER_S * rate), np.float32)]
        t += len(x) / rate + AFTER_S
    audio, condition = condition_audio(np.concatenate(pieces), rate, rng, speech_rms)
    meta = {"source": source, "speaker": who, **condition,
            "voice": f"recorded:phone-{who}", "segments": segments}
    return audio, rate, {"events": events, "meta": meta}


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
        raise InvalidArgumentError(f"no turn in {stm} (lines: file channel speaker start end words)")
    cuts = cut_turns(call, rate, turns)
    speech_rms = mean_rms([x for x, _r in cuts])
    source = "pyannote-audio's sample telephone call" if call_wav is None else f"the call {os.path.basename(wav)}"
    return write_split(out, "phone", files, lambda k: _file(k, turns, cuts, rate, speakers, seed, speech_rms, source))


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="cadence corpus floor-phone", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--files", type=int, default=24)
    ap.add_argument("--seed", type=cli_args.seed, default=0)
    ap.add_argument("--call", default=None, help="your own recorded call (WAV; default: pyannote-audio's sample)")
    ap.add_argument("--stm", default=None, help="its transcript (NIST STM)")
    args = ap.parse_args(argv)
    split = build(args.out, args.files, args.seed, args.call, args.stm)
    print(f"wrote {args.files} files to {split}")
    return 0
