"""Scoring a floor policy's decisions against a corpus file's labelled events.

Definitions (per file; totals pool files):

* A **correct** commit lies in ``[t - 0.1, t + 2.0]`` (closed; cut short when
  the shift is pre-empted, below) of a shift at ``t`` and not inside a hold;
  only the first correct commit per shift counts,
  with latency ``commit - t`` (between -0.1 and +2.0 s). A shift's window also
  ends where the user's next turn starts (``meta.turns``/``meta.segments``; without
  them, where the next shift's window opens, ``t_next - 0.1``): a commit once the user
  talks again cuts in on the new turn. Where windows still overlap, a commit answers
  the earliest unanswered one.
* An **interruption** is a commit inside a hold (``[start, end]``, closed), or
  a commit in the user's turn before ``t - 0.1`` of that turn's shift. The
  user's turn for a shift starts at the first turn start (``meta.turns``) or
  else user speech segment (``meta.segments`` of kind final/continuation/
  filler/bargein) after the previous shift; without either it is taken to start where the previous shift's
  window ends (``t_prev + 2.0``, or ``t - 0.1`` if that is sooner; the file start for the first shift).
* Every other commit is **spurious**: duplicates inside an answered window,
  commits during the persona's time after a shift's window, before the first
  turn starts, after the last window. Spurious commits lower precision.
* precision = correct / commits; recall = answered shifts / shifts;
  interruptions per 100 turns (turns = shifts).
* **answered within 500 ms**: the share of all shifts with a correct commit at most
  500 ms after ``t``. Unlike the latency percentiles, which only see answered
  shifts, a turn answered late or never counts against it: a policy cannot look
  fast by leaving its hard turns unanswered.
* A shift is **pre-empted** when recorded persona speech (``meta.persona``,
  duplex files) starts in ``[t, t + 2.0)`` or is already under way at
  ``t - 0.1``: the corpus's persona took the floor on its own, so the shift's
  window ends where that speech starts (at ``t - 0.1`` if it already talks):
  a commit while the persona talks answers nothing. **recall_open** = answered
  / shifts over the shifts that are not pre-empted, whose whole window was
  the policy's to use; ``recall`` keeps every shift.
* Speculation: speculates per commit, and the share of speculates followed
  by a retract before the next commit (or the end of the file). A commit
  **has a draft ready** when a speculation since the previous commit was not
  retracted; its lead is the commit time minus that (oldest live) speculation,
  the head start Dialogue got (a draft begun in the commit's own frame counts, with
  lead 0). **Answers drafted**: of the commits that answer a shift (a draft behind an
  interrupting commit helps no one), the share whose live draft began strictly before
  them (a head start), with its own median lead.

Where interruptions happen: an interruption is **in a hold** or **in speech**
(the user's turn, outside every hold). Each hold counts once however many
commits fall in it; its **delay** is the first such commit − the hold's start
(the silence the policy waited before taking the floor). Holds are bucketed by
length (:data:`HOLD_BUCKETS_S`), so a policy that only fails on long pauses
(a silence timeout) reads differently from one that fails on short ones.

Event types other than ``shift`` and ``hold`` are ignored by these metrics; types
other than those and the duplex ones below are ignored by every metric, and counted
(:func:`ignored_event_types`).

Duplex metrics (only decisions of kind ``bargein``; events ``bargein`` {t} and
``backchannel`` {start, end}; the persona's speech from ``meta.persona``):

* A barge-in at ``t`` is **detected** when a bargein decision lies in
  ``[t, t + 1.0]`` (closed); its latency is the first such decision ``- t``.
  A decision may detect two barge-ins whose windows overlap. Further decisions
  inside a window are neither detections nor false barge-ins (the persona has
  already stopped). bargein recall = detected / barge-ins; the 150 ms share
  counts barge-ins detected with latency <= 150 ms over all barge-ins.
* Every bargein decision outside all barge-in windows is a **false barge-in**:
  "backchannel" when it lies in ``[start, end + 0.3]`` of a backchannel, else
  "other" (the persona's echo, noise, or no persona speaking at all). Rates
  are per minute of persona speech (sum of ``meta.persona`` intervals).
* A backchannel **triggered** a barge-in when a false barge-in lies in its
  ``[start, end + 0.3]``; trigger share = triggered / backchannels.
* Two-stage barge-in (decisions ``pause`` and ``resume``): the persona's
  audio **stops** at the first ``pause`` or ``bargein`` decision in
  ``[t, t + 1.0]`` of a barge-in; stop latency and the stop-within-150 ms
  share are computed like the barge-in ones. A ``pause`` outside every
  barge-in window is a **false pause** (the persona falls silent, then
  resumes); it lasts until the next ``resume`` or ``bargein`` decision. A
  backchannel **paused** the persona when a false pause lies in its
  ``[start, end + 0.3]``.

The persona's own backchannels (decisions ``backchannel``: a nod or "mm-hm" while
the user pauses): each **nod** lies in a hold (where it belongs), after a turn end
(in the shift's answer window: the user was done and waits for an answer, not a
nod), inside the user's speech, or elsewhere. Reported: nods per 100 turns, the
share in holds, the share after turn ends, and the share of holds of at least
``NOD_HOLD_S`` (the model's backchannel target) that got a nod.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from cadence.errors import InvalidArgumentError
from cadence.floor.protocol import Decision

__all__ = [
    "BACKCHANNEL_TAIL_S",
    "BARGEIN_TARGET_S",
    "BARGEIN_WINDOW_S",
    "COMMIT_OUTCOMES",
    "EARLY_S",
    "HOLD_BUCKETS_S",
    "LATE_S",
    "NOD_HOLD_S",
    "SEGMENT_KEYS",
    "FileLabels",
    "FileScore",
    "hold_breakdown",
    "in_answer_window",
    "in_hold",
    "total",
    "labels_from_manifest",
    "meta_problem",
    "read_labels",
    "score_file",
    "stops_within_target",
    "summarize",
]

EARLY_S = 0.1  # a commit may precede the true turn end by this much
LATE_S = 2.0  # ... and follow it by at most this much
BARGEIN_WINDOW_S = 1.0  # a bargein decision detects a barge-in at t within [t, t + this]
BARGEIN_TARGET_S = 0.150  # product requirement: the persona stops within this of the barge-in
ANSWER_FAST_S = 0.5  # answered_500ms_share: turns answered at most this long after their end
BACKCHANNEL_TAIL_S = 0.3  # a false barge-in this long after a backchannel's end is blamed on it
NOD_HOLD_S = 0.5  # holds this long are the persona's backchannel opportunities (labels.py, ``bc``)
# a false pause from 0.1 s before to 0.3 s after a span of user sound is blamed on the user
USER_NEAR_S = (0.1, 0.3)
# lower edges of the hold-length buckets of the interruption breakdown, s
HOLD_BUCKETS_S = (0.0, 0.5, 1.0, 1.5)
# what a commit was: it answered a shift, it interrupted (in a hold, or in the user's speech), or neither
COMMIT_OUTCOMES = ("correct", "in a hold", "in speech", "spurious")
_TOL = 1e-9  # float slack at the window edges (frame times are sums of 0.01)

_TURN_SEGMENT_KINDS = frozenset({"final", "continuation", "filler", "bargein"})
# the manifest ``meta`` keys that may hold the user's speech segments, the first list found wins
SEGMENT_KEYS = ("segments", "speech_segments", "speech")
# a file whose meta.voice starts so replays recorded clips (``cadence corpus floor-recorded``,
# ``floor-prompts``, ``floor-phone``): the same clip in several files is one unit to resample
RECORDED_VOICE_PREFIX = "recorded:"
CLIP_END_S = 0.05  # a turn ends with the clip whose segment ends this near its shift
# the counts of a turn that intervals.py resamples, in its order
UNIT_COUNTS = ("correct", "commits", "answered", "shifts", "open_answered", "open_shifts", "interruptions")


@dataclass(frozen=True)
class FileLabels:
    """The events of one file that the metrics use."""

    shifts: tuple[float, ...]
    holds: tuple[tuple[float, float], ...] = ()
    # start of the user's turn that each shift ends (same length as shifts)
    turn_starts: tuple[float, ...] | None = None
    # duplex files: user barge-in starts, user backchannels [start, end], persona speech [start, end]
    bargeins: tuple[float, ...] = ()
    backchannels: tuple[tuple[float, float], ...] = ()
    persona: tuple[tuple[float, float], ...] = ()
    # every span of user sound (turn segments, barge-ins, backchannels), when the manifest
    # has ``meta.segments``; None: unknown (a false pause cannot be told echo-only)
    user_speech: tuple[tuple[float, float], ...] | None = None
    # recorded splits, where several files replay the same clips: per shift, the clip its turn
    # ends with (``RECORDED_VOICE_PREFIX``; None where no clip ends there); None: not recorded
    clips: tuple[str | None, ...] | None = None

    def __post_init__(self) -> None:
        if any(b < a for a, b in zip(self.shifts, self.shifts[1:])):
            raise InvalidArgumentError("shift times must be sorted")
        if any(b < a for a, b in zip(self.bargeins, self.bargeins[1:])):
            raise InvalidArgumentError("barge-in times must be sorted")
        if not all(math.isfinite(t) for t in self.bargeins):
            raise InvalidArgumentError("barge-in times must be finite")
        for what, spans in (("hold", self.holds), ("backchannel", self.backchannels), ("persona", self.persona)):
            for s, e in spans:
                if not (math.isfinite(s) and math.isfinite(e)) or e < s:
                    raise InvalidArgumentError(f"bad {what} [{s}, {e}]")
        if self.turn_starts is not None and len(self.turn_starts) != len(self.shifts):
            raise InvalidArgumentError("turn_starts must have one entry per shift")
        if self.clips is not None and len(self.clips) != len(self.shifts):
            raise InvalidArgumentError("clips must have one entry per shift")

    @property
    def persona_s(self) -> float:
        """Seconds of persona speech (overlapping intervals counted once)."""
        total = 0.0
        end = -math.inf
        for s, e in sorted(self.persona):
            if e > end:
                total += e - max(s, end)
                end = e
        return total

    def window_end(self, k: int) -> float:
        """End of shift ``k``'s answer window: ``t + LATE_S``, or where recorded persona
        speech takes the floor first: an interval starting in ``[t, t + LATE_S)`` ends
        the window at its start, one already under way at ``t - EARLY_S`` at that time
        (the shift is then pre-empted)."""
        t = self.shifts[k]
        late = t + LATE_S
        cut = [max(s, t - EARLY_S) for s, e in self.persona if s < late - _TOL and e > t - EARLY_S + _TOL]
        return min([late, *cut])

    def answer_end(self, k: int) -> float:
        """End of the span in which a commit answers shift ``k``: :meth:`window_end`, cut
        where the user's next turn starts (:meth:`turn_start`: without labelled starts, where
        this window ends or the next one opens, whichever is sooner). Once the user talks again, taking the floor
        cuts in on the new turn; it no longer answers the old one."""
        end = self.window_end(k)
        if k + 1 >= len(self.shifts):
            return end
        nxt = self.turn_start(k + 1)
        # a next turn that starts before this one ends (two shifts within 0.1 s, a turn start out
        # of order) cuts nothing: it is a labelling slip, not the user talking again
        return min(end, nxt) if nxt > self.shifts[k] + _TOL else end

    def preempted(self, k: int) -> bool:
        return self.window_end(k) < self.shifts[k] + LATE_S - _TOL

    def turn_start(self, k: int) -> float:
        if self.turn_starts is not None:
            return self.turn_starts[k]
        return _fallback_start(self.shifts[k - 1], self.shifts[k]) if k > 0 else 0.0


def _num(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise InvalidArgumentError(f"{what} must be a finite number, got {x!r}")
    return float(x)


EVENT_TYPES = ("shift", "hold", "bargein", "backchannel")


def _time(x: Any, what: str) -> float:
    t = _num(x, what)
    if t < 0:
        raise InvalidArgumentError(f"{what} must be seconds from the file's start (>= 0), got {t!r}")
    return t


def _span(ev: Mapping[str, Any], what: str) -> tuple[float, float]:
    start, end = _time(ev.get("start"), f"{what} start"), _time(ev.get("end"), f"{what} end")
    if end < start:
        raise InvalidArgumentError(f"{what} ends before it starts: start {start!r}, end {end!r}")
    return start, end


MANIFEST_ENCODING = "utf-8-sig"  # UTF-8, with or without the byte-order mark some editors write


def manifest_lines(path: str | os.PathLike[str]) -> list[tuple[int, str]]:
    """The non-blank lines of a manifest.jsonl with their 1-based line numbers, read as UTF-8
    whatever the locale (a byte-order mark is dropped, CRLF endings read as LF); a file that is
    not UTF-8 is an :class:`InvalidArgumentError` naming the file."""
    try:
        with open(path, encoding=MANIFEST_ENCODING) as f:
            return [(n, line) for n, line in enumerate(f, 1) if line.strip()]
    except UnicodeDecodeError as e:
        raise InvalidArgumentError(f"{path}: not UTF-8 text: {e}") from e
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as e:
        folder = os.path.dirname(os.fspath(path)) or "."
        raise InvalidArgumentError(f"no manifest.jsonl in {folder!r} (pass one split of a corpus, e.g. "
                                   f"DIR/test): {e.strerror}") from e


def manifest_entries(path: str | os.PathLike[str]) -> list[Any]:
    """Every entry of a manifest.jsonl (``manifest_lines``, each parsed as JSON); a line that is not
    JSON is an :class:`InvalidArgumentError` naming the file and the line."""
    entries = []
    for n, line in manifest_lines(path):
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise InvalidArgumentError(f"{path}:{n}: not JSON: {e}") from e
    return entries


def _other_shape(ev: Mapping[str, Any]) -> bool:
    """A duplex event without the keys of Cadence's shape (a ``bargein`` with no ``t``, a
    ``backchannel`` with no ``start`` and ``end``): another corpus's, read by no metric. One with
    those keys is Cadence's, and bad values in it are refused as a shift's or a hold's are."""
    keys = ("t",) if ev["type"] == "bargein" else ("start", "end")
    return any(k not in ev for k in keys)


def ignored_event_types(entry: Mapping[str, Any]) -> list[str]:
    """The ``type`` of each event in a manifest entry that no metric reads (one per event):
    the benchmark reports them, so a misspelt ``"Shift"`` does not pass unseen. The duplex
    types are Cadence's own: one in another corpus's shape (``_other_shape``) is read by no metric
    either, and counted as ``"bargein (no t)"`` / ``"backchannel (no start/end)"``."""
    events = entry.get("events")
    if not isinstance(events, list):
        return []
    out = []
    for ev in events:
        if not isinstance(ev, Mapping) or "type" not in ev:
            continue
        if ev["type"] not in EVENT_TYPES:
            out.append(str(ev["type"]))
        elif ev["type"] in _DUPLEX_SHAPE and _other_shape(ev):
            out.append(f"{ev['type']} ({_DUPLEX_SHAPE[ev['type']]})")
    return out


_DUPLEX_SHAPE = {"bargein": "no t", "backchannel": "no start/end"}  # what an unread one lacks
#: the keys of ``meta`` that Cadence's own corpora write and the scoring reads
META_KEYS = ("persona", "turns", *SEGMENT_KEYS, "voice", "persona_audio")


def meta_problem(entry: Mapping[str, Any]) -> str | None:
    """Why the entry's ``meta`` is not read (its keys are not in the shape Cadence's corpora
    write them: another corpus's annotations), or None when it is read or absent. The spec's
    labels are the events; ``meta`` is extra, so one Cadence cannot read is ignored, not refused.
    With a meta to read, the events are read too (:func:`read_labels`): a bad event raises
    :class:`InvalidArgumentError`."""
    if entry.get("meta") is None or not isinstance(entry.get("events"), list):
        return None
    return read_labels(entry)[1]


def _meta_labels(shifts: Sequence[float], meta: Any, backchannels: list[tuple[float, float]]
                 ) -> tuple[tuple[float, ...] | None, tuple[tuple[float, float], ...],
                            tuple[tuple[float, float], ...] | None, tuple[str | None, ...] | None]:
    """What the scoring reads from Cadence's ``meta``: turn starts, persona speech, user speech
    and recorded clips (InvalidArgumentError when a key is not in Cadence's shape)."""
    return (_turn_starts(shifts, meta), _persona(meta), _user_speech(meta, backchannels),
            _clips(shifts, meta))


def labels_from_manifest(entry: Mapping[str, Any]) -> FileLabels:
    """Build :class:`FileLabels` from one manifest.jsonl object. Times must be finite and
    ≥ 0 and spans must not end before they start (:class:`InvalidArgumentError` otherwise);
    events of other types than :data:`EVENT_TYPES`, and duplex events in another shape than
    Cadence's, are skipped (see :func:`ignored_event_types`). A ``meta`` whose keys are not in
    the shape Cadence's corpora write (:data:`META_KEYS`) is ignored (see :func:`meta_problem`)."""
    return read_labels(entry)[0]


def read_labels(entry: Mapping[str, Any]) -> tuple[FileLabels, str | None]:
    """:func:`labels_from_manifest` and :func:`meta_problem` in one reading of the entry."""
    events = entry.get("events")
    if not isinstance(events, list):
        raise InvalidArgumentError(f"manifest entry {entry.get('audio')!r}: 'events' must be a list")
    shifts: list[float] = []
    holds: list[tuple[float, float]] = []
    bargeins: list[float] = []
    backchannels: list[tuple[float, float]] = []
    for ev in events:
        if not isinstance(ev, Mapping) or "type" not in ev:
            raise InvalidArgumentError(f"manifest entry {entry.get('audio')!r}: bad event {ev!r}")
        if ev["type"] == "shift":
            shifts.append(_time(ev.get("t"), "shift t"))
        elif ev["type"] == "hold":
            holds.append(_span(ev, "hold"))
        elif ev["type"] in _DUPLEX_SHAPE and _other_shape(ev):
            continue  # another corpus's shape: read by no metric (ignored_event_types counts it)
        elif ev["type"] == "bargein":
            bargeins.append(_time(ev.get("t"), "bargein t"))
        elif ev["type"] == "backchannel":
            backchannels.append(_span(ev, "backchannel"))
    shifts.sort()
    holds = _merged(holds)
    bargeins.sort()
    backchannels.sort()
    meta = entry.get("meta")
    problem = None if meta is None or isinstance(meta, Mapping) else f"meta is a {type(meta).__name__}, not an object"
    try:
        turn_starts, persona, user_speech, clips = _meta_labels(shifts, None if problem else meta, backchannels)
    except InvalidArgumentError as e:  # not Cadence's annotations: ignored, and named
        problem = str(e)
        turn_starts, persona, user_speech, clips = _meta_labels(shifts, None, backchannels)
    labels = FileLabels(
        tuple(shifts), tuple(holds), turn_starts, tuple(bargeins), tuple(backchannels), persona,
        user_speech, clips,
    )
    return labels, problem


def _clips(shifts: Sequence[float], meta: Any) -> tuple[str | None, ...] | None:
    """Per shift, the clip its turn ends with: the voice and the text of the ``meta.segments``
    entry that ends within ``CLIP_END_S`` of it (two speakers' "Hello?" are two clips), for a file
    whose ``meta.voice`` starts with ``RECORDED_VOICE_PREFIX`` (a split of recorded clips); None
    for any other file."""
    voice = meta.get("voice") if isinstance(meta, Mapping) else None
    if not (isinstance(voice, str) and voice.startswith(RECORDED_VOICE_PREFIX)):
        return None
    segs: list[Any] = next((meta[k] for k in SEGMENT_KEYS if isinstance(meta.get(k), list)), [])
    ends = [(_num(seg[1], "segment end"), str(seg[2])) for seg in segs
            if isinstance(seg, (list, tuple)) and len(seg) >= 3 and isinstance(seg[2], str) and seg[2]]
    out: list[str | None] = []
    for t in shifts:
        near = [(abs(e - t), text) for e, text in ends if abs(e - t) <= CLIP_END_S]
        out.append(f"{voice}: {min(near)[1]}" if near else None)
    return tuple(out)


def _segments(meta: Any) -> list[tuple[Any, Any, Any]] | None:
    """``meta``'s user speech segments as (start, end, kind): ``[start, end, text, kind]`` lists
    or ``{"start", "end", "kind"}`` objects (kind None when absent); None when there are none
    or one is malformed."""
    segs = next((meta[k] for k in SEGMENT_KEYS if isinstance(meta.get(k), list)), None) \
        if isinstance(meta, Mapping) else None
    if segs is None:
        return None
    out: list[tuple[Any, Any, Any]] = []
    for seg in segs:
        if isinstance(seg, Mapping):
            out.append((seg.get("start"), seg.get("end"), seg.get("kind")))
        elif isinstance(seg, (list, tuple)) and len(seg) >= 2:
            out.append((seg[0], seg[1], seg[3] if len(seg) >= 4 else None))
        else:
            return None
    return out


def _user_speech(meta: Any, backchannels: list[tuple[float, float]]) -> tuple[tuple[float, float], ...] | None:
    """Spans of any user sound: ``meta``'s segments and the backchannels; None without segments."""
    segs = _segments(meta)
    if segs is None:
        return None
    spans = list(backchannels) + [(_num(a, "segment start"), _num(b, "segment end")) for a, b, _k in segs]
    return tuple(_merged(spans))


def _merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted spans with overlapping or touching ones joined: one pause labelled twice
    is one hold (a commit in it is one interrupted hold, not two)."""
    out: list[tuple[float, float]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1] + _TOL:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _persona(meta: Any) -> tuple[tuple[float, float], ...]:
    """``meta.persona``: the persona's speech intervals ``[[start, end], ...]`` (absent or empty: none)."""
    spans = meta.get("persona") if isinstance(meta, Mapping) else None
    if spans is None:
        return ()
    if not isinstance(spans, list):
        raise InvalidArgumentError(f"meta.persona must be a list of [start, end], got {spans!r}")
    out: list[tuple[float, float]] = []
    for sp in spans:
        if not isinstance(sp, (list, tuple)) or len(sp) != 2:
            raise InvalidArgumentError(f"meta.persona: bad interval {sp!r}")
        start, end = _num(sp[0], "persona start"), _num(sp[1], "persona end")
        if end < start:
            raise InvalidArgumentError(f"meta.persona: {sp!r} ends before it starts")
        out.append((start, end))
    return tuple(sorted(out))


def _fallback_start(prev: float, t: float) -> float:
    """Where a turn without a labelled start is taken to start: where the previous shift's window
    ends (``prev + LATE_S``), or where this shift's opens if that is sooner, as in a corpus with
    events only (:meth:`FileLabels.answer_end`); the file start for the first shift."""
    if prev == -math.inf:
        return 0.0
    return max(prev, min(prev + LATE_S, t - EARLY_S))


def _turn_starts(shifts: Sequence[float], meta: Any) -> tuple[float, ...] | None:
    if not isinstance(meta, Mapping) or not shifts:
        return None
    turns = meta.get("turns")
    if isinstance(turns, list) and turns:
        # explicit user turns [[start, end], ...]: the turn a shift ends is the latest starting before it
        tstarts = sorted(_num(tr[0], "turn start") for tr in turns if isinstance(tr, (list, tuple)) and tr)
        out_t: list[float] = []
        prev_t = -math.inf
        for t in shifts:
            cands = [s for s in tstarts if prev_t < s <= t]
            out_t.append(cands[0] if cands else _fallback_start(prev_t, t))
            prev_t = t
        return tuple(out_t)
    segs = _segments(meta)
    if not segs:
        return None
    starts = sorted(_num(start, "segment start") for start, _end, kind in segs if kind in _TURN_SEGMENT_KINDS)
    out: list[float] = []
    prev = -math.inf
    for t in shifts:
        first = next((s for s in starts if prev < s <= t), None)
        out.append(first if first is not None else _fallback_start(prev, t))
        prev = t
    return tuple(out)


@dataclass
class FileScore:
    """Counts for one file (or, summed, for a corpus)."""

    commits: int = 0
    correct: int = 0
    interruptions: int = 0
    spurious: int = 0
    interruptions_in_speech: int = 0
    commit_outcomes: list[str] = field(default_factory=list)  # each commit in time order (COMMIT_OUTCOMES)
    hold_lengths: list[float] = field(default_factory=list)  # every hold, s
    interrupted_hold_lengths: list[float] = field(default_factory=list)  # holds with a commit in them
    interruption_delays: list[float] = field(default_factory=list)  # first commit in a hold − its start
    shifts: int = 0
    answered: int = 0
    open_shifts: int = 0  # shifts not pre-empted by recorded persona speech
    open_answered: int = 0
    latencies: list[float] = field(default_factory=list)
    speculates: int = 0
    retracted_speculates: int = 0
    commits_with_draft: int = 0  # commits with a live (unretracted) speculation before them
    draft_leads: list[float] = field(default_factory=list)  # commit − that speculation, s
    answer_leads: list[float] = field(default_factory=list)  # the same for answering commits, drafts begun before them only
    # duplex
    bargeins: int = 0
    bargein_decisions: int = 0
    bargein_detected: int = 0
    bargein_latencies: list[float] = field(default_factory=list)
    false_bargeins_backchannel: int = 0
    false_bargeins_other: int = 0
    backchannels: int = 0
    backchannels_triggered: int = 0
    persona_s: float = 0.0
    # the persona's backchannels (nods)
    nods: int = 0
    nods_in_holds: int = 0
    nods_after_end: int = 0
    nod_holds: int = 0  # holds of at least NOD_HOLD_S
    nod_holds_nodded: int = 0
    # two-stage barge-in
    stop_latencies: list[float] = field(default_factory=list)
    false_pauses: int = 0
    false_pause_durations: list[float] = field(default_factory=list)
    backchannels_paused: int = 0
    # false pauses with no user sound within USER_NEAR_S of them (echo or noise alone), over
    # the persona speech of files whose labels say where the user spoke
    false_pauses_no_user: int = 0
    persona_s_with_user_labels: float = 0.0
    # barge-ins not stopped within BARGEIN_TARGET_S whose persona utterance the policy had already
    # yielded (a `bargein` decision between the utterance's start and the barge-in): a recorded
    # persona track plays on after the yield, where a live persona would have fallen silent
    stops_late_after_yield: int = 0
    # recorded files (``FileLabels.clips``): each turn's counts (``UNIT_COUNTS``) and latency,
    # keyed by its clip, and one unit (key None) for the commits after the last answer window
    clip_units: list[tuple[str | None, tuple[int, ...], tuple[float, ...]]] = field(default_factory=list)

    def __iadd__(self, other: FileScore) -> FileScore:
        for f in fields(self):
            mine = getattr(self, f.name)
            if isinstance(mine, list):
                mine.extend(getattr(other, f.name))
            else:
                setattr(self, f.name, mine + getattr(other, f.name))
        return self


def stops_within_target(latencies: Sequence[float] | np.ndarray) -> int:
    """How many of the barge-ins' stop latencies (s) are within ``BARGEIN_TARGET_S``."""
    return int(np.count_nonzero(np.asarray(latencies, np.float64) <= BARGEIN_TARGET_S + _TOL))


def total(scores: Iterable[FileScore]) -> FileScore:
    """The summed score of several files (a corpus)."""
    out = FileScore()
    for sc in scores:
        out += sc
    return out


def in_hold(c: float, holds: Sequence[tuple[float, float]]) -> bool:
    """Whether time ``c`` falls inside one of ``holds`` (edges included)."""
    return any(s <= c <= e for s, e in holds)


def in_answer_window(c: float, shift: float, end: float, early: float = EARLY_S) -> bool:
    """Whether time ``c`` falls in a shift's answer window: from ``early`` before the turn end
    ``shift`` to ``end`` (:meth:`FileLabels.answer_end`), with float slack at both edges."""
    return shift - early - _TOL <= c <= end + _TOL


def _commit_outcomes(commits: Sequence[float], labels: FileLabels, ends: Sequence[float],
                     answered: list[bool], latencies: list[float], turns: list[int]) -> list[str]:
    """Each commit (sorted) as one of :data:`COMMIT_OUTCOMES`: the first in a shift's window
    answers it (``answered`` and ``latencies`` are filled in), one in a hold or inside the
    user's turn before ``t - EARLY_S`` is an interruption, any other is spurious. ``turns``
    gets each commit's turn: the shift it answered, else the first whose window it does
    not pass (``len(shifts)``: past every window)."""
    shifts = labels.shifts
    out: list[str] = []
    for c in commits:
        free = [k for k, t in enumerate(shifts) if in_answer_window(c, t, ends[k]) and not answered[k]]
        turns.append(free[0] if free and not in_hold(c, labels.holds)
                     else next((k for k in range(len(shifts)) if c <= ends[k] + _TOL), len(shifts)))
        if in_hold(c, labels.holds):
            out.append("in a hold")
            continue
        if free:
            answered[free[0]] = True
            latencies.append(c - shifts[free[0]])
            out.append("correct")
        elif any(labels.turn_start(k) <= c < t - EARLY_S - _TOL for k, t in enumerate(shifts)):
            out.append("in speech")
        else:
            out.append("spurious")
    return out


def score_file(decisions: Iterable[Decision], labels: FileLabels) -> FileScore:
    """Score one file's decisions (any order; sorted stably by time here)."""
    decs = sorted(decisions, key=lambda d: d.t)
    commits = [d.t for d in decs if d.kind == "commit"]
    shifts = labels.shifts
    answered = [False] * len(shifts)
    sc = FileScore(commits=len(commits), shifts=len(shifts))
    ends = [labels.answer_end(k) for k in range(len(shifts))]
    is_open = [not labels.preempted(k) for k in range(len(shifts))]
    sc.hold_lengths = [e - s for s, e in labels.holds]
    for s, e in labels.holds:
        first = next((c for c in commits if s <= c <= e), None)
        if first is not None:
            sc.interrupted_hold_lengths.append(e - s)
            sc.interruption_delays.append(first - s)
    turns: list[int] = []
    outcomes = _commit_outcomes(commits, labels, ends, answered, sc.latencies, turns)
    answering = [o == "correct" for o in outcomes]  # which commits answer a shift (the first in its window)
    sc.correct = outcomes.count("correct")
    sc.interruptions_in_speech = outcomes.count("in speech")
    sc.interruptions = outcomes.count("in a hold") + sc.interruptions_in_speech
    sc.spurious = outcomes.count("spurious")
    sc.commit_outcomes = outcomes
    sc.answered = sum(answered)
    sc.open_shifts = sum(is_open)
    sc.open_answered = sum(a and o for a, o in zip(answered, is_open))
    if labels.clips is not None:
        sc.clip_units = _clip_units(labels, outcomes, turns, answered, is_open, sc.latencies)
    # speculation: is each speculate followed by a retract before the next commit?
    pending = 0
    live: float | None = None  # time of the oldest speculation not yet retracted
    ci = 0
    for d in decs:
        if d.kind == "speculate":
            sc.speculates += 1
            pending += 1
            live = d.t if live is None else live
        elif d.kind == "retract":
            sc.retracted_speculates += pending
            pending = 0
            live = None
        elif d.kind == "commit":
            if live is not None:
                sc.commits_with_draft += 1
                sc.draft_leads.append(d.t - live)
                if answering[ci] and d.t - live > _TOL:  # a draft begun with the commit is no head start
                    sc.answer_leads.append(d.t - live)
            ci += 1
            pending = 0
            live = None
    _score_bargeins([d.t for d in decs if d.kind == "bargein"], labels, sc)
    _score_pauses(decs, labels, sc)
    _score_nods([d.t for d in decs if d.kind == "backchannel"], labels, ends, sc)
    return sc


def _clip_units(labels: FileLabels, outcomes: Sequence[str], turns: Sequence[int], answered: Sequence[bool],
                is_open: Sequence[bool], latencies: Sequence[float]) -> list[tuple[str | None, tuple[int, ...],
                                                                                 tuple[float, ...]]]:
    """``FileScore.clip_units`` of a recorded file: per turn (and one unit for the commits
    past the last window), its counts in ``UNIT_COUNTS`` order and its latency; they sum to
    the file's counts."""
    n = len(labels.shifts)
    assert labels.clips is not None
    counts = np.zeros((n + 1, len(UNIT_COUNTS)), np.int64)
    col = {k: i for i, k in enumerate(UNIT_COUNTS)}
    for o, k in zip(outcomes, turns):
        counts[k, col["commits"]] += 1
        counts[k, col["correct"]] += o == "correct"
        counts[k, col["interruptions"]] += o in ("in a hold", "in speech")
    lat: list[tuple[float, ...]] = [() for _ in range(n + 1)]
    answering = iter(latencies)  # in commit order, as _commit_outcomes appended them
    for o, k in zip(outcomes, turns):
        if o == "correct":
            lat[k] = (next(answering),)
    for k in range(n):
        counts[k, col["shifts"]] = 1
        counts[k, col["answered"]] = answered[k]
        counts[k, col["open_shifts"]] = is_open[k]
        counts[k, col["open_answered"]] = answered[k] and is_open[k]
    keys = [*labels.clips, None]
    return [(keys[k], tuple(int(v) for v in counts[k]), lat[k]) for k in range(n + 1)]


def _score_nods(nods: Sequence[float], labels: FileLabels, ends: Sequence[float], sc: FileScore) -> None:
    """Fill the nod counts of ``sc``: where each backchannel decision lies (``ends``: each
    shift's answer-window end)."""
    sc.nods = len(nods)
    sc.nods_in_holds = sum(in_hold(b, labels.holds) for b in nods)
    sc.nods_after_end = sum(
        not in_hold(b, labels.holds) and any(in_answer_window(b, t, e, early=0.0) for t, e in zip(labels.shifts, ends))
        for b in nods)
    long_holds = [(s, e) for s, e in labels.holds if e - s >= NOD_HOLD_S - _TOL]
    sc.nod_holds = len(long_holds)
    sc.nod_holds_nodded = sum(any(s <= b <= e for b in nods) for s, e in long_holds)


def _in_window(b: float, t: float) -> bool:
    """Whether a decision at ``b`` lies in the barge-in window of a barge-in at ``t``."""
    return t - _TOL <= b <= t + BARGEIN_WINDOW_S + _TOL


def _in_bargein_window(b: float, labels: FileLabels) -> bool:
    return any(_in_window(b, t) for t in labels.bargeins)


def _first_in_window(times: Sequence[float], t: float) -> float | None:
    """The first of the sorted ``times`` in the window of a barge-in at ``t``, if any."""
    return next((b for b in times if _in_window(b, t)), None)


def _latencies(times: Sequence[float], labels: FileLabels) -> list[float]:
    """Per detected barge-in: the first of the sorted ``times`` in its window, minus its start."""
    out = []
    for t in labels.bargeins:
        first = _first_in_window(times, t)
        if first is not None:
            out.append(max(first - t, 0.0))
    return out


def _late_after_yield(stops: Sequence[float], barges: Sequence[float], labels: FileLabels) -> int:
    """The barge-ins with no stop (sorted ``stops``) within ``BARGEIN_TARGET_S`` whose persona
    utterance (``labels.persona``) holds a ``bargein`` decision before them."""
    n = 0
    for t in labels.bargeins:
        first = _first_in_window(stops, t)
        if first is not None and first - t <= BARGEIN_TARGET_S + _TOL:
            continue
        span = next(((s, e) for s, e in labels.persona if s - _TOL <= t <= e + _TOL), None)
        n += span is not None and any(span[0] <= b < t for b in barges)
    return n


def _backchannels_at(b: float, labels: FileLabels) -> list[int]:
    """Indices of the backchannels whose [start, end + tail] holds ``b``."""
    return [k for k, (s, e) in enumerate(labels.backchannels) if s - _TOL <= b <= e + BACKCHANNEL_TAIL_S + _TOL]


def _score_pauses(decs: Sequence[Decision], labels: FileLabels, sc: FileScore) -> None:
    """Fill the two-stage counts of ``sc`` from time-sorted decisions."""
    stops = [d.t for d in decs if d.kind in ("pause", "bargein")]
    sc.stop_latencies = _latencies(stops, labels)
    sc.stops_late_after_yield = _late_after_yield(stops, [d.t for d in decs if d.kind == "bargein"], labels)
    paused = [False] * len(labels.backchannels)
    if labels.user_speech is not None:
        sc.persona_s_with_user_labels = labels.persona_s
    # the first resume or bargein after each decision, read backwards once (a scan per pause was
    # quadratic in the decisions: 20,000 pauses in one file took 10 s)
    ends: list[float | None] = [None] * len(decs)
    after: float | None = None
    for i in range(len(decs) - 1, -1, -1):
        ends[i] = after
        if decs[i].kind in ("resume", "bargein"):
            after = decs[i].t
    for i, d in enumerate(decs):
        if d.kind != "pause" or _in_bargein_window(d.t, labels):
            continue
        sc.false_pauses += 1
        if labels.user_speech is not None and not any(
                s - USER_NEAR_S[0] <= d.t <= e + USER_NEAR_S[1] for s, e in labels.user_speech):
            sc.false_pauses_no_user += 1
        end = ends[i]
        if end is not None:
            sc.false_pause_durations.append(end - d.t)
        for k in _backchannels_at(d.t, labels):
            paused[k] = True
    sc.backchannels_paused = sum(paused)


def _score_bargeins(barges: Sequence[float], labels: FileLabels, sc: FileScore) -> None:
    """Fill the duplex counts of ``sc`` from sorted bargein decision times."""
    sc.bargeins = len(labels.bargeins)
    sc.bargein_decisions = len(barges)
    sc.backchannels = len(labels.backchannels)
    sc.persona_s = labels.persona_s
    sc.bargein_latencies = _latencies(barges, labels)
    sc.bargein_detected = len(sc.bargein_latencies)
    triggered = [False] * len(labels.backchannels)
    for b in (b for b in barges if not _in_bargein_window(b, labels)):
        hit = _backchannels_at(b, labels)
        if hit:
            sc.false_bargeins_backchannel += 1
            for k in hit:
                triggered[k] = True
        else:
            sc.false_bargeins_other += 1
    sc.backchannels_triggered = sum(triggered)


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def hold_breakdown(score: FileScore) -> list[dict[str, Any]]:
    """Holds and interrupted holds per length bucket (:data:`HOLD_BUCKETS_S`)."""
    edges = list(HOLD_BUCKETS_S) + [math.inf]
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        n = sum(lo - _TOL <= d < hi - _TOL for d in score.hold_lengths)  # a 0.5 s hold is 0.4999… in floats
        k = sum(lo - _TOL <= d < hi - _TOL for d in score.interrupted_hold_lengths)
        out.append({"min_s": lo, "max_s": None if hi == math.inf else hi, "holds": n, "interrupted": k,
                    "share": _ratio(k, n)})
    return out


def summarize(score: FileScore, compute_s: float = 0.0, audio_s: float = 0.0) -> dict[str, Any]:
    """Metrics for a (summed) score; ``None`` where undefined (e.g. no commits)."""
    lat = np.asarray(score.latencies, dtype=np.float64)
    has = lat.size > 0
    blat = np.asarray(score.bargein_latencies, dtype=np.float64)
    bhas = blat.size > 0
    persona_min = score.persona_s / 60.0
    slat = np.asarray(score.stop_latencies, dtype=np.float64)
    pdur = np.asarray(score.false_pause_durations, dtype=np.float64)
    false_total = score.false_bargeins_backchannel + score.false_bargeins_other
    within = int(np.count_nonzero(blat <= BARGEIN_TARGET_S + _TOL))
    return {
        "files_audio_s": audio_s,
        "turns": score.shifts,
        "commits": score.commits,
        "correct": score.correct,
        "answered": score.answered,
        "precision": _ratio(score.correct, score.commits),
        "recall": _ratio(score.answered, score.shifts),
        "preempted_shifts": score.shifts - score.open_shifts,
        "recall_open": _ratio(score.open_answered, score.open_shifts),
        "interruptions": score.interruptions,
        "interruptions_per_100_turns": (
            100.0 * score.interruptions / score.shifts if score.shifts else None
        ),
        "spurious": score.spurious,
        "interruptions_in_speech": score.interruptions_in_speech,
        "holds": len(score.hold_lengths),
        "holds_interrupted": len(score.interrupted_hold_lengths),
        "hold_interrupted_share": _ratio(len(score.interrupted_hold_lengths), len(score.hold_lengths)),
        "interruption_delay_median_ms": (
            float(np.median(score.interruption_delays) * 1e3) if score.interruption_delays else None
        ),
        "holds_by_length": hold_breakdown(score),
        "latency_median_ms": float(np.median(lat) * 1e3) if has else None,
        "latency_p90_ms": float(np.percentile(lat, 90) * 1e3) if has else None,
        "latency_mean_ms": float(lat.mean() * 1e3) if has else None,
        "answered_500ms_share": _ratio(int(np.count_nonzero(lat <= ANSWER_FAST_S + _TOL)), score.shifts),
        "speculates": score.speculates,
        "speculate_per_turn": _ratio(score.speculates, score.commits),
        "retract_share": _ratio(score.retracted_speculates, score.speculates),
        "draft_ready_share": _ratio(score.commits_with_draft, score.commits),
        "draft_lead_median_ms": float(np.median(score.draft_leads) * 1e3) if score.draft_leads else None,
        "answer_draft_share": _ratio(len(score.answer_leads), score.correct),
        "answer_draft_lead_median_ms": float(np.median(score.answer_leads) * 1e3) if score.answer_leads else None,
        "rtf": _ratio(compute_s, audio_s),
        "compute_s": compute_s,
        "bargeins": score.bargeins,
        "bargein_decisions": score.bargein_decisions,
        "bargein_detected": score.bargein_detected,
        "bargein_recall": _ratio(score.bargein_detected, score.bargeins),
        "bargein_latency_median_ms": float(np.median(blat) * 1e3) if bhas else None,
        "bargein_latency_p90_ms": float(np.percentile(blat, 90) * 1e3) if bhas else None,
        "bargein_detected_150ms": within,
        "bargein_within_150ms_share": _ratio(within, score.bargeins),
        "false_bargeins": false_total,
        "false_bargeins_backchannel": score.false_bargeins_backchannel,
        "false_bargeins_other": score.false_bargeins_other,
        "persona_speaking_min": persona_min,
        "false_bargeins_per_persona_min": _ratio(false_total, persona_min),
        "false_bargeins_backchannel_per_persona_min": _ratio(score.false_bargeins_backchannel, persona_min),
        "false_bargeins_other_per_persona_min": _ratio(score.false_bargeins_other, persona_min),
        "backchannels": score.backchannels,
        "backchannels_triggered": score.backchannels_triggered,
        "backchannel_trigger_share": _ratio(score.backchannels_triggered, score.backchannels),
        "stop_latency_median_ms": float(np.median(slat) * 1e3) if slat.size else None,
        "stop_within_150ms_share": _ratio(stops_within_target(slat), score.bargeins),
        "stops_late_after_yield": score.stops_late_after_yield,
        "false_pauses": score.false_pauses,
        "false_pauses_per_persona_min": _ratio(score.false_pauses, persona_min),
        # of them, those with no user sound near (echo or noise alone; files with segments only)
        "false_pauses_no_user_per_persona_min": _ratio(score.false_pauses_no_user,
                                                       score.persona_s_with_user_labels / 60.0),
        "false_pause_mean_ms": float(np.mean(pdur) * 1e3) if pdur.size else None,
        "backchannels_paused": score.backchannels_paused,
        "backchannel_pause_share": _ratio(score.backchannels_paused, score.backchannels),
        "nods": score.nods,
        "nods_per_100_turns": _ratio(100 * score.nods, score.shifts),
        "nod_hold_share": _ratio(score.nods_in_holds, score.nods),
        "nod_after_end_share": _ratio(score.nods_after_end, score.nods),
        "holds_nodded_share": _ratio(score.nod_holds_nodded, score.nod_holds),
    }
