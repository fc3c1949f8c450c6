//! Echo awareness for full duplex: is the energy in the mic the persona's own voice?
//!
//! The floor stage knows exactly what the persona played (the *reference*).
//! Per 10 ms frame this estimates the echo path (the lag, 0–200 ms, at which
//! the mic power best follows the reference power, and the echo gain at that
//! lag: a low running percentile of mic/ref power ratios, so user speech on top
//! does not inflate it), predicts the echo power of the current frame, and
//! reports `excess_db`: how far the mic power is above that prediction. Echo
//! alone gives about 0 dB; a user talking over the persona a large positive
//! excess. It is an energy-domain double-talk detector, not an adaptive
//! filter. Streaming, chunk-invariant, no allocation after `new`.
//!
//! The numbers follow the Python reference `cadence.floor.echo.EchoEstimator`
//! step for step (f64 state); `tests/test_floor_rust_features.py` checks it.

/// Largest echo lag searched, frames (200 ms).
pub const MAX_LAG: usize = 20;
/// `excess_db` reported when no audible reference can explain the mic.
pub const EXCESS_MAX: f64 = 30.0;
/// `ref_db` reported when the reference is silent.
pub const REF_SILENT_DB: f64 = -100.0;
const EPS: f64 = 1e-10;
/// Frames of reference power the estimator remembers.
pub(crate) const HIST: usize = MAX_LAG + 3;
const LAGS: usize = MAX_LAG + 1;

/// Streaming echo estimator over per-frame mean-square powers.
#[derive(Debug, Clone)]
pub struct EchoEstimator {
    /// Reference power history, newest last.
    ref_hist: [f64; HIST],
    /// Running log-domain covariance of mic and reference per lag.
    lag_score: [f64; LAGS],
    mic_mean: f64,
    ref_mean: [f64; LAGS],
    /// Echo gain at the best lag, dB (starts high: no false "user").
    gain_db: f64,
    n_active: u64,
}

impl Default for EchoEstimator {
    fn default() -> Self {
        Self::new()
    }
}

impl EchoEstimator {
    pub fn new() -> Self {
        EchoEstimator {
            ref_hist: [EPS; HIST],
            lag_score: [0.0; LAGS],
            mic_mean: -100.0,
            ref_mean: [-100.0; LAGS],
            gain_db: -10.0,
            n_active: 0,
        }
    }

    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// The current echo lag estimate, frames (the first best one).
    pub fn lag(&self) -> usize {
        let mut best = 0;
        for k in 1..LAGS {
            if self.lag_score[k] > self.lag_score[best] {
                best = k;
            }
        }
        best
    }

    /// Reference power `k` frames ago (0 = this frame).
    fn hist(&self, k: usize) -> f64 {
        self.ref_hist[HIST - 1 - k]
    }

    /// Feed one frame's mean-square powers; returns `(ref_level_db, excess_db)`.
    pub fn step(&mut self, mic_power: f64, ref_power: f64) -> (f64, f64) {
        self.ref_hist.copy_within(1.., 0);
        self.ref_hist[HIST - 1] = ref_power + EPS;
        let ref_db_now = 10.0 * self.hist(0).log10();
        let mic_db = 10.0 * (mic_power + EPS).log10();
        let mut lagged = [0.0f64; LAGS];
        for (k, v) in lagged.iter_mut().enumerate() {
            *v = 10.0 * self.hist(k).log10();
        }
        if lagged.iter().all(|&v| v <= -60.0) {
            return (REF_SILENT_DB, EXCESS_MAX);
        }
        self.n_active += 1;
        let a = (1.0 / self.n_active as f64).max(0.01);
        // track which lag's reference envelope co-varies with the mic envelope
        self.mic_mean += a * (mic_db - self.mic_mean);
        let dm = mic_db - self.mic_mean;
        for k in 0..LAGS {
            self.ref_mean[k] += a * (lagged[k] - self.ref_mean[k]);
            self.lag_score[k] =
                (1.0 - a) * self.lag_score[k] + a * dm * (lagged[k] - self.ref_mean[k]);
        }
        let lag = self.lag();
        // smear ±1 frame around the lag for reverberation / sub-frame delay
        let (lo, hi) = (lag.saturating_sub(1), (lag + 2).min(LAGS));
        let (mut wmax, mut wmin) = (f64::MIN, f64::MAX);
        for k in lo..hi {
            wmax = wmax.max(self.hist(k));
            wmin = wmin.min(self.hist(k));
        }
        let pred_ref_db = 10.0 * wmax.log10();
        // gain: a running 20th percentile of the mic/ref ratio (quantile tracker with
        // fixed steps), told only by frames where the whole lag window is audible
        if 10.0 * wmin.log10() > -45.0 {
            let ratio = mic_db - pred_ref_db;
            self.gain_db += if ratio < self.gain_db { -1.0 } else { 0.25 };
        }
        let excess = mic_db - (pred_ref_db + self.gain_db);
        (ref_db_now, excess.min(EXCESS_MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_powers(n: usize, seed: u64) -> Vec<f64> {
        // deterministic bursty "speech" power envelope
        let mut s = seed;
        (0..n)
            .map(|i| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let r = (s >> 33) as f64 / (1u64 << 31) as f64;
                if (i / 25) % 3 == 2 {
                    1e-9
                } else {
                    1e-3 * (0.2 + r)
                }
            })
            .collect()
    }

    #[test]
    fn silent_reference_reports_no_echo() {
        let mut e = EchoEstimator::new();
        for _ in 0..50 {
            assert_eq!(e.step(1e-3, 0.0), (REF_SILENT_DB, EXCESS_MAX));
        }
    }

    #[test]
    fn finds_the_lag_and_pure_echo_has_small_excess() {
        let refp = frame_powers(1500, 7);
        let delay = 8;
        let mut e = EchoEstimator::new();
        let mut late = Vec::new();
        for i in 0..refp.len() {
            let mic = if i >= delay {
                0.05 * refp[i - delay]
            } else {
                0.0
            } + 1e-9;
            let (_, ex) = e.step(mic, refp[i]);
            if i > 1000 && refp[i - delay] > 1e-6 {
                late.push(ex);
            }
        }
        assert_eq!(e.lag(), delay);
        let mean = late.iter().sum::<f64>() / late.len() as f64;
        assert!(mean.abs() < 4.0, "pure echo excess {mean} dB");
    }

    #[test]
    fn user_on_top_of_echo_has_large_excess() {
        let refp = frame_powers(1200, 3);
        let mut e = EchoEstimator::new();
        let mut ex_user = Vec::new();
        for i in 0..refp.len() {
            let echo = if i >= 5 { 0.03 * refp[i - 5] } else { 0.0 };
            let user = if i > 1000 { 0.05 } else { 0.0 };
            let (_, ex) = e.step(echo + user + 1e-9, refp[i]);
            if i > 1010 {
                ex_user.push(ex);
            }
        }
        let min = ex_user.iter().cloned().fold(f64::MAX, f64::min);
        assert!(min > 6.0, "double talk excess only {min} dB");
    }

    #[test]
    fn reset_forgets() {
        let mut a = EchoEstimator::new();
        for p in frame_powers(300, 1) {
            a.step(p * 0.1, p);
        }
        a.reset();
        let mut b = EchoEstimator::new();
        for p in frame_powers(100, 2) {
            assert_eq!(a.step(p, p), b.step(p, p));
        }
    }
}
