"""Which rule took the floor: Cadence's commits counted by the rule that made each
(``CadencePolicy.commit_rules``) and by what each turned out to be (``FileScore.commit_outcomes``).

The bench reports these counts for every policy that names its rules, so a researcher can see
where interruptions come from: the patience wait and its veto, the bar the ramp raises
with the silence, the early path, the anticipating path, the fallback, or the last-resort timeout.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from cadence.floor.protocol import COMMIT_RULES
from cadence.floor.scoring import COMMIT_OUTCOMES

__all__ = ["tally", "rule_summary", "rule_section"]


def tally(counts: dict[str, Counter[str]], rules: Sequence[str], outcomes: Sequence[str]) -> bool:
    """Add one file's commits to ``counts`` (rule → outcome → count), given the rule and the
    outcome of each (``FileScore.commit_outcomes``, both in time order). False, and nothing
    added, when ``rules`` does not name every commit of the file."""
    if len(rules) != len(outcomes):
        return False
    for rule, outcome in zip(rules, outcomes):
        counts.setdefault(rule, Counter())[outcome] += 1
    return True


def rule_summary(counts: dict[str, Counter[str]], unmatched_files: int = 0) -> dict[str, Any]:
    """The JSON summary: per rule (in ``COMMIT_RULES`` order, any other after), its commits
    and their outcomes; rules that made no commit are left out."""
    order = [r for r in COMMIT_RULES if r in counts] + sorted(set(counts) - set(COMMIT_RULES))
    by_rule = {r: {"commits": sum(counts[r].values()), **{o: counts[r][o] for o in COMMIT_OUTCOMES}}
               for r in order}
    return {"commits_by_rule": by_rule, "commit_rules_unmatched_files": unmatched_files}


def rule_section(summary: dict[str, dict[str, Any]], labels: Sequence[str]) -> list[str]:
    """The markdown section: one row per policy and rule, for the policies that name rules."""
    named = [lb for lb in labels if "commits_by_rule" in summary[lb]]
    if not named:
        return []
    lines = ["| policy | rule | commits | correct | in a hold | in speech | spurious | precision | share of interruptions |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    skipped = []
    for lb in named:
        rules = summary[lb]["commits_by_rule"]
        interrupts = sum(c["in a hold"] + c["in speech"] for c in rules.values())
        for rule, c in rules.items():
            mine = c["in a hold"] + c["in speech"]
            share = f"{mine / interrupts:.3f}" if interrupts else "–"
            lines.append(f"| {lb} | {rule} | {c['commits']} | {c['correct']} | {c['in a hold']} | {c['in speech']} | "
                         f"{c['spurious']} | {c['correct'] / c['commits']:.3f} | {share} |")
        if summary[lb].get("commit_rules_unmatched_files"):
            skipped.append(f"{lb}: {summary[lb]['commit_rules_unmatched_files']}")
    rules_doc = ", ".join(f"`{r}`" for r in COMMIT_RULES)
    text = (f"The rule behind each commit ({rules_doc}: the patience wait and its veto, the veto under the "
            "bar the ramp raised with the silence, the early path, the anticipating path, the fallback, the "
            "last-resort timeout). Where several fire in one frame the commit is named for the one that asks "
            "the least silence (the ramp's: the silence so far). Correct = it answered a turn end (the "
            "first in its window); in a hold / in speech = an interruption; precision = correct / commits.")
    if skipped:
        text += " Files whose rules did not match their commits, not counted: " + "; ".join(skipped) + "."
    return ["", "## Which rule took the floor", "", text, "", *lines]
