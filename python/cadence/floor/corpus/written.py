"""Written English sentences as a training text source for the floor corpus (``--text written``).

Template and grammar pools teach the model a few hundred sentence shapes; a held-out set
spoken by other people will use phrasing none of them has. This pool takes sentences people
wrote: the quotations of Debian's ``fortunes`` package (installed by ``scripts/setup.sh``),
filtered to plain single sentences of 4–16 words. Turn material is cut from them:

* a final phrase is a whole sentence;
* a non-final phrase is the start of one, cut after a function word ("If the facts don't fit
  the") — syntactically incomplete — or before a conjunction or at a comma, where the start
  reads as a complete clause ("If the facts don't fit the theory,");
* a completion is the tail of another sentence after such a cut.

Sentences that contain a content word of the test or selection template pools are dropped,
and the one-in-five hash share that :func:`text.in_pool` reserves for tests is the pool of the
test split only (``share="test"``): a test split of written sentences no model trained on,
while the template test splits keep vocabulary no model trained on.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np

from cadence.errors import InvalidArgumentError

from . import text

__all__ = ["FORTUNES_DIR", "sentences", "final_sentence", "incomplete", "clause", "completion"]

FORTUNES_DIR = Path("/usr/share/games/fortunes")
# collections of plain prose; left out: code, verse, ASCII art, dialogue-heavy or offensive ones
_FILES = ("cookie", "education", "food", "fortunes", "humorists", "kids", "law", "literature", "love",
          "magic", "medicine", "miscellaneous", "news", "people", "pets", "platitudes", "politics",
          "science", "sports", "tao", "wisdom", "work")
_OK = re.compile(r"^[A-Z][A-Za-z ,']+[a-z][.?!]$")
_BANNED = re.compile(r"\b(god|sex\w*|sexy|hell|damn|kill\w*|drunk|whiskey|beer|drug\w*)\b", re.I)
# cut after one of these: the sentence cannot end there
_ENDERS = frozenset(
    "a an the my our your his her their its this that these some any no every to of in on at for from "
    "with by about into than as is are was were be been am has have had do does did can could should "
    "would will might must and but or so because if when while although unless until not very".split()
)
_CONJ = frozenset("and but or so because if when while although unless until than".split())


@functools.cache
def sentences(share: str = "train") -> tuple[str, ...]:
    """Every usable sentence of a share ("train" or "test"), in a stable order; raises if the
    package is missing."""
    if share not in ("train", "test"):
        raise InvalidArgumentError(f"unknown share {share!r}: train or test")
    if not FORTUNES_DIR.is_dir():
        raise InvalidArgumentError(
            f"--text written needs Debian's fortunes package ({FORTUNES_DIR} is missing): "
            "run scripts/setup.sh, or apt-get install fortunes"
        )
    held_out = (text.pool_words("test") | text.pool_words("select")) - text.FUNCTION_WORDS
    out: dict[str, None] = {}
    for name in _FILES:
        path = FORTUNES_DIR / name
        if not path.is_file():
            continue
        for entry in path.read_text(encoding="utf-8", errors="replace").split("\n%\n"):
            lines = [ln.strip() for ln in entry.splitlines() if not ln.strip().startswith("--")]
            for s in re.split(r"(?<=[.?!])\s+", " ".join(lines)):
                s = re.sub(r"\s+", " ", s).strip()
                if not (4 <= len(s.split()) <= 16 and _OK.match(s)) or _BANNED.search(s):
                    continue
                if re.search(r"\b[A-Z]{2,}\b", s) or held_out & text.words_of(s):
                    continue
                if text.in_pool(s, share):
                    out[s] = None
    if len(out) < (500 if share == "train" else 100):
        raise InvalidArgumentError(f"only {len(out)} usable sentences under {FORTUNES_DIR}")
    return tuple(out)


def _pick(rng: np.random.Generator, share: str) -> str:
    pool = sentences(share)
    return pool[int(rng.integers(len(pool)))]


def final_sentence(rng: np.random.Generator, share: str = "train") -> tuple[str, str]:
    """(sentence with its own final punctuation, form)."""
    s = _pick(rng, share)
    return s, {"?": "ynq", "!": "exclaim"}.get(s[-1], "statement")


def _cuts(words: list[str], incomplete: bool) -> list[int]:
    """Word counts k (2 ≤ k ≤ n − 2) to keep: after a function word, or before a conjunction
    / after a comma (a complete-sounding start)."""
    low = [w.strip(",").lower() for w in words]
    n = len(words)
    if incomplete:
        return [k for k in range(2, n - 1) if low[k - 1] in _ENDERS]
    return [k for k in range(2, n - 1) if words[k - 1].endswith(",") or low[k] in _CONJ]


def _cut(rng: np.random.Generator, incomplete: bool, share: str) -> tuple[str, str]:
    for _ in range(64):
        words = _pick(rng, share).split()
        ks = _cuts(words, incomplete)
        if ks:
            k = ks[int(rng.integers(len(ks)))]
            return " ".join(words[:k]).rstrip(","), " ".join(words[k:])
    raise InvalidArgumentError("the written pool has no sentence to cut")


def incomplete(rng: np.random.Generator, share: str = "train") -> str:
    """The start of a sentence, cut after a word it cannot end on (no punctuation)."""
    return _cut(rng, True, share)[0]


def clause(rng: np.random.Generator, share: str = "train") -> str:
    """The start of a sentence up to a comma or a conjunction (no punctuation)."""
    return _cut(rng, False, share)[0]


def completion(rng: np.random.Generator, share: str = "train") -> str:
    """The tail of a sentence after a cut (without its final punctuation)."""
    tail = _cut(rng, bool(rng.random() < 0.5), share)[1]
    return tail.rstrip(".?!")
