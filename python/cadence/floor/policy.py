"""CadencePolicy: the floor model's outputs → turn-taking decisions.

Per 10 ms frame the model gives P(user keeps the floor), P(turn ends within
200 / 600 ms) and a backchannel-opportunity score. The policy turns those into
the Floor events of the protocol (``cadence.floor.protocol``):

* **speculate** when a turn end looks likely soon (P(end ≤ 600 ms) high) while
  the user holds the floor: Dialogue starts a draft. With ``speculate_keep`` set, also
  from ``speculate_silence_s`` into a silence while P(keep) < ``speculate_keep``: the end
  head scores the silence after a turn end low, so a turn end it missed in the last words
  would otherwise reach its commit with no draft (floor.md, "Drafts in the silence");
* **commit** when the user has spoken in this turn, is silent, and P(keep) falls
  below the patience-dependent threshold: take the floor now. In silence the
  model's ``pause`` head gives P(keep) (fitted on the frames inside pauses, where
  this decision is made; without the head it is the ``keep`` head's value);
* **retract** when a speculation was made and the user keeps going (speech
  resumes after a pause, or ``retract_speech_s`` more speech without one):
  Dialogue discards the draft. (A falling P(end ≤ 600 ms) in the silence after
  the turn end is *not* a reason: the end has happened, the draft is still good);
* **backchannel** once per pause when the opportunity score is high;
* **bargein** while the persona is speaking (a ``reference`` of its playback is
  given) and the user really starts talking over it — not for the persona's own
  echo (see ``echo.py``) and not for a user backchannel ("mm-hm", "yeah"),
  which the model's heads learned to tell apart;
* **pause** / **resume**: telling a barge-in from a backchannel takes longer
  than the 150 ms in which the persona must fall silent, so barge-in is two
  stage. At the first sign of user speech over the persona (the model's onset
  head, fitted on the first 250 ms of barge-ins against backchannels, echo and
  other talk, above the low ``pause_threshold``, and the voice head above
  ``pause_voice_threshold``, on frames loud enough to be the user's: ``pause_noise_db``
  over the noise floor, or at least ``pause_speech_db`` relative to the user's running
  speech level, so most background talk under the user's voice does not start a pause;
  the floor estimate starts low and rises slowly, so in a loud room the test bites only
  after 20-35 s; and ``pause_background_db`` over the room's background talk, a bar capped
  by the user's own level less ``pause_user_db``: ``background_bar``)
  the persona's playout pauses (keeping its place);
  then either the barge-in is confirmed (``bargein``: the confirm head, fitted
  100–600 ms into barge-ins and backchannels, above ``bargein_threshold`` for
  ``bargein_frames``, or ``confirm_speech_s`` of user speech since the
  pause) or, once the user has been silent ``resume_silence_s``, playout
  resumes (``resume``: it was a backchannel, a cough, noise). While paused the
  persona still holds the floor, although its playback is silent, and the user's
  voice holds the pause whatever the onset head reads by then (``pause_hold_voice``).
  In the first ``pause_open_s`` of each persona utterance the user's voice pauses it
  without the onset head (a reply that began at a commit meets the user going on
  with their turn), and the answer to a commit that begins while the user is
  speaking yields at once (``yield_over_user``: the persona cut in). These three came from
  ``cadence bench floor-loop``, where the persona's replies follow the policy's
  decisions (floor.md, "The persona in the loop").

``patience`` ∈ [0, 1] moves the latency/interruption trade-off along two waits.
After the user falls silent the policy waits ``min_silence_s`` (patience 0 → 150
ms … 1 → 600 ms) and then commits unless the model says the user keeps the floor
(P(keep) ≥ ``commit_keep``: the model's veto). A turn end the model is sure of
(P(keep) < ``early_keep``, patience 0 → 0.3 … 1 → 0.1) is taken already after
``early_silence_s``: 150 ms up to patience 0.5, then growing to 400 ms at patience 1 (100 ms for
every patience until session 32, when the human dev voices showed gaps of 100–150 ms between
words taken for turn ends: floor.md, "Three more human voices"; 150 ms at every patience until
session 34, when they showed the model sure of turn ends in the pauses inside a sentence, which a
patient persona should sit out: floor.md, "The early wait grows with patience").
Chosen on the dev splits (floor.md, "Patience v2"): a fixed wait with a veto keeps the
latency tail short, which a patience that only lowered the model's bar did not (p90 over
1.2 s); the early path keeps the median low (with the defaults, at patience 0 the wait is also
150 ms and its veto bar, 0.55, is above the early bar, so there the early path adds nothing).
An anticipating path (``anticipate_end200``, off by default; floor.md, "Anticipating the turn
end") commits sooner still: from ``anticipate_silence_s``
(50 ms) into the silence, while the model's end200 head (a turn end within 200 ms) peaked
at ``anticipate_end200`` or more over the last 250 ms and P(keep) < ``anticipate_keep``.
The window holds the last word's end up to 240 ms into the silence; after that it reads
the head on silence, which it was trained to score 0 after a turn end.
Timeouts keep the persona from waiting forever on a model that is unsure: after
``fallback_s`` of silence it commits unless the model is fairly sure the user
keeps the floor, and after ``max_silence_s`` it commits regardless; with ``ramp``
> 0 the commit threshold rises with the silence between the two (the longer the
pause, the less sure the model must be), from the patience wait (or ``ramp_start_s``, if
longer; an option) to ``fallback_keep`` at ``fallback_s``. With ``max_silence_short_s`` set (off by default),
the last resort adapts to the speaker: it is that shorter wait until the user has gone on
with a turn after a pause of ``long_pause_s`` or more (floor.md, "A recorded telephone
call": on real calls the model is sometimes sure a finished turn goes on). With ``adapt_step`` > 0 (off by
default) the policy learns from cutting in (floor.md, "Learning from cut-ins"): a commit the user
speaks again within ``adapt_window_s`` of (in a simplex call, a speech run of ``min_run_frames`` the
model reads as the user's, keep >= 0.1, that began in the window; live, a barge-in over the answer
it began whose pause began in the window, or with no pause stage, confirmed in it; the window runs
from the commit, not from the answer's first sound) adds ``adapt_step`` to a log-odds bias on
P(keep), up to ``adapt_max``; each commit let stand takes ``adapt_relax`` off. The bias moves the
model's rules (the wait's veto, the early and anticipating paths), not the timeouts (``fallback_s``
reads the unbiased P(keep), ``max_silence_s`` none) nor the drafts in the silence. Speech counts toward a turn only in
runs of at least ``min_run_frames`` (clicks and noise bursts do not open a turn).

Each commit is named for the rule that took it (``commit_rules``, one of ``protocol.COMMIT_RULES``:
the wait and its veto at ``commit_keep``, the same veto under the bar the ``ramp`` raised, the
early path, the anticipating path, the fallback, the last-resort timeout). Where several fire in
one frame it is the one that asks the least silence (the ramp's is the silence so far; a tie: the
order wait, early, anticipate, fallback, timeout, ramp), the rule that would have taken the floor
even if the others waited longer.
``cadence bench floor`` counts correct commits and interruptions per rule.

A frame is user *speech* when Silero VAD and the energy rule say so and, while
the persona is not speaking, the model's learned voice head agrees (voice ≥
``voice_threshold``). Silero fires on any talk, so background babble used to keep
the silence counter at zero and the persona never answered; the voice head was
fitted to tell the user's voice from it (a model without the head reads voice =
1.0: the VAD rule alone decides). Over the persona's own voice the head is not
used to open a turn: there the barge-in heads and the echo estimate decide (the
head cost barge-in recall on dev); it only backs the pause stage, whose bar is so
low that background talk would pause the persona without it.
The energy rule's echo test (mic power 6 dB over the persona's predicted echo) reads
the smaller of the featurizer's energy-domain echo estimate and the policy's own Kalman
echo canceller's prediction (``echo_rule``, on by default; ``echo_rule.py``): on the
duplex dev split the persona pauses half as often with no user sound near.
A second opinion (off by default, ``smart_turn_weight`` > 0): once a pause reaches
``smart_turn_at_s``, Smart Turn v3.2 (``turn_judge.py``) judges the turn's audio on the
policy's own worker thread (the frames go on being decided meanwhile), and
from ``smart_turn_delay_s`` later (its compute) every rule above reads P(keep) mixed
with Smart Turn's P(incomplete) in log-odds. It helps on a recorded human voice and
hurts on the synthetic tests (floor.md, "A second opinion in pauses"). With ``judge_veto`` the
judge's answer may only hold the floor (and hold off a draft in the silence), and only up to the
fallback (floor.md, "The judge as a veto"); with ``judge_release`` it may only let go of the floor,
at the fallback, where Cadence's own P(keep) would hold it to ``max_silence_s``.
The price of stopping within 150 ms: the heads cannot yet tell a backchannel from
a barge-in that early (onset head AUC 0.83 at +100 ms on the duplex dev split;
the barge-in head 0.78), so most backchannels pause the persona briefly and it
resumes; they do not become barge-ins.
"""

from __future__ import annotations

import copy
import math
import time
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from cadence._core import EchoCanceller
from cadence.errors import InvalidArgumentError
from cadence.floor.echo import EXCESS_MAX
from cadence.floor.echo_rule import canceller_excess, excess_over_prediction, sharpen
from cadence.floor.features import FEATURE_NAMES, FloorFeaturizer
from cadence.floor.levels import RunningQuantile
from cadence.floor.model import BARGEIN, CONFIRM, ONSET, OUTPUTS, PAUSE, VOICE, FloorModel, default_persona_weights_path
from cadence.floor.protocol import FRAME_SAMPLES, Decision

if TYPE_CHECKING:
    from cadence.floor.turn_judge import SmartTurnJudge

FRAME_S = 0.01
_VAD = FEATURE_NAMES.index("vad")
_E_SPEECH = FEATURE_NAMES.index("e_speech")
_E_NOISE = FEATURE_NAMES.index("e_noise")
_PERSONA = FEATURE_NAMES.index("persona")
_EXCESS = FEATURE_NAMES.index("echo_excess")
# what the featurizer gives the persona's channels without a reference (-100 dB, no echo)
_NO_PERSONA, _NO_EXCESS = -3.0, EXCESS_MAX / 10.0
# the outputs the turn logic reads (turn_sees_persona=0 takes them from the blind pass)
TURN_OUTPUTS = np.array([OUTPUTS.index(k) for k in ("keep", "end200", "end600", "bc")] + [PAUSE])
# the outputs the barge-in, the pause stage and the speech rule's voice head read: with
# ``persona_networks`` 1 they come from the persona networks from the persona's first sound on
PERSONA_OUTPUTS = np.array([BARGEIN, VOICE, ONSET, CONFIRM])
# the anticipating path reads the end200 head's peak over this many frames (the last word's end)
_ANTICIPATE_FRAMES = 25
# this much silence between the user's speech and a draft is a pause: the next speech retracts the draft
_SPEC_GAP_FRAMES = 5
_PRE_SPEECH_FRAMES = 70  # audio the judge reads before a turn's first speech (as Pipecat)
_AUDIO_FRAMES = 800 + _PRE_SPEECH_FRAMES  # Smart Turn reads at most 8 s
# frames decided per step with a judge (decide_heard): the ring of raw audio holds the step's
# frames and the _AUDIO_FRAMES before them, all that a judge asked in the step may read
_JUDGE_STEP = 64
_RING_FRAMES = _AUDIO_FRAMES + _JUDGE_STEP


def _frames(seconds: float) -> int:
    """A duration in whole 10 ms frames, at least one."""
    return max(1, int(round(seconds / FRAME_S)))


def _whole_frames(seconds: float) -> int:
    """The frames of silence after which ``silence * FRAME_S >= seconds`` first holds (float slack aside)."""
    return math.ceil(seconds / FRAME_S - 1e-6)


def _logit(p: float) -> float:
    """log(p / (1 − p)), p clipped to [1e-4, 1 − 1e-4]."""
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1.0 - p))


def mix_log_odds(p: float, q: float, w: float) -> float:
    """sigmoid((1 − w)·logit(p) + w·logit(q)), probabilities clipped to [1e-4, 1 − 1e-4]."""
    return 1.0 / (1.0 + math.exp(-((1.0 - w) * _logit(p) + w * _logit(q))))


def shift_log_odds(p: float, b: float) -> float:
    """sigmoid(logit(p) + b), p clipped to [1e-4, 1 − 1e-4]."""
    return 1.0 / (1.0 + math.exp(-(_logit(p) + b)))


def add_log_odds(p: float, q: float, w: float) -> float:
    """sigmoid(logit(p) + w·logit(q)): q as independent evidence on top of p (p's confidence is
    kept, where ``mix_log_odds`` pulls it towards q's); probabilities clipped as there."""
    return shift_log_odds(p, w * _logit(q))


VAD_BAR = 0.5  # Silero's bar in the speech rule


def heard_speech(x: np.ndarray, vad_threshold: float = VAD_BAR, excess: np.ndarray | None = None) -> np.ndarray:
    """(n,) bool: the speech rule before the voice head — Silero VAD, energy well above
    the noise floor, mic power above the persona's predicted echo (``excess``, dB / 10:
    the ``echo_excess`` feature unless given, as ``echo_rule.sharpen`` gives it)."""
    ex = x[:, _EXCESS] if excess is None else excess
    return (x[:, _VAD] >= vad_threshold) & (x[:, _E_NOISE] > 0.3) & (ex > 0.6)


def first_persona_frame(x: np.ndarray) -> int:
    """The first frame of features ``x`` that carries the persona's channels (a reference was
    given and something in it, or its echo estimate, was heard); ``len(x)`` if none."""
    heard = np.flatnonzero((x[:, _PERSONA] != _NO_PERSONA) | (x[:, _EXCESS] != _NO_EXCESS))
    return int(heard[0]) if heard.size else len(x)


def hears_persona(x: np.ndarray) -> bool:
    """Whether features ``x`` carry any of the persona's channels: else the blind pass reads the
    same inputs."""
    return first_persona_frame(x) < len(x)


def with_persona_outputs(probs: np.ndarray, persona_probs: np.ndarray, start: int) -> np.ndarray:
    """``probs`` with the persona outputs (``PERSONA_OUTPUTS``) taken from ``persona_probs``
    from frame ``start`` on (a copy)."""
    out = np.array(probs, np.float32, copy=True)
    out[start:, PERSONA_OUTPUTS] = persona_probs[start:, PERSONA_OUTPUTS]
    return out


def blind_to_persona(x: np.ndarray) -> np.ndarray:
    """A copy of features ``x`` with the persona's channels as the featurizer gives them
    without a reference (the turn model's input with ``turn_sees_persona`` 0)."""
    out = np.array(x, np.float32, copy=True)
    out[:, _PERSONA], out[:, _EXCESS] = _NO_PERSONA, _NO_EXCESS
    return out


def loud_enough(x: np.ndarray, noise_db: float, speech_db: float) -> np.ndarray:
    """(n,) bool: the frame stands ``noise_db`` over the running noise floor, or no more than
    ``-speech_db`` under the user's running speech level (the ``e_noise`` and ``e_speech`` features)."""
    return (x[:, _E_NOISE] * 20.0 >= noise_db) | (x[:, _E_SPEECH] * 10.0 >= speech_db)


# The background test's levels (``CadencePolicy.background_bar``; floor.md, "Background talk
# stands over the room's own talk"): the medians of the background talk and of the user's
# speech, each moved LEVEL_STEP_DB per frame (up by q of it, down by 1 - q) and trusted after
# LEVEL_MIN_FRAMES frames (0.5 s). Fixed when the margins were selected.
BACKGROUND_QUANTILE = 0.5
USER_QUANTILE = 0.5
LEVEL_STEP_DB = 0.5
LEVEL_MIN_FRAMES = 50
# the confirm and pause bars chosen for each set of networks the barge-in reads, by whether the
# call runs the persona's own (``persona_networks=1``, session 54) or the turn's (0, sessions 48-53)
CONFIRM_BAR = {True: 0.8, False: 0.7}
PAUSE_BAR = {True: 0.16, False: 0.12}

# "Wait when unsure" (floor.md): commit after the patience wait only when P(keep) < 0.45, take an
# early turn end only when P(keep) < 0.1 after 150 ms, else wait for 3 s of silence (Pipecat's
# Smart Turn timeout). Chosen on the dev splits against Smart Turn; at patience 0.1 it beats
# smart-turn-v3 on all six metrics on tests A, B and C, for ~10 points of recall against the default.
# ``CadencePolicy(0.1, **WAIT_WHEN_UNSURE)``.
WAIT_WHEN_UNSURE: Mapping[str, float] = MappingProxyType(
    {"commit_keep": 0.45, "fallback_s": 3.0, "ramp": 0.0, "early_keep": 0.1, "early_silence_s": 0.15})


@dataclass(frozen=True)
class PolicyConfig:
    patience: float = 0.5
    speculate_threshold: float = 0.5
    # a second way to start a draft (None: off): in the silence, from speculate_silence_s on,
    # while P(keep) < speculate_keep (the end head scores the silence after a turn end low,
    # so a turn end it missed in the last words gets a draft here, before the commit); chosen
    # on the dev splits (floor.md, "Drafts in the silence")
    speculate_keep: float | None = 0.6
    speculate_silence_s: float = 0.05
    # retract a draft once the user has said this much more since the speculation
    # (without a pause: the draft no longer answers what was said)
    retract_speech_s: float = 0.6
    min_turn_speech_s: float = 0.12
    fallback_s: float = 1.5
    fallback_keep: float = 0.9
    max_silence_s: float = 3.0
    # speaker-adapted last resort (None: off): commit after this much silence instead of
    # max_silence_s until the user has resumed a turn after a pause of long_pause_s or more
    # (a speaker who pauses that long mid-turn gets the full max_silence_s from then on)
    max_silence_short_s: float | None = None
    long_pause_s: float = 1.0
    min_run_frames: int = 5
    backchannel_threshold: float = 0.6
    # on the confirm head; None: the bar chosen for the networks the call runs (``CONFIRM_BAR``:
    # 0.8 for the persona's networks of session 54, 0.7 for the turn's, as before them)
    bargein_threshold: float | None = None
    bargein_frames: int = 5
    # the pause stage (floor.md, "Stopping within 150 ms"; tuned on the duplex dev split):
    # a low bar on the onset head (at or over the confirm bar: no pause stage) that the voice
    # head must back, so background talk over the persona does not pause it
    # (None: ``PAUSE_BAR``, 0.16 for the persona's networks, 0.12 for the turn's, as before them)
    pause_threshold: float | None = None
    pause_frames: int = 2
    # the answer to a commit that begins while the user speaks (a speech run the turn logic
    # counts, min_run_frames or longer, not ended: the persona cut in) yields at once, a bargein
    # in its first audible frame; playback that resumes after a gap inside an utterance, or
    # that no commit asked for, does not (1: on; 0: off; floor.md, "The persona in the loop")
    yield_over_user: float = 1.0
    # while paused, the user's speech (the speech rule and the voice head) holds the pause and
    # counts towards confirming it, whatever the onset head (fitted on speech's first 250 ms)
    # reads by then (1); 0: the onset head must stay over its bar, so a pause resumed while the
    # user went on talking (floor.md, "The persona in the loop")
    pause_hold_voice: float = 1.0
    # for this long after the persona starts an utterance (its playback audible after 200 ms
    # without), the user's speech (the speech rule, the voice head over voice_threshold and the
    # level tests) pauses it whatever the onset head reads: a reply that began
    # at a commit meets the user going on with their turn far more often than mid-reply talk
    # does, and the heads, fitted on barge-ins over a persona already talking, are slow there
    # (floor.md, "The persona in the loop"); 0: off
    pause_open_s: float = 0.3
    # the turn's outputs (keep, end200, end600, bc and the pause head) come from a second pass
    # of the networks that reads the persona's channels (its playback level and the mic's
    # excess over its echo) as silent (0), or from the pass that reads them, as the networks
    # were trained (1): after the persona cut in over a pause and yielded, that pass reads the
    # user's turn end as a pause for seconds, a moment no training file holds (floor.md, "The
    # turn's outputs blind to the persona"); the barge-in outputs and the voice head always
    # read the persona's channels. The second pass costs ~0.2 ms per 10 ms frame on one core,
    # from the persona's first sound after a reset (before it both passes would read the same)
    turn_sees_persona: float = 0.0
    # the barge-in output and the voice, onset and confirm heads (``PERSONA_OUTPUTS``) come, from
    # the persona's first sound after a reset, from a second set of networks fine-tuned with the
    # persona cutting into the user's pauses (1, ``weights/floor_persona.npz``), or from the turn's
    # networks (0): they stop more barge-ins at a reply's start with fewer false pauses, but trained
    # alone they answer fewer turns (floor.md, "The persona's own networks"). Without a persona
    # nothing changes; they run from the call's start (one more pass of the networks until the
    # persona is heard; from then on the blind pass and these are the two passes run). Set it, as
    # turn_sees_persona, per call: both are read at each reset, and a change within a call takes
    # effect at the next reset (``CadencePolicy.reset``).
    # With 0 the pause and confirm bars left at None are the turn's networks' (0.12, 0.7)
    persona_networks: float = 1.0
    pause_voice_threshold: float = 0.2
    # Silero's bar in the pause stage's speech rule (the rest of the rule stays): Silero
    # needs 30-100 ms to rise on a voice that starts over a mic the echo canceller left quiet
    pause_vad_threshold: float = VAD_BAR
    # the pause stage's level test (floor.md, "Background talk pauses the persona less"): a
    # frame counts towards starting a pause only if it stands pause_noise_db over the noise
    # floor OR at least pause_speech_db relative to the user's running speech level (the
    # second clause keeps a user who talks less than pause_noise_db over a loud room); once
    # paused, any level counts; None: no level test
    pause_noise_db: float | None = 10.0
    pause_speech_db: float = 0.0
    # the pause stage's background test (floor.md, "Background talk stands over the room's own
    # talk", session 26): a frame counts towards starting a pause only if it also stands
    # pause_background_db over the running median level of the talk the voice head calls
    # not the user's (heard while the persona speaks), a bar that never exceeds the user's own
    # level (the median of their speech runs, from the min_run_frames-th frame on, while the
    # persona does not hold the floor, less pause_user_db); each level is trusted after
    # LEVEL_MIN_FRAMES of its frames; None: no background test
    pause_background_db: float | None = 6.0
    pause_user_db: float = 8.0
    resume_silence_s: float = 0.15
    confirm_speech_s: float = 0.7
    # 0: the commit threshold is a step (thr, then fallback_keep at fallback_s);
    # 1: it rises linearly with the silence from thr to fallback_keep at fallback_s
    ramp: float = 1.0
    # the ramp's bar is commit_keep up to this much silence (or the patience wait, if longer) and
    # rises from there to fallback_keep at fallback_s (a start at or past fallback_s leaves the
    # fallback alone); 0 (the default): from the patience wait. An option (floor.md, "A later
    # ramp", session 40): 0.6 makes every patience ramp as patience 1 does, 0.4-0.8 fewer
    # interruptions per 100 turns at patience 0.5 on the synthetic tests, but below patience 0.5
    # the turn ends the model vetoes wait for the later bar (p90 +0.9 s on a human voice)
    ramp_start_s: float = 0.0
    min_silence_s: float | None = None  # overrides the patience-derived silence wait
    commit_keep: float = 0.55  # after the wait: commit unless P(keep) ≥ this (the veto)
    early_keep: float | None = None  # overrides the patience-derived confident-end bar
    early_silence_s: float | None = None  # overrides the patience-derived early wait
    # the anticipating path (None: off): commit from anticipate_silence_s of silence on while the
    # end200 head (a turn end within 200 ms) peaked at >= anticipate_end200 over the last
    # _ANTICIPATE_FRAMES frames (which hold the last word's end until the silence fills them)
    # and P(keep) < anticipate_keep
    anticipate_end200: float | None = None
    anticipate_silence_s: float = 0.05
    anticipate_keep: float = 0.2
    voice_threshold: float = 0.5  # the learned voice head must agree that the user speaks
    # a second opinion in pauses (turn_judge.py): 0 = Cadence's P(keep) alone; w > 0 mixes in
    # Smart Turn v3.2's P(incomplete) in log-odds, weight w, asked after smart_turn_at_s of
    # silence and used smart_turn_delay_s later (its compute, ~100 ms on one core here)
    smart_turn_weight: float = 0.0
    # 1: the judge answers with Cadence's own head on Smart Turn's speech encoder
    # (weights/judge_head.npz, ``cadence train judge``), added to P(keep)'s log-odds with
    # weight smart_turn_weight (add_log_odds); 0: Smart Turn's classifier, mixed (mix_log_odds)
    judge_head: float = 0.0
    # 1: the judge may only hold the floor (a veto; floor.md, "The judge as a veto"): the model's
    # rules (the wait and its ramp, the early and anticipating paths) and the drafts in the silence
    # read the judge's answer combined as above where that raises P(keep), P(keep) itself where it
    # would lower it, and the fallback reads Cadence's own P(keep) (the veto holds no turn end past
    # fallback_s); 0: all of them read the combination
    judge_veto: float = 0.0
    # 1: the judge may only release the floor, and only at the fallback: every model rule and the
    # drafts read Cadence's own P(keep), and from fallback_s of silence on the fallback reads the
    # smaller of it and the judge's answer combined as above, so a turn end the model holds on to
    # is not left to max_silence_s when the judge hears it complete (floor.md, "The judge releases
    # a long silence"). The learnt bias (adapt_step) never reaches the fallback, so a release that
    # cut in is not learnt from. 0: the judge's answer reaches every rule (mixed, or as judge_veto says)
    judge_release: float = 0.0
    smart_turn_at_s: float = 0.2
    smart_turn_delay_s: float = 0.1
    # read only when the judge is asked (asks_judge), which needs the raw audio (process, decide_heard)
    JUDGE_ONLY: ClassVar[frozenset[str]] = frozenset({"smart_turn_at_s", "smart_turn_delay_s", "judge_veto",
                                                          "judge_release"})
    # the 0/1 fields that shape the judge's answer: set to 1, each needs smart_turn_weight > 0
    JUDGE_FLAGS: ClassVar[tuple[str, ...]] = ("judge_head", "judge_veto", "judge_release")
    # 1: the speech rule's echo test also reads the Kalman echo canceller's prediction (the
    # smaller excess wins; echo_rule.py); 0: the energy-domain echo estimate alone (as
    # ``decide`` does when it is given no canceller excess)
    echo_rule: float = 1.0
    # a persona that learns from cutting in (decisions unchanged while adapt_step is 0; floor.md,
    # "Learning from cut-ins"): when the user speaks again within adapt_window_s of a commit (a
    # new turn, or a barge-in over the answer), the commit cut them off and adapt_step is added
    # to a log-odds bias on P(keep) (at most adapt_max); each commit the user lets stand for
    # adapt_window_s takes adapt_relax off again (not below 0). The model's commit rules (the
    # veto, the early and anticipating paths) read the biased P(keep); the timeouts and the
    # drafts in the silence do not
    adapt_step: float = 0.0
    adapt_relax: float = 0.0
    adapt_max: float = 3.0
    adapt_window_s: float = 1.0
    # an early path that earns its place per speaker (None: always on, the default; floor.md, "The
    # early path earns its place per speaker", session 34: 0.8 was chosen on the dev splits, where
    # it gains on the human voices; on the test splits it moved along the patience curve, so it is
    # off by default). In every pause the policy notes whether the early path would have fired
    # (silence >= the early wait, P(keep) under its bar), and how the pause ended: a hit when a
    # commit in it was let stand for adapt_window_s, a miss when the user went on (speech before
    # any commit, or within adapt_window_s of one). The early path is used only while
    # (hits + early_trust_prior) / (hits + misses + early_trust_prior) >= early_trust: it starts
    # on, switches off for a speaker whose pauses it misreads, and on again as hits come in.
    # reset() (a new call) forgets the record
    early_trust: float | None = None
    early_trust_prior: float = 2.0

    @property
    def asks_judge(self) -> bool:
        """A judge reads pauses (it reads the raw audio: ``process()`` and ``decide_heard()`` feed it)."""
        return self.smart_turn_weight > 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.patience <= 1.0:
            raise InvalidArgumentError(f"patience must be in [0, 1], got {self.patience}")
        for name in ("bargein_threshold", "pause_threshold", "voice_threshold", "pause_voice_threshold",
                     "pause_vad_threshold", "commit_keep", "early_keep",
                     "smart_turn_weight", "anticipate_end200", "anticipate_keep", "speculate_keep"):
            v = getattr(self, name)
            if v is not None and not 0.0 <= v <= 1.0:
                raise InvalidArgumentError(f"{name} must be in [0, 1], got {v}")
        if not (math.isfinite(self.ramp_start_s) and self.ramp_start_s >= 0.0):
            raise InvalidArgumentError(f"ramp_start_s must be a finite number >= 0, got {self.ramp_start_s}")
        if not (math.isfinite(self.speculate_silence_s) and self.speculate_silence_s > 0.0):
            raise InvalidArgumentError(f"speculate_silence_s must be a finite number > 0, got {self.speculate_silence_s}")
        # from _ANTICIPATE_FRAMES frames of silence on, the window holds silence only
        if not (self.anticipate_silence_s > 0.0 and _frames(self.anticipate_silence_s) < _ANTICIPATE_FRAMES):
            raise InvalidArgumentError(f"anticipate_silence_s must be > 0 and under {_ANTICIPATE_FRAMES} frames "
                                       f"({_ANTICIPATE_FRAMES * FRAME_S:g} s), got {self.anticipate_silence_s}")
        if self.judge_head not in (0.0, 1.0):
            raise InvalidArgumentError(f"judge_head must be 0 (Smart Turn's classifier) or 1 (Cadence's head), "
                                       f"got {self.judge_head}")
        if not (math.isfinite(self.pause_open_s) and 0.0 <= self.pause_open_s <= 5.0):
            raise InvalidArgumentError(f"pause_open_s must be in [0, 5] s, got {self.pause_open_s}")
        if self.persona_networks not in (0.0, 1.0):
            raise InvalidArgumentError(f"persona_networks must be 0 (the turn's networks) or 1 (the persona's own), "
                                       f"got {self.persona_networks}")
        if self.pause_hold_voice not in (0.0, 1.0):
            raise InvalidArgumentError(f"pause_hold_voice must be 0 (off) or 1 (on), got {self.pause_hold_voice}")
        if self.yield_over_user not in (0.0, 1.0):
            raise InvalidArgumentError(f"yield_over_user must be 0 (off) or 1 (on), got {self.yield_over_user}")
        if self.echo_rule not in (0.0, 1.0):
            raise InvalidArgumentError(f"echo_rule must be 0 (the echo estimate alone) or 1 (and the canceller's), "
                                       f"got {self.echo_rule}")
        if self.judge_veto not in (0.0, 1.0):
            raise InvalidArgumentError(f"judge_veto must be 0 (the judge's answer is mixed in) or 1 (it may only "
                                       f"raise P(keep)), got {self.judge_veto}")
        if self.judge_release not in (0.0, 1.0):
            raise InvalidArgumentError(f"judge_release must be 0 (the judge's answer reaches every rule) or 1 (it "
                                       f"may only release the floor, at the fallback), got {self.judge_release}")
        if self.judge_veto and self.judge_release:
            raise InvalidArgumentError("judge_veto=1 and judge_release=1 exclude each other: the judge may only "
                                       "hold the floor, or only release it")
        for name in self.JUDGE_FLAGS:  # they shape the judge's answer: it must be asked
            if getattr(self, name) and self.smart_turn_weight == 0.0:
                raise InvalidArgumentError(f"{name}=1 needs smart_turn_weight > 0 (the judge's weight); "
                                           "with 0 the judge is never asked")
        if not (self.pause_noise_db is None or math.isfinite(self.pause_noise_db)) \
                or not math.isfinite(self.pause_speech_db):
            raise InvalidArgumentError(f"pause_noise_db (or None) and pause_speech_db must be finite dB, got "
                                       f"{self.pause_noise_db}, {self.pause_speech_db}")
        if not (self.pause_background_db is None or math.isfinite(self.pause_background_db)) \
                or not math.isfinite(self.pause_user_db):
            raise InvalidArgumentError(f"pause_background_db (or None) and pause_user_db must be finite dB, got "
                                       f"{self.pause_background_db}, {self.pause_user_db}")
        if not all(math.isfinite(v) and v >= 0.0 for v in (self.adapt_step, self.adapt_relax, self.adapt_max)):
            raise InvalidArgumentError(f"adapt_step, adapt_relax and adapt_max must be finite numbers >= 0, got "
                                       f"{self.adapt_step}, {self.adapt_relax}, {self.adapt_max}")
        # at 1 one miss would switch the early path off for the call: (h + prior) / (h + 1 + prior) < 1
        if self.early_trust is not None and not 0.0 <= self.early_trust < 1.0:
            raise InvalidArgumentError(f"early_trust must be in [0, 1) or None, got {self.early_trust}")
        if not (isinstance(self.early_trust_prior, (int, float)) and math.isfinite(self.early_trust_prior)
                and self.early_trust_prior >= 0.0):
            raise InvalidArgumentError(f"early_trust_prior must be a finite number >= 0, got {self.early_trust_prior}")
        if not (math.isfinite(self.adapt_window_s) and self.adapt_window_s > 0.0):
            raise InvalidArgumentError(f"adapt_window_s must be a finite number > 0, got {self.adapt_window_s}")
        if self.early_silence_s is not None and not (math.isfinite(self.early_silence_s)
                                                     and self.early_silence_s > 0.0):
            raise InvalidArgumentError(f"early_silence_s must be a finite number > 0 (or None), "
                                       f"got {self.early_silence_s}")
        if not (self.smart_turn_at_s > 0.0 and self.smart_turn_delay_s >= 0.0):
            raise InvalidArgumentError(f"smart_turn_at_s must be > 0 and smart_turn_delay_s >= 0, got "
                                       f"{self.smart_turn_at_s}, {self.smart_turn_delay_s}")
        short = self.max_silence_short_s
        if short is not None and not 0.0 < short <= self.max_silence_s:
            raise InvalidArgumentError(f"max_silence_short_s must be in (0, max_silence_s = {self.max_silence_s}], "
                                       f"got {short}")
        if not (math.isfinite(self.long_pause_s) and self.long_pause_s > 0.0):
            raise InvalidArgumentError(f"long_pause_s must be a finite number > 0, got {self.long_pause_s}")
        if short is not None and not self.long_pause_s < short:
            raise InvalidArgumentError(f"long_pause_s ({self.long_pause_s}) must be below max_silence_short_s "
                                       f"({short}): a longer pause is always cut by it, so it would never switch")

    def confirm_bar(self, own_networks: bool) -> float:
        """``bargein_threshold``, or the bar chosen for the networks a call runs."""
        return CONFIRM_BAR[own_networks] if self.bargein_threshold is None else self.bargein_threshold

    def pause_bar(self, own_networks: bool) -> float:
        """``pause_threshold``, or the bar chosen for the networks a call runs."""
        return PAUSE_BAR[own_networks] if self.pause_threshold is None else self.pause_threshold

    def early_threshold(self) -> float:
        """Commit after ``early_silence_s`` when P(keep) < this: ``early_keep`` when
        set, else patience 0 → 0.3 … 1 → 0.1."""
        return self.early_keep if self.early_keep is not None else 0.3 - 0.2 * self.patience

    def early_silence_frames(self) -> int:
        """The silence before a confident turn end is taken: ``early_silence_s`` when set,
        else 150 ms up to patience 0.5, then rising to 400 ms at patience 1 (chosen on the
        dev splits, floor.md, "The early wait grows with patience")."""
        wait = self.early_silence_s if self.early_silence_s is not None else (
            0.15 + 0.5 * max(0.0, self.patience - 0.5))
        return _frames(wait)

    def ramp_start_frames(self) -> int:
        """The silence at which the ramp's bar starts to rise: ``ramp_start_s`` or the patience
        wait, whichever is longer."""
        return max(self.min_silence_frames(), _frames(self.ramp_start_s))

    def min_silence_frames(self) -> int:
        """The silence wait before a vetoable commit: ``min_silence_s`` when set,
        else patience 0 → 150 ms … 1 → 600 ms."""
        wait = self.min_silence_s if self.min_silence_s is not None else 0.15 + 0.45 * self.patience
        return _frames(wait)


class CadencePolicy:
    """Floor decisions from raw 10 ms frames (implements ``FloorPolicy``)."""

    def __init__(self, patience: float = 0.5, weights: str | None = None, echo_cancel: bool = False,
                 judge_head_file: str | None = None, persona_weights: str | None = None, **kw: Any) -> None:
        """``echo_cancel``: run the featurizer's adaptive echo canceller on the mic (off by
        default; floor.md, "An adaptive echo canceller"). ``judge_head_file``: the judge head
        that ``judge_head=1`` reads (``cadence train judge`` writes one; default the packaged
        ``weights/judge_head.npz``). ``persona_weights``: the networks ``persona_networks=1``
        reads (default the packaged ``weights/floor_persona.npz``). ``kw``: ``PolicyConfig`` fields."""
        self.config = PolicyConfig(patience=patience, **kw)
        self.name = f"cadence(p={patience:g})"
        self.featurizer = FloorFeaturizer(echo_cancel=bool(echo_cancel))
        # the speech rule's own canceller (echo_rule.py), on the mic as it came; with
        # echo_cancel the featurizer's canceller sees the same mic and reference, so the rule
        # reads its output (the same numbers, half the work)
        self.rule_aec = None if echo_cancel else EchoCanceller()
        self.model = FloorModel(weights)
        # the turn's outputs without the persona's channels (turn_sees_persona=0): a copy of
        # ``model`` made when the persona is first heard after a reset (until then both passes read
        # the same inputs); run in a call whose reset read turn_sees_persona 0
        self.turn_model: FloorModel | None = None
        # the persona's own networks (persona_networks=1): run on every frame of a call whose reset
        # read the setting 1, read from the persona's first sound (``persona_heard``); loaded at the
        # first reset that reads the setting on, or here when a file is given (a bad path fails now)
        self.persona_weights = persona_weights
        self.persona_model: FloorModel | None = None
        if persona_weights is not None:
            self._load_persona_model()
        self.judge: SmartTurnJudge | None = None
        self._judge_thread: ThreadPoolExecutor | None = None  # the judge's calls (made on first use)
        self.asked: Future[float] | None = None  # the judge's answer for this pause, still to be read
        self._last_call: Future[float] | None = None  # the last call asked (drain)
        if judge_head_file is not None and not self.config.judge_head:
            raise InvalidArgumentError(f"judge_head_file {judge_head_file!r} is read only with judge_head=1 "
                                       "(and smart_turn_weight > 0)")
        if self.config.asks_judge:
            from cadence.floor.turn_judge import DEFAULT_HEAD, JudgeHead, SmartTurnJudge

            head = JudgeHead.load(judge_head_file or DEFAULT_HEAD) if self.config.judge_head else None
            self.judge = SmartTurnJudge(head)
            judge = "judge-head" if head is not None else "smart-turn"
            mode = ",veto" if self.config.judge_veto else ",release" if self.config.judge_release else ""
            self.name = f"cadence+{judge}(p={patience:g},w={self.config.smart_turn_weight:g}{mode})"
        # wall ms of each Smart Turn call since the last reset (the last 1000; the bench reports them)
        self.call_ms: deque[float] = deque(maxlen=1000)
        # True (bench, tune): an answer not done when due is waited for, so every run decides
        # alike; False (the live Floor actor): the frames go on being decided without it, and it
        # counts from the first frame after it is done (late_answers counts such calls)
        self.wait_for_judge = True
        # the rule behind each commit since the last reset, in order (the last 10000; the bench
        # reports them): see protocol.COMMIT_RULES
        self.commit_rules: deque[str] = deque(maxlen=10_000)
        self.reset()

    def _load_persona_model(self) -> None:
        self.persona_model = FloorModel(self.persona_weights or default_persona_weights_path())

    def drain(self) -> None:
        """Wait for a judge call in flight (its answer, not yet due, stays unread), so that
        ``call_ms`` holds every call asked so far."""
        if self._last_call is not None:  # one worker: the calls before it have ended too
            self._last_call.exception()

    def close(self) -> None:
        """Let go of the judge's thread (a call in flight ends on its own; none is asked after)."""
        if self._judge_thread is not None:
            self._judge_thread.shutdown(wait=False, cancel_futures=True)
            self._judge_thread = None

    def reset(self) -> None:
        self.drain()  # a call in flight ends before its time is cleared below
        self.featurizer.reset()
        if self.rule_aec is not None:
            self.rule_aec.reset()
        self.model.reset()
        self.turn_model = None
        # the passes this call runs, read from the config here and kept until the next reset: a
        # pass switched on within a call would start mid-stream and one switched off would leave the
        # others' state behind, so turn_sees_persona and persona_networks change at a reset only
        self.call_blind = not self.config.turn_sees_persona
        self.call_own = bool(self.config.persona_networks)
        if self.call_own and self.persona_model is None:
            self._load_persona_model()
        if self.persona_model is not None:
            self.persona_model.reset()
        self.persona_heard = False
        self.frame = 0
        self.turn_speech = 0  # speech frames (in runs ≥ min_run_frames) since the last commit
        self.run = 0  # current speech run
        self.silence = 0  # consecutive non-speech frames
        self.speculating = False
        self.spec_gap = False  # a pause was seen since the speculation
        self.spec_speech = 0  # speech frames since the speculation
        # each speculation's confidence in the last decide() call, in order: P(end <= 600 ms) for
        # the end head's drafts, 1 - P(keep) for a draft in the silence (the actor's Speculate)
        self.spec_confidences: list[float] = []
        self.bc_done = False
        self.persona_quiet = 1000  # frames since the persona's playback was audible
        self.utterance_frames = 1000  # frames since the persona's utterance began
        self.answering = False  # a commit since the persona's playback was last audible
        self.bargein_run = 0
        self.bargein_done = False
        self.pause_run = 0
        self.paused = False  # the persona's playout is paused (a barge-in is not yet confirmed)
        # the background test's levels (e_noise, dB over the noise floor), kept per call
        self.background_level = RunningQuantile(BACKGROUND_QUANTILE, LEVEL_STEP_DB, LEVEL_MIN_FRAMES)
        self.user_level = RunningQuantile(USER_QUANTILE, LEVEL_STEP_DB, LEVEL_MIN_FRAMES)
        self.user_run = 0  # the user's speech run for their level (not carried over the persona's turn)
        self.paused_speech = 0  # user speech frames since the pause
        self.paused_silence = 0  # consecutive non-speech frames while paused
        self.turn_start = -1  # frame index where this turn's first speech run began (-1: none yet)
        self.longest_hold = 0  # the longest pause (frames) after which the user went on with a turn
        self.gap = 0  # the pause (frames) before the current speech
        # the last frame the end200 head reached anticipate_end200 (the anticipating path's window)
        self.end200_frame = -_ANTICIPATE_FRAMES
        self.judged: float | None = None  # the judge's P(complete) in this pause, once it may be read
        self.asked = None
        self.bias = 0.0  # log-odds added to P(keep) in the silence: learnt from cut-ins (adapt_step)
        self.last_commit = -1  # the frame of the last commit not yet judged a cut-in or let stand (-1: none)
        # commits after which the user spoke again within adapt_window_s (counted while adapting or
        # keeping the early path's record: early_trust)
        self.cut_ins = 0
        # the early path's record on this speaker (early_trust): pauses where it would have fired
        # and the turn had ended (hits) or the user went on (misses)
        self.early_hits = 0
        self.early_misses = 0
        self.early_would = False  # the early path would have fired in this pause
        self.commit_early = False  # ... in the pause of the last commit (last_commit)
        self.judged_ready = 0  # the frame count from which that answer may be used
        self.late_answers = 0  # live (wait_for_judge False): answers not done when due
        self.audio = np.zeros((_RING_FRAMES if self.judge else 0, FRAME_SAMPLES), np.float32)
        self.audio_frames = 0  # frames written to the ring
        self.call_ms.clear()
        self.commit_rules.clear()
        # the last ``process`` call's per-frame model outputs, and per frame, after it: the user
        # speaking (no silence) and the persona holding the floor (the Floor actor's FloorState)
        self.chunk_probs = np.zeros((0, len(OUTPUTS)), np.float32)
        self.frame_flags: list[tuple[bool, bool]] = []

    def background_bar(self) -> float:
        """The background test's bar (e_noise, dB): ``pause_background_db`` over the
        background talk's median level, at most the user's level less ``pause_user_db``;
        -inf (every frame passes) until the background talk has been heard for 0.5 s."""
        cfg = self.config
        if cfg.pause_background_db is None or not self.background_level.ready:
            return -math.inf
        bar = self.background_level.value + cfg.pause_background_db
        if self.user_level.ready:
            bar = min(bar, self.user_level.value - cfg.pause_user_db)
        return bar

    @property
    def persona_holds_floor(self) -> bool:
        """The persona is speaking (heard within 300 ms) or its playout is paused."""
        return self.paused or self.persona_quiet < 30

    def process(self, frames: np.ndarray, reference: np.ndarray | None = None) -> list[Decision]:
        """frames: (n, 160) mic audio; reference: (n, 160) the persona's playback, if any."""
        x = self.featurizer.process(frames, reference)  # checks frames and reference
        # the rule's canceller follows every frame (echo_rule may be switched on later)
        if self.rule_aec is None:
            assert self.featurizer.cleaned is not None
            aec_excess = excess_over_prediction(np.ascontiguousarray(frames), self.featurizer.cleaned)
        else:
            aec_excess = canceller_excess(self.rule_aec, frames, reference)
        self.frame_flags = []
        self.chunk_probs = self.probs(x)
        return self.decide_heard(frames, x, self.chunk_probs, aec_excess)

    def probs(self, x: np.ndarray) -> np.ndarray:
        """The model's outputs on features ``x`` (streaming); with ``turn_sees_persona`` 0 the
        turn's columns come from the second pass, which reads the persona's channels as silent;
        with ``persona_networks`` 1 the persona outputs come from the persona's networks from
        its first sound on."""
        was_heard = self.persona_heard
        start = 0 if was_heard else first_persona_frame(x)  # the persona's first frame in x
        self.persona_heard = was_heard or start < len(x)
        blind, own = self.call_blind, self.call_own  # the call's, fixed at the reset
        if blind and self.turn_model is None and self.persona_heard:
            # no persona since the reset: the blind pass would have read what this one read, so it
            # starts from this one's state (exactly: the same inputs, the same arithmetic)
            self.turn_model = copy.deepcopy(self.model)
        # once the persona was heard, the blind pass and the persona's networks give every output
        # between them: the seeing pass is not run
        seeing = not (own and blind and was_heard and self.turn_model is not None)
        probs = self.model.process(x) if seeing else np.empty((len(x), len(OUTPUTS)), np.float32)
        if blind and self.turn_model is not None:
            probs[:, TURN_OUTPUTS] = self.turn_model.process(blind_to_persona(x))[:, TURN_OUTPUTS]
        if own:
            assert self.persona_model is not None  # loaded at the reset
            persona = self.persona_model.process(x)  # every frame, so its state is the call's
            probs[start:, PERSONA_OUTPUTS] = persona[start:, PERSONA_OUTPUTS]  # nothing before it is heard
        return probs

    def decide_heard(self, frames: np.ndarray, x: np.ndarray, probs: np.ndarray,
                     aec_excess: np.ndarray | None = None) -> list[Decision]:
        """``decide`` on frames whose mic audio ``frames`` (n, 160) the judge may read:
        ``process``' last step, and tune's on cached features. With a judge it decides in steps
        of at most ``_JUDGE_STEP`` frames, so that a judge asked in a step finds the 8 s it
        reads still in the ring; the decisions are those of one call."""
        for name, v in (("frames", frames), ("probs", probs), ("aec_excess", aec_excess)):
            if v is not None and len(v) != len(x):
                raise InvalidArgumentError(f"{name} must have one row per feature frame ({len(x)}), got {len(v)}")
        if self.judge is None:
            return self.decide(x, probs, aec_excess)
        out: list[Decision] = []
        confidences: list[float] = []
        for i in range(0, len(x), _JUDGE_STEP):
            j = i + _JUDGE_STEP
            self._remember(frames[i:j])
            out += self.decide(x[i:j], probs[i:j], None if aec_excess is None else aec_excess[i:j])
            confidences += self.spec_confidences
        self.spec_confidences = confidences  # the whole call's, as decide() keeps them
        return out

    def _remember(self, frames: np.ndarray) -> None:
        """Keep the raw mic frames the Smart Turn judge may read (only with a judge)."""
        if self.judge is None:
            return
        x = np.asarray(frames, np.float32)
        kept = x[-_RING_FRAMES:]  # a longer chunk: only its end can still be read
        first = self.audio_frames + len(x) - len(kept)
        self.audio[(first + np.arange(len(kept))) % _RING_FRAMES] = kept
        self.audio_frames += len(x)

    def decide(self, x: np.ndarray, probs: np.ndarray, aec_excess: np.ndarray | None = None) -> list[Decision]:
        """The decision logic alone, on features ``x`` and model outputs ``probs`` of
        consecutive frames (``process`` = featurize → model → ``decide``), and with
        ``echo_rule`` the canceller's excess of the same frames (``echo_rule.canceller_excess``;
        None: the echo estimate alone). Offline tuning runs it on cached features with several configs."""
        if probs.ndim != 2 or probs.shape[1] != len(OUTPUTS) or len(probs) != len(x):
            raise InvalidArgumentError(
                f"probs must have shape ({len(x)}, {len(OUTPUTS)}) (columns {OUTPUTS}), got {probs.shape}")
        if aec_excess is not None and np.shape(aec_excess) != (len(x),):
            raise InvalidArgumentError(f"aec_excess must have shape ({len(x)},), got {np.shape(aec_excess)}")
        cfg = self.config
        confirm_bar, pause_bar = cfg.confirm_bar(self.call_own), cfg.pause_bar(self.call_own)
        pause_stage = pause_bar < confirm_bar  # a pause bar at or over the confirm bar turns it off
        thr = cfg.commit_keep
        min_sil = cfg.min_silence_frames()
        ramp_sil = cfg.ramp_start_frames()
        early_thr = cfg.early_threshold()
        early_sil = cfg.early_silence_frames()
        anticipate_sil = _frames(cfg.anticipate_silence_s)
        spec_sil = _frames(cfg.speculate_silence_s)
        min_speech = int(cfg.min_turn_speech_s / FRAME_S)
        confirm_frames = _frames(cfg.confirm_speech_s)
        resume_frames = _frames(cfg.resume_silence_s)
        retract_frames = _frames(cfg.retract_speech_s)
        ask_frames, ready_frames = _frames(cfg.smart_turn_at_s), round(cfg.smart_turn_delay_s / FRAME_S)
        if self.judge is not None and self.audio_frames != self.frame + len(x):
            raise InvalidArgumentError("a policy with smart_turn_weight > 0 needs the audio: call process() or "
                                       "decide_heard(), not decide()")
        combine = add_log_odds if cfg.judge_head else mix_log_odds  # how the judge's answer counts
        excess = sharpen(x[:, _EXCESS], aec_excess if cfg.echo_rule else None)
        heard = heard_speech(x, excess=excess)
        heard_pause = heard if cfg.pause_vad_threshold == VAD_BAR else heard_speech(x, cfg.pause_vad_threshold, excess)
        # the level test gates the start of a pause only: once paused, the user's words count
        # towards confirming (and hold off the resume) at any level
        loud = (np.ones(len(x), bool) if cfg.pause_noise_db is None
                else loud_enough(x, cfg.pause_noise_db, cfg.pause_speech_db))
        out: list[Decision] = []
        self.spec_confidences = []
        long_pause = _frames(cfg.long_pause_s)
        open_frames = round(cfg.pause_open_s / FRAME_S)
        adapt_frames = _frames(cfg.adapt_window_s)
        rows = probs.tolist()  # Python floats, exactly the float32 values
        flags = self.frame_flags
        for i in range(len(x)):
            if i:
                flags.append((self.silence == 0, self.persona_holds_floor))  # after frame i - 1
            self.frame += 1
            t = self.frame * FRAME_S
            keep, end200, end600, bc, _barge, voice, pause, onset, confirm = rows[i]
            if cfg.anticipate_end200 is not None and end200 >= cfg.anticipate_end200:
                self.end200_frame = self.frame
            persona = x[i, _PERSONA] > -1.0  # reference above -60 dB
            # the persona starts over the user's speech (read before this frame counts as its own)
            over_user = (cfg.yield_over_user and persona and self.answering and not self.persona_holds_floor
                         and self.run >= cfg.min_run_frames)
            if persona:
                self.answering = False
            if persona and self.persona_quiet > 20:
                self.bargein_done = False  # a new persona utterance after a gap: arm again
                self.utterance_frames = 0
            self.persona_quiet = 0 if persona else self.persona_quiet + 1
            self.utterance_frames += 1
            if over_user:
                out.append(self._yield(t))
            speech = bool(heard[i])
            level_db = float(x[i, _E_NOISE]) * 20.0
            # talk over the persona that is not the user's (not while a pause may be starting,
            # is on, or after the user has taken the floor: that talk may be the user's)
            if (speech and voice < cfg.voice_threshold and self.persona_holds_floor and not self.paused
                    and self.pause_run == 0 and not self.bargein_done):
                self.background_level.update(level_db)
            if not self.persona_holds_floor:  # over the persona's voice the barge-in heads decide
                speech = speech and voice >= cfg.voice_threshold
                # the user's level: from the min_run_frames-th frame of a speech run as the turn
                # logic counts one (speech with keep >= 0.1), counted afresh once the persona lets go
                self.user_run = self.user_run + 1 if (speech and keep >= 0.1) else 0
                if self.user_run >= cfg.min_run_frames:
                    self.user_level.update(level_db)
            else:
                self.user_run = 0
            if speech:
                if self.silence:
                    self.gap = self.silence  # the pause before this speech
                self.silence = 0
                self.bc_done = False
                self.judged = self.asked = None
            else:
                self.silence += 1
            # the user let the last commit stand (while the persona is paused, the verdict waits
            # for the barge-in or the resume; while a speech run that began in the window is still
            # short of min_run_frames, for its end or its min_run_frames-th frame, unless the
            # persona holds the floor: the run is not counted then, so it would hold the verdict)
            if (self.last_commit >= 0 and not self.paused and (self.run == 0 or self.persona_holds_floor)
                    and self.frame - self.last_commit > adapt_frames):
                self._judge_commit(cut_in=False)
            if self.persona_holds_floor:
                self.bargein_run = self.bargein_run + 1 if (speech and confirm >= confirm_bar) else 0
                # the level and background tests gate a pause's start only
                may_start = self.paused or (bool(loud[i]) and (cfg.pause_background_db is None
                                                               or level_db >= self.background_bar()))
                # the onset head's word, or the user's voice while paused (pause_hold_voice), or
                # in the utterance's open window a voice the turn logic would take as the user's
                voiced = voice >= cfg.pause_voice_threshold and (
                    onset >= pause_bar or (self.paused and bool(cfg.pause_hold_voice))
                    or (self.utterance_frames <= open_frames and voice >= cfg.voice_threshold))
                self.pause_run = self.pause_run + 1 if bool(heard_pause[i]) and may_start and voiced else 0
                if not self.bargein_done:
                    # only frames past Silero's usual bar (speech) confirm a barge-in
                    out.extend(self._barge_step(t, confirm_frames, resume_frames, speech, pause_stage))
                continue
            self.bargein_done = False
            # speech opens a turn only if the model also thinks the user is taking the
            # floor (noise bursts and breaths during the persona's turn do not)
            if speech and keep >= 0.1:
                self.run += 1
                if self.run == cfg.min_run_frames:
                    if self.last_commit >= 0:  # speech again: a cut-in if it began within the window
                        began = self.frame - self.run + 1
                        self._judge_commit(cut_in=began - self.last_commit <= adapt_frames)
                    if self.turn_speech == 0:
                        self.turn_start = self.frame - self.run
                    elif self.turn_speech >= min_speech:  # the user goes on with the turn after the pause
                        self.longest_hold = max(self.longest_hold, self.gap)
                        self.early_misses += int(self.early_would)
                    self.early_would = False
                    self.turn_speech += self.run
                elif self.run > cfg.min_run_frames:
                    self.turn_speech += 1
            else:
                self.run = 0
            in_turn = self.turn_speech >= min_speech
            if self.speculating:
                if self.silence >= _SPEC_GAP_FRAMES:
                    self.spec_gap = True
                self.spec_speech += int(speech)
                if (speech and self.spec_gap) or self.spec_speech >= retract_frames:
                    out.append(Decision("retract", t))
                    self.speculating = False
            if not in_turn:
                continue
            if not self.speculating and end600 >= cfg.speculate_threshold:
                # a draft begun in a pause (the last word ended 50 ms or more ago) is retracted by
                # the next speech, as one begun in speech is after a pause
                out.append(self._speculate(t, end600, gap=self.silence >= _SPEC_GAP_FRAMES))
            own = pause  # Cadence's own P(keep), before the judge's answer
            released = pause  # what the fallback reads with judge_release
            if self.judge is not None:
                if self.silence == ask_frames:
                    self.asked = self._ask_judge()
                    self.judged_ready = self.frame + ready_frames
                if self.asked is not None and self.frame >= self.judged_ready:
                    # the answer is due: wait for it here if the call is not done (wait_for_judge;
                    # live, the delay's frames took as long to arrive: rarely), so every run
                    # decides alike; live, go on without it until it is done
                    if self.wait_for_judge or self.asked.done():
                        asked, self.asked = self.asked, None
                        self.judged = asked.result()  # a failed call raises here, once
                    elif self.frame == self.judged_ready:
                        self.late_answers += 1
                if self.judged is not None:
                    mixed = combine(pause, 1.0 - self.judged, cfg.smart_turn_weight)
                    if cfg.judge_release:
                        released = min(pause, mixed)
                    else:
                        pause = max(pause, mixed) if cfg.judge_veto else mixed
            # the learnt bias moves the model's rules, not the timeouts (fallback_s, max_silence_s)
            keep_b = shift_log_odds(pause, self.bias) if self.bias else pause
            sil_s = self.silence * FRAME_S
            max_silence_s = cfg.max_silence_s
            if cfg.max_silence_short_s is not None and self.longest_hold < long_pause:
                max_silence_s = cfg.max_silence_short_s
            if cfg.ramp > 0.0 and self.silence >= ramp_sil:
                frac = min(1.0, (self.silence - ramp_sil) / max(1.0, cfg.fallback_s / FRAME_S - ramp_sil))
                thr_now = thr + cfg.ramp * frac * max(0.0, cfg.fallback_keep - thr)
            else:
                thr_now = thr
            # the rules that take the floor (named only when one does: this runs every silent frame)
            wait = self.silence >= min_sil and keep_b < thr
            ramp = self.silence >= min_sil and keep_b < thr_now
            early_cond = self.silence >= early_sil and keep_b < early_thr
            early = early_cond and self.early_trusted()
            anticipate = (self.frame - self.end200_frame < _ANTICIPATE_FRAMES and self.silence >= anticipate_sil
                          and keep_b < cfg.anticipate_keep)
            # a judge that may only hold the floor (judge_veto) does not hold it past the fallback;
            # one that may only release it (judge_release) does so there
            fallback = sil_s >= cfg.fallback_s and (
                own if cfg.judge_veto else released if cfg.judge_release else pause) < cfg.fallback_keep
            timeout = sil_s >= max_silence_s
            if wait or ramp or early or anticipate or fallback or timeout:
                # named for the rule that asks the least silence (whole frames; a tie: the first
                # listed). The ramp's is the silence so far and it is listed last, so at the
                # fallback's frame, where the risen bar meets fallback_keep, the commit is the fallback's
                fired = [(need, rule) for need, rule, ok in (
                    (min_sil, "wait", wait), (early_sil, "early", early), (anticipate_sil, "anticipate", anticipate),
                    (_whole_frames(cfg.fallback_s), "fallback", fallback),
                    (_whole_frames(max_silence_s), "timeout", timeout), (self.silence, "ramp", ramp)) if ok]
                self.commit_rules.append(min(fired, key=lambda f: f[0])[1])
                out.append(Decision("commit", t))
                if cfg.adapt_step or cfg.adapt_relax or cfg.early_trust is not None:
                    self.last_commit = self.frame
                    self.commit_early = self.early_would or early_cond
                self.early_would = False
                self.turn_speech = 0
                self.answering = True
                self.turn_start = -1
                self.judged = self.asked = None
                self.speculating = False
                continue
            self.early_would = self.early_would or early_cond
            # a draft in the silence (not in the frame of a commit: it would have no head start);
            # any speech after it means the user went on: it is retracted
            if (not self.speculating and cfg.speculate_keep is not None and self.silence >= spec_sil
                    and pause < cfg.speculate_keep):
                out.append(self._speculate(t, 1.0 - pause, gap=True))
            if self.silence > 0 and not self.bc_done and bc >= cfg.backchannel_threshold:
                out.append(Decision("backchannel", t))
                self.bc_done = True
        if len(x):
            flags.append((self.silence == 0, self.persona_holds_floor))  # after the last frame
        return out

    def _yield(self, t: float) -> Decision:
        """The persona yields the floor to the user (a ``bargein``) and the stage disarms until
        its next utterance."""
        self.bargein_done = True
        self.paused = False
        if self.last_commit >= 0:  # the user talked over the answer the commit began
            self._judge_commit(cut_in=True)
        return Decision("bargein", t)

    def _judge_commit(self, cut_in: bool) -> None:
        """The last commit cut the user off (they spoke again within ``adapt_window_s``) or
        was let stand: move the P(keep) bias by ``adapt_step`` up or ``adapt_relax`` down."""
        cfg = self.config
        self.last_commit = -1
        if self.commit_early:  # the early path would have fired in that commit's pause
            self.early_misses += int(cut_in)
            self.early_hits += int(not cut_in)
        if cut_in:
            self.cut_ins += 1
            self.bias = min(cfg.adapt_max, self.bias + cfg.adapt_step)
        else:
            self.bias = max(0.0, self.bias - cfg.adapt_relax)

    def early_trusted(self) -> bool:
        """The early path may commit: always, unless ``early_trust`` is set and its record on this
        speaker, (hits + prior) / (hits + misses + prior), has fallen under it."""
        bar = self.config.early_trust
        if bar is None:
            return True
        prior = self.config.early_trust_prior
        n = self.early_hits + self.early_misses + prior
        return n <= 0.0 or (self.early_hits + prior) / n >= bar

    def _speculate(self, t: float, confidence: float, gap: bool) -> Decision:
        """Open a draft; ``gap``: a pause already lies between the user's last speech and it
        (so the next speech retracts it)."""
        self.speculating, self.spec_gap, self.spec_speech = True, gap, 0
        self.spec_confidences.append(confidence)
        return Decision("speculate", t)

    def _ask_judge(self) -> Future[float]:
        """The judge's P(complete) (Smart Turn's, or Cadence's head on its encoder) on
        this turn's audio: from 0.7 s before its first
        speech (Pipecat's pre-speech + VAD start) to now, at most the ring's 8.7 s. Asked
        on the policy's worker thread (one: calls run in order), so that the frames of the
        delay are decided meanwhile; an error comes back where the answer is read."""
        judge = self.judge
        assert judge is not None
        first = max(self.turn_start - _PRE_SPEECH_FRAMES, self.frame - _AUDIO_FRAMES, 0)
        audio = self.audio[np.arange(first, self.frame) % _RING_FRAMES].reshape(-1)  # a copy

        def call() -> float:
            t0 = time.perf_counter()
            p = judge.prob_complete(audio)
            self.call_ms.append((time.perf_counter() - t0) * 1000.0)
            return p

        if self._judge_thread is None:
            self._judge_thread = ThreadPoolExecutor(1, thread_name_prefix="cadence-judge")
        self._last_call = self._judge_thread.submit(call)
        return self._last_call

    def _barge_step(self, t: float, confirm_frames: int, resume_frames: int, heard: bool,
                    pause_stage: bool) -> list[Decision]:
        """One frame of the two-stage barge-in while the persona holds the floor; ``heard``:
        the frame passes the speech rule at Silero's usual bar; ``pause_stage``: the call's pause
        bar is under its confirm bar."""
        cfg = self.config
        if self.paused:
            # speech the head still reads as user's; only frames past Silero's usual bar count
            # towards confirming (a lower pause_vad_threshold makes the pause quicker, not its
            # confirmation easier)
            self.paused_speech += int(self.pause_run > 0 and heard)
            self.paused_silence = 0 if self.pause_run > 0 else self.paused_silence + 1
        if self.bargein_run >= cfg.bargein_frames or (self.paused and self.paused_speech >= confirm_frames):
            self.turn_speech = max(self.bargein_run, self.paused_speech)
            self.turn_start = self.frame - self.turn_speech
            return [self._yield(t)]
        if self.paused and self.paused_silence >= resume_frames:
            self.paused = False
            return [Decision("resume", t)]
        if not self.paused and self.pause_run >= cfg.pause_frames and pause_stage:
            self.paused = True
            self.paused_speech = self.pause_run
            self.paused_silence = 0
            return [Decision("pause", t)]
        return []
