"""A stateful core object called from a second thread while a call on it runs (its compute
runs with the GIL released): ``InUseError``, not pyo3's bare "Already borrowed", and the
running call is unaffected. Calls on one object must not overlap; objects do not share."""

from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np
import pytest

from cadence._core import EchoCanceller, FeatureExtractor, FloorEnsemble, FloorNormalizer, Framer, MicAgc, OutputFramer
from cadence.errors import CadenceError, InUseError

RNG = np.random.default_rng(7)


def _frames(n: int) -> np.ndarray:
    return (RNG.standard_normal((n, 160)) * 0.1).astype(np.float32)


def _overlap(make: Callable[[], Any], call: Callable[[Any, int], Any], probe: Callable[[Any], Any]) -> None:
    """Run ``call`` on one object in a thread while this thread ``probe``s it: the probe must
    meet InUseError, and the call's result must equal that of a fresh object left alone. Each
    probe either fails or runs before the call takes the object (a fresh object's state); a
    call that meets a probe holding the object is tried again."""
    for n in (20_000, 80_000):  # longer calls if the probe never met the running one
        obj, out, seen = make(), {}, False

        def work() -> None:
            while "r" not in out:
                try:
                    out["r"] = call(obj, n)
                except InUseError:  # the probe held it (a probe that releases the GIL): again
                    continue

        t = threading.Thread(target=work)
        t.start()
        while t.is_alive() and not seen:
            try:
                probe(obj)
            except InUseError as e:
                seen = isinstance(e, (CadenceError, RuntimeError)) and "in use by another call" in str(e)
        t.join()
        if seen:
            np.testing.assert_array_equal(out["r"], call(make(), n))
            return
    pytest.fail("the probe never met the running call")


def test_feature_extractor() -> None:
    x = _frames(80_000)
    _overlap(FeatureExtractor, lambda o, n: o.process(x[:n]), lambda o: o.reset())
    assert repr(FeatureExtractor()) == "FeatureExtractor(n_mels=40)"


def test_floor_normalizer() -> None:
    x = _frames(80_000)
    raw = FeatureExtractor().process(x)
    vad = RNG.random(len(x)).astype(np.float32)
    _overlap(FloorNormalizer, lambda o, n: o.process(raw[:n], vad[:n], x[:n], x[:n] * 0.5), lambda o: o.reset())


def test_mic_agc_and_echo_canceller() -> None:
    x = _frames(80_000)
    _overlap(MicAgc, lambda o, n: o.process(x[:n]), lambda o: o.level_db)
    _overlap(EchoCanceller, lambda o, n: o.process(x[:n], x[:n] * 0.3), lambda o: o.erle_db)


def test_framers() -> None:
    pcm = (RNG.standard_normal(48_000 * 60) * 0.1).astype(np.float32)
    big = len(pcm)  # one push of up to a minute
    _overlap(lambda: Framer(48_000, 1, big), lambda o, n: o.push(pcm[: n * 30]), lambda o: o.pending)
    _overlap(lambda: OutputFramer(22_050, 48_000, big), lambda o, n: o.push(pcm[: n * 30]), lambda o: o.flush())


def test_floor_ensemble() -> None:
    from cadence.floor.model import FloorModel

    net = FloorModel().members[0].net
    ens = FloorEnsemble([net])
    x = RNG.standard_normal((80_000, ens.n_inputs)).astype(np.float32)
    _overlap(lambda: FloorEnsemble([net]), lambda o, n: o.process(x[: n // 4]), lambda o: o.reset())


def test_fixed_properties_and_repr_read_while_a_call_runs() -> None:
    """Sizes and rates are read without the lock, and a repr never raises."""
    fe, agc = FeatureExtractor(), MicAgc()
    x = _frames(40_000)
    done = threading.Event()

    def work() -> None:
        fe.process(x)
        agc.process(x)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    while not done.is_set():
        assert fe.n_mels == 40 and fe.n_features == 46 and len(fe.names) == 46
        assert repr(agc).startswith("MicAgc(level_db=")  # "(in use)" while the call runs
    t.join()


def test_a_signal_handler_during_a_call_finds_the_object_free() -> None:
    """Python's signal handlers run once the compute is done and the object let go: one that
    uses the object (a Ctrl-C handler that resets a stage) does not meet its own call."""
    import os
    import signal

    ec = EchoCanceller()
    x = _frames(20_000)
    met: list[str] = []

    def handler(signum: int, frame: Any) -> None:
        try:
            ec.reset()
            met.append("free")
        except InUseError:
            met.append("in use")

    old = signal.signal(signal.SIGUSR1, handler)
    try:
        threading.Timer(0.02, lambda: os.kill(os.getpid(), signal.SIGUSR1)).start()
        ec.process(x, x * 0.3)
        while not met:  # the signal may come after the call: wait for the handler
            threading.Event().wait(0.01)
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert met == ["free"]


def test_a_ledger_item_whose_del_calls_the_ledger_back_meets_in_use() -> None:
    """The ledger's calls keep the GIL, but discarding a draft drops its items, and an item's
    ``__del__`` may call the ledger back: InUseError (not pyo3's "Already mutably borrowed"),
    and the ledger goes on."""
    from cadence._core import SpeculationLedger

    led = SpeculationLedger()
    met: list[str] = []

    class Item:
        def __del__(self) -> None:
            try:
                led.pending(1)
                met.append("free")
            except InUseError:
                met.append("in use")

    led.open(1)
    led.append(1, Item())
    led.open(2)  # discards draft 1: its item is dropped inside the call
    assert met == ["in use"]
    assert led.state(1) == "discarded" and led.draft == 2 and led.pending(1) == 0
    assert repr(led) == "SpeculationLedger(latest=2, draft=2, pending=0)"
