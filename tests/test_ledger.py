"""SpeculationLedger (Rust, through the binding) against a plain Python model."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from cadence._core import SpeculationLedger
from cadence.errors import (
    EpochClosedError,
    InvalidArgumentError,
    LedgerError,
    StaleEpochError,
    UnknownEpochError,
)


def test_commit_releases_items_in_order_exactly_once() -> None:
    led = SpeculationLedger()
    led.open(1)
    tok, chunk = "hello", object()
    led.append(1, tok)
    led.append(1, chunk, audio_seconds=0.02)
    assert led.release() == []  # a draft releases nothing
    led.commit(1)
    led.append(1, "late")  # after commit: releasable at once
    out = led.release()
    assert out[0] == tok and out[1] is chunk and out[2] == "late"
    assert led.release() == []
    led.close(1)
    with pytest.raises(EpochClosedError):
        led.append(1, "too late")
    assert led.state(1) == "closed"
    m = led.metrics()
    assert m["items_released"] == 3 and m["items_pending"] == 0
    assert m["audio_seconds_committed"] == pytest.approx(0.02)


def test_discard_wastes_audio_and_blocks_appends() -> None:
    led = SpeculationLedger()
    assert led.latest is None
    led.open(5)
    led.append(5, b"pcm", audio_seconds=0.5)
    led.append(5, b"pcm", audio_seconds=0.25)
    led.open(7)  # discards the draft 5
    assert led.state(5) == "discarded" and led.draft == 7 and led.latest == 7
    with pytest.raises(EpochClosedError):
        led.append(5, "x")
    with pytest.raises(EpochClosedError):
        led.commit(5)
    led.discard(5)  # no-op on a discarded epoch
    with pytest.raises(StaleEpochError):
        led.open(6)
    with pytest.raises(UnknownEpochError):
        led.append(6, "x")
    with pytest.raises(UnknownEpochError):
        led.state(6)
    with pytest.raises(InvalidArgumentError):
        led.append(7, "x", audio_seconds=math.nan)
    with pytest.raises(InvalidArgumentError):
        led.append(7, "x", audio_seconds=-1.0)
    m = led.metrics()
    assert m["items_wasted"] == 2 and m["drafts_discarded"] == 1
    assert m["audio_seconds_wasted"] == pytest.approx(0.75)
    assert m["items_appended"] == 2
    assert issubclass(EpochClosedError, LedgerError)


def test_epoch_outside_u64_is_a_clear_error_and_changes_nothing() -> None:
    led = SpeculationLedger()
    led.open(3)
    for bad in (-1, 2**64, 2**100, 2**127, 2**200, -(2**200)):  # past i128 too: no OverflowError
        for call in (led.open, led.commit, led.discard, led.close, led.state, led.pending):
            with pytest.raises(InvalidArgumentError, match="epoch"):
                call(bad)
        with pytest.raises(InvalidArgumentError, match="epoch"):
            led.append(bad, "x")
    assert led.latest == 3 and led.draft == 3 and led.metrics()["drafts_opened"] == 1
    led.open(2**64 - 1)  # the top of the range is fine
    assert led.state(3) == "discarded"


# --- stateful test against a reference model ------------------------------------

STATES = ("draft", "committed", "discarded", "closed")


@dataclass
class Model:
    states: dict[int, str] = field(default_factory=dict)
    log: list[tuple[int, int, float]] = field(default_factory=list)  # epoch, id, seconds
    released: set[int] = field(default_factory=set)
    latest: int | None = None

    def open(self, e: int) -> bool:
        if self.latest is not None and e <= self.latest:
            return False
        for k, s in self.states.items():
            if s == "draft":
                self.states[k] = "discarded"
        self.states[e] = "draft"
        self.latest = e
        return True

    def append(self, e: int, ident: int, secs: float) -> bool:
        if self.states.get(e) not in ("draft", "committed"):
            return False
        self.log.append((e, ident, secs))
        return True

    def move(self, e: int, allowed: tuple[str, ...], to: str) -> bool:
        if self.states.get(e) not in allowed:
            return False
        self.states[e] = to
        return True

    def release(self) -> list[int]:
        out = [
            (e, i, ident)
            for i, (e, ident, _) in enumerate(self.log)
            if ident not in self.released and self.states[e] in ("committed", "closed")
        ]
        out.sort()
        ids = [ident for _, _, ident in out]
        self.released.update(ids)
        return ids


epochs = st.integers(min_value=0, max_value=15)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.led = SpeculationLedger()
        self.model = Model()
        self.next_id = 0
        self.items: dict[int, object] = {}

    def _expect(self, ok: bool, call: object, *args: object, **kw: object) -> None:
        if ok:
            call(*args, **kw)  # type: ignore[operator]
        else:
            with pytest.raises(LedgerError):
                call(*args, **kw)  # type: ignore[operator]

    @rule(e=epochs)
    def open(self, e: int) -> None:
        self._expect(self.model.open(e), self.led.open, e)

    @rule(e=epochs, secs=st.sampled_from([0.0, 0.01, 0.02, 0.125]))
    def append(self, e: int, secs: float) -> None:
        ident = self.next_id
        self.next_id += 1
        item = ("item", ident)  # a fresh object per append
        self.items[ident] = item
        self._expect(self.model.append(e, ident, secs), self.led.append, e, item, audio_seconds=secs)

    @rule(e=epochs)
    def commit(self, e: int) -> None:
        self._expect(self.model.move(e, ("draft",), "committed"), self.led.commit, e)

    @rule(e=epochs)
    def discard(self, e: int) -> None:
        self._expect(self.model.move(e, ("draft", "discarded"), "discarded"), self.led.discard, e)

    @rule(e=epochs)
    def close(self, e: int) -> None:
        self._expect(self.model.move(e, ("committed",), "closed"), self.led.close, e)

    @rule()
    def release(self) -> None:
        got = self.led.release()
        want = self.model.release()
        assert [x[1] for x in got] == want
        assert all(g is self.items[i] for g, i in zip(got, want))

    @invariant()
    def states_agree(self) -> None:
        for e in range(16):
            if e in self.model.states:
                assert self.led.state(e) == self.model.states[e]
            else:
                with pytest.raises(UnknownEpochError):
                    self.led.state(e)
        assert self.led.latest == self.model.latest

    @invariant()
    def metrics_add_up(self) -> None:
        m = self.led.metrics()
        mod = self.model
        wasted = [x for x in mod.log if mod.states[x[0]] == "discarded"]
        committed = [x for x in mod.log if mod.states[x[0]] in ("committed", "closed")]
        assert m["items_appended"] == len(mod.log)
        assert m["items_released"] == len(mod.released)
        assert m["items_wasted"] == len(wasted)
        assert m["items_appended"] == m["items_released"] + m["items_wasted"] + m["items_pending"]
        assert m["audio_seconds_wasted"] == pytest.approx(sum(x[2] for x in wasted), abs=1e-9)
        assert m["audio_seconds_committed"] == pytest.approx(sum(x[2] for x in committed), abs=1e-9)
        assert m["drafts_opened"] == len(mod.states)
        assert m["drafts_discarded"] == sum(s == "discarded" for s in mod.states.values())
        assert m["drafts_committed"] == sum(s in ("committed", "closed") for s in mod.states.values())


LedgerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestLedgerMachine = LedgerMachine.TestCase
