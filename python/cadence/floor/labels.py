"""Per-frame training targets for the floor model, from a corpus manifest entry.

Targets per 10 ms frame (frame i covers [i·10 ms, (i+1)·10 ms); its *decision
time* is the end of the frame, τ = (i+1)·10 ms):

* ``keep``: the user holds the floor at τ — from the start of a user turn's first
  word, through its mid-turn pauses (holds), until the turn's shift time t.
* ``end200`` / ``end600``: a shift happens within the next 200 / 600 ms
  (0 ≤ t − τ ≤ 0.2 / 0.6).
* ``bc``: a backchannel opportunity — inside a hold pause, from 200 ms after
  the pause starts until 100 ms before the user resumes (pauses ≥ 500 ms).
* ``bargein``: the user is really interrupting the persona — from 40 ms after a
  labelled barge-in starts to the end of that speech (max 1 s); user
  backchannels during persona speech are explicit negatives (high weight).
* ``weight``: loss weight — frames near decisions (shift ± 0.6 s, holds) count
  more than the easy long gaps while the persona talks.

The optional ``voice`` head (``heads.py``) is fitted to ``voice_target``:
the user is speaking in the frame (its centre lies inside a user speech segment of
any kind: words, fillers, backchannels, barge-ins; never the persona or noise).

The optional ``pause`` head is fitted to ``pause_samples``: frames a little into
each pause, 1 in a hold and 0 after a shift — ``keep`` restricted to the moments
the commit decision is made.

Two train-only options (``cadence train floor --onset-weight K --voice-weight W``) aim the
networks at the start of a barge-in: ``onset_multipliers`` counts the ``bargein`` output's loss
K times in the first 250 ms of each barge-in and backchannel, and a train-only ``voice``
output learns ``voice_target`` (the same multipliers as its weights). The pause stage must stop
the persona within 150 ms, and the heads that read the networks' state are as slow as that
state is to register a voice starting under the persona's.

Training also uses an auxiliary, train-only target (``lexical_targets``): in the
200 ms after a phrase ends, was its last word a closed-class word (article,
preposition, conjunction, subject pronoun, auxiliary) or a filler? Those are the
words a speaker stops on mid-sentence ("…and we could", "…to the"), and the class
is the same for every sentence and voice, so learning to hear it transfers to
unseen phrasing. The head is dropped from the exported model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FRAME_S = 0.01
TARGETS = ("keep", "end200", "end600", "bc", "bargein")
AUX_TARGETS = ("last_word_closed_class",)
AUX_SPAN_S = 0.2
# Closed-class words that rarely end a complete utterance. Object pronouns, "there"
# and "too" often do ("I saw her.", "me too."), so they are left out.
CLOSED_CLASS = frozenset("""
a an the my your his our their its this these those some any every each no
and or but so because if when while although though since unless until whether nor
to of in on at for with from by about into onto over under through between without
like as than after before around across along toward towards upon within
i we he she they i'm we're they're
is are was were be been being am has have had do does did will would can could
should might must may shall won't can't don't didn't wasn't isn't aren't
not very really just also maybe which who whose what that then
um uh erm er ah hmm mm uhm
""".split())


def segments(entry: dict[str, Any]) -> list[tuple[float, float, str, str]]:
    """``meta.segments`` as sorted (start, end, kind, text); missing fields are "". Rows are
    ``[start, end, text, kind]`` lists or ``{"start", "end", "text", "kind"}`` objects, as
    the scorer reads them; a meta that is not an object (null), or rows of another shape, give none."""
    meta = entry.get("meta")
    segs = meta.get("segments") if isinstance(meta, dict) else None
    rows = []
    try:
        for s in segs if isinstance(segs, list) else ():
            if isinstance(s, dict):
                rows.append((float(s["start"]), float(s["end"]), str(s.get("kind") or ""),
                             str(s.get("text") or "")))
            else:
                rows.append((float(s[0]), float(s[1]), str(s[3]) if len(s) > 3 else "",
                             str(s[2]) if len(s) > 2 else ""))
    except (KeyError, IndexError, TypeError, ValueError):
        return []  # another corpus's meta, in a shape of its own: none read, as the scorer reads none
    return sorted(rows)


def frame_targets(entry: dict[str, Any], n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (targets (n, len(TARGETS)) float32, weights (n,) float32) for one manifest entry."""
    tau = (np.arange(n_frames, dtype=np.float64) + 1.0) * FRAME_S
    y = np.zeros((n_frames, len(TARGETS)), np.float32)
    w = np.full(n_frames, 0.3, np.float32)
    events = entry.get("events", [])
    shifts = sorted(float(e["t"]) for e in events if e.get("type") == "shift")
    holds = [(float(e["start"]), float(e["end"])) for e in events if e.get("type") == "hold"]
    segs = [s for s in segments(entry) if s[2] not in ("backchannel", "bargein")]

    prev = -1e9
    for t in shifts:
        # the turn starts at the first speech segment that begins after the previous shift
        starts = [s for s, _e, _k, _t in segs if prev < s < t]
        start = min(starts) if starts else max(prev, t - 1.0)
        keep = (tau >= start) & (tau < t)
        y[keep, 0] = 1.0
        d = t - tau
        y[(d >= 0) & (d <= 0.2), 1] = 1.0
        y[(d >= 0) & (d <= 0.6), 2] = 1.0
        w[(tau >= start) & (tau < t + 0.8)] = 1.0
        w[(d <= 0.1) & (d >= -0.6)] = 3.0
        prev = t
    for hs, he in holds:
        inside = (tau >= hs) & (tau < he)
        y[inside, 0] = 1.0
        w[inside] = np.maximum(w[inside], 2.0)
        if he - hs >= 0.5:
            y[(tau >= hs + 0.2) & (tau < he - 0.1), 3] = 1.0
    for e in events:
        if e.get("type") == "bargein":
            t0 = float(e["t"])
            ends = [se for ss, se, _k, _t in segments(entry) if ss <= t0 + 0.05 and se > t0]
            t1 = min(max(ends) if ends else t0 + 1.0, t0 + 1.0)
            m = (tau >= t0 + 0.04) & (tau < t1)
            y[m, 4] = 1.0
            w[(tau >= t0) & (tau < t1)] = 3.0
        elif e.get("type") == "backchannel":
            m = (tau >= float(e["start"])) & (tau < float(e["end"]) + 0.1)
            w[m] = 3.0
    return y, w


def voice_target(entry: dict[str, Any], n_frames: int) -> np.ndarray:
    """(n,) float32: 1 where the user speaks (frame centre inside a ``meta.segments`` span)."""
    centre = (np.arange(n_frames, dtype=np.float64) + 0.5) * FRAME_S
    y = np.zeros(n_frames, np.float32)
    for s, e, _kind, _text in segments(entry):
        y[(centre >= s) & (centre < e)] = 1.0
    return y


# where, into each pause, the pause head is fitted (s after the pause starts)
PAUSE_OFFSETS_S = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5)


def pause_samples(entry: dict[str, Any], n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(frame indices, targets) for the pause head: frames ``PAUSE_OFFSETS_S`` into each
    pause — 1 inside a hold (≥ 100 ms; the user resumes), 0 after a shift (within 1 s of
    it: the user has yielded). A frame's decision time is its end, as for ``keep``."""
    idx: list[int] = []
    y: list[float] = []
    for e in entry.get("events", []):
        if e.get("type") == "shift":
            start, end, target = float(e["t"]), float(e["t"]) + 1.0, 0.0
        elif e.get("type") == "hold" and float(e["end"]) - float(e["start"]) >= 0.1:
            start, end, target = float(e["start"]), float(e["end"]), 1.0
        else:
            continue
        for off in PAUSE_OFFSETS_S:
            i = int(round((start + off) / FRAME_S)) - 1
            if start + off < end - 0.02 and 0 <= i < n_frames:
                idx.append(i)
                y.append(target)
    return np.array(idx, np.int64), np.array(y, np.float32)


def _last_word(text: str) -> str:
    words = [w.strip(".,!?;:\"()…-").lower() for w in text.split()]
    words = [w for w in words if w]
    return words[-1] if words else ""


def lexical_targets(entry: dict[str, Any], n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (target (n,), weight (n,)) of the auxiliary closed-class head.

    Only phrase ends whose last word is known count: a phrase that an internal
    pause splits into pieces (same text on consecutive segments) is labelled at
    its last piece only. Weight is 0 everywhere else.
    """
    tau = (np.arange(n_frames, dtype=np.float64) + 1.0) * FRAME_S
    y = np.zeros(n_frames, np.float32)
    w = np.zeros(n_frames, np.float32)
    segs = [s for s in segments(entry) if s[3]]  # phrases with a known text
    for i, (_s, e, kind, text) in enumerate(segs):
        if kind == "backchannel" or (i + 1 < len(segs) and segs[i + 1][3] == text):
            continue
        m = (tau >= e) & (tau < e + AUX_SPAN_S)
        w[m] = 1.0
        y[m] = float(kind == "filler" or _last_word(text) in CLOSED_CLASS)
    return y, w


ONSET_SPAN_S = 0.25  # the pause stage's window: a barge-in's first 250 ms


def onset_multipliers(entry: dict[str, Any], n_frames: int, weight: float) -> np.ndarray:
    """Loss-weight multipliers (n,): ``weight`` in the first ``ONSET_SPAN_S`` of every
    barge-in and user backchannel (the user's voice starting over the persona's), 1 elsewhere."""
    m = np.ones(n_frames, np.float32)
    tau = (np.arange(n_frames, dtype=np.float64) + 1.0) * FRAME_S
    for e in entry.get("events", []):
        if e.get("type") in ("bargein", "backchannel"):
            t0 = float(e["t"] if e["type"] == "bargein" else e["start"])
            m[(tau >= t0) & (tau < t0 + ONSET_SPAN_S)] = weight
    return m


def question_weights(entry: dict[str, Any], n_frames: int, weight: float) -> np.ndarray:
    """Loss-weight multipliers (n,): ``weight`` from 0.6 s before to 0.8 s after every turn
    end whose last phrase is a question, 1 elsewhere. Questions end on a rise that the
    model confuses with the rise before a pause inside a turn (floor.md)."""
    m = np.ones(n_frames, np.float32)
    tau = (np.arange(n_frames, dtype=np.float64) + 1.0) * FRAME_S
    ends = [e for _s, e, _kind, text in segments(entry) if text and text.rstrip().endswith("?")]
    for ev in entry.get("events", []):
        if ev.get("type") == "shift" and any(abs(e - float(ev["t"])) < 0.06 for e in ends):
            t = float(ev["t"])
            m[(tau >= t - 0.6) & (tau < t + 0.8)] = weight
    return m
