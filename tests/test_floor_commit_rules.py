"""Which rule took the floor: the policy names each commit's rule, the scoring says what each
commit was, and the bench and ``cadence score floor`` count them per rule."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cadence.errors import InvalidArgumentError
from cadence.floor import score
from cadence.floor.commit_rules import rule_section, rule_summary, tally
from cadence.floor.model import OUTPUTS, default_weights_path
from cadence.floor.policy import CadencePolicy
from cadence.floor.protocol import COMMIT_RULES, Decision
from cadence.floor.scoring import FileLabels, labels_from_manifest, score_file

from floor_frames import user_turn, user_turns

needs_weights = pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")
# a step bar (P(keep) < 0.16 after 50 ms), no early path, fallback 1.9 s, timeout 3 s
STEP = {"ramp": 0.0, "fallback_s": 1.9, "max_silence_s": 3.0, "min_silence_s": 0.05,
        "commit_keep": 0.16, "early_keep": 0.0}


def _first_commit(policy: CadencePolicy, keep: float, speech: int = 60, silence: int = 400) -> tuple[float, str]:
    """(silence before the first commit in s, its rule) for one turn with P(keep) = ``keep`` in its pause."""
    x, probs = user_turn(speech, silence, keep)
    commits = [d.t for d in policy.decide(x, probs) if d.kind == "commit"]
    assert commits and len(policy.commit_rules) == len(commits)
    return round(commits[0] - speech * 0.01, 2), policy.commit_rules[0]


@needs_weights
def test_each_rule_names_the_commits_it_makes() -> None:
    assert _first_commit(CadencePolicy(0.9, **STEP), 0.05) == (0.05, "wait")
    # with the ramp on, a P(keep) under the patience bar is still the wait's (it asks no more silence)
    assert _first_commit(CadencePolicy(0.9, **{**STEP, "ramp": 1.0}), 0.05) == (0.05, "wait")
    # where the risen bar meets fallback_keep, at the fallback's frame, the commit is the fallback's,
    # also for a fallback_s that is no whole number of frames in floating point (0.59 / 0.01 < 59)
    for fallback_s in (1.9, 0.59, 1.51):
        t, rule = _first_commit(CadencePolicy(0.9, **{**STEP, "ramp": 1.0, "fallback_s": fallback_s}), 0.8999)
        assert (t, rule) == (pytest.approx(fallback_s, abs=0.011), "fallback"), fallback_s
    assert _first_commit(CadencePolicy(0.9, **STEP), 0.5) == (1.9, "fallback")
    assert _first_commit(CadencePolicy(0.9, **STEP), 0.95) == (3.0, "timeout")
    # the bar rising with the silence (ramp) crosses 0.5 at about 0.9 s
    ramped = {**STEP, "ramp": 1.0}
    t, rule = _first_commit(CadencePolicy(0.9, **ramped), 0.5)
    assert rule == "ramp" and t == pytest.approx(0.90, abs=0.02)
    # a confident end (P(keep) 0.1 under the early bar 0.2) after 150 ms, before the 0.5 s wait
    early = {**STEP, "min_silence_s": 0.5, "commit_keep": 0.55, "early_keep": 0.2, "early_silence_s": 0.15}
    assert _first_commit(CadencePolicy(0.9, **early), 0.1) == (0.15, "early")
    # the same P(keep) when the wait asks no more silence than the early path: both fire, the wait is named
    assert _first_commit(CadencePolicy(0.9, **{**early, "min_silence_s": 0.15}), 0.1) == (0.15, "wait")
    # the anticipating path: the end200 head predicted the end in the last word
    policy = CadencePolicy(0.9, **{**STEP, "commit_keep": 0.0, "min_silence_s": 0.5, "anticipate_end200": 0.6,
                                   "anticipate_silence_s": 0.04, "anticipate_keep": 0.3})
    x, probs = user_turn(60, 300, 0.2)
    probs[50:60, OUTPUTS.index("end200")] = 0.8
    assert [d.t for d in policy.decide(x, probs) if d.kind == "commit"] == [pytest.approx(0.64, abs=0.011)]
    assert list(policy.commit_rules) == ["anticipate"]
    assert set(COMMIT_RULES) == {"wait", "ramp", "early", "anticipate", "fallback", "timeout"}


@needs_weights
def test_rules_follow_the_commits_in_order_and_reset_forgets_them() -> None:
    policy = CadencePolicy(0.9, **STEP)
    x, probs = user_turns((60, 100, 0.05), (60, 250, 0.5), (60, 320, 0.95))
    commits = [d.t for d in policy.decide(x, probs) if d.kind == "commit"]
    assert len(commits) == 3 and list(policy.commit_rules) == ["wait", "fallback", "timeout"]
    policy.reset()
    assert list(policy.commit_rules) == []


def _labels() -> FileLabels:
    # a turn from 0 to 2.0 s, a hold 2.5–3.5 s inside the next turn, which ends at 5.0 s
    return labels_from_manifest({"audio": "a.wav", "events": [
        {"type": "shift", "t": 2.0}, {"type": "hold", "start": 2.5, "end": 3.5}, {"type": "shift", "t": 5.0}]})


def test_commit_outcomes_agree_with_the_score() -> None:
    labels = _labels()
    commits = [1.0, 2.05, 2.3, 3.0, 4.99, 5.2]
    decs = [Decision("commit", t) for t in reversed(commits)] + [Decision("speculate", 0.5)]
    sc = score_file(decs, labels)
    outcomes = sc.commit_outcomes
    # 1.0: inside the first turn; 2.05 answers it; 2.3: its window is taken (spurious); 3.0: in the
    # hold; 4.99 answers the second; 5.2: its window taken
    assert outcomes == ["in speech", "correct", "spurious", "in a hold", "correct", "spurious"]
    assert (sc.correct, sc.interruptions, sc.interruptions_in_speech, sc.spurious) == (2, 2, 1, 2)
    counts: dict[str, Counter[str]] = {}
    rules = ["early", "wait", "wait", "early", "fallback", "timeout"]
    assert tally(counts, rules, outcomes)
    assert not tally(counts, rules[:-1], outcomes)  # one rule short: not counted
    summary = rule_summary(counts, unmatched_files=1)
    by_rule = summary["commits_by_rule"]
    assert list(by_rule) == ["wait", "early", "fallback", "timeout"]  # COMMIT_RULES order
    assert by_rule["early"] == {"commits": 2, "correct": 0, "in a hold": 1, "in speech": 1, "spurious": 0}
    assert by_rule["wait"] == {"commits": 2, "correct": 1, "in a hold": 0, "in speech": 0, "spurious": 1}
    text = "\n".join(rule_section({"cadence@0.5": summary, "silence-500": {}}, ["cadence@0.5", "silence-500"]))
    assert "## Which rule took the floor" in text and "silence-500" not in text
    assert "| cadence@0.5 | early | 2 | 0 | 1 | 1 | 0 | 0.000 | 1.000 |" in text
    assert "not counted: cadence@0.5: 1" in text
    assert rule_section({"silence-500": {}}, ["silence-500"]) == []


def test_score_checks_and_counts_commit_rules(tmp_path: Path) -> None:
    for bad in ("wait", ["wait"], ["wait", ""], ["wait", 3]):
        doc = {"files": [{"audio": "a.wav", "commits": [1.0, 2.0], "commit_rules": bad}]}
        with pytest.raises(InvalidArgumentError, match="commit_rules"):
            score.parse_decisions(doc)
    events = [{"type": "shift", "t": 2.0}, {"type": "hold", "start": 2.5, "end": 3.5}, {"type": "shift", "t": 5.0}]
    for name in ("a.wav", "b.wav"):
        sf.write(tmp_path / name, np.zeros(16000 * 6, np.float32), 16000)
    (tmp_path / "manifest.jsonl").write_text("".join(json.dumps({"audio": n, "events": events}) + "\n"
                                                     for n in ("a.wav", "b.wav")))
    # rules given in the commits' order, the commits out of time order: paired before counting
    doc = {"files": [{"audio": "a.wav", "commits": [2.05, 1.0], "commit_rules": ["wait", "early"]},
                     {"audio": "b.wav", "commits": [3.0]}]}
    s = score.score_decisions(str(tmp_path), doc)["summary"]["external"]
    assert s["commits_by_rule"]["wait"]["correct"] == 1 and s["commits_by_rule"]["early"]["in speech"] == 1
    assert s["commit_rules_unmatched_files"] == 1  # b.wav names no rules: not counted
    assert sum(c["commits"] for c in s["commits_by_rule"].values()) == 2 and s["commits"] == 3
    # decisions without rules (another system's): no breakdown
    plain = score.score_decisions(str(tmp_path), {"files": [{"audio": n, "commits": [2.05]} for n in ("a.wav", "b.wav")]})
    assert "commits_by_rule" not in plain["summary"]["external"]
