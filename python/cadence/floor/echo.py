"""Echo awareness for full duplex: is the energy in the mic the persona's own voice?

While the persona speaks, its voice comes back through the user's speaker and
microphone (delayed 10–200 ms, attenuated, filtered). The floor stage knows
exactly what was played (the *reference*), so it estimates, per 10 ms frame:

* the echo path: the lag (0–200 ms) at which the mic power best follows the
  reference power, and the echo gain at that lag (a low running percentile of
  mic/ref power ratios, so user speech on top does not inflate it);
* the predicted echo power for the current frame (the reference power around
  the lag, times the gain, with a little smearing for reverberation);
* ``excess_db``: how far the mic power is above that prediction. Echo alone
  gives ≈ 0 dB; a user talking over the persona gives a large positive excess.

It is an energy-domain double-talk detector, not a full adaptive filter (AEC):
enough to keep the persona's echo from counting as the user. Streaming and
chunk-invariant. This Python class is the reference of the run-time Rust code
(``cadence_core::floor::echo``, via ``cadence._core.FloorNormalizer``); the tests
check that both agree.
"""

from __future__ import annotations

import math

import numpy as np

MAX_LAG = 20  # frames (200 ms)
EXCESS_MAX = 30.0  # dB: reported when there is no reference to explain the mic
_EPS = 1e-10


class EchoEstimator:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.ref_hist = np.full(MAX_LAG + 3, _EPS)  # reference power history, newest last
        self.lag_score = np.zeros(MAX_LAG + 1)  # running log-domain correlation per lag
        self.mic_mean = -100.0
        self.ref_mean = np.full(MAX_LAG + 1, -100.0)
        self.gain_db = -10.0  # echo gain estimate at the best lag (starts high: no false "user")
        self.n_active = 0

    @property
    def lag(self) -> int:
        return int(np.argmax(self.lag_score))

    def step(self, mic_power: float, ref_power: float) -> tuple[float, float]:
        """Feed one frame's mean-square powers; returns (ref_level_db, excess_db)."""
        h = self.ref_hist
        h[:-1] = h[1:]
        h[-1] = ref_power + _EPS
        ref_db_now = 10.0 * math.log10(h[-1])
        mic_db = 10.0 * math.log10(mic_power + _EPS)
        lagged = 10.0 * np.log10(h[-1 - np.arange(MAX_LAG + 1)])  # ref dB at each lag
        active = lagged.max() > -60.0
        if not active:
            return -100.0, EXCESS_MAX
        self.n_active += 1
        a = max(1.0 / self.n_active, 0.01)
        # track which lag's reference envelope co-varies with the mic envelope
        self.mic_mean += a * (mic_db - self.mic_mean)
        self.ref_mean += a * (lagged - self.ref_mean)
        self.lag_score = (1 - a) * self.lag_score + a * (mic_db - self.mic_mean) * (lagged - self.ref_mean)
        lag = self.lag
        # smear ±1 frame around the lag for reverberation / sub-frame delay
        lo, hi = max(lag - 1, 0), min(lag + 2, MAX_LAG + 1)
        window = h[-1 - np.arange(lo, hi)]
        pred_ref_db = 10.0 * math.log10(window.max())
        # gain: a running 20th percentile of the mic/ref ratio (quantile tracker with
        # fixed 0.25 dB steps: robust to the user talking on top, which only raises the
        # ratio, and to burst edges). Only frames where the whole lag window is clearly
        # audible tell the gain.
        if 10.0 * math.log10(window.min()) > -45.0:
            ratio = mic_db - pred_ref_db
            self.gain_db += -1.0 if ratio < self.gain_db else 0.25
        excess = mic_db - (pred_ref_db + self.gain_db)
        return ref_db_now, min(excess, EXCESS_MAX)
