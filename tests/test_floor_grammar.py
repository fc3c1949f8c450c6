"""The compositional training grammar of the floor corpus (``corpus/grammar.py``)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cadence.floor.corpus import grammar, plan, text

_FUNCTION = text.FUNCTION_WORDS


def test_no_content_word_of_the_test_pool() -> None:
    shared = grammar.vocabulary() & text.pool_words("test")
    assert shared <= _FUNCTION, sorted(shared - _FUNCTION)


def test_selection_pool_words_are_its_own() -> None:
    # content words of the selection pool appear in no training pool and not in the test pool
    mine = text.pool_words("select")
    for name, other in (("train", text.pool_words("train")), ("test", text.pool_words("test")),
                        ("grammar", grammar.vocabulary())):
        shared = mine & other - _FUNCTION - {"oh", "didn't", "i'm"}
        assert not shared, (name, sorted(shared))


def test_select_text_only_for_dev_splits(tmp_path) -> None:
    from cadence.errors import InvalidArgumentError
    from cadence.floor.corpus import generate

    with pytest.raises(InvalidArgumentError, match="--text select"):
        generate(str(tmp_path), n=4, seed=1, jobs=1, duplex_fraction=0.0, splits=("train", "dev"), text="select")
    assert [s.pool for s in plan(20, 3, 0.0, text="select") if s.split == "dev"][0] == "select"
    assert {s.pool for s in plan(20, 3, 0.0, text="select") if s.split == "test"} == {"test"}


def test_incomplete_phrases_end_where_a_sentence_cannot() -> None:
    rng = np.random.default_rng(1)
    enders = {"the", "a", "my", "this", "some", "our", "to", "at", "from", "about", "with", "could", "might",
              "would", "will", "that", "if", "whether", "why", "other", "really", "very", "pretty", "second",
              "is", "was", "probably"} | set(grammar._SUB) | {"so", "and", "but"}
    last = [grammar.incomplete(rng).split()[-1] for _ in range(600)]
    # the cut is after a function word or a bare transitive verb / subject, never after an object
    assert sum(w in enders for w in last) / len(last) > 0.6
    assert len(set(last)) > 40


@pytest.mark.parametrize("seed", range(5))
def test_agreement_and_forms(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(300):
        s, form = grammar.final_sentence(rng)
        assert form in ("statement", "ynq", "whq", "exclaim") and s and "{" not in s
        assert not re.search(r"\b(he|she|my \w+) (have|need|want|don't) to\b", s), s
        assert not re.search(r"\b(I|we|they) (has|needs|wants|doesn't)\b", s), s


def test_grammar_pool_only_for_train_and_dev() -> None:
    specs = plan(20, 7, 0.0, text="grammar")
    assert {s.pool for s in specs if s.split != "test"} == {"grammar"}
    assert {s.pool for s in specs if s.split == "test"} == {"test"}
    assert {s.pool for s in plan(20, 7, 0.0) if s.split != "test"} == {"train"}  # default unchanged
