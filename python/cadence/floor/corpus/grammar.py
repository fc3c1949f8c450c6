"""A small compositional English grammar for the training pool of the floor corpus.

The template pools in ``text.py`` are a few dozen sentence frames each; a model
trained on them learns to recognise those frames, and separates turn ends from
holds far worse on sentences it has not heard (a one-off diagnostic of the v3
model, 120 files each: hold-vs-shift AUC 0.87 with held-out *voices* speaking
training sentences, 0.76 with training voices speaking held-out sentences, 0.89
on dev). This grammar builds sentences from parts — subjects, verb
frames in several tenses and moods, objects with determiners and adjectives,
places, times, subordinate clauses — and cuts them at syntactically incomplete
points (after a determiner, a preposition, a modal, a complementiser, a
transitive verb), so what generalises is the *kind* of word a phrase ends on
and its prosody, not a memorised phrase.

Its vocabulary shares no content word with the test pool of ``text.py`` (a
test checks this), so test splits stay unseen. Used with
``cadence corpus floor --text grammar`` (train and dev splits only; the test
split always uses the held-out templates).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

Rng = np.random.Generator
T = TypeVar("T")


def _p(rng: Rng, items: Sequence[T]) -> T:
    return items[int(rng.integers(len(items)))]


def _branch(rng: Rng, *options: tuple[float, Callable[[], T]]) -> T:
    """One weighted choice: ``options`` are (upper bound, thunk) with increasing bounds,
    the last 1.0; one uniform draw picks the thunk, and only that thunk runs (and draws)."""
    r = rng.random()
    return next(make for bound, make in options if r < bound)()


# (base, past, -ing, participle) for verbs taking an object
_TRANS = [
    ("buy", "bought", "buying", "bought"), ("fix", "fixed", "fixing", "fixed"),
    ("return", "returned", "returning", "returned"), ("send", "sent", "sending", "sent"),
    ("finish", "finished", "finishing", "finished"), ("find", "found", "finding", "found"),
    ("order", "ordered", "ordering", "ordered"), ("clean", "cleaned", "cleaning", "cleaned"),
    ("sell", "sold", "selling", "sold"), ("lose", "lost", "losing", "lost"),
    ("borrow", "borrowed", "borrowing", "borrowed"), ("check", "checked", "checking", "checked"),
    ("move", "moved", "moving", "moved"), ("open", "opened", "opening", "opened"),
    ("bring", "brought", "bringing", "brought"), ("carry", "carried", "carrying", "carried"),
    ("pay for", "paid for", "paying for", "paid for"), ("tidy up", "tidied up", "tidying up", "tidied up"),
    ("sign", "signed", "signing", "signed"), ("wash", "washed", "washing", "washed"),
    ("book", "booked", "booking", "booked"), ("share", "shared", "sharing", "shared"),
    ("pick up", "picked up", "picking up", "picked up"), ("set up", "set up", "setting up", "set up"),
    ("throw away", "threw away", "throwing away", "thrown away"), ("hide", "hid", "hiding", "hidden"),
    ("break", "broke", "breaking", "broken"), ("forget", "forgot", "forgetting", "forgotten"),
]
# verbs taking a person
_SOCIAL = [
    ("call", "called", "calling", "called"), ("hug", "hugged", "hugging", "hugged"),
    ("see", "saw", "seeing", "seen"), ("invite", "invited", "inviting", "invited"),
    ("help", "helped", "helping", "helped"), ("visit", "visited", "visiting", "visited"),
    ("email", "emailed", "emailing", "emailed"), ("text", "texted", "texting", "texted"),
    ("wait for", "waited for", "waiting for", "waited for"), ("thank", "thanked", "thanking", "thanked"),
]
# verbs of motion taking a place (the preposition is part of the verb)
_MOTION = [
    ("go to", "went to", "going to", "gone to"), ("drive to", "drove to", "driving to", "driven to"),
    ("walk to", "walked to", "walking to", "walked to"), ("run over to", "ran over to", "running over to", "run over to"),
    ("fly to", "flew to", "flying to", "flown to"), ("come back from", "came back from", "coming back from", "come back from"),
    ("stop at", "stopped at", "stopping at", "stopped at"), ("move to", "moved to", "moving to", "moved to"),
]
_SUBJ_PRON = ["I", "we", "you", "she", "he", "they"]
_SUBJ_NP = [
    "my brother", "my sister", "the kids", "my manager", "our neighbour", "my friend Sam", "the team",
    "my dad", "my mum", "my uncle", "the driver", "our teacher", "the waiter", "my partner",
    "the whole family", "someone at work", "the client", "the new guy", "my son", "my daughter",
    "the students", "our lawyer", "my boss", "the landlord", "everyone", "nobody",
]
_PEOPLE = [
    "Anna", "Mike", "Chris", "Maria", "Tom", "Lisa", "James", "Kate", "Ben", "Olivia", "Rachel",
    "Paul", "Emma", "Jack", "Nina", "the doctor", "the teacher", "the plumber", "my landlord",
    "the manager", "my neighbour", "the electrician", "her parents", "the kids",
]
_DET = ["the", "a", "my", "our", "this", "that", "his", "her", "their", "your", "the other"]
_ADJ_N = ["old", "new", "big", "small", "red", "broken", "second", "whole", "blue",
          "heavy", "green", "white", "expensive", "wooden", "tiny"]
_NOUNS = [
    "report", "phone", "ticket", "car", "laptop", "invoice", "present", "key", "package", "bike",
    "jacket", "table", "chair", "lamp", "bill", "form", "letter", "email", "map", "charger", "bag",
    "wallet", "camera", "suitcase", "guitar", "plant", "oven", "fridge", "window", "door", "fence",
    "roof", "receipt", "list", "password", "order", "menu", "book", "photo", "cake", "box", "dress",
    "watch", "mattress", "kettle", "umbrella", "ladder", "blanket",
]
_PLURAL_NOUNS = ["tickets", "keys", "groceries", "photos", "shoes", "plates", "boxes", "books",
                 "chairs", "documents", "flowers", "batteries", "cables", "glasses"]
_PLACES = [
    "the store", "the office", "the station", "the park", "the gym", "the library", "the airport",
    "the market", "the bank", "the post office", "the beach", "the cinema", "the school",
    "the restaurant", "the hotel", "the lake", "the mall", "the clinic", "the corner store",
    "the stadium", "the car park", "the café", "the bridge", "the farm", "work", "home",
    "my parents' place", "the dentist", "downtown", "the city centre", "the village",
]
_TIMES = [
    "yesterday", "last week", "this morning", "on Monday", "on Tuesday", "on Wednesday",
    "on Thursday", "on Saturday", "on Sunday", "tonight", "next month",
    "in the afternoon", "after lunch", "over the weekend", "tomorrow", "at eight", "at nine",
    "at half past six", "later today", "in the evening", "three days ago",
    "last night", "right now", "this week", "every morning", "since March",
]
_ADJ_P = [
    "great", "strange", "really busy", "a bit expensive", "too late", "pretty quiet", "much better",
    "kind of confusing", "really nice", "a disaster", "broken", "closed", "empty", "full", "ready",
    "late", "perfect", "awful", "boring", "exciting", "cold", "warm", "easy", "hard", "weird",
    "lovely", "noisy", "complicated", "amazing", "finished", "gone",
]
_TOPICS = ["the budget", "the trip", "the schedule", "the move", "the wedding", "the project",
           "the interview", "the renovation", "my account", "the delivery", "the party",
           "the exam", "the weather", "the rent", "the contract", "the match"]
_MODALS = ["can", "could", "should", "will", "would", "might", "must"]
_SAY = ["said", "told me", "thinks", "mentioned", "heard", "promised", "explained", "noticed"]
_SUB = ["because", "when", "after", "before", "while", "although", "since", "until", "if"]
_CONJ = ["and", "so", "but", "because", "or", "then", "and then", "and also", "but then", "so then"]
_OPENERS = ["", "", "", "", "well, ", "so ", "honestly, ", "anyway, ", "actually, ", "and ", "but ",
            "you know, ", "basically, ", "I mean, "]
_ITEMS = ["eggs", "milk", "bread", "apples", "rice", "coffee", "cheese", "tomatoes", "butter",
          "onions", "pasta", "soap", "batteries", "paper towels", "potatoes", "juice", "cereal",
          "oranges", "chicken", "salt", "toothpaste", "cookies"]
_BARGE = ["wait", "sorry, can I say something", "no no, that's not what I meant", "hold on",
          "actually", "excuse me", "hang on a second", "stop, stop", "sorry to interrupt",
          "no, listen", "wait a minute", "sorry, but", "okay but", "no, hold on", "can I just ask",
          "hang on", "sorry, sorry", "wait, what"]


def _np(rng: Rng) -> str:
    """An object noun phrase."""
    if rng.random() < 0.2:
        return _p(rng, ["some", "the", "my", "those", "these", "our"]) + " " + _p(rng, _PLURAL_NOUNS)
    det = _p(rng, _DET)
    adj = _p(rng, _ADJ_N) + " " if rng.random() < 0.35 else ""
    noun = _p(rng, _NOUNS)
    if det == "a" and (adj or noun)[0] in "aeiou":
        det = "an"
    return f"{det} {adj}{noun}"


def _subj(rng: Rng) -> str:
    return _p(rng, _SUBJ_PRON) if rng.random() < 0.55 else _p(rng, _SUBJ_NP)


_PLURAL_SUBJ = frozenset(("we", "you", "they", "the kids", "the students"))


def _third(subj: str) -> bool:
    """Third person singular ("she", "my brother", "everyone")."""
    return subj != "I" and subj not in _PLURAL_SUBJ


def _be(subj: str, past: bool) -> str:
    if subj == "I":
        return "was" if past else "am"
    if past:
        return "was" if _third(subj) else "were"
    return "is" if _third(subj) else "are"


def _verb(rng: Rng) -> tuple[tuple[str, str, str, str], str]:
    """A verb and its complement."""
    return _branch(
        rng,
        (0.55, lambda: (_p(rng, _TRANS), _np(rng))),
        (0.8, lambda: (_p(rng, _SOCIAL), _p(rng, _PEOPLE))),
        (1.0, lambda: (_p(rng, _MOTION), _p(rng, _PLACES))),
    )


def _adjunct(rng: Rng) -> str:
    return _branch(
        rng,
        (0.3, lambda: " " + _p(rng, _TIMES)),
        (0.42, lambda: " at " + _p(rng, _PLACES)),
        (0.5, lambda: " " + _p(rng, _TIMES) + " " + _p(rng, ["again", "anyway", "too", "with Anna", "by myself"])),
        (1.0, lambda: ""),
    )


def clause(rng: Rng) -> str:
    """A complete declarative clause in one of several tenses and moods."""
    s = _subj(rng)
    (base, past, ing, part), comp = _verb(rng)
    third = _third(s)
    vp = _branch(
        rng,
        (0.3, lambda: f"{past} {comp}"),
        (0.42, lambda: f"{_be(s, False)} {ing} {comp}"),
        (0.52, lambda: f"{_be(s, True)} {ing} {comp}"),
        (0.62, lambda: f"{_p(rng, _MODALS)} {base} {comp}"),
        (0.7, lambda: f"{'has' if third else 'have'} {part} {comp}"),
        (0.78, lambda: f"{'needs' if third else 'need'} to {base} {comp}"),
        (0.85, lambda: f"{_be(s, False)} going to {base} {comp}"),
        (0.92, lambda: f"{'doesn' if third else 'don'}'t want to {base} {comp}"),
        (1.0, lambda: None),
    )
    if vp is None:  # a copula clause
        return f"{s} {_be(s, rng.random() < 0.5)} {_p(rng, _ADJ_P)}" if s != "you" else "it was " + _p(rng, _ADJ_P)
    return f"{s} {vp}{_adjunct(rng)}"


def _statement(rng: Rng) -> str:
    body = _branch(
        rng,
        (0.5, lambda: clause(rng)),
        (0.6, lambda: f"{_subj(rng)} {_p(rng, _SAY)} {clause(rng)}"),
        (0.68, lambda: f"I think {clause(rng)}"),
        (0.76, lambda: f"{clause(rng)} {_p(rng, _SUB)} {clause(rng)}"),
        (0.84, lambda: f"{_p(rng, _TOPICS)} {_p(rng, ['was', 'is', 'seems', 'looked', 'sounds'])} {_p(rng, _ADJ_P)}"),
        (0.9, lambda: f"there {_p(rng, ['was', 'is'])} {_np(rng)} at {_p(rng, _PLACES)}"),
        (1.0, lambda: f"{clause(rng)} and {clause(rng)}"),
    )
    return _p(rng, _OPENERS) + body


def _yn_question(rng: Rng) -> str:
    s = _p(rng, ["you", "you", "we", "I", "they", "she", "he", "your brother", "the kids", "Anna"])
    (base, _past, ing, part), comp = _verb(rng)
    third = _third(s)
    return _branch(
        rng,
        (0.25, lambda: f"did {s} {base} {comp}{_adjunct(rng)}"),
        (0.45, lambda: f"{_p(rng, ['can', 'could', 'should', 'would', 'will'])} {s} {base} {comp}{_adjunct(rng)}"),
        (0.6, lambda: f"{_be(s, False) if s != 'I' else 'am'} {s} {ing} {comp}"),
        (0.7, lambda: f"{'has' if third else 'have'} {s} {part} {comp}"),
        (0.8, lambda: f"do you want to {base} {comp}"),
        (0.9, lambda: f"{_p(rng, ['is', 'was'])} {_p(rng, _TOPICS)} {_p(rng, _ADJ_P)}"),
        (1.0, lambda: f"{'does' if third else 'do'} {s} know {_p(rng, ['if', 'whether', 'that'])} {clause(rng)}"),
    )


def _wh_question(rng: Rng) -> str:
    s = _p(rng, ["you", "we", "I", "they", "she", "he", "the team", "Mike"])
    (base, _past, _ing, _part), comp = _verb(rng)
    wh = _p(rng, ["why", "when", "how", "where"])
    return _branch(
        rng,
        (0.35, lambda: f"{wh} did {s} {base} {comp}"),
        (0.55, lambda: f"{wh} {_p(rng, ['should', 'can', 'could', 'would'])} {s} {base} {comp}"),
        (0.7, lambda: f"what {_p(rng, ['did', 'should', 'can'])} {s} {base.split()[0]}"),
        (0.8, lambda: f"who {_p(rng, ['told you about', 'is in charge of', 'paid for', 'organised'])} {_p(rng, _TOPICS)}"),
        (0.9, lambda: f"how much {_p(rng, ['does', 'did'])} {_np(rng)} cost"),
        (1.0, lambda: f"what time {_p(rng, ['does', 'did'])} {_p(rng, _PLACES)} {_p(rng, ['open', 'close'])}"),
    )


def _exclamation(rng: Rng) -> str:
    return _p(rng, [
        f"that's {_p(rng, _ADJ_P)}", f"oh no, I forgot {_np(rng)}", f"wow, {_p(rng, _TOPICS)} was {_p(rng, _ADJ_P)}",
        "thank you so much", "I can't believe it", f"what a {_p(rng, ['day', 'mess', 'week', 'surprise'])}",
        f"oh, I love {_p(rng, _PLACES)}", "that's so kind of you", "thanks a lot",
    ])


def final_sentence(rng: Rng) -> tuple[str, str]:
    """(text without punctuation, form) of a turn-final sentence."""
    form = _p(rng, ["statement", "statement", "ynq", "whq", "exclaim"])
    make = {"statement": _statement, "ynq": _yn_question, "whq": _wh_question, "exclaim": _exclamation}[form]
    return make(rng), form


def incomplete(rng: Rng) -> str:
    """A phrase cut where the sentence cannot end."""
    s = _subj(rng)
    (base, past, _ing, _part), comp = _verb(rng)
    cut = _p(rng, ["det", "prep", "modal", "comp", "verb", "subj", "adj", "sub", "to"])
    if cut == "det":
        return f"{s} {past} {_p(rng, ['the', 'a', 'my', 'this', 'some', 'our'])}"
    if cut == "prep":
        return f"{s} {_p(rng, ['went to', 'was staring at', 'got it from', 'talked about', 'left it at', 'came back with', 'was thinking about'])}"
    if cut == "modal":
        return f"{s} {_p(rng, ['could', 'should probably', 'might', 'would', 'was going to', 'wanted to', 'had to', 'will'])}"
    if cut == "comp":
        return f"{s} {_p(rng, ['said that', 'told me that', 'wasn’t sure if', 'asked whether', 'thinks that', 'knows why', 'wonders if'])}"
    if cut == "verb":
        verbs = ["needs to", "forgot to", "tried to", "wants to", "has to"] if _third(s) else \
            ["need to", "forgot to", "tried to", "want to", "have to"]
        return f"{s} {_p(rng, verbs)} {base}"
    if cut == "subj":
        return _p(rng, ["and then ", "so ", "but ", "and ", ""]) + _p(rng, _SUBJ_NP + _PEOPLE)
    if cut == "adj":
        return f"{s} {past} {_p(rng, ['a really', 'the other', 'a very', 'the second', 'a pretty'])}"
    if cut == "sub":
        return f"{clause(rng)} {_p(rng, _SUB)}"
    return f"{_p(rng, ['what I wanted to say is', 'the thing is', 'the problem is that', 'my idea was to', 'the reason is', 'what happened was'])}"


def conj_clause(rng: Rng) -> str:
    """A complete clause followed by a conjunction (the turn goes on)."""
    return f"{clause(rng)} {_p(rng, _CONJ)}"


def list_phrase(rng: Rng) -> str:
    k = int(rng.integers(2, 5))
    items = [str(x) for x in rng.choice(_ITEMS, size=k, replace=False)]
    lead = _p(rng, ["we need", "I bought", "get some", "they had", "I forgot", "don't forget", "we still have"])
    return lead + " " + ", ".join(items)


def completion(rng: Rng) -> str:
    """What follows a cut phrase: a noun phrase, a place, a verb phrase or a clause."""

    def verb_phrase() -> str:
        (base, _past, _ing, _part), comp = _verb(rng)
        return f"{base} {comp}{_adjunct(rng)}"

    return _branch(
        rng,
        (0.3, lambda: _np(rng) + _adjunct(rng)),
        (0.45, lambda: _p(rng, _PLACES)),
        (0.65, verb_phrase),
        (1.0, lambda: clause(rng)),
    )


def bargein(rng: Rng) -> str:
    return _p(rng, _BARGE)


def vocabulary() -> set[str]:
    """Every multi-letter word of the grammar's lists (for the no-overlap check)."""
    words: set[str] = set()
    lists: list[Sequence[str]] = [_SUBJ_NP, _PEOPLE, _DET, _ADJ_N, _NOUNS, _PLURAL_NOUNS, _PLACES, _TIMES,
                                  _ADJ_P, _TOPICS, _ITEMS, _BARGE]
    lists += [[" ".join(v) for v in table] for table in (_TRANS, _SOCIAL, _MOTION)]
    for lst in lists:
        for item in lst:
            words.update(w.strip(",.'’").lower() for w in item.split())
    return words
