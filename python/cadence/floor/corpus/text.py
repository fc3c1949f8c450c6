"""Phrase generators for the floor corpus: what the simulated user says.

Disjoint pools, ``"train"``, ``"test"`` and ``"select"`` (for selection splits):
each template family has its own templates *and* its own vocabulary per pool; the
one list the pools draw from (short answers such as "yes.") is split by a stable
hash of the text (select takes the train share: short answers are not phrasing).
Fillers ("um", "uh") and backchannels ("mm-hm") are shared by both pools: they
are not sentences and a held-out set will contain the same ones.

Every generator takes a ``numpy.random.Generator`` and returns the text to
synthesize, already punctuated: final phrases end with '.', '?' or '!';
non-final phrases end with ',', '...' or nothing, so the synthesized prosody
is non-final.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence

import numpy as np

from cadence.errors import InvalidArgumentError

from . import grammar, written

__all__ = [
    "POOLS",
    "in_pool",
    "final_phrase",
    "short_answer",
    "continuation_phrase",
    "completion_phrase",
    "filler",
    "backchannel",
    "bargein_phrase",
    "persona_phrase",
    "pool_words",
    "words_of",
    "FUNCTION_WORDS",
]

# "grammar": the training pool built by grammar.py; "select": a third template pool, with
# its own templates and vocabulary, for selection dev splits only (phrasing that neither
# a model nor the test split has seen); "written": sentences people wrote (written.py), and
# "written-test" their hash test share, for the test split of a --text written corpus
POOLS = ("train", "test", "grammar", "select", "written", "written-test")
_WRITTEN = {"written": "train", "written-test": "test"}  # pool -> written.py share
_TEST_SHARE = 5  # one sentence in five (by hash) may only appear in the test pool


def in_pool(text: str, pool: str) -> bool:
    """Whether ``text`` may appear in ``pool`` (stable across runs and machines)."""
    h = zlib.crc32(text.lower().strip().encode("utf-8")) % _TEST_SHARE
    return (h == 0) == (pool in ("test", "written-test"))  # the others share the non-test part


# words any English sentence pool shares; a pool's other words are its own
FUNCTION_WORDS = frozenset(
    "a an the my our your his her their this that these those some i we you he she it they me us him them "
    "to at in on of for from with by about over back up out off and or but so then because when after before "
    "if that's is was are were be been am has have had do did does can could should would will might must "
    "not no what why how where who which there just too really very again already first last new "
    "sorry wait stop actually say said went ran stopped busy late work tomorrow yesterday month".split()
)


def words_of(s: str) -> set[str]:
    """The words of a phrase, lower case, without punctuation."""
    return {w.strip(",.'!?").lower() for w in s.split()} - {""}


def pool_words(pool: str) -> set[str]:
    """Every word of a template pool's vocabulary and templates."""
    words: set[str] = set()
    for items in _V[pool].values():
        for it in items:
            words |= words_of(it)
    tables = (_STATEMENTS, _YN_QUESTIONS, _WH_QUESTIONS, _EXCLAMATIONS, _CLAUSES, _INCOMPLETE,
              _COMPLETIONS, _BARGEIN)
    for table in tables:
        for it in table[pool]:
            words |= words_of(re.sub(r"\{\w+\}", "", it))
    return words


def _pick(rng: np.random.Generator, items: Sequence[str]) -> str:
    return items[int(rng.integers(len(items)))]


def _check_pool(pool: str) -> None:
    if pool not in POOLS:
        raise InvalidArgumentError(f"unknown sentence pool {pool!r}; expected one of {POOLS}")


# --- vocabulary, one set per pool ------------------------------------------------
_V: dict[str, dict[str, list[str]]] = {
    "train": {
        "subj": ["I", "we", "my brother", "my sister", "the kids", "my manager", "our neighbour",
                 "my friend Sam", "the team", "my dad", "she", "he", "they", "my wife", "my husband"],
        "place": ["the store", "the office", "the station", "the park", "my parents' place",
                  "the dentist", "the gym", "the library", "the airport", "the market", "downtown",
                  "the bank", "the post office", "the beach"],
        "time": ["yesterday", "last week", "this morning", "on Monday", "tonight", "next month",
                 "in the afternoon", "after lunch", "over the weekend", "tomorrow", "at eight"],
        "thing": ["the report", "a new phone", "the tickets", "some groceries", "the car",
                  "my laptop", "the invoice", "a birthday present", "the keys", "the package",
                  "a coffee machine", "the contract", "a bike"],
        "verb_past": ["went to", "drove to", "walked over to", "stopped by", "called", "visited"],
        "verb_get": ["buy", "fix", "return", "pick up", "send", "finish", "find", "order"],
        "adj": ["great", "strange", "really busy", "a bit expensive", "too late", "pretty quiet",
                "much better", "kind of confusing", "really nice", "a disaster"],
        "item": ["eggs", "milk", "bread", "apples", "rice", "coffee", "cheese", "tomatoes",
                 "butter", "onions", "pasta", "soap", "batteries", "paper towels"],
        "topic": ["the budget", "the trip", "the schedule", "the move", "the wedding", "the project",
                  "the interview", "the renovation", "my account", "the delivery"],
        "person": ["Anna", "Mike", "the doctor", "my landlord", "the teacher", "Chris", "Maria",
                   "the plumber", "my boss", "Tom"],
    },
    "test": {
        "subj": ["my cousin", "our accountant", "the guys from work", "my grandmother", "Peter",
                 "my roommate", "the new intern", "my aunt", "the two of us", "my colleague"],
        "place": ["the pharmacy", "the hardware shop", "the museum", "the swimming pool",
                  "the garage", "the hospital", "the bakery", "the town hall", "the harbour"],
        "time": ["the day before yesterday", "around noon", "early tomorrow", "last Friday",
                 "in a couple of weeks", "before dinner", "at the end of the month"],
        "thing": ["the spare tyre", "a winter coat", "the passport", "the printer", "a sofa",
                  "the lease", "some paint", "the headphones", "a gift card"],
        "verb_past": ["rushed to", "headed over to", "dropped by", "phoned", "went back to"],
        "verb_get": ["replace", "collect", "renew", "cancel", "repaint", "assemble"],
        "adj": ["surprisingly cheap", "totally fine", "quite stressful", "a little odd",
                "super crowded", "way too loud", "actually fun"],
        "item": ["carrots", "yoghurt", "flour", "lemons", "sugar", "spinach", "tea", "beans",
                 "garlic", "napkins", "shampoo"],
        "topic": ["the insurance", "the holiday", "the garden", "the refund", "the appointment",
                  "the new timetable", "the mortgage"],
        "person": ["Laura", "Greg", "the receptionist", "my mechanic", "Sophie", "the vet",
                   "Daniel", "the nurse"],
    },
}

_V["select"] = {
    "subj": ["my nephew", "the landlady", "our coach", "my flatmate", "the chauffeur", "Beatrice", "my stepdad",
             "the choir", "Ray and Joan", "the twins"],
    "place": ["the florist", "the laundrette", "the velodrome", "the zoo", "the campsite", "the ferry terminal",
              "the planetarium", "the vineyard", "the bowling alley"],
    "time": ["at sunrise", "at dusk", "in springtime", "during the interval", "by midnight",
             "in a fortnight"],
    "thing": ["the parasol", "a bicycle helmet", "the blender", "the raffle prize", "a rucksack",
              "the thermostat", "the fishing rod", "a lantern", "the microwave"],
    "verb_past": ["hurried to", "strolled over to", "nipped round to", "rang", "cycled to"],
    "verb_get": ["polish", "defrost", "unpack", "wrap", "sharpen", "refill"],
    "adj": ["oddly hushed", "rather pricey", "absolutely freezing", "fairly relaxed", "dreadfully slow",
            "unexpectedly good"],
    "item": ["peppers", "cucumbers", "honey", "oats", "mushrooms", "crackers", "mouthwash", "candles",
             "vinegar", "plums"],
    "topic": ["the barbecue", "the quiz results", "the concert", "the parking permit", "the recital",
              "the puppy"],
    "person": ["Hannah", "Oscar", "the optician", "the caretaker", "Priya", "the locksmith", "Felix"],
}

# --- templates, one set per pool ----------------------------------------------
# Final statements.
_STATEMENTS = {
    "train": [
        "{subj} {verb_past} {place} {time}", "I need to {verb_get} {thing} {time}",
        "{subj} said {topic} was {adj}", "honestly {topic} was {adj}",
        "I think we should talk about {topic}", "{person} is coming over {time}",
        "we already paid for {thing}", "it was {adj}, to be honest",
        "I left {thing} at {place}", "that sounds {adj} to me",
        "I have been waiting for {person} since {time}", "{subj} forgot {thing} again",
        "I would like to {verb_get} {thing}", "the meeting about {topic} got moved",
    ],
    "test": [
        "apparently {topic} is {adj}", "{subj} promised to {verb_get} {thing} {time}",
        "I ran into {person} at {place}", "we might skip {topic} this year",
        "{person} already took care of {thing}", "my plan is to {verb_get} {thing} first",
        "so far {topic} has been {adj}", "{subj} will meet us at {place}",
    ],
    "select": [
        "{subj} finally {verb_past} {place} {time}", "we ought to {verb_get} {thing} soon",
        "{person} reckons {topic} went {adj}", "I swapped {thing} with {person}",
        "{topic} turned out {adj}", "{subj} misplaced {thing} near {place}",
    ],
}
_YN_QUESTIONS = {
    "train": [
        "can you {verb_get} {thing} for me", "did {subj} call you {time}",
        "is {place} open {time}", "do you think {topic} is {adj}",
        "should I bring {thing}", "could we do it {time}", "are you free {time}",
        "have you seen {thing}", "would it be okay to talk about {topic}",
    ],
    "test": [
        "is it too late to {verb_get} {thing}", "does {person} know about {topic}",
        "can we meet at {place}", "will you remind me {time}", "was {topic} really {adj}",
    ],
    "select": [
        "any chance you could {verb_get} {thing}", "has {person} heard about {topic}",
        "would {place} still be serving {time}", "shall we {verb_get} {thing} together",
    ],
}
_WH_QUESTIONS = {
    "train": [
        "what time does {place} close", "where did you put {thing}",
        "why is {topic} so {adj}", "how do I {verb_get} {thing}",
        "when is {person} coming back", "who told you about {topic}",
        "what should I do about {topic}", "how much was {thing}",
    ],
    "test": [
        "which one of these is cheaper", "how long will {topic} take",
        "where exactly is {place}", "what did {person} say about {thing}",
        "why would {subj} {verb_get} {thing}",
    ],
    "select": [
        "whose turn is it to {verb_get} {thing}", "how do I reach {place} from here",
        "what happened with {topic}", "where on earth is {thing}",
    ],
}
_EXCLAMATIONS = {
    "train": ["that's {adj}", "oh no, I forgot {thing}", "wow, {topic} was {adj}",
              "thank you so much", "I can't believe it"],
    "test": ["no way, {person} did that", "that's brilliant", "oh, I love {place}"],
    "select": ["what a mess, {topic} was {adj}", "oh marvellous, {person} is here", "goodness, {thing} has vanished"],
}
_SHORT_ANSWERS = [
    "yes", "yeah", "no", "nope", "sure", "okay", "that's right", "exactly", "no, not really",
    "I think so", "I don't think so", "maybe", "probably", "of course", "not yet", "absolutely",
    "sounds good", "fine", "yes, please", "no, thanks", "I guess", "definitely", "right",
    "not at all", "sort of", "all right", "yep", "that's correct", "I'm not sure", "never",
    "why not", "good point", "tomorrow, I think", "yes, that works", "no, the other one",
    "that's fine", "perfect", "I suppose so", "not really, no", "it depends",
]

# Non-final phrases.
_CLAUSES = {  # complete clauses said with continuation prosody
    "train": [
        "{subj} {verb_past} {place} {time}", "I talked to {person}", "so I was at {place}",
        "we tried to {verb_get} {thing}", "{topic} is {adj}", "first I went to {place}",
        "I called {person} {time}", "the thing is",
    ],
    "test": [
        "I had a look at {thing}", "{person} mentioned {topic}", "we stopped at {place}",
        "so the plan was to {verb_get} {thing}",
    ],
    "select": [
        "{subj} popped over earlier", "I was sorting out {thing}", "{person} rang about {topic}",
        "we ended up at {place}",
    ],
}
_INCOMPLETE = {  # syntactically incomplete phrase before a pause
    "train": [
        "I was going to the", "what I mean is", "the thing about {topic} is", "I think that",
        "we could maybe", "{subj} wanted to", "the problem with", "and then {person} said",
        "I was trying to {verb_get} the", "if we go to", "it's just that", "I'd like to",
        "do you know if", "can you tell me where the", "my idea was to",
    ],
    "test": [
        "the reason I'm asking is", "what bothers me is", "{subj} kept saying that",
        "it turns out that", "I'm looking for a", "we were about to",
    ],
    "select": [
        "the funny part is", "what worries me about {topic} is", "{subj} was hoping to",
        "I just wondered whether", "all I'm after is a", "the previous outing to",
    ],
}
_CONJ = ["and", "so", "but", "because", "or", "then", "and then", "and also"]
_COMPLETIONS = {  # what follows an incomplete phrase or a conjunction (final)
    "train": [
        "{place}", "{thing}", "it was {adj}", "I never got {thing}", "we left {time}",
        "{person} wasn't there", "{verb_get} {thing}", "talk about {topic}",
        "it didn't work", "we ran out of time", "nobody answered",
    ],
    "test": [
        "{place}, I think", "get {thing} sorted", "{person} had left already",
        "it felt {adj}", "the line was busy",
    ],
    "select": [
        "{place}, probably", "sort out {thing}", "{person} didn't turn up", "it seemed {adj}",
        "the kiosk had shut",
    ],
}
_FILLERS = ["um", "uh", "hmm", "er", "erm", "umm", "uhh", "mm", "well", "uh, let me think",
            "um, you know", "like"]
_BACKCHANNELS = ["mm-hm", "yeah", "right", "uh-huh", "okay", "mm", "yes", "sure", "I see",
                 "oh", "wow", "really", "got it", "ah"]
_BARGEIN = {
    "train": ["wait", "sorry, can I say something", "no no, that's not what I meant",
              "hold on", "actually", "excuse me", "hang on a second", "stop, stop",
              "sorry to interrupt", "no, listen"],
    "test": ["just a moment", "sorry, one thing", "no wait", "let me stop you there",
             "um, actually"],
    "select": ["bear with me, please", "sorry, quick question", "whoa, wait up", "no, that's wrong",
               "can I just jump in"],
}
_PERSONA = [
    "sure, I can help you with that", "let me check that for you", "okay, so here is what I found",
    "that makes sense, and I think the best option would be to start early",
    "I understand, could you tell me a little more about it",
    "great, your appointment is booked for Tuesday at ten",
    "the store closes at nine on weekdays and at six on Sundays",
    "I'm sorry to hear that, let's see what we can do",
    "there are two ways to do this, the first is quicker but the second is cheaper",
    "right, and would you like me to send you a reminder",
    "no problem at all, is there anything else", "good question, it usually takes about a week",
    "I have noted that down, thank you", "one moment while I look that up",
    "okay, I will let them know that you called",
]


def _fill(rng: np.random.Generator, template: str, pool: str) -> str:
    vocab = _V[pool]
    out = template
    while "{" in out:
        i = out.index("{")
        j = out.index("}", i)
        key = out[i + 1 : j]
        out = out[:i] + _pick(rng, vocab[key]) + out[j + 1 :]
    return out


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _draw(
    rng: np.random.Generator, pool: str, make: Callable[[], str], hashed: bool = False, tries: int = 64
) -> str:
    """Draw a phrase from ``make``.

    Templates and vocabulary are already separate per pool; a list shared by both
    pools (``hashed=True``) is split by :func:`in_pool` instead.
    """
    _check_pool(pool)
    for _ in range(tries):
        text = make()
        if not hashed or in_pool(text, pool):
            return text
    raise InvalidArgumentError(f"sentence pool {pool!r} could not produce a phrase")


def final_phrase(rng: np.random.Generator, pool: str) -> tuple[str, str]:
    """A turn-final sentence: (text with final punctuation, form)."""
    _check_pool(pool)
    if pool == "grammar":
        words, form = grammar.final_sentence(rng)
        return _cap(words) + {"statement": ".", "ynq": "?", "whq": "?", "exclaim": "!"}[form], form
    if pool in _WRITTEN:
        return written.final_sentence(rng, _WRITTEN[pool])
    form = _pick(rng, ["statement", "statement", "ynq", "whq", "exclaim"])
    table, punct = {
        "statement": (_STATEMENTS, "."),
        "ynq": (_YN_QUESTIONS, "?"),
        "whq": (_WH_QUESTIONS, "?"),
        "exclaim": (_EXCLAMATIONS, "!"),
    }[form]
    text = _draw(rng, pool, lambda: _cap(_fill(rng, _pick(rng, table[pool]), pool)) + punct)
    return text, form


def short_answer(rng: np.random.Generator, pool: str) -> str:
    """A short answer with final punctuation ("Yes.", "No, not really.")."""
    punct = "." if rng.random() < 0.85 else "!"
    return _draw(rng, pool, lambda: _cap(_pick(rng, _SHORT_ANSWERS)) + punct, hashed=True)


def _cont_punct(rng: np.random.Generator) -> str:
    return _pick(rng, [",", "...", "", ",", "..."])


def continuation_phrase(rng: np.random.Generator, pool: str) -> tuple[str, str]:
    """A non-final phrase: (text with continuation punctuation, style).

    style is one of ``clause`` (complete clause, non-final intonation),
    ``incomplete`` (syntactically incomplete), ``conj`` (ends in "and"/"so"/...)
    and ``list`` (a list that goes on).
    """
    _check_pool(pool)
    style = _pick(rng, ["clause", "incomplete", "incomplete", "conj", "list"])
    if pool == "grammar":
        words = {"clause": grammar.clause, "incomplete": grammar.incomplete, "conj": grammar.conj_clause,
                 "list": grammar.list_phrase}[style](rng)
        ends = {"conj": ["...", "", ","], "list": [",", "...", ", and..."]}
        return _cap(words) + (_pick(rng, ends[style]) if style in ends else _cont_punct(rng)), style
    if pool in _WRITTEN:  # no lists in written prose: a conjunction instead
        style = "conj" if style == "list" else style
        share = _WRITTEN[pool]
        words = written.incomplete(rng, share) if style == "incomplete" else written.clause(rng, share)
        if style == "conj":
            return words + " " + _pick(rng, _CONJ) + _pick(rng, ["...", "", ","]), style
        return words + _cont_punct(rng), style
    if style == "clause":
        make = lambda: _cap(_fill(rng, _pick(rng, _CLAUSES[pool]), pool)) + _cont_punct(rng)  # noqa: E731
    elif style == "incomplete":
        make = lambda: _cap(_fill(rng, _pick(rng, _INCOMPLETE[pool]), pool)) + _cont_punct(rng)  # noqa: E731
    elif style == "conj":
        def make() -> str:
            base = _fill(rng, _pick(rng, _CLAUSES[pool] + _STATEMENTS[pool]), pool)
            return _cap(base) + " " + _pick(rng, _CONJ) + _pick(rng, ["...", "", ","])
    else:
        def make() -> str:
            k = int(rng.integers(2, 4))
            items = [str(x) for x in rng.choice(_V[pool]["item"], size=k, replace=False)]
            lead = _pick(rng, ["we need", "I bought", "get some", "they had", "I forgot"])
            return _cap(lead + " " + ", ".join(items)) + _pick(rng, [",", "...", ", and..."])
    return _draw(rng, pool, make), style


def completion_phrase(rng: np.random.Generator, pool: str) -> str:
    """A final phrase that completes an incomplete one (final punctuation)."""
    punct = "." if rng.random() < 0.8 else "?"
    if pool == "grammar":
        _check_pool(pool)
        return grammar.completion(rng) + punct
    if pool in _WRITTEN:
        return written.completion(rng, _WRITTEN[pool]) + punct
    return _draw(rng, pool, lambda: _fill(rng, _pick(rng, _COMPLETIONS[pool]), pool) + punct)


def filler(rng: np.random.Generator) -> str:
    """A filled pause, synthesized with non-final punctuation."""
    return _pick(rng, _FILLERS) + _pick(rng, ["", "...", ","])


def backchannel(rng: np.random.Generator) -> str:
    return _cap(_pick(rng, _BACKCHANNELS)) + _pick(rng, [".", "", "!"])


def bargein_phrase(rng: np.random.Generator, pool: str) -> str:
    punct = _pick(rng, [",", ".", "!", "..."])
    if pool in ("grammar", *_WRITTEN):  # written prose has no barge-ins: the grammar's
        return _cap(grammar.bargein(rng)) + punct
    return _draw(rng, pool, lambda: _cap(_pick(rng, _BARGEIN[pool])) + punct)


def persona_phrase(rng: np.random.Generator) -> str:
    return _cap(_pick(rng, _PERSONA)) + _pick(rng, [".", ".", "?"])
