//! Adaptive echo cancellation: subtract the persona's own voice from the mic.
//!
//! While the persona speaks, its voice comes back through the user's speaker
//! and microphone, delayed, attenuated and filtered. The floor stage knows
//! exactly what was played (the *reference*), so it can learn that echo path as
//! a linear filter and subtract its prediction. [`EchoCanceller`] is a
//! partitioned-block frequency-domain adaptive filter (overlap-save, one 10 ms
//! frame per block, FFT of two frames, `partitions` blocks of taps: 250 ms by
//! default), normalised per frequency bin by the reference power (NLMS).
//!
//! Double talk (the user speaking over the persona) would drive an adapting
//! filter off the echo path. Two filters guard against it, the scheme of
//! Speex's MDF canceller: a *background* filter adapts on every frame; the
//! *foreground* filter, whose output is returned, only takes the background's
//! taps when the background has clearly cancelled more over the last frames,
//! and the background is put back to the foreground when it has clearly
//! cancelled less (it was pulled off by near-end speech).
//!
//! The background's step shrinks with the mic's power against the reference's,
//! with the share of the mic the foreground's prediction explains (once it
//! cancels) and as its error nears the mic's noise floor; part of it is given
//! out by partition, to those holding the echo path (by their taps, or, while
//! the filter is young, around the frame-level lag of [`EchoEstimator`]).
//! A foreground that adds energy is cleared.
//!
//! After more than `partitions` frames without a reference the mic passes through
//! unchanged and no work is done. Streaming and chunk-invariant (the block is
//! one frame); inputs are validated before any state changes.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::error::{CadenceError, Result};
use crate::floor::echo::{self, EchoEstimator};
use crate::floor::{check_frames_io, mean_square};
use crate::samples::MAX_SAMPLE_ABS;
use crate::FRAME_SAMPLES;

/// Samples per block (one 10 ms frame).
const BLOCK: usize = FRAME_SAMPLES;
const N_FFT: usize = 2 * BLOCK;
const BINS: usize = BLOCK + 1;
/// Default filter length in blocks (250 ms of echo path).
pub const DEFAULT_PARTITIONS: usize = 25;
/// Longest filter accepted, blocks (1 s).
pub const MAX_PARTITIONS: usize = 100;
/// NLMS step of the background filter (it adapts on every frame; the two-filter
/// test below keeps near-end speech from reaching the output's filter).
const MU: f32 = 0.8;
/// The variable step (below): the share of the noise-to-error amplitude ratio taken off the
/// step, and the least share of the step kept.
const NPVSS: f32 = 1.0;
const MU_MIN: f32 = 0.05;
/// Share of the step given out by each partition's tap energy (IPNLMS over partitions; the
/// rest is spread evenly): an echo path is a bulk delay then a short response. Until the
/// foreground cancels, half of that share follows the frame-level lag estimate instead
/// (a Gaussian 1.5 partitions wide around it), so a young filter learns where the echo is.
const PROPORTIONATE: f32 = 0.25;
/// The foreground takes the background's taps when the background's smoothed
/// error energy is lower by a margin whose square exceeds this multiple of the
/// margin's variance under "no better" (near-end speech makes both errors large
/// and their difference noisy) ...
const TAKE_SIGNIFICANCE: f32 = 0.5;
/// ... and only when the background removes at least this share of the mic's energy
/// (near-end speech louder than the echo cannot be removed by a true echo path, so a
/// filter pulled by it does not pass; a filter fitted to voiced speech over a few
/// frames can look better than the foreground for a moment) ...
const TAKE_CANCELS: f32 = 0.5;
/// That last test applies only while the mic is this multiple above its noise floor:
/// an echo near or under the room noise cannot remove half the mic's energy, and a
/// near-end talker that quiet barely moves the filter.
const LOUD_ABOVE_FLOOR: f32 = 4.0;
/// The mic's noise floor (a minimum of `mic_avg`) rises this much per frame (~0.9 dB/s).
const FLOOR_RISE: f32 = 1.002;
/// The background is put back to the foreground when its smoothed error energy is
/// this multiple of the foreground's (near-end speech has pulled it off the path),
/// once the foreground cancels (by `TAKE_CANCELS`): before that there is nothing
/// to go back to, and the background's first steps may overshoot ...
const RESET_ABOVE: f32 = 2.0;
/// ... and always when it is this multiple worse (20 dB: it has diverged, whatever the
/// foreground; a bound on what a background pulled by a loud near end can cost).
const DIVERGED_ABOVE: f32 = 100.0;
/// Double talk: once the foreground has cancelled (`adapted`), the background's
/// step scales with the share of the mic that the foreground's echo prediction
/// explains (squared correlation ξ² of mic and prediction over the last frames):
/// full from `XI2_FULL`, zero at `XI2_FREEZE` (the user talks over the persona).
const XI2_FULL: f32 = 0.6;
const XI2_FREEZE: f32 = 0.2;
/// The foreground counts as adapted once it removes this share of the mic's
/// energy, and as lost (the echo path moved, or it took a filter fitted to noise:
/// it is cleared and the background adapts at full step again) when its output
/// holds clearly more energy than the mic (this multiple).
const ADAPTED_BELOW: f32 = 0.25;
const LOST_ABOVE: f32 = 1.5;
/// Sample power of the quietest reference the step is normalised by (-50 dBFS).
const REF_FLOOR_POWER: f32 = 1e-5;
/// Share of the mic's own power added to the normaliser (which sums the reference's
/// power): the step shrinks as the mic's power (the user, loud noise) grows against the
/// reference's. A user far louder than the persona's reference slows the filter; one
/// over a quiet echo but under the reference barely does (the two-filter test guards then).
const MIC_REG: f32 = 1.0;
/// A reference block below this energy (sum of squares) counts as silent.
const SILENT_ENERGY: f64 = 1e-10;
const ZERO: Complex<f32> = Complex::new(0.0, 0.0);

/// Streaming two-filter frequency-domain echo canceller.
pub struct EchoCanceller {
    partitions: usize,
    fwd: Arc<dyn RealToComplex<f32>>,
    inv: Arc<dyn ComplexToReal<f32>>,
    /// Reference spectra of the last `partitions` blocks; `x_hist[head]` is the newest.
    x_hist: Vec<[Complex<f32>; BINS]>,
    head: usize,
    w_fg: Vec<[Complex<f32>; BINS]>,
    w_bg: Vec<[Complex<f32>; BINS]>,
    prev_ref: [f32; BLOCK],
    /// Consecutive silent reference blocks (the filter has nothing to do past `partitions`).
    silent_run: usize,
    /// Smoothed (foreground − background) error energy, and its variance under "no better".
    diff_avg: f32,
    diff_var: f32,
    /// Smoothed energies of the mic and of both errors (same smoothing as `diff_avg`).
    mic_avg: f32,
    bg_avg: f32,
    /// Noise floor of the mic (a slowly rising minimum of `mic_avg`).
    mic_floor: f32,
    fg_avg: f32,
    /// Smoothed Σ mic·prediction and Σ prediction² of the foreground.
    dy_avg: f32,
    yy_avg: f32,
    adapted: bool,
    /// Frame-level echo lag estimate: until the filter cancels, the step leans on the
    /// partitions around it.
    lag: EchoEstimator,
    /// Smoothed energies of the mic and of the output over blocks with a reference.
    mic_energy: f32,
    out_energy: f32,
    time: Vec<f32>,
    spec: Vec<Complex<f32>>,
    acc: Vec<Complex<f32>>,
    y_bg: Vec<f32>,
    scratch: Vec<Complex<f32>>,
}

impl std::fmt::Debug for EchoCanceller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EchoCanceller")
            .field("partitions", &self.partitions)
            .field("erle_db", &self.erle_db())
            .finish()
    }
}

impl Default for EchoCanceller {
    fn default() -> Self {
        Self::new(DEFAULT_PARTITIONS).expect("default partitions are valid")
    }
}

impl EchoCanceller {
    /// A canceller whose filter covers `partitions` frames (10 ms each) of echo path.
    pub fn new(partitions: usize) -> Result<Self> {
        if partitions == 0 || partitions > MAX_PARTITIONS {
            return Err(CadenceError::InvalidArgument(format!(
                "partitions must be in 1..={MAX_PARTITIONS} (10 ms each), got {partitions}"
            )));
        }
        let mut planner = RealFftPlanner::<f32>::new();
        let fwd = planner.plan_fft_forward(N_FFT);
        let inv = planner.plan_fft_inverse(N_FFT);
        let scratch_len = fwd.get_scratch_len().max(inv.get_scratch_len());
        Ok(EchoCanceller {
            partitions,
            x_hist: vec![[ZERO; BINS]; partitions],
            head: 0,
            w_fg: vec![[ZERO; BINS]; partitions],
            w_bg: vec![[ZERO; BINS]; partitions],
            prev_ref: [0.0; BLOCK],
            silent_run: usize::MAX,
            diff_avg: 0.0,
            diff_var: 0.0,
            mic_avg: 0.0,
            bg_avg: 0.0,
            mic_floor: f32::MAX,
            fg_avg: 0.0,
            dy_avg: 0.0,
            yy_avg: 0.0,
            adapted: false,
            lag: EchoEstimator::new(),
            mic_energy: 0.0,
            out_energy: 0.0,
            time: vec![0.0; N_FFT],
            spec: vec![ZERO; BINS],
            acc: vec![ZERO; BINS],
            y_bg: vec![0.0; BLOCK],
            scratch: vec![ZERO; scratch_len],
            fwd,
            inv,
        })
    }

    pub fn partitions(&self) -> usize {
        self.partitions
    }

    /// Forget the echo path (a new call).
    pub fn reset(&mut self) {
        let fresh = Self::new(self.partitions).expect("partitions were checked");
        *self = fresh;
    }

    /// Echo return loss enhancement so far: smoothed mic energy over output
    /// energy, dB, in frames with a reference (0 before any).
    pub fn erle_db(&self) -> f64 {
        if self.mic_energy <= 0.0 {
            return 0.0;
        }
        10.0 * ((self.mic_energy as f64 + 1e-12) / (self.out_energy as f64 + 1e-12)).log10()
    }

    /// `mic` and `reference` (what the persona played in the same samples, or
    /// None: silence): whole 10 ms frames. Writes the mic with the predicted
    /// echo removed to `out` (magnitudes capped at [`MAX_SAMPLE_ABS`], so the output
    /// is valid input for the next stage). A refused call changes nothing.
    pub fn process(
        &mut self,
        mic: &[f32],
        reference: Option<&[f32]>,
        out: &mut [f32],
    ) -> Result<()> {
        check_frames_io(mic, reference, out)?;
        const SILENCE: [f32; BLOCK] = [0.0; BLOCK];
        for (i, (m, o)) in mic
            .chunks_exact(BLOCK)
            .zip(out.chunks_exact_mut(BLOCK))
            .enumerate()
        {
            let r = reference.map_or(&SILENCE[..], |r| &r[i * BLOCK..(i + 1) * BLOCK]);
            self.step(m, r, o);
        }
        Ok(())
    }

    fn fft(&mut self) {
        self.fwd
            .process_with_scratch(&mut self.time, &mut self.spec, &mut self.scratch)
            .expect("planned lengths");
    }

    /// Inverse of `self.acc` into `self.time`, scaled (DC and Nyquist made real).
    fn ifft_acc(&mut self) {
        self.acc[0].im = 0.0;
        self.acc[BINS - 1].im = 0.0;
        self.inv
            .process_with_scratch(&mut self.acc, &mut self.time, &mut self.scratch)
            .expect("planned lengths");
        let scale = 1.0 / N_FFT as f32;
        self.time.iter_mut().for_each(|v| *v *= scale);
    }

    /// Echo prediction of filter `w` for the current block into `y` (BLOCK samples).
    fn predict(&mut self, fg: bool, y: Option<&mut [f32]>) {
        self.acc.fill(ZERO);
        let k = self.partitions;
        for p in 0..k {
            let x = &self.x_hist[(self.head + p) % k];
            let w = if fg { &self.w_fg[p] } else { &self.w_bg[p] };
            for ((a, &wv), &xv) in self.acc.iter_mut().zip(w.iter()).zip(x.iter()) {
                *a += wv * xv;
            }
        }
        self.ifft_acc();
        if let Some(y) = y {
            y.copy_from_slice(&self.time[BLOCK..]);
        }
    }

    fn step(&mut self, mic: &[f32], reference: &[f32], out: &mut [f32]) {
        let ref_power = mean_square(reference);
        self.silent_run = if ref_power * (BLOCK as f64) < SILENT_ENERGY {
            self.silent_run.saturating_add(1)
        } else {
            0
        };
        // the lag estimate reads the silence too, until its history has forgotten the persona
        if self.silent_run <= self.partitions + echo::HIST {
            self.lag.step(mean_square(mic), ref_power);
        }
        if self.silent_run > self.partitions {
            // no reference left in the filter's reach: nothing to cancel (the history
            // is silence from here, so a reference that starts again finds it empty)
            if self.silent_run == self.partitions + 1 {
                self.x_hist.iter_mut().for_each(|x| x.fill(ZERO));
                self.prev_ref.fill(0.0);
            }
            out.copy_from_slice(mic);
            return;
        }
        // newest reference spectrum: FFT of [previous block, this block]
        let k = self.partitions;
        self.head = (self.head + k - 1) % k;
        self.time[..BLOCK].copy_from_slice(&self.prev_ref);
        self.time[BLOCK..].copy_from_slice(reference);
        self.prev_ref.copy_from_slice(reference);
        self.fft();
        self.x_hist[self.head].copy_from_slice(&self.spec);

        // both filters' predictions and errors
        let mut y_bg = std::mem::take(&mut self.y_bg);
        self.predict(false, Some(&mut y_bg));
        self.predict(true, None);
        let (mut e_fg, mut e_bg, mut e_mic, mut d_fb) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
        let (mut dy, mut yy) = (0.0f32, 0.0f32);
        for j in 0..BLOCK {
            let yf = self.time[BLOCK + j];
            dy += mic[j] * yf;
            yy += yf * yf;
            let ef = mic[j] - yf;
            out[j] = ef.clamp(-MAX_SAMPLE_ABS, MAX_SAMPLE_ABS); // a valid sample for the next stage
            e_fg += ef * ef;
            let eb = mic[j] - y_bg[j];
            y_bg[j] = eb; // now the background's error
            e_bg += eb * eb;
            d_fb += (ef - eb) * (ef - eb);
            e_mic += mic[j] * mic[j];
        }
        // Σef² − Σeb² = Σd·(2·eb + d) with d = ef − eb per sample: under "no better" its
        // spread is about 2·sqrt(Σe²·Σd²); diff_var tracks Σe²·Σd² (Speex's statistic),
        // so TAKE_SIGNIFICANCE 0.5 is a test at about 0.35 of that spread
        self.diff_avg = 0.6 * self.diff_avg + 0.4 * (e_fg - e_bg);
        self.diff_var = 0.36 * self.diff_var + 0.16 * e_fg * d_fb;
        self.mic_avg = 0.6 * self.mic_avg + 0.4 * e_mic;
        self.bg_avg = 0.6 * self.bg_avg + 0.4 * e_bg;
        self.mic_floor = (self.mic_floor * FLOOR_RISE).min(self.mic_avg.max(1e-12));
        self.fg_avg = 0.6 * self.fg_avg + 0.4 * e_fg;
        self.dy_avg = 0.6 * self.dy_avg + 0.4 * dy;
        self.yy_avg = 0.6 * self.yy_avg + 0.4 * yy;
        if self.fg_avg < ADAPTED_BELOW * self.mic_avg {
            self.adapted = true;
        } else if self.fg_avg > LOST_ABOVE * self.mic_avg {
            // the foreground adds more than it removes: do no harm, start it from nothing
            self.adapted = false;
            self.w_fg.iter_mut().for_each(|w| w.fill(ZERO));
            (self.diff_avg, self.diff_var) = (0.0, 0.0);
            self.fg_avg = self.mic_avg;
        }
        let mu = if self.adapted {
            let xi2 = self.dy_avg * self.dy_avg / (self.mic_avg * self.yy_avg + 1e-20);
            MU * ((xi2 - XI2_FREEZE) / (XI2_FULL - XI2_FREEZE)).clamp(0.0, 1.0)
        } else {
            MU
        };
        // non-parametric variable step (Benesty et al. 2006): as the background's error
        // falls to the mic's noise floor there is less echo left to learn and the step
        // shrinks, so the noise does not keep jostling a converged filter
        let mu = mu
            * (1.0 - NPVSS * (self.mic_floor / self.bg_avg.max(1e-20)).sqrt()).clamp(MU_MIN, 1.0);
        self.mic_energy += 0.05 * (e_mic - self.mic_energy);
        self.out_energy += 0.05 * (e_fg - self.out_energy);

        // the foreground follows a better background; a diverged background is put back
        let sq = self.diff_avg * self.diff_avg;
        if self.diff_avg > 0.0
            && sq > TAKE_SIGNIFICANCE * self.diff_var
            && (self.bg_avg < TAKE_CANCELS * self.mic_avg
                || self.mic_avg < LOUD_ABOVE_FLOOR * self.mic_floor)
        {
            self.w_fg.clone_from(&self.w_bg);
            (self.diff_avg, self.diff_var) = (0.0, 0.0);
        } else if (self.bg_avg > RESET_ABOVE * self.fg_avg + 1e-12
            && self.fg_avg < TAKE_CANCELS * self.mic_avg)
            || self.bg_avg > DIVERGED_ABOVE * self.fg_avg + 1e-12
        {
            self.w_bg.clone_from(&self.w_fg);
            (self.diff_avg, self.diff_var) = (0.0, 0.0);
            self.bg_avg = self.fg_avg;
            // adapt the restored taps on their own error, not the diverged filter's (as Speex)
            y_bg.copy_from_slice(out);
        }

        if mu == 0.0 {
            self.y_bg = y_bg;
            return;
        }
        // NLMS update of the background: error spectrum of [0, e]
        self.time[..BLOCK].fill(0.0);
        self.time[BLOCK..].copy_from_slice(&y_bg);
        self.y_bg = y_bg;
        self.fft();
        let err_spec: [Complex<f32>; BINS] = self.spec[..].try_into().expect("BINS bins");
        let mut power = [0.0f32; BINS];
        for x in &self.x_hist {
            for (p, c) in power.iter_mut().zip(x.iter()) {
                *p += c.norm_sqr();
            }
        }
        let mean_power = power.iter().sum::<f32>() / BINS as f32;
        // regularisation: relative (bins the reference leaves empty), absolute (a reference
        // near silence must not turn mic noise into huge taps) and the mic's power (MIC_REG)
        let floor = 0.01 * mean_power
            + (k * N_FFT) as f32 * (REF_FLOOR_POWER + MIC_REG * self.mic_avg / BLOCK as f32);
        // partition-proportionate step (IPNLMS over partitions): partitions that hold
        // the echo path (after its bulk delay) learn faster than the empty ones
        let mut w_energy = [0.0f32; MAX_PARTITIONS];
        for (e, w) in w_energy.iter_mut().zip(&self.w_bg) {
            *e = w.iter().map(|c| c.norm_sqr()).sum();
        }
        let total: f32 = w_energy[..k].iter().sum();
        // while the filter is young, half of the shape follows the lag estimate
        let mut prior = [0.0f32; MAX_PARTITIONS];
        if !self.adapted {
            let lag = self.lag.lag() as f32;
            for (p, v) in prior[..k].iter_mut().enumerate() {
                *v = (-0.5 * ((p as f32 - lag) / 1.5).powi(2)).exp();
            }
            let sum: f32 = prior[..k].iter().sum();
            prior[..k].iter_mut().for_each(|v| *v /= sum);
        }
        for (p, &taps) in w_energy[..k].iter().enumerate() {
            let by_taps = if total > 0.0 {
                taps / total
            } else {
                1.0 / k as f32
            };
            let shape = if self.adapted {
                by_taps
            } else {
                0.5 * by_taps + 0.5 * prior[p]
            };
            let share = (1.0 - PROPORTIONATE) + PROPORTIONATE * k as f32 * shape;
            let x = &self.x_hist[(self.head + p) % k];
            for (((a, xv), ev), pw) in self.acc.iter_mut().zip(x).zip(&err_spec).zip(&power) {
                *a = xv.conj() * ev * (mu * share / (pw + floor));
            }
            // gradient constraint: keep the first half of the time-domain update
            self.ifft_acc();
            self.time[BLOCK..].fill(0.0);
            self.fft();
            for (w, g) in self.w_bg[p].iter_mut().zip(self.spec.iter()) {
                *w += *g;
            }
        }
    }
}

#[cfg(test)]
mod tests_support {
    /// Deterministic speech-like reference: noise shaped by a slow envelope with pauses.
    pub fn speechy(n: usize, seed: u64) -> Vec<f32> {
        let mut prev = 0.0f32;
        (0..n)
            .map(|i| {
                // splitmix64 of (seed, i): independent streams for different seeds
                let mut z = (seed << 40 ^ i as u64).wrapping_add(0x9e3779b97f4a7c15);
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
                z ^= z >> 31;
                let u = ((z >> 40) as f32 / (1u64 << 23) as f32) - 1.0;
                prev = 0.6 * prev + u; // a little low-pass colour
                let env =
                    (0.5 + 0.5 * (i as f32 * 2.0 * std::f32::consts::PI / 4000.0).sin()).powi(2);
                0.1 * prev * env
            })
            .collect()
    }

    /// Echo path: delay, a short low-pass FIR, gain.
    pub fn echo_of(x: &[f32], delay: usize, gain: f32) -> Vec<f32> {
        let taps = [0.2f32, 0.5, 0.2, 0.1];
        (0..x.len())
            .map(|i| {
                taps.iter()
                    .enumerate()
                    .filter(|(t, _)| i >= delay + t)
                    .map(|(t, h)| h * x[i - delay - t])
                    .sum::<f32>()
                    * gain
            })
            .collect()
    }

    pub fn energy_db(x: &[f32]) -> f64 {
        10.0 * (x.iter().map(|&v| v as f64 * v as f64).sum::<f64>() + 1e-20).log10()
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::*;
    use super::*;

    fn run(aec: &mut EchoCanceller, mic: &[f32], r: Option<&[f32]>) -> Vec<f32> {
        let mut out = vec![0.0; mic.len()];
        aec.process(mic, r, &mut out).unwrap();
        out
    }

    #[test]
    fn cancels_a_linear_echo_path() {
        let n = 16000 * 6;
        let x = speechy(n, 1);
        let mic = echo_of(&x, 800, 0.3); // 50 ms, about -12 dB
        let mut aec = EchoCanceller::default();
        let out = run(&mut aec, &mic, Some(&x));
        let tail = n - 16000 * 2;
        let erle = energy_db(&mic[tail..]) - energy_db(&out[tail..]);
        assert!(erle > 25.0, "ERLE over the last 2 s: {erle:.1} dB");
        assert!(aec.erle_db() > 20.0, "{:?}", aec);
    }

    #[test]
    fn keeps_the_user_over_the_persona_and_stays_converged() {
        let n = 16000 * 8;
        let x = speechy(n, 2);
        let user: Vec<f32> = speechy(n, 99)
            .iter()
            .enumerate()
            .map(|(i, v)| if i > 16000 * 4 { 1.5 * v } else { 0.0 })
            .collect();
        let echo = echo_of(&x, 1200, 0.5);
        let mic: Vec<f32> = echo.iter().zip(&user).map(|(a, b)| a + b).collect();
        let mut aec = EchoCanceller::default();
        let out = run(&mut aec, &mic, Some(&x));
        let dt = 16000 * 5..n; // double talk, after a second of it
        let residual: Vec<f32> = out[dt.clone()]
            .iter()
            .zip(&user[dt.clone()])
            .map(|(o, u)| o - u)
            .collect();
        let erle = energy_db(&echo[dt.clone()]) - energy_db(&residual);
        assert!(
            erle > 15.0,
            "echo left under double talk: ERLE {erle:.1} dB"
        );
        let kept = energy_db(&out[dt.clone()]) - energy_db(&user[dt]);
        assert!(
            kept.abs() < 1.0,
            "the user's speech changed by {kept:.2} dB"
        );
    }

    #[test]
    fn follows_a_changed_echo_path() {
        let n = 16000 * 8;
        let x = speechy(n, 3);
        let a = echo_of(&x, 400, 0.4);
        let b = echo_of(&x, 2400, 0.2);
        let mic: Vec<f32> = (0..n)
            .map(|i| if i < n / 2 { a[i] } else { b[i] })
            .collect();
        let mut aec = EchoCanceller::default();
        let out = run(&mut aec, &mic, Some(&x));
        let tail = n - 16000 * 2;
        let erle = energy_db(&mic[tail..]) - energy_db(&out[tail..]);
        assert!(erle > 20.0, "ERLE 2 s after the path moved: {erle:.1} dB");
    }

    #[test]
    fn without_a_reference_the_mic_passes_unchanged() {
        let user = speechy(16000, 4);
        let mut aec = EchoCanceller::default();
        assert_eq!(run(&mut aec, &user, None), user);
        // the persona talks 4 s, then stops; its echo (50 ms late) rings on past its end
        let x = speechy(16000 * 4, 5);
        let mut r = x.clone();
        r.extend(vec![0.0; 16000 * 2]);
        let mut m = echo_of(&r, 800, 0.3);
        for (v, u) in m[16000 * 4 + 1600..].iter_mut().zip(&user) {
            *v += u; // the user talks alone from 100 ms after the reference stops
        }
        let out = run(&mut aec, &m, Some(&r));
        // the echo's tail after the reference stops is still cancelled ...
        let tail = 16000 * 4..16000 * 4 + 800;
        let erle = energy_db(&m[tail.clone()]) - energy_db(&out[tail]);
        assert!(
            erle > 15.0,
            "echo tail after the reference stopped: ERLE {erle:.1} dB"
        );
        // ... and from the (partitions + 1)-th silent frame on the mic passes untouched
        let pass = 16000 * 4 + (DEFAULT_PARTITIONS + 1) * BLOCK;
        assert_eq!(&out[pass..], &m[pass..]);
    }

    #[test]
    fn chunk_invariant() {
        let n = 16000 * 2;
        let x = speechy(n, 6);
        let mic = echo_of(&x, 500, 0.3);
        let whole = run(&mut EchoCanceller::default(), &mic, Some(&x));
        let mut aec = EchoCanceller::default();
        let mut parts = Vec::new();
        let mut i = 0;
        for (j, k) in [1usize, 7, 3, 13].iter().cycle().enumerate() {
            if i >= n || j > 10_000 {
                break;
            }
            let e = (i + k * BLOCK).min(n);
            parts.extend(run(&mut aec, &mic[i..e], Some(&x[i..e])));
            i = e;
        }
        assert_eq!(parts, whole);
    }

    #[test]
    fn an_echo_beyond_its_reach_is_not_made_louder() {
        let n = 16000 * 4;
        let x = speechy(n, 7);
        let mic = echo_of(&x, 16000 / 2, 0.3); // 500 ms: beyond 250 ms
        let out = run(&mut EchoCanceller::default(), &mic, Some(&x));
        assert!(energy_db(&out) < energy_db(&mic) + 1.0);
    }

    #[test]
    fn refuses_bad_input_and_loses_nothing() {
        assert!(EchoCanceller::new(0).is_err());
        assert!(EchoCanceller::new(MAX_PARTITIONS + 1).is_err());
        let n = 16000;
        let x = speechy(n, 8);
        let mic = echo_of(&x, 300, 0.3);
        let mut a = EchoCanceller::default();
        let mut b = EchoCanceller::default();
        let first = run(&mut a, &mic[..n / 2], Some(&x[..n / 2]));
        assert_eq!(first, run(&mut b, &mic[..n / 2], Some(&x[..n / 2])));
        let mut out = vec![0.0; 320];
        let mut bad = mic[..320].to_vec();
        bad[5] = f32::NAN;
        assert!(a.process(&bad, Some(&x[..320]), &mut out).is_err());
        let mut bad_ref = x[..320].to_vec();
        bad_ref[7] = f32::INFINITY;
        assert!(a.process(&mic[..320], Some(&bad_ref), &mut out).is_err());
        assert!(a.process(&mic[..300], None, &mut out[..300]).is_err());
        assert!(a.process(&mic[..320], Some(&x[..160]), &mut out).is_err());
        let rest = n / 2..n;
        assert_eq!(
            run(&mut a, &mic[rest.clone()], Some(&x[rest.clone()])),
            run(&mut b, &mic[rest.clone()], Some(&x[rest]))
        );
    }
}
