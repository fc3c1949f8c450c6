"""The floor scorer on hand-made cases: every rule and its boundaries."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cadence.errors import InvalidArgumentError
from cadence.floor.protocol import Decision, frame_end_time
from cadence.floor.scoring import (
    FileLabels,
    FileScore,
    labels_from_manifest,
    score_file,
    summarize,
)


def commits(*ts: float) -> list[Decision]:
    return [Decision("commit", t) for t in ts]


def test_frame_end_time() -> None:
    assert frame_end_time(0) == pytest.approx(0.01)
    assert frame_end_time(99) == pytest.approx(1.0)


def test_correct_commit_and_latency() -> None:
    sc = score_file(commits(10.25), FileLabels(shifts=(10.0,)))
    assert (sc.correct, sc.answered, sc.interruptions, sc.spurious) == (1, 1, 0, 0)
    assert sc.latencies == [pytest.approx(0.25)]


@pytest.mark.parametrize(
    ("c", "correct"),
    [(9.9, True), (9.9 - 1e-6, False), (12.0, True), (12.0 + 1e-6, False), (9.95, True)],
)
def test_window_boundaries(c: float, correct: bool) -> None:
    sc = score_file(commits(c), FileLabels(shifts=(10.0,), turn_starts=(8.0,)))
    assert sc.correct == int(correct)
    if correct:
        assert sc.latencies[0] == pytest.approx(c - 10.0)
        assert -0.1 - 1e-9 <= sc.latencies[0] <= 2.0 + 1e-9
    elif c < 10:
        assert sc.interruptions == 1  # in the user's turn before t - 0.1
    else:
        assert sc.spurious == 1  # persona time after the window


def test_negative_latency_allowed() -> None:
    sc = score_file(commits(9.92), FileLabels(shifts=(10.0,)))
    assert sc.latencies == [pytest.approx(-0.08)]


def test_only_first_correct_commit_counts() -> None:
    sc = score_file(commits(10.3, 10.5, 11.9), FileLabels(shifts=(10.0,)))
    assert (sc.correct, sc.spurious, sc.commits) == (1, 2, 3)
    assert sc.latencies == [pytest.approx(0.3)]
    s = summarize(sc)
    assert s["precision"] == pytest.approx(1 / 3)
    assert s["recall"] == 1.0


def test_commit_inside_hold_is_interruption_even_in_window() -> None:
    # a hold right after t - 0.1 of a shift (overlapping window): the hold wins
    labels = FileLabels(shifts=(10.0,), holds=((5.0, 6.0), (9.95, 9.99)))
    sc = score_file(commits(5.0, 6.0, 5.5, 9.97), labels)
    assert sc.interruptions == 4
    assert sc.correct == 0 and sc.answered == 0


def test_hold_boundaries_closed() -> None:
    labels = FileLabels(shifts=(10.0,), holds=((5.0, 6.0),), turn_starts=(6.5,))
    assert score_file(commits(4.999), labels).spurious == 1  # before the turn starts
    assert score_file(commits(5.0), labels).interruptions == 1
    assert score_file(commits(6.0), labels).interruptions == 1
    assert score_file(commits(6.2), labels).spurious == 1  # between hold end and the turn start given
    assert score_file(commits(6.6), labels).interruptions == 1  # in the user's turn


def test_turn_start_fallback_without_segments() -> None:
    # without segments the 2nd turn starts where the first window ends (t1 + 2.0)
    labels = FileLabels(shifts=(5.0, 15.0))
    assert score_file(commits(3.0), labels).interruptions == 1  # first turn starts at 0
    sc = score_file(commits(7.5), labels)
    assert sc.interruptions == 1
    assert score_file(commits(17.5), labels).spurious == 1  # after the last window


def test_turn_starts_from_meta_segments() -> None:
    entry = {
        "audio": "a.wav",
        "events": [
            {"type": "shift", "t": 4.0},
            {"type": "hold", "start": 2.0, "end": 2.5},
            {"type": "backchannel", "start": 6.0, "end": 6.3},
            {"type": "bargein", "t": 7.0},
            {"type": "shift", "t": 12.0},
        ],
        "meta": {
            "segments": [
                [0.5, 2.0, "so I was", "continuation"],
                [2.5, 4.0, "thinking.", "final"],
                [6.0, 6.3, "mm-hm", "backchannel"],
                [9.0, 12.0, "what now?", "final"],
            ]
        },
    }
    labels = labels_from_manifest(entry)
    assert labels.shifts == (4.0, 12.0)
    assert labels.holds == ((2.0, 2.5),)
    assert labels.turn_starts == (0.5, 9.0)
    # persona time (between 6.0 and 9.0) is spurious, not an interruption; backchannel ignored
    sc = score_file(commits(6.1, 8.0, 9.5, 12.1), labels)
    assert (sc.spurious, sc.interruptions, sc.correct) == (2, 1, 1)


def test_overlapping_windows_answer_earliest_unanswered() -> None:
    labels = FileLabels(shifts=(10.0, 11.0), turn_starts=(8.0, 10.8))
    sc = score_file(commits(10.2, 11.1), labels)
    assert sc.correct == 2 and sc.answered == 2
    assert sc.latencies == [pytest.approx(0.2), pytest.approx(0.1)]


def test_a_commit_once_the_user_talks_again_answers_no_earlier_shift() -> None:
    """Shift 10.0 is left unanswered and the user starts a new turn at 10.5. A commit at 10.7
    cuts in on that turn (it answered shift 10.0 with 0.7 s before); one at 10.95 answers the
    new turn's end, not the old one."""
    labels = FileLabels(shifts=(10.0, 11.0), turn_starts=(8.0, 10.5))
    sc = score_file(commits(10.7, 10.95), labels)
    assert sc.commit_outcomes == ["in speech", "correct"]
    assert sc.answered == 1 and sc.latencies == [pytest.approx(-0.05)]
    assert (sc.interruptions, sc.interruptions_in_speech) == (1, 1)
    # without turn starts (a corpus with events only) the old window ends where the next opens
    bare = FileLabels(shifts=(10.0, 11.0))
    sc = score_file(commits(10.95), bare)
    assert sc.latencies == [pytest.approx(-0.05)] and sc.answered == 1
    sc = score_file(commits(10.5, 11.3), bare)
    assert sc.latencies == [pytest.approx(0.5), pytest.approx(0.3)]
    # the cut does not make a shift pre-empted: recall over the open shifts keeps both
    assert not labels.preempted(0) and labels.answer_end(0) == pytest.approx(10.5)
    assert score_file(commits(10.95), labels).open_shifts == 2
    # a manifest whose meta labels no start for the second turn cuts the first window as one
    # with events only does
    entry = {"events": [{"type": "shift", "t": 10.0}, {"type": "shift", "t": 11.0}],
             "meta": {"segments": [[8.0, 10.0, "x", "final"]]}}
    sc = score_file(commits(10.95), labels_from_manifest(entry))
    assert sc.latencies == [pytest.approx(-0.05)]
    # two shifts at one time (a labelling slip) cut nothing: both are answered as before
    twice = score_file(commits(10.2, 10.3), FileLabels(shifts=(10.0, 10.0)))
    assert twice.commit_outcomes == ["correct", "correct"] and twice.answered == 2


def test_recall_counts_unanswered_shifts() -> None:
    labels = FileLabels(shifts=(10.0, 20.0, 30.0))
    sc = score_file(commits(10.5, 32.5), labels)
    s = summarize(sc)
    assert s["recall"] == pytest.approx(1 / 3)
    assert s["precision"] == pytest.approx(1 / 2)
    assert s["spurious"] == 1


def test_answered_within_500ms_counts_every_turn() -> None:
    # four turns: answered after 0.2 s, exactly 0.5 s (frame sums), 0.51 s, and never
    labels = FileLabels(shifts=(10.0, 20.0, 30.0, 40.0))
    s = summarize(score_file(commits(10.2, 20.0 + sum([0.01] * 50), 30.51), labels))
    assert s["answered_500ms_share"] == pytest.approx(2 / 4)
    # a policy that leaves its slow turns unanswered looks fast by latency, not by this share
    fast = summarize(score_file(commits(10.2), labels))
    assert fast["latency_p90_ms"] < s["latency_p90_ms"]
    assert fast["answered_500ms_share"] == pytest.approx(1 / 4)
    assert summarize(score_file([], FileLabels(shifts=())))["answered_500ms_share"] is None


def test_speculation_and_retract_share() -> None:
    decs = [
        Decision("speculate", 1.0),
        Decision("retract", 1.5),
        Decision("speculate", 2.0),
        Decision("commit", 2.2),
        Decision("retract", 2.3),  # after the commit: does not count
        Decision("speculate", 5.0),
        Decision("speculate", 5.1),
        Decision("retract", 5.5),
        Decision("commit", 6.0),
    ]
    sc = score_file(decs, FileLabels(shifts=(2.1, 5.9)))
    assert sc.speculates == 4
    assert sc.retracted_speculates == 3
    s = summarize(sc)
    assert s["speculate_per_turn"] == pytest.approx(2.0)
    assert s["retract_share"] == pytest.approx(0.75)


def test_summary_latency_stats_and_sum() -> None:
    total = FileScore()
    total += score_file(commits(1.1, 3.2), FileLabels(shifts=(1.0, 3.0)))
    total += score_file(commits(5.5), FileLabels(shifts=(5.0,)))
    s = summarize(total, compute_s=1.0, audio_s=100.0)
    assert s["latency_median_ms"] == pytest.approx(200.0)
    assert s["latency_mean_ms"] == pytest.approx((100 + 200 + 500) / 3)
    assert s["latency_p90_ms"] == pytest.approx(440.0)
    assert s["rtf"] == pytest.approx(0.01)
    assert s["interruptions_per_100_turns"] == 0.0


def test_empty_cases() -> None:
    s = summarize(score_file([], FileLabels(shifts=(1.0,))))
    assert s["precision"] is None and s["recall"] == 0.0 and s["latency_median_ms"] is None
    s = summarize(score_file(commits(1.0), FileLabels(shifts=())))
    assert s["recall"] is None and s["spurious"] == 1


def test_interruptions_per_100_turns() -> None:
    labels = FileLabels(shifts=(10.0, 20.0), holds=((3.0, 4.0),))
    s = summarize(score_file(commits(3.5, 10.1, 20.1), labels))
    assert s["interruptions"] == 1 and s["interruptions_per_100_turns"] == pytest.approx(50.0)


def test_recorded_persona_speech_preempts_a_shift_window() -> None:
    # the persona's recorded reply starts 0.6 s after the first shift: its window ends there;
    # the second shift's reply starts 2.5 s after it, outside the window: not pre-empted
    labels = FileLabels(shifts=(10.0, 20.0), persona=((10.6, 15.0), (22.5, 25.0)))
    assert labels.window_end(0) == pytest.approx(10.6) and labels.preempted(0)
    assert labels.window_end(1) == pytest.approx(22.0) and not labels.preempted(1)
    late = score_file(commits(10.8, 21.9), labels)  # after the persona started: not an answer
    assert (late.correct, late.spurious, late.answered) == (1, 1, 1)
    s = summarize(late)
    assert s["recall"] == 0.5 and s["preempted_shifts"] == 1 and s["recall_open"] == 1.0
    early = summarize(score_file(commits(10.6, 20.5), labels))  # at the persona's start: in time
    assert (early["correct"], early["recall"], early["recall_open"]) == (2, 1.0, 1.0)
    missed = summarize(score_file(commits(10.2), labels))
    assert (missed["recall"], missed["recall_open"]) == (0.5, 0.0)
    # no persona speech (half duplex): every shift is open, recall_open == recall
    plain = summarize(score_file(commits(10.2), FileLabels(shifts=(10.0, 20.0))))
    assert plain["preempted_shifts"] == 0 and plain["recall_open"] == plain["recall"] == 0.5


@pytest.mark.parametrize(
    ("persona", "end", "preempted"),
    [
        (((10.0, 12.0),), 10.0, True),  # starts at the turn end: the window closes at t
        (((12.0, 13.0),), 12.0, False),  # starts at t + 2.0: the window is whole
        (((11.999, 13.0),), 11.999, True),
        (((9.0, 10.5),), 9.9, True),  # already talking at t - 0.1: nothing can answer
        (((9.0, 9.85),), 12.0, False),  # stopped before t - 0.1
        (((13.0, 14.0), (10.4, 11.0)), 10.4, True),  # the earliest start counts
    ],
)
def test_preemption_boundaries(persona: tuple, end: float, preempted: bool) -> None:
    labels = FileLabels(shifts=(10.0,), persona=persona)
    assert labels.window_end(0) == pytest.approx(end) and labels.preempted(0) is preempted


def test_preemption_at_exactly_two_seconds_despite_float_sums() -> None:
    labels = FileLabels(shifts=(0.28,), persona=((2.28, 3.0),))  # 0.28 + 2.0 > 2.28 in floats
    assert not labels.preempted(0)
    assert summarize(score_file(commits(2.28), labels))["recall_open"] == 1.0


def test_overlapping_holds_in_a_manifest_are_one_hold() -> None:
    entry = {"audio": "a.wav", "events": [
        {"type": "hold", "start": 1.0, "end": 2.0}, {"type": "hold", "start": 2.0, "end": 2.6},
        {"type": "hold", "start": 1.5, "end": 1.8}, {"type": "hold", "start": 4.0, "end": 4.5},
        {"type": "shift", "t": 9.0}]}
    labels = labels_from_manifest(entry)
    assert labels.holds == ((1.0, 2.6), (4.0, 4.5))
    s = summarize(score_file(commits(2.0, 9.1), labels))  # on the shared edge: one hold, one interruption
    assert (s["holds"], s["holds_interrupted"], s["interruptions"]) == (2, 1, 1)


def test_hold_buckets_take_round_lengths_at_their_lower_edge() -> None:
    labels = FileLabels(shifts=(5.0,), holds=((0.07, 0.57), (1.1, 2.1)))  # 0.4999…, 1.0000…
    got = summarize(score_file([], labels))["holds_by_length"]
    assert [b["holds"] for b in got] == [0, 1, 1, 0]


def test_interruption_breakdown_by_place_and_hold_length() -> None:
    # holds of 0.3, 0.7, 1.2 and 2.0 s; two commits in the 2 s hold count it once
    holds = ((1.0, 1.3), (2.0, 2.7), (4.0, 5.2), (6.0, 8.0))
    labels = FileLabels(shifts=(20.0,), holds=holds, turn_starts=(0.5,))
    sc = score_file(commits(1.1, 4.0, 7.5, 7.9, 12.0, 20.05), labels)
    assert sc.interruptions == 5 and sc.interruptions_in_speech == 1  # 12.0: in the turn, in no hold
    assert sc.interruption_delays == [pytest.approx(0.1), pytest.approx(0.0), pytest.approx(1.5)]
    s = summarize(sc)
    assert (s["holds"], s["holds_interrupted"]) == (4, 3)
    assert s["hold_interrupted_share"] == pytest.approx(0.75)
    assert s["interruption_delay_median_ms"] == pytest.approx(100.0)
    got = [(b["min_s"], b["max_s"], b["holds"], b["interrupted"]) for b in s["holds_by_length"]]
    assert got == [(0.0, 0.5, 1, 1), (0.5, 1.0, 1, 0), (1.0, 1.5, 1, 1), (1.5, None, 1, 1)]
    assert [b["share"] for b in s["holds_by_length"]] == [1.0, 0.0, 1.0, 1.0]
    assert summarize(FileScore())["holds_by_length"][0]["share"] is None


@pytest.mark.parametrize(
    "entry",
    [
        {"audio": "a.wav"},
        {"audio": "a.wav", "events": [{"type": "shift"}]},
        {"audio": "a.wav", "events": [{"type": "shift", "t": math.nan}]},
        {"audio": "a.wav", "events": [{"type": "hold", "start": 3.0, "end": 2.0}]},
        {"audio": "a.wav", "events": ["shift"]},
    ],
)
def test_bad_manifest_entries(entry: dict) -> None:
    with pytest.raises(InvalidArgumentError):
        labels_from_manifest(entry)


def test_turn_starts_from_meta_turns() -> None:
    entry = {
        "audio": "a.wav",
        "events": [{"type": "shift", "t": 4.0}, {"type": "shift", "t": 12.0}],
        "meta": {"turns": [[0.5, 4.0], [9.0, 12.0]], "segments": [[1.0, 4.0, "x", "final"]]},
    }
    labels = labels_from_manifest(entry)
    assert labels.turn_starts == (0.5, 9.0)  # turns win over segments
    sc = score_file(commits(0.4, 3.0, 8.0, 10.0), labels)
    assert (sc.spurious, sc.interruptions) == (2, 2)


# --------------------------------------------------------------------------- duplex: barge-in vs backchannel
def barges(*ts: float) -> list[Decision]:
    return [Decision("bargein", t) for t in ts]


@pytest.mark.parametrize(
    ("b", "detected"),
    [(20.0, True), (20.0 - 1e-6, False), (21.0, True), (21.0 + 1e-6, False), (20.4, True)],
)
def test_bargein_window_boundaries(b: float, detected: bool) -> None:
    sc = score_file(barges(b), FileLabels(shifts=(), bargeins=(20.0,)))
    assert sc.bargeins == 1 and sc.bargein_decisions == 1
    assert sc.bargein_detected == int(detected)
    if detected:
        assert sc.bargein_latencies == [pytest.approx(b - 20.0)]
        assert sc.false_bargeins_other == 0
    else:
        assert sc.bargein_latencies == []
        assert sc.false_bargeins_other == 1  # outside the window: a false barge-in
    assert sc.false_bargeins_backchannel == 0


def test_bargein_first_decision_in_window_sets_latency_extra_ones_not_false() -> None:
    sc = score_file(barges(20.9, 20.2, 20.05), FileLabels(shifts=(), bargeins=(20.0,)))
    assert (sc.bargein_detected, sc.bargein_decisions) == (1, 3)
    assert sc.bargein_latencies == [pytest.approx(0.05)]  # the earliest, whatever the input order
    assert sc.false_bargeins_other == sc.false_bargeins_backchannel == 0


def test_bargein_decision_before_the_barge_in_is_false_even_if_one_follows() -> None:
    sc = score_file(barges(19.5, 20.3), FileLabels(shifts=(), bargeins=(20.0,)))
    assert sc.bargein_detected == 1 and sc.bargein_latencies == [pytest.approx(0.3)]
    assert sc.false_bargeins_other == 1


def test_one_decision_detects_overlapping_barge_ins() -> None:
    sc = score_file(barges(20.7), FileLabels(shifts=(), bargeins=(20.0, 20.5)))
    assert sc.bargein_detected == 2
    assert sorted(sc.bargein_latencies) == [pytest.approx(0.2), pytest.approx(0.7)]


@pytest.mark.parametrize(
    ("b", "kind"),
    [
        (5.0, "backchannel"),  # at the backchannel's start
        (5.0 - 1e-6, "other"),
        (5.2, "backchannel"),
        (5.6, "backchannel"),  # end + 0.3
        (5.6 + 1e-6, "other"),
        (9.0, "other"),
    ],
)
def test_false_bargein_backchannel_vs_other(b: float, kind: str) -> None:
    labels = FileLabels(shifts=(), bargeins=(20.0,), backchannels=((5.0, 5.3),))
    sc = score_file(barges(b), labels)
    assert sc.bargein_detected == 0 and sc.backchannels == 1
    assert sc.false_bargeins_backchannel == int(kind == "backchannel")
    assert sc.false_bargeins_other == int(kind == "other")
    assert sc.backchannels_triggered == int(kind == "backchannel")


def test_backchannel_triggered_once_for_several_decisions() -> None:
    labels = FileLabels(shifts=(), backchannels=((5.0, 5.3), (8.0, 8.4), (12.0, 12.2)))
    sc = score_file(barges(5.1, 5.2, 5.5, 12.3, 15.0), labels)
    assert sc.false_bargeins_backchannel == 4 and sc.false_bargeins_other == 1
    assert (sc.backchannels_triggered, sc.backchannels) == (2, 3)
    s = summarize(sc)
    assert s["backchannel_trigger_share"] == pytest.approx(2 / 3)
    assert s["false_bargeins"] == 5


def test_decision_in_barge_in_window_is_not_blamed_on_a_backchannel() -> None:
    # a backchannel just before a real barge-in: a decision in both spans is a detection
    labels = FileLabels(shifts=(), bargeins=(10.0,), backchannels=((9.5, 9.8),))
    sc = score_file(barges(10.05), labels)
    assert sc.bargein_detected == 1
    assert (sc.false_bargeins_backchannel, sc.backchannels_triggered, sc.false_bargeins_other) == (0, 0, 0)


def test_only_bargein_decisions_count_and_commits_are_unaffected() -> None:
    labels = FileLabels(shifts=(10.0,), bargeins=(20.0,), backchannels=((5.0, 5.3),))
    decs = [Decision("commit", 20.1), Decision("backchannel", 5.1), Decision("speculate", 20.2)]
    sc = score_file(decs + commits(10.2), labels)
    assert sc.bargein_decisions == 0 and sc.bargein_detected == 0 and sc.false_bargeins_backchannel == 0
    alone = score_file(commits(10.2, 20.1), FileLabels(shifts=(10.0,)))
    with_barges = score_file(commits(10.2, 20.1) + barges(20.1, 5.1), labels)
    assert (with_barges.correct, with_barges.spurious, with_barges.latencies) == (
        alone.correct, alone.spurious, alone.latencies,
    )


def test_bargein_summary_latency_150ms_share_and_persona_rates() -> None:
    # four barge-ins: latencies 0.15 (on target; 10.15 - 10.0 is a hair above 0.15 in floats), 0.05, 0.16
    # (just late), and one missed
    labels = FileLabels(
        shifts=(),
        bargeins=(10.0, 20.0, 30.0, 40.0),
        backchannels=((50.0, 50.3),),
        persona=((0.0, 45.0), (45.0, 60.0), (100.0, 160.0)),  # 2 min of persona speech
    )
    sc = score_file(barges(10.15, 20.05, 30.16, 50.1, 70.0, 80.0), labels)
    s = summarize(sc)
    assert (s["bargeins"], s["bargein_detected"], s["bargein_decisions"]) == (4, 3, 6)
    assert s["bargein_recall"] == pytest.approx(0.75)
    assert s["bargein_latency_median_ms"] == pytest.approx(150.0)
    assert s["bargein_latency_p90_ms"] == pytest.approx(158.0)  # 150 + 0.8 * (160 - 150)
    assert s["bargein_detected_150ms"] == 2
    assert s["bargein_within_150ms_share"] == pytest.approx(0.5)  # of all barge-ins, not of detected
    assert s["persona_speaking_min"] == pytest.approx(2.0)
    assert (s["false_bargeins_backchannel"], s["false_bargeins_other"]) == (1, 2)
    assert s["false_bargeins_per_persona_min"] == pytest.approx(1.5)
    assert s["false_bargeins_backchannel_per_persona_min"] == pytest.approx(0.5)
    assert s["false_bargeins_other_per_persona_min"] == pytest.approx(1.0)


def test_bargein_summary_without_decisions_or_events() -> None:
    s = summarize(score_file(commits(10.2), FileLabels(shifts=(10.0,), bargeins=(20.0,), backchannels=((5, 6),))))
    assert s["bargein_recall"] == 0.0 and s["bargein_within_150ms_share"] == 0.0  # silence baselines: recall 0
    assert s["bargein_latency_median_ms"] is None and s["false_bargeins"] == 0
    assert s["backchannel_trigger_share"] == 0.0
    assert s["false_bargeins_per_persona_min"] is None  # no persona intervals
    s = summarize(score_file(barges(3.0), FileLabels(shifts=())))
    assert s["bargein_recall"] is None and s["backchannel_trigger_share"] is None
    assert s["false_bargeins_other"] == 1


def test_bargein_counts_sum_over_files() -> None:
    total = FileScore()
    total += score_file(barges(1.1), FileLabels(shifts=(), bargeins=(1.0,), persona=((0.0, 30.0),)))
    total += score_file(
        barges(2.5, 7.1), FileLabels(shifts=(), bargeins=(2.0, 4.0), backchannels=((7.0, 7.2),), persona=((0, 30),))
    )
    assert (total.bargeins, total.bargein_detected, total.bargein_decisions) == (3, 2, 3)
    assert total.bargein_latencies == [pytest.approx(0.1), pytest.approx(0.5)]
    assert (total.false_bargeins_backchannel, total.backchannels_triggered, total.backchannels) == (1, 1, 1)
    assert summarize(total)["false_bargeins_per_persona_min"] == pytest.approx(1.0)


def test_duplex_labels_from_manifest() -> None:
    entry = {
        "audio": "a.wav",
        "events": [
            {"type": "shift", "t": 4.0},
            {"type": "bargein", "t": 18.2},
            {"type": "backchannel", "start": 10.6, "end": 11.0},
            {"type": "bargein", "t": 9.0},
        ],
        "meta": {"duplex": True, "persona": [[9.9, 18.4], [5.0, 9.5], [9.0, 10.0]], "turns": [[1.0, 4.0]]},
    }
    labels = labels_from_manifest(entry)
    assert labels.bargeins == (9.0, 18.2)
    assert labels.backchannels == ((10.6, 11.0),)
    assert labels.persona == ((5.0, 9.5), (9.0, 10.0), (9.9, 18.4))
    assert labels.persona_s == pytest.approx(18.4 - 5.0)  # overlaps counted once
    assert labels_from_manifest({"audio": "b.wav", "events": [], "meta": {"persona": []}}).persona_s == 0.0


@pytest.mark.parametrize(
    "entry",
    [
        {"audio": "a.wav", "events": [{"type": "bargein", "t": math.inf}]},
        {"audio": "a.wav", "events": [{"type": "backchannel", "start": 3.0, "end": 2.0}]},
        {"audio": "a.wav", "events": [{"type": "bargein", "t": -1.0}]},
    ],
)
def test_bad_duplex_manifest_entries(entry: dict) -> None:
    with pytest.raises(InvalidArgumentError):
        labels_from_manifest(entry)


@pytest.mark.parametrize(
    ("entry", "ignored", "why"),
    [
        # duplex events in another corpus's shape: read by no metric, and counted
        ({"audio": "a.wav", "events": [{"type": "bargein"}]}, ["bargein (no t)"], None),
        ({"audio": "a.wav", "events": [{"type": "backchannel", "start": 3.0}]}, ["backchannel (no start/end)"], None),
        ({"audio": "a.wav", "events": [{"type": "backchannel", "t": 20.0}]}, ["backchannel (no start/end)"], None),
        # a meta Cadence cannot read: ignored (the spec's labels are the events), and the reason kept
        ({"audio": "a.wav", "events": [], "meta": {"persona": [[3.0, 2.0]]}}, [], "ends before it starts"),
        ({"audio": "a.wav", "events": [], "meta": {"persona": [[3.0]]}}, [], "bad interval"),
        ({"audio": "a.wav", "events": [], "meta": {"persona": "bob"}}, [], "meta.persona must be a list"),
        ({"audio": "a.wav", "events": [], "meta": {"persona": [[0.0, "x"]]}}, [], "persona end must be a finite"),
        ({"audio": "a.wav", "events": [{"type": "shift", "t": 2.0}], "meta": {"turns": [["user", 1.0]]}}, [],
         "turn start must be a finite"),
        ({"audio": "a.wav", "events": [], "meta": "recorded in a kitchen"}, [], "meta is a str"),
    ],
)
def test_labels_in_another_corpus_s_shape_are_ignored_and_reported(entry: dict, ignored: list[str],
                                                                   why: str | None) -> None:
    from cadence.floor.scoring import ignored_event_types, meta_problem

    labels = labels_from_manifest(entry)
    assert (labels.bargeins, labels.backchannels, labels.persona) == ((), (), ())
    assert ignored_event_types(entry) == ignored
    problem = meta_problem(entry)
    assert (problem is None) if why is None else (why in str(problem))
    if "meta" in entry:  # read as if it had none
        assert labels == labels_from_manifest({k: v for k, v in entry.items() if k != "meta"})


def test_unsorted_bargeins_rejected() -> None:
    with pytest.raises(InvalidArgumentError):
        FileLabels(shifts=(), bargeins=(2.0, 1.0))


def test_turn_starts_must_match_shifts() -> None:
    with pytest.raises(InvalidArgumentError, match="one entry per shift"):
        FileLabels(shifts=(1.0, 2.0), turn_starts=(0.5,))


def test_sum_covers_every_field() -> None:
    from dataclasses import fields

    a, b = FileScore(), FileScore()
    for i, f in enumerate(fields(FileScore)):
        setattr(b, f.name, [0.5, 0.25] if str(f.type).startswith("list") else i + 1)
    a += b
    a += b
    for i, f in enumerate(fields(FileScore)):
        want = [0.5, 0.25] * 2 if isinstance(getattr(b, f.name), list) else 2 * (i + 1)
        assert getattr(a, f.name) == want, f.name


# --------------------------------------------------------------------------- two-stage barge-in: pause / resume
def test_stop_is_the_first_pause_or_bargein_in_the_window() -> None:
    labels = FileLabels(shifts=(), bargeins=(20.0, 40.0))
    decs = [Decision("pause", 20.06), Decision("bargein", 20.3), Decision("bargein", 40.2)]
    sc = score_file(decs, labels)
    assert sc.stop_latencies == [pytest.approx(0.06), pytest.approx(0.2)]
    assert sc.bargein_latencies == [pytest.approx(0.3), pytest.approx(0.2)]  # confirmation unchanged
    assert sc.false_pauses == 0
    s = summarize(sc)
    assert s["stop_within_150ms_share"] == pytest.approx(0.5)
    assert s["stop_latency_median_ms"] == pytest.approx(130.0)


def test_late_stops_after_a_yield_are_counted_apart() -> None:
    """A barge-in not stopped in time in a persona utterance the policy had already yielded (an
    earlier `bargein` in it): the recorded persona plays on, a live one would be silent."""
    labels = FileLabels(shifts=(), bargeins=(12.0, 20.0, 31.0, 45.0),
                        persona=((10.0, 13.0), (18.0, 21.0), (30.0, 33.0), (44.0, 46.0)))
    decs = [Decision("pause", 10.5), Decision("bargein", 11.0),  # a backchannel taken for a barge-in
            Decision("bargein", 12.6),  # the real one, 600 ms late: after a yield
            Decision("bargein", 20.4),  # late, no earlier yield in this utterance
            Decision("bargein", 30.5), Decision("pause", 31.05),  # yielded, but stopped in time
            Decision("bargein", 43.0)]  # before this utterance began: not a yield of it
    sc = score_file(decs, labels)
    assert sc.stops_late_after_yield == 1
    assert summarize(sc)["stops_late_after_yield"] == 1
    assert sc.stop_latencies == [pytest.approx(0.6), pytest.approx(0.4), pytest.approx(0.05)]
    # the same late barge-in with no persona spans labelled: no utterance to have yielded
    assert score_file(decs, FileLabels(shifts=(), bargeins=labels.bargeins)).stops_late_after_yield == 0


def test_false_pause_durations_read_the_next_resume_or_bargein() -> None:
    """Each false pause lasts to the first resume or bargein after it, read in one backward
    pass (a scan per pause was quadratic); random decisions against the plain definition."""
    rng = np.random.default_rng(3)
    labels = FileLabels(shifts=(), bargeins=(500.0,))
    for _ in range(20):
        ts = np.sort(rng.uniform(0.0, 100.0, 60))
        decs = [Decision(str(rng.choice(["pause", "resume", "bargein", "commit"])), float(t)) for t in ts]
        want = []
        for i, d in enumerate(decs):
            if d.kind == "pause":
                end = next((e.t for e in decs[i + 1:] if e.kind in ("resume", "bargein")), None)
                if end is not None:
                    want.append(end - d.t)
        assert score_file(decs, labels).false_pause_durations == want


def test_false_pause_duration_and_backchannel_blame() -> None:
    labels = FileLabels(shifts=(), bargeins=(30.0,), backchannels=((5.0, 5.3), (8.0, 8.2)))
    decs = [
        Decision("pause", 5.05), Decision("resume", 5.5),  # a backchannel paused the persona 0.45 s
        Decision("pause", 12.0), Decision("bargein", 12.4),  # noise: paused, then a false barge-in
        Decision("pause", 30.05),  # the real barge-in: not a false pause
    ]
    sc = score_file(decs, labels)
    assert sc.false_pauses == 2 and sc.backchannels_paused == 1
    assert sc.false_pause_durations == [pytest.approx(0.45), pytest.approx(0.4)]
    assert sc.stop_latencies == [pytest.approx(0.05)]
    s = summarize(sc)
    assert s["backchannel_pause_share"] == pytest.approx(0.5)
    assert s["false_pause_mean_ms"] == pytest.approx(425.0)


def test_false_pauses_with_no_user_sound_near_them_are_counted_apart() -> None:
    """A pause near any labelled user sound (a turn segment, a barge-in's, a backchannel) is
    blamed on the user; one with none from 0.1 s before to 0.3 s after it was echo or noise.
    Without segments in the manifest that is unknown (None), not zero."""
    entry = {"events": [{"type": "bargein", "t": 30.0}, {"type": "backchannel", "start": 5.0, "end": 5.3}],
             "meta": {"persona": [[0.0, 60.0]],
                      "segments": [[1.0, 2.0, "hello", "final"], [30.0, 31.0, "wait", "bargein"]]}}
    labels = labels_from_manifest(entry)
    assert labels.user_speech == ((1.0, 2.0), (5.0, 5.3), (30.0, 31.0))
    decs = [Decision("pause", 2.2), Decision("resume", 2.4),  # just after the user's turn
            Decision("pause", 5.55), Decision("resume", 5.7),  # 0.25 s after a backchannel
            Decision("pause", 12.0), Decision("resume", 12.2),  # echo alone
            Decision("pause", 29.95), Decision("resume", 30.1)]  # just before the barge-in: not in its window
    sc = score_file(decs, labels)
    assert (sc.false_pauses, sc.false_pauses_no_user) == (4, 1)
    s = summarize(sc)
    assert s["false_pauses_no_user_per_persona_min"] == pytest.approx(1.0)
    assert s["false_pauses_per_persona_min"] == pytest.approx(4.0)
    del entry["meta"]["segments"]
    unknown = labels_from_manifest(entry)
    assert unknown.user_speech is None
    assert summarize(score_file(decs, unknown))["false_pauses_no_user_per_persona_min"] is None


def test_policies_without_a_pause_stage_stop_at_their_bargein() -> None:
    sc = score_file(barges(20.1), FileLabels(shifts=(), bargeins=(20.0,)))
    assert sc.stop_latencies == [pytest.approx(0.1)] and sc.false_pauses == 0
    assert summarize(FileScore())["stop_within_150ms_share"] is None


def test_draft_ready_share_and_lead() -> None:
    labels = FileLabels(shifts=(5.0, 10.0, 15.0))
    decs = [
        Decision("speculate", 4.7), Decision("speculate", 4.9), Decision("commit", 5.2),  # lead 0.5
        Decision("speculate", 9.0), Decision("retract", 9.3), Decision("commit", 10.3),  # no draft
        Decision("commit", 15.1),  # no speculation at all
    ]
    sc = score_file(decs, labels)
    assert sc.commits_with_draft == 1 and sc.draft_leads == [pytest.approx(0.5)]
    s = summarize(sc)
    assert s["draft_ready_share"] == pytest.approx(1 / 3)
    assert s["draft_lead_median_ms"] == pytest.approx(500.0)
