"""``cadence corpus floor-prompts``: turn ends and unfinished phrases read by a human voice.

    cadence corpus floor-prompts --out DIR [--files N] [--turns K] [--seed S]
                                 [--sounds DIR] [--transcript FILE]

Debian's ``asterisk-core-sounds-en-wav`` carries the recorded prompts of Asterisk's US
English voice (one professional human speaker, 8 kHz WAV) and ``asterisk-core-sounds-en``
their transcript (``core-sounds-en.txt.gz``). The transcript says which prompts are
finished sentences and which are fragments read to be spliced before a number, so the
labels come from the words, not from a model:

* a **final** prompt is one sentence ending in ``.``, ``?`` or ``!`` ("Your call cannot be
  completed as dialed."): its end is a ``shift``; a pause of 150 ms or more inside it is a
  ``hold``, and in half of the final turns that have one (seeded) the longest is stretched
  to 0.5–1.5 s, as a speaker who hesitates;
* an **open** prompt ends in ``...`` or ``:`` or on a word that needs more after it ("To
  mute or unmute yourself...", "Press 1 for", "There are currently"): its speech is followed
  by ``OPEN_PAUSE_S`` (0.3–1.5 s) of silence and then the speech of a number from
  ``digits/`` ("seven"), and that pause is a ``hold``: the unfinished phrase must keep the
  floor; the number's end is the ``shift``.

Not used: prompts of several sentences, tones, single words, and sentence-marked fragments
(a ``.`` after a word such as "to", or an infinitive alone: "To call this number.", which
the recordings splice before "press 1"). Kept as final although Asterisk's dialplans often
say more after them: about a dozen heading-like phrases with a period ("Telephone number.",
"Call-Forward Unconditional.", "...using your touchtone keypad."); the speaker ends them with
a full fall, and a listener could take the floor there. A file is
``--turns`` prompts (an open one with probability ``OPEN_SHARE``), each followed by
2.5 s of silence, at a seeded mic level in seeded noise (as ``floor-recorded``). Speech
extents come from the clips' energy (``recorded.clip_runs``): the prompts are studio
clean. One voice, IVR phrasing, telephone band: a second human voice, and the first with
unfinished phrases, not a measure of conversation.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
from typing import Any

import numpy as np
import soundfile as sf  # type: ignore[import-untyped]

from cadence.errors import InvalidArgumentError

from .recorded import AFTER_S, LEAD_S, clip_runs, condition_audio, hesitate, mean_rms, turn_labels, write_split

__all__ = ["SOUNDS_DIR", "TRANSCRIPT", "prompt_kind", "read_transcript", "build", "main"]

SOUNDS_DIR = "/usr/share/asterisk/sounds/en"
TRANSCRIPT = "/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
OPEN_PAUSE_S = (0.3, 1.5)
OPEN_SHARE = 1 / 3
_EDGE_S = 0.01  # silence kept at a spliced clip's edge
# a fragment ending on one of these words is unfinished ("Press 1 for", "There are currently")
_OPEN_WORDS = frozenset(
    "a an and are as at be by for from has have in is of on or than the there to was were with your "
    "currently exactly".split()
)
# words no English sentence ends on: a "." after one marks a fragment
_NEVER_LAST = frozenset("a an and of or the to your".split())
# read before digits though the transcript ends it with a period (no rule above catches it)
_FRAGMENTS = frozenset({"you entered."})
_FINAL_MARK = re.compile(r"[.!?]$")
_INNER_SENTENCE_END = re.compile(r"[.!?]\s+\S")
# a usable prompt: (text, audio, its speech runs in seconds, ``recorded.clip_runs``, found once)
Clip = tuple[str, np.ndarray, list[tuple[float, float]]]


def prompt_kind(text: str) -> str | None:
    """``"final"`` (one finished sentence), ``"open"`` (an unfinished fragment) or None
    (not used: several sentences, a tone, a single word, no clear end)."""
    t = text.strip()
    if not t or t[0] in "[<":
        return None
    words = re.sub(r"[^a-z' ]", " ", t.lower()).split()
    if len(words) < 2:
        return None
    if t.endswith("...") or t.endswith(":") or (not _FINAL_MARK.search(t) and words[-1] in _OPEN_WORDS):
        return "open"
    if words[-1] in _NEVER_LAST or words[0] == "to" or t.lower() in _FRAGMENTS:  # "Is set to.", "To extension."
        return None
    if _FINAL_MARK.search(t) and not _INNER_SENTENCE_END.search(t.lstrip(".")):
        return "final"
    return None


def read_transcript(path: str) -> dict[str, str]:
    """``name: text`` lines (``;`` comments) of a core-sounds transcript, gzipped or not."""
    if not os.path.isfile(path):
        raise InvalidArgumentError(
            f"no prompt transcript at {path}: install asterisk-core-sounds-en "
            "(apt-get install asterisk-core-sounds-en) or pass --transcript"
        )
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        out = {}
        for line in f:
            if line.startswith(";") or ":" not in line:
                continue
            name, text = line.split(":", 1)
            out[name.strip()] = text.strip()
    return out


def _load(sounds: str, transcript: dict[str, str]) -> tuple[dict[str, list[Clip]], int]:
    """The usable prompts by kind (``final``, ``open``, ``digit``), and their sample rate."""
    if not os.path.isdir(sounds):
        raise InvalidArgumentError(
            f"no prompt recordings in {sounds}: install asterisk-core-sounds-en-wav "
            "(apt-get install asterisk-core-sounds-en-wav) or pass --sounds"
        )
    kinds: dict[str, list[Clip]] = {"final": [], "open": [], "digit": []}
    rates = set()
    for name, text in sorted(transcript.items()):
        m = re.fullmatch(r"digits/(\d)", name)
        kind = "digit" if m else (None if "/" in name else prompt_kind(text))
        path = os.path.join(sounds, name + ".wav")
        if kind is None or not os.path.isfile(path):
            continue
        x, rate = sf.read(path, dtype="float32", always_2d=True)
        rates.add(int(rate))
        mono = x.mean(axis=1)
        kinds[kind].append((text, mono, clip_runs(mono, int(rate))))
    missing = [k for k, v in kinds.items() if not v]
    if missing:
        raise InvalidArgumentError(f"no {', '.join(missing)} prompts found in {sounds} with the transcript "
                                   "(--sounds is the folder of the prompt WAVs, with digits/ in it)")
    if len(rates) != 1:
        raise InvalidArgumentError(f"the prompts in {sounds} have different sample rates: {sorted(rates)}")
    return kinds, rates.pop()


def _turn(kinds: dict[str, list[Clip]], rate: int,
          rng: np.random.Generator) -> tuple[str, str, np.ndarray, list[tuple[float, float]], bool]:
    """One turn: (kind, words, audio, speech runs, stretched)."""
    if rng.random() < OPEN_SHARE:
        text, x, x_runs = kinds["open"][int(rng.integers(len(kinds["open"])))]
        digit, d, d_runs = kinds["digit"][int(rng.integers(len(kinds["digit"])))]
        # the clips' own silent edges are cut (10 ms kept), so the pause is the drawn one
        end, start = x_runs[-1][1] + _EDGE_S, max(0.0, d_runs[0][0] - _EDGE_S)
        gap = np.zeros(int(round((float(rng.uniform(*OPEN_PAUSE_S)) - 2 * _EDGE_S) * rate)), np.float32)
        audio = np.concatenate([x[: int(round(end * rate))], gap, d[int(round(start * rate)):]])
        return "open", f"{text} {digit}", audio, clip_runs(audio, rate), False
    text, x, runs = kinds["final"][int(rng.integers(len(kinds["final"])))]
    x, runs, stretched = hesitate(x, rate, rng, runs)
    return "final", text, x, runs, stretched


def _file(k: int, kinds: dict[str, list[Clip]], rate: int, turns: int, seed: int,
          speech_rms: float) -> tuple[np.ndarray, int, dict[str, Any]]:
    rng = np.random.default_rng([seed, k])
    pieces = [np.zeros(int(LEAD_S * rate), np.float32)]
    t = LEAD_S
    events: list[dict[str, Any]] = []
    segments: list[list[Any]] = []
    kinds_drawn: list[str] = []
    stretched = 0
    for _ in range(turns):
        kind, words, x, runs, did = _turn(kinds, rate, rng)
        turn_events, segment = turn_labels(t, runs, words)
        events += turn_events
        segments.append(segment)
        kinds_drawn.append(kind)
        stretched += did
        pieces += [x.astype(np.float32), np.zeros(int(AFTER_S * rate), np.float32)]
        t += len(x) / rate + AFTER_S
    audio, condition = condition_audio(np.concatenate(pieces), rate, rng, speech_rms)
    meta = {"source": "asterisk-core-sounds-en prompts (one human voice)", "voice": "recorded:asterisk-allison",
            **condition, "turn_kinds": kinds_drawn, "stretched_pauses": stretched, "segments": segments}
    return audio, rate, {"events": events, "meta": meta}


def build(out: str, files: int = 30, turns: int = 12, seed: int = 0, sounds: str = SOUNDS_DIR,
          transcript: str = TRANSCRIPT) -> str:
    """Write the split; returns its folder (``out/prompts``)."""
    if files < 1 or turns < 1:
        raise InvalidArgumentError(f"--files and --turns must be >= 1, got {files} and {turns}")
    kinds, rate = _load(sounds, read_transcript(transcript))
    speech_rms = mean_rms([x for v in kinds.values() for _t, x, _r in v])
    return write_split(out, "prompts", files, lambda k: _file(k, kinds, rate, turns, seed, speech_rms))


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="cadence corpus floor-prompts", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--files", type=int, default=30)
    ap.add_argument("--turns", type=int, default=12, help="prompts per file")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sounds", default=SOUNDS_DIR, help="folder of the prompt WAVs (with digits/)")
    ap.add_argument("--transcript", default=TRANSCRIPT, help="core-sounds-en.txt(.gz)")
    args = ap.parse_args(argv)
    split = build(args.out, args.files, args.turns, args.seed, args.sounds, args.transcript)
    print(f"wrote {args.files} files to {split}")
    return 0
