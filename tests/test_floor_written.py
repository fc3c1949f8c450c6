"""The written-sentence text pool of the floor corpus (``corpus/written.py``, ``--text written``)."""

from __future__ import annotations

import numpy as np
import pytest

from cadence.errors import InvalidArgumentError
from cadence.floor.corpus import plan, text, written

pytestmark = pytest.mark.skipif(not written.FORTUNES_DIR.is_dir(), reason="Debian fortunes not installed")


def test_pool_is_large_and_keeps_test_and_selection_words_out() -> None:
    pool = written.sentences()
    assert len(pool) > 2000
    held_out = (text.pool_words("test") | text.pool_words("select")) - text.FUNCTION_WORDS
    for s in pool:
        assert not text.words_of(s) & held_out, s
        assert text.in_pool(s, "train") and not text.in_pool(s, "test"), s
        assert 4 <= len(s.split()) <= 16 and s[-1] in ".?!", s


def test_cuts_and_phrases() -> None:
    rng = np.random.default_rng(3)
    pool = written.sentences()
    for _ in range(300):
        cut = written.incomplete(rng)
        assert cut.split()[-1].lower() in written._ENDERS, cut
        assert any(s.startswith(cut) for s in pool), cut  # a real sentence's start
        assert cut[-1] not in ".?!,", cut
        c = written.clause(rng)
        assert any(s.startswith(c) and (s[len(c)] == "," or s[len(c) + 1:].split()[0].lower()
                                        in written._CONJ) for s in pool), c
    for _ in range(100):
        words, style = text.continuation_phrase(rng, "written")
        assert style in ("clause", "incomplete", "conj") and words[-1] not in ".?!" or words.endswith("..."), words
        final, form = text.final_phrase(rng, "written")
        assert final in pool and form in ("statement", "ynq", "exclaim")
        assert text.completion_phrase(rng, "written")[-1] in ".?"
        assert text.bargein_phrase(rng, "written")


def test_test_split_uses_the_held_out_share() -> None:
    specs = plan(20, 3, 0.0, text="written")
    assert {s.pool for s in specs if s.split in ("train", "dev")} == {"written"}
    assert {s.pool for s in specs if s.split == "test"} == {"written-test"}
    train, test = written.sentences("train"), written.sentences("test")
    assert len(test) > 400 and not set(train) & set(test)
    assert all(text.in_pool(s, "test") for s in test)
    rng = np.random.default_rng(5)
    for _ in range(50):
        assert text.final_phrase(rng, "written-test")[0] in test
        assert text.in_pool(text.short_answer(rng, "written-test"), "test")
        start = text.continuation_phrase(rng, "written-test")[0].rstrip(".,")
        for conj in sorted(text._CONJ, key=len, reverse=True):  # the "conj" style adds one
            start = start.removesuffix(" " + conj)
        assert any(s.startswith(start) for s in test), start


def test_missing_package_is_a_clear_error(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(written, "FORTUNES_DIR", tmp_path / "nowhere")
    written.sentences.cache_clear()
    try:
        with pytest.raises(InvalidArgumentError, match="apt-get install fortunes"):
            written.sentences()
        from cadence.floor.corpus import generate

        with pytest.raises(InvalidArgumentError, match="apt-get install fortunes"):
            generate(str(tmp_path / "c"), n=4, seed=1, jobs=1, duplex_fraction=0.0, text="written")
        assert not (tmp_path / "c").exists() or not any((tmp_path / "c").rglob("*.wav"))
    finally:
        monkeypatch.undo()
        written.sentences.cache_clear()
