"""One corpus file: a timeline of user turns, its exact labels, and the mix.

Each phrase is synthesized on its own, trimmed to its speech extent on the
clean signal (:func:`voices.trim`), cut to its first and last speech run
(:func:`voices.cut_to_speech`) and placed on the timeline here, so every
label is exact by construction:

- ``shift`` t: end of the last speech of a user turn;
- ``hold`` [start, end]: any pause ≥ 150 ms inside a turn (between phrases, around
  a filler, or inside one synthesized phrase, e.g. after a list comma);
- ``backchannel`` [start, end] and ``bargein`` t in duplex files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cadence.errors import InvalidArgumentError

from . import augment, text
from .voices import VOICE_SETS, Synth, Voice, cut_to_speech, draw_style, pick_voice

__all__ = ["FileSpec", "Knobs", "Rendered", "render_file", "MIN_HOLD_S", "TEXTS",
           "DIAGNOSTICS"]

MIN_HOLD_S = 0.15
SPEECH_DBFS = -26.0  # nominal active speech level before the file gain
OUT_RATES = (16000, 24000, 44100, 48000)
TEXTS = ("templates", "grammar", "select", "written")  # select: the selection template pool, dev
# splits only; written: sentences people wrote (written.py)
DIAGNOSTICS = ("unseen-voices", "unseen-sentences")


@dataclass(frozen=True)
class Knobs:
    """Generator settings shared by every file of a corpus (the CLI's options)."""

    # share of non-final phrases synthesized with a trailing comma (continuation prosody)
    comma_rate: float = 0.85
    # share of silent mid-turn pauses drawn uniformly from 0.6–2.5 s (the rest log-uniform 0.2–2.5 s)
    long_pause_share: float = 0.5
    # sentences of the train/dev splits: "templates" (text.py), "grammar" (grammar.py),
    # "select" (text.py's selection pool; dev splits only) or "written" (written.py)
    text: str = "templates"
    # the voice set (voices.VOICE_SETS): "base" or "extended" for train/dev, "select" or "shifted"
    # for a selection dev split, "unseen" or "fresh" for a test split of engines no other set uses
    voices: str = "base"
    # a diagnostic set instead of train/dev/test (DIAGNOSTICS): every file crosses
    # held-out voices with training sentences, or training voices with held-out sentences
    diagnostic: str = ""
    # share of a duplex file's turns in which the persona cuts in: a reply starts inside one of
    # the turn's pauses of 0.5 s or more (the engine took the floor too soon) and stops 100-300 ms
    # after the user goes on, whose words over it are labelled a barge-in (the hold stays a
    # hold). 0 (the default) draws nothing, so a corpus made before the knob is made again alike
    cut_in_share: float = 0.0

    def __post_init__(self) -> None:
        for name, v in (("--comma-rate", self.comma_rate), ("--long-pause-share", self.long_pause_share),
                        ("--cut-in-share", self.cut_in_share)):
            if not 0.0 <= v <= 1.0:
                raise InvalidArgumentError(f"{name} must be in [0, 1], got {v}")
        if self.text not in TEXTS:
            raise InvalidArgumentError(f"--text must be one of {TEXTS}, got {self.text!r}")
        if self.voices not in VOICE_SETS:
            raise InvalidArgumentError(f"--voices must be one of {VOICE_SETS}, got {self.voices!r}")
        if self.diagnostic and self.diagnostic not in DIAGNOSTICS:
            raise InvalidArgumentError(f"--diagnostic must be one of {DIAGNOSTICS}, got {self.diagnostic!r}")

    def flags(self) -> str:
        return (f"--comma-rate {self.comma_rate} --long-pause-share {self.long_pause_share} "
                f"--text {self.text} --voices {self.voices}"
                + (f" --diagnostic {self.diagnostic}" if self.diagnostic else "")
                + (f" --cut-in-share {self.cut_in_share}" if self.cut_in_share else ""))


@dataclass(frozen=True)
class FileSpec:
    index: int
    split: str  # train | dev | test, or a diagnostic set (DIAGNOSTICS)
    seed: int
    duplex: bool
    knobs: Knobs = Knobs()

    @property
    def held_out(self) -> bool:
        """Whether the file's voices are the held-out (test) voices."""
        if self.split in DIAGNOSTICS:
            return self.split == "unseen-voices"
        return self.split == "test"

    @property
    def pool(self) -> str:
        """The sentence pool of the file."""
        if self.split in ("test", "unseen-sentences"):
            return "written-test" if self.knobs.text == "written" else "test"
        return {"grammar": "grammar", "select": "select", "written": "written"}.get(self.knobs.text, "train")


@dataclass
class Rendered:
    audio: np.ndarray  # float32, (n,) or (n, 2)
    rate: int
    persona: np.ndarray | None
    events: list[dict[str, Any]]
    meta: dict[str, Any]


def _pause_s(rng: np.random.Generator, long_share: float = 0.5) -> float:
    """A silent mid-turn pause, 0.2–2.5 s: log-uniform, or with probability
    ``long_share`` uniform 0.6–2.5 s (so long pauses are common)."""
    if rng.random() < 1.0 - long_share:
        return float(np.exp(rng.uniform(np.log(0.2), np.log(2.5))))
    return float(rng.uniform(0.6, 2.5))


def _turn_gap_s(rng: np.random.Generator) -> float:
    """Silence after a turn end while the persona talks (non-duplex), 1.5–5 s."""
    return float(np.exp(rng.uniform(np.log(1.5), np.log(5.0))))


class _Timeline:
    """Clean user speech placed on a timeline, with segments and events."""

    def __init__(self, synth: Synth, rng: np.random.Generator, comma_rate: float = 0.85,
                 long_pause_share: float = 0.5) -> None:
        self.synth, self.rng = synth, rng
        self.comma_rate, self.long_pause_share = comma_rate, long_pause_share
        self.rate = synth.rate
        self.pieces: list[tuple[int, np.ndarray]] = []  # (start sample, scaled audio)
        self.segments: list[list[Any]] = []
        self.events: list[dict[str, Any]] = []
        self.turns: list[list[float]] = []
        self.t = 0.0  # seconds: where the next thing may start

    def _prosody_text(self, words: str, kind: str) -> str:
        """The text handed to the TTS engine.

        TTS engines read a trailing "..." (or no punctuation) as the end of a sentence
        and give it a final fall, while people trailing off mid-turn ("I was going to
        the...", "and...") mostly keep a level or rising, lengthened tone. So most
        non-final phrases (``comma_rate``, default 85 %) are synthesized with a trailing
        comma (continuation prosody); the rest keep their falling "..." reading, as some
        real speakers do. The
        labels and meta keep the original text.
        """
        if kind not in ("continuation", "filler") or self.rng.random() >= self.comma_rate:
            return words
        stripped = words.rstrip(" .,")
        return stripped + "," if stripped else words

    def say(self, words: str, kind: str, at: float, slow_last: float = 1.0,
            level_db: float = 0.0) -> tuple[float, float]:
        """Place a phrase starting at ``at`` s; returns its (start, end) in s.

        Internal pauses ≥ MIN_HOLD_S split it into several segments and become holds.
        """
        a = self.synth.phrase(self._prosody_text(words, kind), slow_last=slow_last)
        # placed where its words start, ending where they end; its runs read at its own
        # (peak-normalized) level: at the placed level the bar's -70 dBFS floor could take over.
        # The words start at ``at`` even if a cut left a frame
        a, runs = cut_to_speech(a, self.rate, MIN_HOLD_S)
        lvl = 10 ** ((level_db + self.rng.uniform(-2.0, 2.0)) / 20)
        a = a * (lvl * 10 ** (SPEECH_DBFS / 20) / max(1e-9, augment.active_rms(a, self.rate)))
        s0 = max(0, int(round(at * self.rate)) - runs[0][0])
        self.pieces.append((s0, a.astype(np.float32)))
        if kind == "backchannel":  # one event, never a hold outside a turn
            runs = [(runs[0][0], runs[-1][1])]
        for i, (b, e) in enumerate(runs):
            k = kind if (kind != "final" or i == len(runs) - 1) else "continuation"
            self.segments.append([(s0 + b) / self.rate, (s0 + e) / self.rate, words, k])
            if i > 0:
                self.events.append({"type": "hold", "start": (s0 + runs[i - 1][1]) / self.rate,
                                    "end": (s0 + b) / self.rate})
        start, end = (s0 + runs[0][0]) / self.rate, (s0 + runs[-1][1]) / self.rate
        self.t = end
        return start, end

    def hold_gap(self, prev_end: float, gap: float) -> float:
        """Leave ``gap`` s of silence after ``prev_end``; label it if it is a hold."""
        nxt = prev_end + gap
        if gap >= MIN_HOLD_S:
            self.events.append({"type": "hold", "start": prev_end, "end": nxt})
        return nxt

    def turn(self, at: float, pool: str, first: tuple[str, str] | None = None) -> float:
        """A user turn starting at ``at``; returns the turn end (the shift time).

        ``first`` = (text, kind) forces the first phrase (used for barge-ins).
        """
        rng = self.rng
        plan: list[tuple[str, str, float]] = []  # (text, kind, slow_last)
        if first is not None:
            plan.append((first[0], first[1], 1.0))
            if rng.random() < 0.5:
                plan.append((text.final_phrase(rng, pool)[0], "final", 1.0))
        else:
            r = rng.random()
            if r < 0.22:
                plan.append((text.short_answer(rng, pool), "final", 1.0))
            elif r < 0.48:
                plan.append((text.final_phrase(rng, pool)[0], "final", 1.0))
            elif r < 0.54:  # "Yes." <pause> "I think we should ..." : final prosody, yet a hold
                plan.append((text.short_answer(rng, pool), "continuation", 1.0))
                plan.append((text.final_phrase(rng, pool)[0], "final", 1.0))
            else:
                k = int(rng.choice([1, 1, 2, 2, 3]))
                style = "clause"
                for _ in range(k):
                    words, style = text.continuation_phrase(rng, pool)
                    slow = float(rng.uniform(1.4, 2.0)) if rng.random() < 0.3 else 1.0
                    plan.append((words, "continuation", slow))
                if style in ("incomplete", "conj", "list") and rng.random() < 0.75:
                    plan.append((text.completion_phrase(rng, pool), "final", 1.0))
                elif rng.random() < 0.25:
                    plan.append((text.short_answer(rng, pool), "final", 1.0))
                else:
                    plan.append((text.final_phrase(rng, pool)[0], "final", 1.0))
        t = at
        start = at
        end = at
        for i, (words, kind, slow) in enumerate(plan):
            s, end = self.say(words, kind, t, slow_last=slow)
            if i == 0:
                start = s
                if kind == "bargein":
                    self.events.append({"type": "bargein", "t": s})
            if i == len(plan) - 1:
                break
            if rng.random() < 0.35:  # filled pause, sometimes followed by silence
                g1 = float(rng.uniform(0.0, 0.5))
                t = self.hold_gap(end, g1) if g1 >= MIN_HOLD_S else end + g1
                _, end = self.say(text.filler(rng), "filler", t, level_db=float(rng.uniform(-5, 0)),
                                  slow_last=float(rng.uniform(1.0, 1.8)))
                g2 = _pause_s(rng, self.long_pause_share) if rng.random() < 0.5 else float(rng.uniform(0.03, 0.12))
                t = self.hold_gap(end, g2) if g2 >= MIN_HOLD_S else end + g2
            else:
                t = self.hold_gap(end, _pause_s(rng, self.long_pause_share))
        self.events.append({"type": "shift", "t": end})
        self.turns.append([start, end])
        return end

    def render(self, n: int) -> np.ndarray:
        out = np.zeros(n, np.float32)
        for s0, a in self.pieces:
            m = min(len(a), n - s0)
            out[s0 : s0 + m] += a[:m]
        return out


def persona_clip(synth: Synth, rng: np.random.Generator, max_phrases: int = 3) -> np.ndarray:
    """One persona utterance: 1 to ``max_phrases`` phrases with 150–500 ms between them, at the
    corpus's speech level."""
    parts = []
    for _ in range(int(rng.integers(1, max_phrases + 1))):
        parts.append(synth.phrase(text.persona_phrase(rng)))
        parts.append(np.zeros(int(synth.rate * rng.uniform(0.15, 0.5)), np.float32))
    a = np.concatenate(parts[:-1])
    return a * (10 ** (SPEECH_DBFS / 20) / max(1e-9, augment.active_rms(a, synth.rate)))


def _cut_in(tl: _Timeline, psynth: Synth, rng: np.random.Generator, rate: int,
            turn_events: list[dict[str, Any]]) -> tuple[float, np.ndarray] | None:
    """The persona cutting into one of a turn's pauses of 0.5 s or more (``turn_events``: the
    turn's own): (start s, clip) of a reply begun 150-600 ms into the pause and stopped 100-300
    ms after the user goes on, with a barge-in labelled where they do; None if the turn has no
    such pause or the reply is silent there (a gap between its phrases)."""
    holds = [e for e in turn_events if e["type"] == "hold" and e["end"] - e["start"] >= 0.5]
    if not holds:
        return None
    h = holds[int(rng.integers(len(holds)))]
    p0 = h["start"] + float(rng.uniform(0.15, min(0.6, h["end"] - h["start"] - 0.2)))
    keep = int((h["end"] + float(rng.uniform(0.1, 0.3)) - p0) * rate)
    clip = augment.resample(persona_clip(psynth, rng), psynth.rate, rate)
    while len(clip) < keep:  # the reply still plays when the user goes on
        more = augment.resample(persona_clip(psynth, rng), psynth.rate, rate)
        clip = np.concatenate([clip, np.zeros(int(0.2 * rate), np.float32), more])
    clip = clip[:keep].copy()
    # the reply must sound where the user goes on (not a gap between its phrases): else no cut-in
    at = int((h["end"] - p0) * rate)
    near = clip[max(0, at - int(0.03 * rate)) : at + int(0.05 * rate)]
    if float(np.sqrt(np.mean(np.square(near)))) < augment.active_rms(clip, rate) * 10 ** (-20 / 20):
        return None
    f = min(len(clip), int(0.05 * rate))
    clip[len(clip) - f :] *= np.linspace(1, 0, f, dtype=np.float32)
    tl.events.append({"type": "bargein", "t": h["end"]})
    return p0, clip


def _babble(rng: np.random.Generator, rate: int, held_out: bool, exclude: str,
            voices: str) -> list[np.ndarray]:
    """3–5 streams of other voices of the split's pool (espeak-ng or flite where one is drawn within
    8 tries), resampled to ``rate``."""
    streams = []
    for k in range(int(rng.integers(3, 6))):
        for _ in range(8):
            v = pick_voice(rng, held_out, exclude=exclude, voices=voices)
            if v.backend in ("espeak", "flite"):
                break
        syn = Synth(v, draw_style(rng, v), seed=int(rng.integers(2**31)))
        parts = [syn.phrase(text.persona_phrase(rng)) for _ in range(3)]
        streams.append(augment.resample(np.concatenate(parts), syn.rate, rate))
    return streams


def render_file(spec: FileSpec) -> Rendered:
    """Build one file from its spec (deterministic in ``spec``)."""
    if spec.split not in ("train", "dev", "test", *DIAGNOSTICS):
        raise InvalidArgumentError(f"unknown split {spec.split!r}")
    rng = np.random.default_rng([spec.seed, spec.index])
    voice: Voice = pick_voice(rng, spec.held_out, voices=spec.knobs.voices)
    style = draw_style(rng, voice)
    synth = Synth(voice, style, seed=int(rng.integers(2**31)))
    rate = synth.rate
    tl = _Timeline(synth, rng, spec.knobs.comma_rate, spec.knobs.long_pause_share)
    target = float(rng.uniform(20.0, 60.0))
    pool = spec.pool

    persona_pieces: list[tuple[float, np.ndarray]] = []
    persona_iv: list[list[float]] = []
    psynth: Synth | None = None
    if spec.duplex:
        pv = pick_voice(rng, spec.held_out, exclude=voice.id, voices=spec.knobs.voices)
        psynth = Synth(pv, draw_style(rng, pv), seed=int(rng.integers(2**31)))

    t = float(rng.uniform(0.3, 2.0))
    first: tuple[str, str] | None = None
    while True:
        n_events = len(tl.events)
        end = tl.turn(t, pool, first=first)
        first = None
        if psynth is not None and spec.knobs.cut_in_share > 0.0 and rng.random() < spec.knobs.cut_in_share:
            cut_in = _cut_in(tl, psynth, rng, rate, tl.events[n_events:])
            if cut_in is not None:
                persona_pieces.append(cut_in)
                persona_iv.append([cut_in[0], cut_in[0] + len(cut_in[1]) / rate])
        if end >= target:
            break
        if psynth is None:
            t = end + _turn_gap_s(rng)
            continue
        # Duplex: the persona answers; the user backchannels, then barges in or
        # waits for the persona to finish.
        p0 = end + float(rng.uniform(0.2, 1.2))
        clip = augment.resample(persona_clip(psynth, rng), psynth.rate, rate)
        p1 = p0 + len(clip) / rate
        barge = p1 - p0 > 1.2 and rng.random() < 0.3
        user_at = float(rng.uniform(p0 + 0.5, p1 - 0.3)) if barge else p1 + float(rng.uniform(0.2, 1.5))
        bc_t = p0 + float(rng.uniform(0.3, 1.2))
        while rng.random() < 0.45 and bc_t + 1.0 < min(p1, user_at - 0.3):
            bs, be = tl.say(text.backchannel(rng), "backchannel", bc_t, level_db=float(rng.uniform(-8, 0)))
            tl.events.append({"type": "backchannel", "start": bs, "end": be})
            user_at = max(user_at, be + 0.3)
            bc_t = be + float(rng.uniform(0.8, 2.5))
        if barge and user_at < p1 - 0.1:
            cut = user_at + float(rng.uniform(0.15, 0.4)) - p0  # the engine stops the persona
            clip = clip[: int(cut * rate)].copy()
            f = min(len(clip), int(0.05 * rate))
            clip[-f:] *= np.linspace(1, 0, f, dtype=np.float32)
            first = (text.bargein_phrase(rng, pool), "bargein")
        persona_pieces.append((p0, clip))
        persona_iv.append([p0, p0 + len(clip) / rate])
        t = user_at

    total = tl.t + float(rng.uniform(1.6, 3.5))
    if persona_iv:
        total = max(total, persona_iv[-1][1] + 0.2)
    n = int(np.ceil(total * rate))
    clean = tl.render(n)
    mix = clean.copy()
    meta: dict[str, Any] = {"voice": voice.id, "voice_style": style.as_meta(), "split": spec.split,
                            "seed": spec.seed, "index": spec.index, "duplex": spec.duplex}

    # Room reverb on the user's voice.
    if rng.random() < 0.25:
        rt60 = float(rng.uniform(0.2, 0.8))
        mix = augment.reverb(mix, augment.room_ir(rate, rng, rt60))
        meta["reverb_rt60"] = round(rt60, 3)
    else:
        meta["reverb_rt60"] = None

    persona_track = None
    if persona_pieces:
        persona_track = np.zeros(n, np.float32)
        for p0, clip in persona_pieces:
            s0 = int(round(p0 * rate))
            m = min(len(clip), n - s0)
            persona_track[s0 : s0 + m] += clip[:m]
        delay = float(rng.uniform(0.02, 0.08))
        att = float(rng.uniform(-30, -10))
        echo = augment.lowpass(persona_track, rate, float(rng.uniform(2000, 5000)))
        d = int(delay * rate)
        echo = np.concatenate([np.zeros(d, np.float32), echo[: n - d]]) * 10 ** (att / 20)
        mix = mix + echo
        meta["persona_voice"] = psynth.voice.id if psynth else None
        meta["echo"] = {"delay_s": round(delay, 4), "gain_db": round(att, 2)}
    meta["persona"] = [[round(a, 4), round(b, 4)] for a, b in persona_iv]

    # Noise at an SNR against the active speech level.
    snr_label = str(rng.choice(["clean", "30", "20", "10"], p=[0.3, 0.25, 0.25, 0.2]))
    snr = float(rng.uniform(55, 70)) if snr_label == "clean" else float(snr_label) + float(rng.uniform(-2, 2))
    kind = str(rng.choice(augment.NOISE_KINDS, p=[0.2, 0.25, 0.15, 0.25, 0.15]))
    bab = _babble(rng, rate, spec.held_out, voice.id, spec.knobs.voices) if kind == "babble" else None
    nz = augment.noise(kind, n, rate, rng, babble=bab)
    floor_nz = augment.noise("pink", n, rate, rng)  # a faint room floor under every file
    speech_rms = 10 ** (SPEECH_DBFS / 20)
    mix = mix + nz * (speech_rms / 10 ** (snr / 20)) + floor_nz * speech_rms * 10 ** (-float(rng.uniform(60, 75)) / 20)
    meta.update({"snr": snr_label, "snr_db": round(snr, 2), "noise": kind})

    # Channel: telephone band (and μ-law) for some files.
    out_rate = rate
    tel = rng.random() < 0.15
    if tel:
        mix = augment.telephone(mix, rate)
        if rng.random() < 0.6:
            mix = augment.resample(mix, rate, 8000)
            if persona_track is not None:
                persona_track = augment.resample(persona_track, rate, 8000)
            out_rate = 8000
    elif rng.random() < 0.25:
        out_rate = int(rng.choice(OUT_RATES))
        if out_rate != rate:
            mix = augment.resample(mix, rate, out_rate)
            if persona_track is not None:
                persona_track = augment.resample(persona_track, rate, out_rate)
    meta["telephone"] = bool(tel)

    # Level: file gain and a slow drift.
    gain = float(rng.uniform(-20.0, 6.0))
    depth = float(rng.uniform(0.0, 4.0)) if rng.random() < 0.6 else 0.0
    curve = 10 ** ((gain + augment.gain_drift_db(len(mix), out_rate, rng, depth)) / 20)
    mix = mix * curve
    if tel and rng.random() < 0.5:
        mix = augment.mu_law(mix)
        meta["mu_law"] = True
    peak = float(np.max(np.abs(mix)))
    if peak > 0.98:  # keep clear of clipping; record the gain actually applied
        mix = mix * (0.98 / peak)
        gain += 20 * np.log10(0.98 / peak)
    meta.update({"gain_db": round(gain, 2), "drift_db": round(depth, 2), "rate": out_rate})
    if rng.random() < 0.05:  # a few stereo files: same voice, separate noise per channel
        other = mix + augment.noise("white", len(mix), out_rate, rng) * float(np.std(mix)) * 0.03
        mix = np.stack([mix, other * float(rng.uniform(0.8, 1.0))], axis=1)
        mix = mix * min(1.0, 0.98 / float(np.max(np.abs(mix))))
    meta["channels"] = 1 if mix.ndim == 1 else 2
    meta["duration"] = round(len(mix) / out_rate, 4)

    r4 = lambda x: round(float(x), 4)  # noqa: E731
    events = []
    for e in sorted(tl.events, key=lambda e: e.get("t", e.get("start", 0.0))):
        if e["type"] in ("shift", "bargein"):
            events.append({"type": e["type"], "t": r4(e["t"])})
        else:
            events.append({"type": e["type"], "start": r4(e["start"]), "end": r4(e["end"])})
    meta["segments"] = [[r4(s), r4(e), w, k] for s, e, w, k in sorted(tl.segments, key=lambda x: x[0])]
    meta["turns"] = [[r4(s), r4(e)] for s, e in tl.turns]
    return Rendered(audio=mix.astype(np.float32), rate=out_rate, persona=persona_track,
                    events=events, meta=meta)
