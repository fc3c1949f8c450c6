"""``cadence bench floor``: score floor policies on a labelled corpus split.

    cadence bench floor --corpus DIR [--json OUT] [--markdown OUT]
        [--policies cadence,silence-200,silence-500,silence-800,silence-1200,vad-classify,smart-turn-v3]
        [--patience 0,0.25,0.5,0.75,1] [--max-files N] [--jobs J] [--seed S]
    cadence bench floor --fit-baselines DIR/train [--jobs J]

DIR holds ``manifest.jsonl`` (one split; see the corpus generator). Every file
is streamed to every policy in real-time order, cut into chunks of random
sizes (1-10 frames, seeded per file), so a policy that peeks ahead or depends
on the chunking shows up as a bug. For duplex files (``meta.persona_audio``,
or ``x.persona.wav`` beside ``x.wav``) the persona's playback is passed as
``reference=`` to policies whose ``process`` accepts it (echo cancellation);
the baselines hear only the mic, as a plain voice agent does. Scoring is :mod:`cadence.floor.scoring`.
The real-time factor is the policy's compute time over the audio duration.

A file that ends less than 2 s after a turn end (or less than 1 s after a barge-in) gets
digital silence appended until the answer window is over, as a live mic would go on
delivering frames after the last word: otherwise no policy could answer a clip cut tight at
its turn end. Every policy hears the same padded frames; the report counts the padding.

A second table, "Duplex: barge-in vs backchannel", scores ``bargein``
decisions against the corpus's ``bargein``/``backchannel`` events; it lists
every policy when the split has barge-in events (those that emit none, such as
the silence baselines, with recall 0), else only policies that emitted any.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import multiprocessing as mp
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np

from cadence import cli_args
from cadence.cores import cores
from cadence.errors import CadenceError, InvalidArgumentError, InvalidAudioError
from cadence.floor import intervals, stop_intervals
from cadence.floor.commit_rules import rule_section, rule_summary, tally
from cadence.floor.intervals import DOMINANCE_KEYS
from cadence.floor.protocol import FRAME_SAMPLES, RATE, Decision, FloorPolicy, decision_lists
from cadence.floor.scoring import (
    BACKCHANNEL_TAIL_S,
    BARGEIN_TARGET_S,
    BARGEIN_WINDOW_S,
    LATE_S,
    NOD_HOLD_S,
    USER_NEAR_S,
    FileLabels,
    FileScore,
    ignored_event_types,
    manifest_lines,
    read_labels,
    score_file,
    summarize,
    total,
)

__all__ = ["load_frames", "load_manifest", "make_policy", "PolicySpec", "parse_policies", "run_bench", "main"]

DEFAULT_POLICIES = "cadence,silence-200,silence-500,silence-800,silence-1200,vad-classify,smart-turn-v3"
MAX_CHUNK_FRAMES = 10
_FRAMER_CHUNK = 96_000  # samples per Framer.push (all channels), well under its maximum


# --------------------------------------------------------------------------- audio
def load_frames(path: str) -> np.ndarray:
    """Read a WAV (any rate the Framer takes, mono/stereo, int16/float) as (n, 160) float32 16 kHz frames."""
    import soundfile as sf  # type: ignore[import-untyped]

    try:
        pcm, rate = sf.read(path, dtype="float32", always_2d=True)
    except RuntimeError as e:  # soundfile's error for unreadable files
        raise InvalidAudioError(f"{path}: {e}") from e
    if pcm.shape[0] == 0:
        raise InvalidAudioError(f"{path}: no audio")
    channels = pcm.shape[1]
    if channels > 2:
        raise InvalidAudioError(f"{path}: {channels} channels; mono or stereo only")
    try:
        from cadence import _core

        framer_cls = getattr(_core, "Framer", None)
    except ImportError:  # extension not built: use the scipy path below
        framer_cls = None
    if framer_cls is not None:
        data = pcm if channels == 2 else pcm[:, 0]
        step = _FRAMER_CHUNK // channels  # rows per push, under the Framer's chunk limit
        try:
            framer = framer_cls(int(rate), channels)
            parts = [framer.push(np.ascontiguousarray(data[i : i + step])) for i in range(0, data.shape[0], step)]
        except InvalidAudioError as e:  # name the file: a corpus has many
            raise type(e)(f"{path}: {e}") from e
        parts.append(framer.flush())
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)
    # fallback while the extension has no Framer: scipy polyphase resampling
    from scipy.signal import resample_poly  # type: ignore[import-untyped]

    if not np.isfinite(pcm).all():
        raise InvalidAudioError(f"{path}: audio contains NaN or inf")
    mono = pcm.mean(axis=1)
    g = math.gcd(int(rate), RATE)
    x = resample_poly(mono, RATE // g, int(rate) // g).astype(np.float32) if rate != RATE else mono
    n = -(-x.size // FRAME_SAMPLES)
    out = np.zeros(n * FRAME_SAMPLES, np.float32)
    out[: x.size] = x
    return out.reshape(n, FRAME_SAMPLES)


# --------------------------------------------------------------------------- corpus
@dataclass(frozen=True)
class CorpusFile:
    audio: str  # as written in the manifest
    path: str  # absolute
    labels: FileLabels
    persona: str | None = None  # absolute path of the persona track (duplex files)
    meta: Any = None  # the entry's "meta", as written (for breakdowns by a meta key)
    ignored: tuple[str, ...] = ()  # types of the events no metric reads, one per event
    meta_ignored: str | None = None  # why its "meta" is not read (not Cadence's annotations)
    seconds: float = 0.0  # the audio's length, from its header (read once, at load)
    subtype: str = ""  # its sample format, e.g. "PCM_16"


def ignored_counts(files: Sequence[CorpusFile]) -> dict[str, int]:
    """How many events of each type no metric reads, over the split (the report's note)."""
    return dict(sorted(Counter(t for f in files for t in f.ignored).items()))


def meta_ignored(files: Sequence[CorpusFile]) -> list[dict[str, str]]:
    """The files whose ``meta`` is not read, and why (the report's note)."""
    return [{"audio": f.audio, "why": f.meta_ignored} for f in files if f.meta_ignored is not None]


END_LABEL_SLACK_S = 0.5  # a label may lie this far past the audio's end (rounding, a trimmed tail)


def _check_label_times(labels: FileLabels, path: str) -> tuple[float, str]:
    """Refuse a file with no audio, or labels past its end (times in ms, a truncated file); its
    length in seconds and its sample format otherwise."""
    import soundfile as sf  # type: ignore[import-untyped]

    try:
        info = sf.info(path)
    except RuntimeError as e:  # soundfile's error for unreadable files
        raise InvalidAudioError(f"{path}: {e}") from e
    if info.frames == 0:
        raise InvalidAudioError(f"{path}: no audio")
    end = info.frames / info.samplerate
    times = [*labels.shifts, *(e for h in labels.holds for e in h), *labels.bargeins,
             *(e for b in labels.backchannels for e in b)]
    late = max(times, default=0.0)
    if late > end + END_LABEL_SLACK_S:
        raise InvalidArgumentError(
            f"a label at {late:g} s lies past the end of its audio ({end:.2f} s, {path}): label times are "
            "seconds from the file's start (not milliseconds), and the audio must hold them")
    return end, str(info.subtype)


COARSE_SUBTYPES = ("PCM_U8", "PCM_S8")  # 8-bit PCM: quantisation noise about -48 dBFS


def coarse_files(files: Sequence[CorpusFile]) -> list[str]:
    """The files stored as 8-bit PCM (the report's note): their quantisation noise sits about 48 dB
    under full scale, where a quiet room's would, so the features and Cadence's decisions change
    with it (a test A file: 4 commits against 9 at 16 bits; floor.md), while a silence timer's
    barely do."""
    return [f.audio for f in files if f.subtype in COARSE_SUBTYPES]


def load_manifest(corpus: str, max_files: int | None = None) -> list[CorpusFile]:
    mpath = os.path.join(corpus, "manifest.jsonl")
    if not os.path.isfile(mpath):
        raise InvalidArgumentError(f"no manifest.jsonl in {corpus!r} (pass one split, e.g. DIR/test)")
    files: list[CorpusFile] = []
    seen: dict[str, int] = {}  # audio path → its line
    for lineno, line in manifest_lines(mpath):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as e:
            raise InvalidArgumentError(f"{mpath}:{lineno}: not JSON: {e}") from e
        if not isinstance(entry, dict) or not isinstance(entry.get("audio"), str):
            raise InvalidArgumentError(f"{mpath}:{lineno}: entry needs an 'audio' path")
        try:
            labels, why = read_labels(entry)  # why: the meta not read, and why (None: read or absent)
        except InvalidArgumentError as e:
            raise InvalidArgumentError(f"{mpath}:{lineno}: {e}") from e
        path = os.path.join(corpus, entry["audio"])
        if not os.path.isfile(path):
            raise InvalidArgumentError(f"{mpath}:{lineno}: audio file not found: {path}")
        key = os.path.normpath(os.path.abspath(path))
        if key in seen:  # its decisions could not be told apart in the JSON (and score refuses them)
            raise InvalidArgumentError(f"{mpath}:{lineno}: {entry['audio']!r} is listed a second time "
                                       f"(first on line {seen[key]})")
        seen[key] = lineno
        try:
            seconds, subtype = _check_label_times(labels, path)
        except (InvalidArgumentError, InvalidAudioError) as e:
            raise type(e)(f"{mpath}:{lineno}: {e}") from e
        try:
            persona = persona_track(corpus, entry, path)
        except InvalidArgumentError as e:
            if why is None:  # Cadence's meta naming a track that is not there: a broken corpus
                raise InvalidArgumentError(f"{mpath}:{lineno}: {e}") from e
            persona = persona_path(path)  # another corpus's meta: none of it is read
        if labels.persona and persona is None:
            # the persona's speech is read only with its playback: without it the file is not a
            # duplex one, and another corpus's "persona" must not pre-empt its shifts
            labels = replace(labels, persona=())
            why = why or "meta.persona is read only with the persona's playback (x.persona.wav or meta.persona_audio)"
        files.append(
            CorpusFile(entry["audio"], os.path.abspath(path), labels, persona and os.path.abspath(persona),
                       entry.get("meta"), tuple(ignored_event_types(entry)), why, seconds, subtype)
        )
        if max_files is not None and len(files) >= max_files:
            break
    if not files:
        raise InvalidArgumentError(f"{mpath}: empty manifest")
    return files


# --------------------------------------------------------------------------- policies
@dataclass(frozen=True)
class PolicySpec:
    label: str  # row name in the results
    name: str  # registry name
    kwargs: tuple[tuple[str, Any], ...] = ()


def _silence(ms: int) -> Callable[..., FloorPolicy]:
    def make(**kw: Any) -> FloorPolicy:
        from cadence.floor.baselines import SilenceBaseline

        return SilenceBaseline(ms, **kw)

    return make


def _vad_classify(**kw: Any) -> FloorPolicy:
    from cadence.floor.baselines import VadStopClassifyBaseline

    return VadStopClassifyBaseline(**kw)


def _smart_turn(**kw: Any) -> FloorPolicy:
    from cadence.floor.smart_turn import SmartTurnBaseline

    return SmartTurnBaseline(**kw)


def _cadence(**kw: Any) -> FloorPolicy:
    from cadence.floor.policy import CadencePolicy  # type: ignore[import-not-found,unused-ignore]

    policy: FloorPolicy = CadencePolicy(**kw)
    return policy


REGISTRY: dict[str, Callable[..., FloorPolicy]] = {
    "cadence": _cadence,
    "silence-200": _silence(200),
    "silence-500": _silence(500),
    "silence-800": _silence(800),
    "silence-1200": _silence(1200),
    "vad-classify": _vad_classify,
    "smart-turn-v3": _smart_turn,
    "smart-turn-v3-exact": lambda **kw: _smart_turn(exact=True, **kw),
}


def _factory(name: str) -> Callable[..., FloorPolicy] | None:
    """The registry entry, or a timeout family member: silence-<ms>, smart-turn-v3-<ms>."""
    if name in REGISTRY:
        return REGISTRY[name]
    family, _, ms = name.rpartition("-")
    if ms.isdigit() and int(ms) > 0:
        if family == "silence":
            return _silence(int(ms))
        if family == "smart-turn-v3":
            return lambda **kw: _smart_turn(stop_s=int(ms) / 1000.0, **kw)
        if family in _DUPLEX_FAMILIES:
            return _duplex(family, int(ms))
    return None


_DUPLEX_FAMILIES = ("half-duplex", "aec3-vad")


def _duplex(family: str, ms: int) -> Callable[..., FloorPolicy]:
    def make(**kw: Any) -> FloorPolicy:
        from cadence.floor.duplex_baselines import AecVadBaseline, HalfDuplexBaseline

        return (HalfDuplexBaseline if family == "half-duplex" else AecVadBaseline)(ms, **kw)

    return make


def make_policy(spec: PolicySpec) -> FloorPolicy:
    make = _factory(spec.name)
    if make is None:
        raise InvalidArgumentError(
            f"unknown policy {spec.name!r}; known: {', '.join(REGISTRY)}, silence-<ms>, smart-turn-v3-<ms>, "
            "half-duplex-<ms>, aec3-vad-<ms>")
    return make(**dict(spec.kwargs))


def _config_overrides(name: str) -> tuple[tuple[str, Any], ...]:
    """``cadence/fallback_s=3/ramp=0`` → the PolicyConfig fields it sets (checked like tune's ``--set``;
    patience comes from ``--patience``)."""
    from cadence.floor.tune import parse_grid

    try:
        grid = parse_grid(name.split("/")[1:])  # names known, values finite numbers
    except InvalidArgumentError as e:
        raise InvalidArgumentError(f"policy {name!r}: {e}") from e
    if "patience" in grid or any(len(v) != 1 for v in grid.values()):
        raise InvalidArgumentError(
            f"policy {name!r}: expected cadence/NAME=VALUE/... (one value each, not patience: "
            "that comes from --patience)")
    overrides = tuple((k, v[0]) for k, v in grid.items())
    from cadence.floor.policy import PolicyConfig

    try:  # values out of range fail here, with the policy's name, not later as "not available"
        PolicyConfig(**cast(dict[str, Any], dict(overrides)))
    except InvalidArgumentError as e:
        raise InvalidArgumentError(f"policy {name!r}: {e}") from e
    return overrides


def is_cadence(label: str) -> bool:
    """A row of Cadence's own policy (``cadence``, ``cadence@0.5``, ``cadence/ramp=0@0.5``)."""
    return label.split("@")[0].split("/")[0] == "cadence"


def _is_sweep(label: str) -> bool:
    return is_cadence(label) and "@" in label


def parse_policies(names: str, patience: Sequence[float] | None, weights: str | None = None,
                   echo_cancel: bool = False, judge_head: str | None = None,
                   persona_weights: str | None = None) -> list[PolicySpec]:
    """Specs of a comma-separated policy list; ``weights``: the cadence policy's model file;
    ``persona_weights``: the networks its ``persona_networks=1`` reads; ``echo_cancel``: the
    cadence policy's featurizer runs the echo canceller; ``judge_head``: the judge head file of
    the cadence variants that set ``judge_head=1`` (at least one must)."""
    specs: list[PolicySpec] = []
    model: tuple[tuple[str, Any], ...] = ((("weights", weights),) if weights else ()) + (
        (("persona_weights", persona_weights),) if persona_weights else ()) + (
        (("echo_cancel", True),) if echo_cancel else ())
    for name in (n.strip() for n in names.split(",")):
        if not name:
            continue
        if name.startswith("cadence/"):  # a variant: cadence/fallback_s=3/ramp=0
            variant = model + _config_overrides(name)
            if judge_head and ("judge_head", 1.0) in variant:
                variant += (("judge_head_file", judge_head),)
            specs += ([PolicySpec(f"{name}@{p:g}", "cadence", (("patience", p), *variant)) for p in patience]
                      if patience else [PolicySpec(name, "cadence", variant)])
        elif name == "cadence" and patience:
            specs += [PolicySpec(f"cadence@{p:g}", "cadence", (("patience", p), *model)) for p in patience]
        else:
            specs.append(PolicySpec(name, name, model if name == "cadence" else ()))
    if not specs:
        raise InvalidArgumentError("no policies given")
    labels = [s.label for s in specs]
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:  # one row would hold both runs' counts
        raise InvalidArgumentError(f"a policy is named twice: {', '.join(twice)}")
    if judge_head and not any(("judge_head_file", judge_head) in s.kwargs for s in specs):
        raise InvalidArgumentError(f"--judge-head {judge_head}: no policy reads it (a cadence/.../judge_head=1 "
                                   "variant with smart_turn_weight > 0 does)")
    return specs


def _available(specs: list[PolicySpec]) -> list[PolicySpec]:
    ok: list[PolicySpec] = []
    for spec in specs:
        if _factory(spec.name) is None:
            make_policy(spec)  # raises the unknown-policy error
        try:
            make_policy(spec)
        except (ImportError, FileNotFoundError, CadenceError) as e:
            what = "cadence policy" if spec.name == "cadence" else f"policy {spec.label}"
            print(f"{what} not available: {e}", file=sys.stderr)
            continue
        ok.append(spec)
    return ok


# --------------------------------------------------------------------------- running
_POLICY_CACHE: dict[PolicySpec, FloorPolicy] = {}


def _policy(spec: PolicySpec) -> FloorPolicy:
    if spec not in _POLICY_CACHE:
        _POLICY_CACHE[spec] = make_policy(spec)
    return _POLICY_CACHE[spec]


def _takes_reference(policy: FloorPolicy) -> bool:
    try:
        return "reference" in inspect.signature(policy.process).parameters
    except (TypeError, ValueError):
        return False


def stream(
    policy: FloorPolicy,
    frames: np.ndarray,
    rng: np.random.Generator,
    reference: np.ndarray | None = None,
) -> list[Decision]:
    """Feed ``frames`` to a freshly reset policy in random-size chunks; return its decisions.

    ``reference`` (same shape: the persona's playback in a duplex file) is passed
    alongside, chunk by chunk, to policies whose ``process`` accepts it.
    """
    policy.reset()
    use_ref = reference is not None and _takes_reference(policy)
    out: list[Decision] = []
    i = 0
    n = frames.shape[0]
    while i < n:
        k = int(rng.integers(1, MAX_CHUNK_FRAMES + 1))
        if use_ref:
            assert reference is not None
            out.extend(policy.process(frames[i : i + k], reference=reference[i : i + k]))  # type: ignore[call-arg]
        else:
            out.extend(policy.process(frames[i : i + k]))
        i += k
    return out


def persona_path(path: str) -> str | None:
    """The persona track of a duplex file (``x.wav`` → ``x.persona.wav``), if there is one."""
    root, ext = os.path.splitext(path)
    cand = f"{root}.persona{ext}"
    return cand if os.path.isfile(cand) else None


def persona_track(corpus: str, entry: dict[str, Any], path: str) -> str | None:
    """The persona's playback for a manifest entry: ``meta.persona_audio`` or ``x.persona.wav``."""
    meta = entry.get("meta")
    persona = meta.get("persona_audio") if isinstance(meta, dict) else None
    if isinstance(persona, str):
        persona = os.path.join(corpus, persona)
        if not os.path.isfile(persona):
            raise InvalidArgumentError(f"persona track not found: {persona}")
        return persona
    return persona_path(path)


def reference_frames(ref_path: str | None, n: int) -> np.ndarray | None:
    if ref_path is None:
        return None
    ref = load_frames(ref_path)
    out = np.zeros((n, FRAME_SAMPLES), np.float32)
    m = min(n, ref.shape[0])
    out[:m] = ref[:m]
    return out


def with_gain(frames: np.ndarray, gain_db: float) -> np.ndarray:
    """The mic ``gain_db`` louder (or quieter), clipped to full scale like a real recording."""
    if gain_db == 0.0:
        return frames
    return np.clip(frames * np.float32(10.0 ** (gain_db / 20.0)), -1.0, 1.0)  # float32 stays float32


def tail_frames(labels: FileLabels, n: int) -> int:
    """Frames of silence to append to a file of ``n`` frames so that every shift's answer
    window (``LATE_S``) and every barge-in's (``BARGEIN_WINDOW_S``) lies inside the stream;
    at most ``LATE_S`` of them, so a label past the audio's end (a mistake) cannot stream
    minutes of silence."""
    ends = [t + LATE_S for t in labels.shifts] + [t + BARGEIN_WINDOW_S for t in labels.bargeins]
    need = math.ceil(max(ends, default=0.0) * RATE / FRAME_SAMPLES) - n
    return max(0, min(need, math.ceil(LATE_S * RATE / FRAME_SAMPLES)))


def padded_input(path: str, persona: str | None, labels: FileLabels,
                 gain_db: float = 0.0) -> tuple[np.ndarray, np.ndarray | None, int]:
    """What every policy hears of one file: its mic frames at ``gain_db`` and the persona's
    reference cut to them, both with ``tail_frames`` of silence appended (zeros after the mic
    and the reference alike), and how many frames were appended."""
    frames = with_gain(load_frames(path), gain_db)
    reference = reference_frames(persona, frames.shape[0])  # cut to the mic's length, then padded alike
    pad = tail_frames(labels, frames.shape[0])
    if pad:
        frames = np.pad(frames, ((0, pad), (0, 0)))
        reference = None if reference is None else np.pad(reference, ((0, pad), (0, 0)))
    return frames, reference, pad


def _run_file(
    task: tuple[int, str, str | None, list[PolicySpec], int, float, FileLabels],
) -> tuple[int, float, float, dict[str, tuple[list[Decision], float, list[float], list[str] | None]]]:
    """One file (silence appended by ``tail_frames``) through every policy: its streamed and
    its appended seconds, and per policy (decisions, compute seconds, wall ms of each call
    of a model the policy asks per pause — Smart Turn — if it has ``call_ms``, the rule
    behind each commit if it has ``commit_rules``, else None)."""
    index, path, persona, specs, seed, gain_db, labels = task
    frames, reference, pad = padded_input(path, persona, labels, gain_db)
    results: dict[str, tuple[list[Decision], float, list[float], list[str] | None]] = {}
    for spec in specs:
        pol = _policy(spec)
        rng = np.random.default_rng([seed, index])
        t0 = time.perf_counter()
        decs = stream(pol, frames, rng, reference)
        if hasattr(pol, "drain"):  # the protocol's optional drain(): a judge call asked in the last frames
            pol.drain()
        rules = getattr(pol, "commit_rules", None)
        results[spec.label] = (decs, time.perf_counter() - t0, list(getattr(pol, "call_ms", ())),
                               None if rules is None else list(rules))
    return index, frames.shape[0] * FRAME_SAMPLES / RATE, pad * FRAME_SAMPLES / RATE, results


def call_stats(call_ms: Sequence[float], audio_s: float) -> dict[str, Any]:
    """Summary keys for a policy that asks a model per pause (empty for one that does not):
    calls per audio minute and their wall time — what its ``smart_turn_delay_s`` stands for."""
    if not call_ms:
        return {}
    ms = np.asarray(call_ms, np.float64)
    return {"model_calls": int(ms.size), "model_calls_per_min": ms.size / max(audio_s / 60.0, 1e-9),
            "model_call_median_ms": float(np.median(ms)), "model_call_p99_ms": float(np.percentile(ms, 99)),
            "model_call_max_ms": float(ms.max())}


def map_files(fn: Callable[[Any], Any], tasks: list[Any], jobs: int) -> list[Any]:
    """``fn`` over per-file ``tasks`` in ``jobs`` spawned processes, the results in the tasks'
    order whatever ``jobs`` is (a fit over them reads the same with one job or several)."""
    if jobs <= 1 or len(tasks) <= 1:
        return [fn(t) for t in tasks]
    ctx = mp.get_context("spawn")  # onnxruntime sessions do not survive fork well
    with ctx.Pool(min(jobs, len(tasks))) as pool:
        return list(pool.imap(fn, tasks))


def run_bench(
    corpus: str,
    specs: list[PolicySpec],
    *,
    max_files: int | None = None,
    jobs: int = 1,
    seed: int = 0,
    gain_db: float = 0.0,
    resamples: int = intervals.RESAMPLES,
    pairs: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """Run every policy on every file of the split (the mic ``gain_db`` louder or quieter:
    a level-robustness check); return the JSON-able report. With ``resamples`` > 0 it holds
    each headline figure's 95 % interval over that many resamples of the files
    (``intervals.py``), and which baselines each cadence setting beats with that confidence."""
    if not math.isfinite(gain_db) or abs(gain_db) > 60.0:
        raise InvalidArgumentError(f"gain_db must be a finite number of dB within ±60, got {gain_db}")
    check_interval_args(resamples, pairs, [s.label for s in specs])  # before the run, not after it
    files = load_manifest(corpus, max_files)
    tasks = [(i, f.path, f.persona, specs, seed, gain_db, f.labels) for i, f in enumerate(files)]
    outs = sorted(map_files(_run_file, tasks, jobs), key=lambda r: r[0])
    per_file: dict[str, list[FileScore]] = {s.label: [] for s in specs}
    compute = {s.label: 0.0 for s in specs}
    calls: dict[str, list[float]] = {s.label: [] for s in specs}
    by_rule: dict[str, dict[str, Counter[str]]] = {s.label: {} for s in specs}
    unmatched = {s.label: 0 for s in specs}  # files whose commit rules did not match their commits
    named = {s.label: False for s in specs}  # the policy names the rule behind each commit
    audio_s = padded_s = 0.0
    padded_files = 0
    rows: list[dict[str, Any]] = []
    for index, dur, pad_s, results in outs:
        audio_s += dur
        padded_s += pad_s
        padded_files += pad_s > 0
        f = files[index]
        for spec in specs:
            decs, secs, call_ms, rules = results[spec.label]
            sc = score_file(decs, f.labels)
            per_file[spec.label].append(sc)
            compute[spec.label] += secs
            calls[spec.label] += call_ms
            row = {"audio": f.audio, "policy": spec.label, **decision_lists(decs)}
            if rules is not None:
                named[spec.label] = True
                if tally(by_rule[spec.label], rules, sc.commit_outcomes):
                    row["commit_rules"] = rules
                else:  # a rule per commit or none (cadence score floor checks it)
                    unmatched[spec.label] += 1
            rows.append(row)
    summary = {s.label: {**summarize(total(per_file[s.label]), compute[s.label], audio_s), **call_stats(calls[s.label], audio_s),
                         **(rule_summary(by_rule[s.label], unmatched[s.label]) if named[s.label] else {})}
               for s in specs}
    report = {
        "files": rows,
        "summary": summary,
        "config": {"corpus": os.path.abspath(corpus), "n_files": len(files), "audio_s": audio_s, "seed": seed,
                   "gain_db": gain_db, "padded_files": padded_files, "padded_s": padded_s,
                   "ignored_events": ignored_counts(files), "coarse_audio": coarse_files(files),
                   "meta_ignored": meta_ignored(files)},
    }
    add_intervals(report, per_file, resamples, pairs=pairs)
    return report


def add_weights_args(ap: argparse.ArgumentParser) -> None:
    """``--weights`` and ``--persona-weights``: the cadence policy's networks, for both benches."""
    ap.add_argument("--weights", metavar="NPZ",
                    help="the cadence policy's model (default: the packaged floor_gru.npz)")
    ap.add_argument("--persona-weights", metavar="NPZ",
                    help="the networks its persona_networks=1 reads once the persona is heard: the "
                         "barge-in, the pause stage and the speech rule's voice head (default: the "
                         "packaged floor_persona.npz; --weights does not replace them)")


def check_weights_args(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Each given model file exists and is a floor model (else the usage error names it)."""
    from cadence.floor.model import FloorModel

    for flag, path in (("--weights", args.weights), ("--persona-weights", args.persona_weights)):
        if not path:
            continue
        if not os.path.isfile(path):
            ap.error(f"{flag} {path}: no such file")
        try:
            FloorModel(path)
        except CadenceError as e:
            ap.error(f"{flag} {path}: {e}")


def weights_config(args: argparse.Namespace) -> dict[str, str]:
    """What a report's config says of the cadence policy's networks (file and SHA-1)."""
    return {"weights": _weights_id(args.weights),
            "persona_weights": _weights_id(args.persona_weights, persona=True)}


def add_interval_args(ap: argparse.ArgumentParser) -> None:
    """``--resamples`` and ``--compare``, for the bench and the scorer."""
    ap.add_argument("--resamples", type=int, default=intervals.RESAMPLES,
                    help=f"resamples of the files behind each figure's 95 %% interval and the paired "
                         f"comparisons (0: none; else at least {intervals.MIN_RESAMPLES})")
    ap.add_argument("--compare", action="append", default=[], metavar="A:B",
                    help="also print policy A's paired difference from B with its interval (repeat)")


def check_interval_args(resamples: int, pairs: Sequence[tuple[str, str]], labels: Sequence[str]) -> None:
    """The resample count is valid, and every compared policy is one of ``labels`` (which needs
    resamples)."""
    intervals.check_resamples(resamples)
    if pairs and resamples == 0:
        raise InvalidArgumentError("comparing policies needs resamples > 0")
    intervals.check_pairs(pairs, labels)


def parse_pairs(items: Sequence[str]) -> list[tuple[str, str]]:
    """``--compare A:B`` values → (A, B) policy label pairs (split at the first ``:``; Cadence's
    and the baselines' labels hold none)."""
    pairs = []
    for item in items:
        a, sep, b = item.partition(":")
        if not sep or not a or not b:
            raise InvalidArgumentError(f"--compare takes A:B (two policy labels, e.g. cadence@0.5:silence-500), "
                                       f"got {item!r}")
        pairs.append((a, b))
    return pairs


def add_intervals(report: dict[str, Any], per_file: dict[str, list[FileScore]], resamples: int,
                  seed: int = 0, pairs: Sequence[tuple[str, str]] = ()) -> None:
    """Put ``intervals.report`` of the per-file scores into ``report`` (nothing with
    ``resamples`` 0): the cadence settings are the contenders, the other policies the baselines;
    ``pairs``: (a, b) policies whose whole paired difference a − b the report holds too."""
    labels = list(per_file)
    check_interval_args(resamples, pairs, labels)
    if resamples == 0:
        return
    report["intervals"] = intervals.report(per_file, labels, [lb for lb in labels if not is_cadence(lb)],
                                           [lb for lb in labels if is_cadence(lb)], resamples, seed,
                                           pairs=pairs)
    # over files alone: not on a split of recorded clips, whose intervals need the clips drawn too
    stops = stop_intervals.report(per_file, resamples, seed, pairs=pairs) \
        if report["intervals"]["unit"] == "file" else None
    if stops is not None:
        report["stop_intervals"] = stops


# --------------------------------------------------------------------------- output
_COLS = (
    ("policy", None),
    ("median ms", "latency_median_ms"),
    ("p90 ms", "latency_p90_ms"),
    ("mean ms", "latency_mean_ms"),
    ("≤500 ms", "answered_500ms_share"),
    ("precision", "precision"),
    ("recall", "recall"),
    ("recall, open", "recall_open"),
    ("interrupt.", "interruptions"),
    ("/100 turns", "interruptions_per_100_turns"),
    ("spurious", "spurious"),
    ("spec/turn", "speculate_per_turn"),
    ("retract share", "retract_share"),
    ("draft ready", "draft_ready_share"),
    ("draft lead ms", "draft_lead_median_ms"),
    ("answers drafted", "answer_draft_share"),
    ("answer lead ms", "answer_draft_lead_median_ms"),
    ("RTF", "rtf"),
)


_DUPLEX_COLS = (
    ("policy", None),
    ("recall", "bargein_recall"),
    ("median ms", "bargein_latency_median_ms"),
    ("p90 ms", "bargein_latency_p90_ms"),
    ("≤150 ms", "bargein_within_150ms_share"),
    ("false: backch.", "false_bargeins_backchannel"),
    ("false: other", "false_bargeins_other"),
    ("false /persona-min", "false_bargeins_per_persona_min"),
    ("backch. triggered", "backchannels_triggered"),
    ("trigger share", "backchannel_trigger_share"),
)
_STOP_COLS = (
    ("policy", None),
    ("stop median ms", "stop_latency_median_ms"),
    ("stop ≤150 ms", "stop_within_150ms_share"),
    ("late, after a yield", "stops_late_after_yield"),
    ("false pauses", "false_pauses"),
    ("false pauses /persona-min", "false_pauses_per_persona_min"),
    ("of them no user sound /persona-min", "false_pauses_no_user_per_persona_min"),
    ("false pause mean ms", "false_pause_mean_ms"),
    ("backch. paused", "backchannels_paused"),
    ("pause share", "backchannel_pause_share"),
)
_SHARES = frozenset(
    {"precision", "recall", "recall_open", "hold_interrupted_share", "speculate_per_turn", "retract_share",
     "draft_ready_share", "answer_draft_share", "nod_hold_share", "nod_after_end_share", "holds_nodded_share",
     "bargein_recall", "answered_500ms_share",
     "bargein_within_150ms_share", "backchannel_trigger_share", "false_bargeins_per_persona_min",
     "stop_within_150ms_share", "false_pauses_per_persona_min", "false_pauses_no_user_per_persona_min",
     "backchannel_pause_share"}
)


def _fmt(key: str, v: Any) -> str:
    if v is None:
        return "–"
    if key.endswith("_ms"):
        return f"{v:.0f}"
    if key == "rtf":
        return f"{v:.4f}"
    if isinstance(v, float):
        return f"{v:.3f}" if key in _SHARES else f"{v:.1f}"
    return str(v)


def markdown_table(
    summary: dict[str, dict[str, Any]], labels: Sequence[str], cols: Sequence[tuple[str, str | None]] = _COLS
) -> str:
    head = "| " + " | ".join(c for c, _ in cols) + " |"
    sep = "|" + "|".join("---" if k is None else "---:" for _, k in cols) + "|"
    lines = [head, sep]
    for label in labels:
        s = summary[label]
        cells = [label] + [_fmt(k, s[k]) for _, k in cols[1:] if k is not None]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def duplex_labels(summary: dict[str, dict[str, Any]], labels: Sequence[str]) -> list[str]:
    """Policies for the duplex table: all when the split has barge-ins, else those that emitted any."""
    if any(summary[lb]["bargeins"] for lb in labels):
        return list(labels)
    return [lb for lb in labels if summary[lb]["bargein_decisions"]]


def duplex_section(summary: dict[str, dict[str, Any]], labels: Sequence[str],
                   stops: dict[str, Any] | None = None) -> list[str]:
    rows = duplex_labels(summary, labels)
    if not rows:
        return []
    s0 = summary[rows[0]]
    return [
        "",
        "## Duplex: barge-in vs backchannel",
        "",
        f"{s0['bargeins']} barge-ins, {s0['backchannels']} backchannels, "
        f"{s0['persona_speaking_min']:.1f} min of persona speech. Only `bargein` decisions count. "
        f"Detected = a decision in [t, t + {BARGEIN_WINDOW_S:g} s] of a barge-in at t; recall = detected / "
        f"barge-ins; latency = first such decision − t; ≤{BARGEIN_TARGET_S * 1e3:.0f} ms = share of all "
        f"barge-ins detected that fast (the product requirement). False = decisions outside every barge-in "
        f"window: \"backch.\" inside [start, end + {BACKCHANNEL_TAIL_S:g} s] of a backchannel, \"other\" "
        f"elsewhere (echo, noise, non-duplex files); per minute of persona speech. Backch. triggered = "
        f"backchannels with a false barge-in in that span. A policy that emits no barge-in has recall 0.",
        "",
        markdown_table(summary, rows, _DUPLEX_COLS),
        "",
        "### When the persona's audio stops (two-stage barge-in)",
        "",
        f"Stop = the first `pause` or `bargein` decision in [t, t + {BARGEIN_WINDOW_S:g} s] of a barge-in; "
        f"≤{BARGEIN_TARGET_S * 1e3:.0f} ms = share of all barge-ins stopped that fast; late, after a yield = "
        f"barge-ins not stopped that fast whose persona utterance the policy had already yielded to an "
        f"earlier `bargein` (a recorded persona track plays on after a yield; a live persona would be "
        f"silent). A false pause is a "
        f"`pause` outside every barge-in window (the persona falls silent until the next `resume` or "
        f"`bargein`; mean ms = that silence); backch. paused = backchannels with a false pause in "
        f"[start, end + {BACKCHANNEL_TAIL_S:g} s]; no user sound = false pauses with no labelled user "
        f"sound from {USER_NEAR_S[0]:g} s before to {USER_NEAR_S[1]:g} s after them (the persona's echo "
        f"or noise alone; over files whose manifest has `meta.segments`). Policies without a pause "
        f"stage stop at their `bargein`.",
        "",
        markdown_table(summary, rows, _STOP_COLS),
        *stop_interval_lines(stops, rows),
    ]


def _ci(c: dict[str, Any] | None, fmt: str) -> str:
    return "–" if c is None else f"{c['point']:{fmt}} ({c['lo']:{fmt}}–{c['hi']:{fmt}}; {c['files']} files)"


def _diff(d: dict[str, Any] | None, fmt: str, sign: int) -> str:
    if d is None:
        return "–"
    sure = d["lo"] > 0.0 or d["hi"] < 0.0
    mark = (" ✓" if (d["point"] > 0.0) == (sign > 0) else " ✗") if sure else ""
    return f"{d['point']:{fmt}} ({d['lo']:{fmt}} … {d['hi']:{fmt}}){mark}"


# the pause stage's figures with intervals (``stop_intervals``): column, key, format
_STOP_CI = (("stop ≤150 ms", "stop_within_150ms_share", ".3f"), ("backch. paused share", "backchannel_pause_share", ".3f"),
            ("false pauses /persona-min", "false_pauses_per_persona_min", ".3f"))


def _stop_head(first: str) -> list[str]:
    return [f"| {first} | " + " | ".join(c for c, _, _ in _STOP_CI) + " |", "|---" + "|---:" * len(_STOP_CI) + "|"]


def stop_diff_rows(rows: Sequence[tuple[str, dict[str, Any]]]) -> list[str]:
    """A table of the pause stage's paired differences, one (label, ``stop_intervals`` diff) per row."""
    return [*_stop_head("a − b"),
            *(f"| {label} | " + " | ".join(_diff(d[m], "+" + f, stop_intervals.SIGN[m]) for _, m, f in _STOP_CI) + " |"
              for label, d in rows)]


def stop_interval_lines(stops: dict[str, Any] | None, rows: Sequence[str]) -> list[str]:
    """The pause stage's figures with their 95 % intervals (``stop_intervals.report``), and the
    paired differences of ``--compare``."""
    if not stops:
        return []
    pol = stops["policies"]
    lines = ["", f"With {stops['level'] * 100:g} % intervals over {stops['resamples']} resamples of the split's "
             "files (`cadence/floor/stop_intervals.py`; expanded and bias-corrected as the turn-taking "
             "figures' are, with the degrees of freedom of the files that carry each figure: those with "
             "barge-ins, with backchannels, with persona speech):", "", *_stop_head("policy")]
    lines += [f"| {lb} | " + " | ".join(_ci(pol[lb][m], f) for _, m, f in _STOP_CI) + " |" for lb in rows if lb in pol]
    if stops.get("pairs"):
        lines += ["", f"Paired differences (a − b, the same resamples, not bias-corrected). {SURE_MARKS}", "",
                  *stop_diff_rows([(f"{pr['a']} − {pr['b']}", pr["diff"]) for pr in stops["pairs"]])]
    return lines


def _bucket_name(b: dict[str, Any]) -> str:
    return f"≥{b['min_s']:g} s" if b["max_s"] is None else f"{b['min_s']:g}–{b['max_s']:g} s"


def interruption_section(summary: dict[str, dict[str, Any]], labels: Sequence[str]) -> list[str]:
    """Where each policy's interruptions fall: in speech, or in holds by their length."""
    s0 = summary[labels[0]]
    if not s0["holds"]:
        return []
    buckets = s0["holds_by_length"]
    head = ["policy", "in speech", "holds interrupted", "share"] + [
        f"{_bucket_name(b)} ({b['holds']})" for b in buckets] + ["delay median ms"]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for label in labels:
        s = summary[label]
        cells = [label, str(s["interruptions_in_speech"]), str(s["holds_interrupted"]),
                 _fmt("hold_interrupted_share", s["hold_interrupted_share"])]
        cells += ["–" if b["share"] is None else f"{b['interrupted']} ({b['share']:.2f})" for b in s["holds_by_length"]]
        cells.append(_fmt("interruption_delay_median_ms", s["interruption_delay_median_ms"]))
        lines.append("| " + " | ".join(cells) + " |")
    return [
        "",
        "## Where interruptions happen",
        "",
        f"{s0['holds']} holds. In speech = commits inside a user's turn outside every hold; a hold counts "
        "once however many commits fall in it. Columns by hold length (holds in the split): interrupted "
        "holds (share). Delay = first commit in a hold − its start, the silence waited before cutting in.",
        "",
        *lines,
    ]


_NOD_COLS = (
    ("policy", None),
    ("nods", "nods"),
    ("/100 turns", "nods_per_100_turns"),
    ("in holds", "nod_hold_share"),
    ("after a turn end", "nod_after_end_share"),
    ("holds nodded", "holds_nodded_share"),
)


def _rows_section(summary: dict[str, dict[str, Any]], labels: Sequence[str], key: str, title: str, text: str,
                  cols: Sequence[tuple[str, str | None]]) -> list[str]:
    """A titled table of the policies whose ``key`` count is non-zero (none: no section)."""
    rows = [lb for lb in labels if summary[lb].get(key)]
    return ["", f"## {title}", "", text, "", markdown_table(summary, rows, cols)] if rows else []


def nod_section(summary: dict[str, dict[str, Any]], labels: Sequence[str]) -> list[str]:
    """Where the persona's backchannels (nods) fall, for the policies that emit any."""
    return _rows_section(
        summary, labels, "nods", "The persona's backchannels (nods)",
        "A nod is a `backchannel` decision: a nod or \"mm-hm\" while the user pauses. In holds = nods "
        "inside a hold, where they belong; after a turn end = nods in a shift's answer window (the user "
        f"waits for an answer); holds nodded = holds of at least {NOD_HOLD_S:g} s with a nod in them.",
        _NOD_COLS)


def dominance(summary: dict[str, dict[str, Any]], policy: str, baseline: str) -> list[str]:
    """The metrics of ``DOMINANCE_KEYS`` on which ``policy`` is *not* strictly better than
    ``baseline`` (empty: it beats the baseline on every one). A metric the policy cannot
    measure (no commits: no latency) counts as not better."""
    a, b = summary[policy], summary[baseline]
    return [k for k, sign in DOMINANCE_KEYS
            if b[k] is not None and (a[k] is None or (a[k] - b[k]) * sign <= 0)]


def dominance_section(summary: dict[str, dict[str, Any]], labels: Sequence[str],
                      ci: dict[str, Any] | None = None) -> list[str]:
    """Per baseline: the cadence settings that beat it on every metric, else the best near miss;
    with ``ci`` (a report's ``intervals``) also those that beat it on every metric with 95 %
    confidence, else the closest of them and the metrics where the difference may be chance."""
    cadence = [lb for lb in labels if is_cadence(lb)]
    baselines = [lb for lb in labels if not is_cadence(lb)]
    if not cadence or not baselines:
        return []
    sure = ci["against"] if ci else None
    lines = ["| baseline | beaten on every metric by | else: closest setting, metrics not better |"
             + (f" beaten with {ci['level'] * 100:g} % confidence by | else: closest, metrics not surely better |"
                if ci else ""),
             "|---|---|---|" + ("---|---|" if ci else "")]
    for b in baselines:
        lost = {c: dominance(summary, c, b) for c in cadence}
        wins = [c for c in cadence if not lost[c]]
        near = min(cadence, key=lambda c: len(lost[c]))
        row = f"| {b} | {', '.join(wins) or '–'} | {'' if wins else near + ': ' + ', '.join(lost[near])} |"
        if sure is not None:
            unsure = sure[b]
            sure_wins = [c for c in cadence if not unsure[c]]
            near = min(cadence, key=lambda c: len(unsure[c]))
            row += f" {', '.join(sure_wins) or '–'} | {'' if sure_wins else near + ': ' + ', '.join(unsure[near])} |"
        lines.append(row)
    keys = ", ".join(k for k, _ in DOMINANCE_KEYS)
    text = f"A setting beats a baseline when it is strictly better on every one of: {keys}."
    if ci:
        text += (f" With {ci['level'] * 100:g} % confidence: on every one the {ci['level'] * 100:g} % interval of the "
                 f"difference (paired, the same resamples of the {_units(ci)} for both; section \"How sure\") "
                 "lies wholly on the better side of 0.")
    return ["", "## Against each baseline", "", text, "", *lines]


def _units(ci: dict[str, Any]) -> str:
    """What an interval report resampled, in words."""
    return intervals.unit_words(ci.get("unit", "file"))


def _interval_cell(key: str, iv: dict[str, Any]) -> str:
    if iv["value"] is None:
        return "–"
    return f"{_fmt(key, iv['value'])} ({_fmt(key, iv['lo'])}–{_fmt(key, iv['hi'])})"


_HEADLINE_COLS = (("median ms", "latency_median_ms"), ("p90 ms", "latency_p90_ms"), ("precision", "precision"),
                  ("recall", "recall"), ("recall, open", "recall_open"), ("/100 turns", "interruptions_per_100_turns"))


def _signed(key: str, v: float | None) -> str:
    return "–" if v is None else f"{v:+.3f}" if key in _SHARES else f"{v:+.1f}"


def diff_cell(key: str, d: dict[str, Any]) -> str:
    """``+1.2 (−0.3 … +2.6)`` (a paired difference and its interval), marked ✓ where it is
    surely better, ✗ surely worse."""
    if d["diff"] is None:
        return "–"
    mark = " ✓" if d["better"] else " ✗" if d["worse"] else ""
    return f"{_signed(key, d['diff'])} ({_signed(key, d['lo'])} … {_signed(key, d['hi'])}){mark}"


def diff_rows(rows: Sequence[tuple[str, dict[str, Any]]]) -> list[str]:
    """A table of paired differences, one (label, ``intervals.paired`` result) per row."""
    lines = ["| comparison | " + " | ".join(c for c, _ in _HEADLINE_COLS) + " |",
             "|---" + "|---:" * len(_HEADLINE_COLS) + "|"]
    for label, d in rows:
        lines.append(f"| {label} | " + " | ".join(diff_cell(k, d[k]) for _, k in _HEADLINE_COLS) + " |")
    return lines


# the legend of a difference table
SURE_MARKS = ("✓: surely better, ✗: surely worse (the interval lies wholly on one side of 0); unmarked: it may "
              "be chance. Where there is no real difference a mark still comes 5 % of the time: among 20 "
              "such comparisons, about one is marked.")


def pairs_section(ci: dict[str, Any] | None) -> list[str]:
    """The paired differences a report was asked for (``--compare``)."""
    if not ci or not ci.get("pairs"):
        return []
    return ["", "## Paired differences", "",
            f"Each difference a − b with its {ci['level'] * 100:g} % interval over the same {ci['resamples']} "
            f"resamples of the {_units(ci)} for both. {SURE_MARKS}", "",
            *diff_rows([(f"{p['a']} − {p['b']}", p["diff"]) for p in ci["pairs"]])]


def interval_section(ci: dict[str, Any] | None, labels: Sequence[str]) -> list[str]:
    """Each policy's headline figures with their intervals (a report's ``intervals``)."""
    if not ci:
        return []
    lines = ["| policy | " + " | ".join(c for c, _ in _HEADLINE_COLS) + " |",
             "|---" + "|---:" * len(_HEADLINE_COLS) + "|"]
    for lb in labels:
        lines.append(f"| {lb} | " + " | ".join(_interval_cell(k, ci["policies"][lb][k]) for _, k in _HEADLINE_COLS)
                     + " |")
    if ci.get("unit") == "file × clip":
        what = (f"the split's {ci['files']} files and, on their own, its {ci['clips']} recorded clips, each drawn "
                f"with replacement (seed {ci['seed']}; a turn counts its file's draws times its clip's). A file's "
                "turns share a noise and a level, and the same clip is heard in several files, so both move "
                "together (`cadence/floor/intervals.py`). Two policies ran on the same files, so their difference "
                "is surer than the two intervals side by side suggest: ")
        title = "## How sure: intervals over the files and the recorded clips"
    else:
        what = (f"the split's files, drawn with replacement (seed {ci['seed']}). A file's turns share a voice, a "
                "noise and a mic level, so the file is the unit resampled (`cadence/floor/intervals.py`). Two "
                "policies ran on the same files, so their difference is surer than the two intervals side by "
                "side suggest: ")
        title = "## How sure: intervals over the files"
    return ["", title, "",
            f"Each figure with its {ci['level'] * 100:g} % interval over {ci['resamples']} resamples of " + what
            + "Each interval is an expanded percentile interval: its tails leave out less than "
            f"{50 * (1 - ci['level']):g} % of the resamples where few files or clips carry a figure (its degrees "
            "of freedom, `df` in the JSON); a ratio's own interval (not a paired difference's) is also "
            "bias-corrected, so it leans the way its resamples are skewed. "
            + "\"Against each baseline\" compares them on the same resamples.", "", *lines]


_CALL_COLS = (
    ("policy", None),
    ("calls", "model_calls"),
    ("per audio min", "model_calls_per_min"),
    ("median ms", "model_call_median_ms"),
    ("p99 ms", "model_call_p99_ms"),
    ("max ms", "model_call_max_ms"),
)


def model_call_section(summary: dict[str, dict[str, Any]], labels: Sequence[str]) -> list[str]:
    """Wall time of the model calls a policy makes per pause (Smart Turn), for the rows that make any."""
    return _rows_section(
        summary, labels, "model_calls", "Per-pause model calls (Smart Turn v3.2)",
        "Wall time of each call on this machine, beside the rest of the run. Cadence's judge "
        "(`smart_turn_weight`) runs on the policy's own thread and its answer is read `smart_turn_delay_s` "
        "(default 100 ms) after asking, so its latencies hold in real time when the calls fit in that (here "
        "a longer call holds the policy until it ends; in the live Floor actor the frames go on without "
        "it until it ends); `smart-turn-v3`'s decisions are stamped without its "
        "call time (a best case).",
        _CALL_COLS)


def _weights_id(path: str | None, persona: bool = False) -> str:
    """The cadence model file (``persona``: the persona's networks, ``persona_networks=1``) and
    the start of its SHA-1 (which model a report is about)."""
    import hashlib

    from cadence.floor.model import default_persona_weights_path, default_weights_path

    p = path or str(default_persona_weights_path() if persona else default_weights_path())
    with open(p, "rb") as f:
        return f"{p} (sha1 {hashlib.sha1(f.read()).hexdigest()[:10]})"


def models_note(cfg: dict[str, Any]) -> str:
    """"Cadence model: ..." for a report's config that names its weights (no closing stop)."""
    return f"Cadence model: `{cfg['weights']}`" + (
        f"; the persona's networks (`persona_networks=1`): `{cfg['persona_weights']}`" if cfg.get("persona_weights") else "")


def render_markdown(report: dict[str, Any]) -> str:
    cfg = report["config"]
    summary = report["summary"]
    labels = list(summary)
    any_label = labels[0]
    turns = summary[any_label]["turns"]
    s0_open = turns - summary[any_label]["preempted_shifts"]
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        pass
    parts = [
        "# Floor benchmark",
        "",
        f"Corpus `{cfg['corpus']}`: {cfg['n_files']} files, {cfg['audio_s'] / 60:.1f} min of audio, {turns} turns "
        f"(shifts). " + (f"Chunking seed {cfg['seed']}. Machine: {cpu}, {os.cpu_count()} cores, "
                          f"Python {platform.python_version()}, numpy {np.__version__}."
                          if cfg.get("seed") is not None else "Decisions scored from a file (`cadence score floor`).")
        + (f" **Mic gain {cfg['gain_db']:+g} dB** (every file, clipped to full scale)." if cfg.get("gain_db") else "")
        + (f" {cfg['padded_files']} file(s) end inside an answer window: {cfg['padded_s']:.1f} s of silence "
           "appended (counted in the audio)." if cfg.get("padded_files") else "")
        + (" Events of types no metric reads (ignored): "
           + ", ".join(f"{t!r} × {n}" for t, n in cfg["ignored_events"].items()) + "."
           if cfg.get("ignored_events") else "")
        + (" Keys of the decisions no metric reads (ignored): "
           + ", ".join(f"{k!r} × {n}" for k, n in cfg["ignored_decision_keys"].items()) + "."
           if cfg.get("ignored_decision_keys") else "")
        + (f" **`meta` not read in {len(cfg['meta_ignored'])} file(s)** (not in the shape Cadence's corpora "
           f"write it; their events alone are scored), e.g. `{cfg['meta_ignored'][0]['audio']}`: "
           f"{cfg['meta_ignored'][0]['why']}." if cfg.get("meta_ignored") else "")
        + (f" **{len(cfg['coarse_audio'])} file(s) stored as 8-bit PCM** (e.g. `{cfg['coarse_audio'][0]}`): "
           "their quantisation noise, about 48 dB under full scale, reaches the features and can change "
           "Cadence's decisions." if cfg.get("coarse_audio") else ""),
        *([models_note(cfg)
           + (", with the echo canceller (`--echo-cancel`)." if cfg.get('echo_cancel') else ".")
           + (f" Judge head (`--judge-head`): `{cfg['judge_head']}`." if cfg.get("judge_head") else ""), ""]
          if cfg.get("weights") else [""]),
        "Latency = first correct commit − true turn end (window [−100 ms, +2 s], ended sooner by the persona's or the user's next turn); precision = correct / all "
        "commits; interruptions = commits inside a hold or inside the user's turn before t − 100 ms; "
        "spurious = other wrong commits; ≤500 ms = share of all turns answered within 500 ms of their end "
        "(a turn answered late or never counts against it); RTF = compute / audio time." + (
            f" Recall, open = recall over the {s0_open} shifts whose window the recorded persona did not "
            "pre-empt (in duplex files the persona's reply starts on its own; the window ends there)."
            if s0_open < turns else " Recall, open = recall (no recorded persona speech pre-empts a shift)."),
        "",
        markdown_table(summary, [lb for lb in labels if not _is_sweep(lb)] + [lb for lb in labels if _is_sweep(lb)]),
    ]
    sweep = [lb for lb in labels if _is_sweep(lb)]
    if sweep:
        parts += ["", "## Cadence patience sweep", "", markdown_table(summary, sweep)]
    ordered = [lb for lb in labels if not _is_sweep(lb)] + sweep
    parts += interval_section(report.get("intervals"), ordered)
    parts += dominance_section(summary, ordered, report.get("intervals"))
    parts += pairs_section(report.get("intervals"))
    parts += interruption_section(summary, ordered)
    parts += rule_section(summary, ordered)
    parts += duplex_section(summary, ordered, report.get("stop_intervals"))
    parts += nod_section(summary, ordered)
    parts += model_call_section(summary, ordered)
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- fitting
def _collect(task: tuple[str, tuple[float, ...]]) -> tuple[np.ndarray, np.ndarray]:
    from cadence.floor.baselines import collect_stops

    path, shifts = task
    return collect_stops(load_frames(path), shifts)


def fit_baselines(split: str, *, jobs: int = 1, max_files: int | None = None, out: str | None = None) -> dict[str, Any]:
    """Train the vad-classify stop classifier on a (train) split and save its weights."""
    from cadence.floor.baselines import WEIGHTS_PATH, fit_classifier

    files = load_manifest(split, max_files)
    parts = map_files(_collect, [(f.path, f.labels.shifts) for f in files], jobs)
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    info = {"split": os.path.abspath(split), "files": len(files), "stops": int(y.size), "end_of_turn": int(y.sum())}
    clf = fit_classifier(X, y, info=info)
    p = np.array([clf.prob_end(x) for x in X])
    pred = p >= clf.threshold
    info["train_accuracy"] = float(np.mean(pred == (y > 0)))
    info["train_recall_end"] = float(pred[y > 0].mean()) if y.sum() else None
    info["train_recall_hold"] = float((~pred[y == 0]).mean()) if (y == 0).any() else None
    clf.save(out or WEIGHTS_PATH)
    return info


# --------------------------------------------------------------------------- CLI
def write_outputs(report: dict[str, Any], md: str, json_out: str | None, md_out: str | None) -> None:
    """Write the report's JSON and markdown where asked (``--json`` / ``--markdown``)."""
    if json_out:
        with open(json_out, "w") as f:
            json.dump(report, f)
    if md_out:
        with open(md_out, "w") as f:
            f.write(md)


def _floats(s: str) -> list[float]:
    try:
        vals = [float(v) for v in s.split(",") if v.strip()]
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {s!r}") from e
    if any(not (0.0 <= v <= 1.0) for v in vals):
        raise argparse.ArgumentTypeError(f"patience values must be in [0, 1]: {s!r}")
    if not vals:
        raise argparse.ArgumentTypeError("expected at least one patience value")
    return vals


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="cadence bench floor", description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", help="split folder with manifest.jsonl")
    ap.add_argument("--json", dest="json_out", type=cli_args.out_file, help="write the per-file decisions and summary here")
    ap.add_argument("--markdown", dest="md_out", type=cli_args.out_file, help="write the results table here")
    ap.add_argument("--policies", default=DEFAULT_POLICIES)
    ap.add_argument("--patience", type=_floats, default=[0.0, 0.25, 0.5, 0.75, 1.0],
                    help="sweep for the cadence policy (the benchmark tables use this one)")
    ap.add_argument("--max-files", type=int, default=None)
    ap.add_argument("--jobs", type=cli_args.jobs, default=cores())
    ap.add_argument("--seed", type=cli_args.seed, default=0, help="seed of the random chunking")
    ap.add_argument("--gain-db", type=float, default=0.0,
                    help="play every file this many dB louder (or quieter): a level-robustness check")
    add_weights_args(ap)
    ap.add_argument("--echo-cancel", action="store_true",
                    help="the cadence policy's featurizer runs the adaptive echo canceller (off by default)")
    ap.add_argument("--judge-head", metavar="NPZ",
                    help="the judge head of the cadence/.../judge_head=1 variants (cadence train judge writes "
                         "one; default the packaged judge_head.npz)")
    add_interval_args(ap)
    ap.add_argument("--fit-baselines", metavar="SPLIT", help="train vad-classify on this split and exit")
    ap.add_argument("--weights-out", type=cli_args.out_file,
                    help="with --fit-baselines: where to write the weights (required: the packaged "
                         "vad_classify.json is never overwritten by omission)")
    args = ap.parse_args(argv)
    if args.max_files is not None and args.max_files < 1:
        ap.error("--max-files must be >= 1")
    if args.fit_baselines and args.weights_out is None:
        ap.error("--fit-baselines needs --weights-out (the packaged vad_classify.json is never overwritten "
                 "by omission; name it to replace it)")
    if args.weights_out is not None and not args.fit_baselines:
        ap.error("--weights-out is read only with --fit-baselines")
    try:
        if args.fit_baselines:
            t0 = time.perf_counter()
            info = fit_baselines(args.fit_baselines, jobs=args.jobs, max_files=args.max_files,
                                 out=str(args.weights_out))
            info["seconds"] = round(time.perf_counter() - t0, 1)
            print(json.dumps(info, indent=1))
            return 0
        if not args.corpus:
            ap.error("--corpus DIR is required (or --fit-baselines SPLIT)")
        check_weights_args(ap, args)
        if args.judge_head:
            if not os.path.isfile(args.judge_head):
                ap.error(f"--judge-head {args.judge_head}: no such file")
            from cadence.floor.turn_judge import JudgeHead

            JudgeHead.load(args.judge_head)  # a malformed file is an error, not a policy "not available"
        specs = _available(parse_policies(args.policies, args.patience, args.weights, args.echo_cancel,
                                          args.judge_head, args.persona_weights))
        if not specs:
            print("cadence bench floor: no policy available", file=sys.stderr)
            return 2
        t0 = time.perf_counter()
        report = run_bench(args.corpus, specs, max_files=args.max_files, jobs=args.jobs, seed=args.seed,
                           gain_db=args.gain_db, resamples=args.resamples, pairs=parse_pairs(args.compare))
        if any(s.name == "cadence" for s in specs):
            report["config"].update(weights_config(args))
            report["config"]["echo_cancel"] = bool(args.echo_cancel)
            if args.judge_head:
                report["config"]["judge_head"] = _weights_id(args.judge_head)
        md = render_markdown(report)
        print(md)
        print(f"({time.perf_counter() - t0:.1f} s wall)")
        write_outputs(report, md, args.json_out, args.md_out)
    except (CadenceError, FileNotFoundError) as e:
        print(f"cadence bench floor: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
