//! Adaptive echo cancellation: subtract the persona's own voice from the mic.
//!
//! While the persona speaks, its voice comes back through the user's speaker
//! and microphone, delayed, attenuated and filtered. The floor stage knows
//! exactly what was played (the *reference*), so it can learn that echo path as
//! a linear filter and subtract its prediction. [`EchoCanceller`] is a
//! partitioned-block frequency-domain filter (overlap-save, one 10 ms frame per
//! block, FFT of two frames, `partitions` blocks of taps: 250 ms by default)
//! adapted as a **frequency-domain Kalman filter** (Enzner & Vary 2006; the
//! partitioned form of Kuech, Mabande & Enzner 2014), diagonal in frequency and
//! partition:
//!
//! * each tap `W[p][k]` has a variance `P[p][k]`, the filter's own uncertainty;
//! * the gain of bin `k` is `P·X* / (Σ_p P·|X|² + c·Ψ)`: what the filter does not
//!   know of the echo (`Σ P·|X|²`, the predicted misalignment) against what it
//!   cannot learn from (`Ψ`, the near end: the user and the room noise, estimated
//!   as the error's power less the predicted misalignment);
//! * after each update the variance shrinks by what the frame taught and grows by
//!   a random walk `(1 − A²)·|W|²`, so a converged filter keeps a little step.
//!
//! Double talk (the user speaking over the persona) needs no detector: the user
//! raises `Ψ` in the bins they occupy and the gain falls there, while a young
//! filter (large `P`) still learns fast. The same makes a settled filter slow to
//! see that the echo path moved (it takes the new echo for the user), so a
//! *shadow* filter runs beside it with its variances held at a prior: it never
//! settles, and when it clearly cancels more than the main filter, and either
//! removes most of the mic or the main filter adds energy (its path is gone), the
//! main filter takes its taps (Speex's and WebRTC's two-filter scheme). A shadow
//! pulled off the path by the user is put back.
//!
//! After more than `partitions` frames without a reference the mic passes through
//! unchanged and no work is done. Streaming and chunk-invariant (the block is
//! one frame); inputs are validated before any state changes.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::error::{CadenceError, Result};
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
/// Prior variance of every tap: -25 dB per tap (over the 25 partitions of the default
/// filter, a path about 11 dB down).
const P_START: f32 = 0.003;
/// Random-walk factor `A` of the taps per frame (`A²` kept, `1 − A²` of |W|² added
/// to the variance): how far the echo path is expected to wander.
const A2: f32 = 0.9999 * 0.9999;
/// Smoothing of the error power per bin (the share of the previous frame kept).
const ERR_SMOOTH: f32 = 0.5;
/// Overlap-save: the error block is half the transform, so the misalignment's
/// share of the error power is half of `Σ P·|X|²`; the same factor scales the
/// variance update.
const HALF: f32 = 0.5;
/// Weight of the near-end power `Ψ` in the gain's denominator.
const NEAR_WEIGHT: f32 = 2.0;
/// `Ψ` is kept at least this share of the error power (the misalignment estimate
/// can exceed the error on a frame).
const NEAR_FLOOR: f32 = 1e-6;
/// ... and at least a near end at -100 dBFS (error power per bin of a block whose
/// samples have mean square 1e-10): a reference and mic near digital silence must
/// not turn rounding into taps.
const NEAR_MIN: f32 = BLOCK as f32 * 1e-10;
/// Prior variance of the shadow filter's taps, which it keeps: it never settles,
/// so it follows an echo path that moved, which the main filter (sure of its taps)
/// would take for the user talking.
const P_SHADOW: f32 = 0.01;
/// Smoothing of the block energies that compare the two filters (~100 ms).
const SHADOW_SMOOTH: f32 = 0.9;
/// The main filter takes the shadow's taps when the shadow's error energy is under
/// this share of the main filter's ...
const TAKE_BELOW: f32 = 0.7;
/// ... and under this share of the mic's (it removes echo, not the user), unless the
/// main filter's error exceeds the mic (it adds energy: the path it learnt is gone).
const TAKE_CANCELS: f32 = 0.5;
/// The shadow is put back to the main filter when its error is this multiple of the
/// main filter's (near-end speech pulled it off the path).
const BACK_ABOVE: f32 = 4.0;
/// A reference block below this energy (sum of squares) counts as silent.
const SILENT_ENERGY: f64 = 1e-10;
const ZERO: Complex<f32> = Complex::new(0.0, 0.0);

/// FFT plans and their work buffers.
struct Fft {
    fwd: Arc<dyn RealToComplex<f32>>,
    inv: Arc<dyn ComplexToReal<f32>>,
    time: Vec<f32>,
    spec: Vec<Complex<f32>>,
    acc: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
}

impl Fft {
    fn new() -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let fwd = planner.plan_fft_forward(N_FFT);
        let inv = planner.plan_fft_inverse(N_FFT);
        let scratch_len = fwd.get_scratch_len().max(inv.get_scratch_len());
        Fft {
            fwd,
            inv,
            time: vec![0.0; N_FFT],
            spec: vec![ZERO; BINS],
            acc: vec![ZERO; BINS],
            scratch: vec![ZERO; scratch_len],
        }
    }

    /// `time` into `spec` (`time` is left as scratch).
    fn forward(&mut self) {
        self.fwd
            .process_with_scratch(&mut self.time, &mut self.spec, &mut self.scratch)
            .expect("planned lengths");
    }

    /// Inverse of `acc` into `time`, scaled (DC and Nyquist made real).
    fn inverse_acc(&mut self) {
        self.acc[0].im = 0.0;
        self.acc[BINS - 1].im = 0.0;
        self.inv
            .process_with_scratch(&mut self.acc, &mut self.time, &mut self.scratch)
            .expect("planned lengths");
        let scale = 1.0 / N_FFT as f32;
        self.time.iter_mut().for_each(|v| *v *= scale);
    }
}

/// One partitioned filter: taps, their variances and the smoothed error power per bin.
#[derive(Clone)]
struct Filter {
    /// Taps by partition (partition 0 meets the newest reference block).
    w: Vec<[Complex<f32>; BINS]>,
    var: Vec<[f32; BINS]>,
    err_power: [f32; BINS],
    /// The variances stay at the prior (the shadow filter) instead of shrinking.
    fixed: bool,
    prior: f32,
}

impl Filter {
    fn new(partitions: usize, prior: f32, fixed: bool) -> Self {
        Filter {
            w: vec![[ZERO; BINS]; partitions],
            var: vec![[prior; BINS]; partitions],
            err_power: [0.0; BINS],
            fixed,
            prior,
        }
    }

    /// The echo predicted for the newest block into `err`'s place: `err = mic − prediction`.
    fn error(
        &self,
        x_hist: &[[Complex<f32>; BINS]],
        head: usize,
        fft: &mut Fft,
        mic: &[f32],
        err: &mut [f32; BLOCK],
    ) {
        let k = self.w.len();
        fft.acc.fill(ZERO);
        for (p, w) in self.w.iter().enumerate() {
            let x = &x_hist[(head + p) % k];
            for ((a, &wv), &xv) in fft.acc.iter_mut().zip(w.iter()).zip(x.iter()) {
                *a += wv * xv;
            }
        }
        fft.inverse_acc();
        for ((e, &m), &y) in err.iter_mut().zip(mic).zip(&fft.time[BLOCK..]) {
            *e = m - y;
        }
    }

    /// One Kalman update from the error block `err`.
    fn adapt(
        &mut self,
        x_hist: &[[Complex<f32>; BINS]],
        head: usize,
        fft: &mut Fft,
        err: &[f32; BLOCK],
    ) {
        let k = self.w.len();
        // error spectrum of [0, e]
        fft.time[..BLOCK].fill(0.0);
        fft.time[BLOCK..].copy_from_slice(err);
        fft.forward();
        let err_spec: [Complex<f32>; BINS] = fft.spec[..].try_into().expect("BINS bins");
        // per bin: the predicted misalignment Σ P·|X|², the near end Ψ, the denominator
        let mut misalign = [0.0f32; BINS];
        for (p, v) in self.var.iter().enumerate() {
            let x = &x_hist[(head + p) % k];
            for ((m, c), &pv) in misalign.iter_mut().zip(x.iter()).zip(v.iter()) {
                *m += pv * c.norm_sqr();
            }
        }
        let mut denom = [0.0f32; BINS];
        for (((d, s), &m), e) in denom
            .iter_mut()
            .zip(self.err_power.iter_mut())
            .zip(&misalign)
            .zip(&err_spec)
        {
            *s = ERR_SMOOTH * *s + (1.0 - ERR_SMOOTH) * e.norm_sqr();
            let near = (*s - HALF * m).max(NEAR_FLOOR * *s).max(NEAR_MIN);
            *d = m + NEAR_WEIGHT * near;
        }
        for p in 0..k {
            let x = &x_hist[(head + p) % k];
            let (w, v) = (&self.w[p], &mut self.var[p]);
            for ((((a, xv), ev), (pv, wv)), d) in fft
                .acc
                .iter_mut()
                .zip(x)
                .zip(&err_spec)
                .zip(v.iter_mut().zip(w.iter()))
                .zip(&denom)
            {
                let gain = *pv / d; // the Kalman gain is gain · X*
                *a = xv.conj() * ev * gain;
                if !self.fixed {
                    *pv =
                        A2 * (1.0 - HALF * gain * xv.norm_sqr()) * *pv + (1.0 - A2) * wv.norm_sqr();
                }
            }
            // gradient constraint: keep the first half of the time-domain update
            fft.inverse_acc();
            fft.time[BLOCK..].fill(0.0);
            fft.forward();
            for (w, g) in self.w[p].iter_mut().zip(fft.spec.iter()) {
                *w += *g;
            }
        }
    }

    /// Take another filter's taps and start their variances from the prior.
    fn take(&mut self, other: &Filter) {
        self.w.clone_from(&other.w);
        self.err_power = other.err_power;
        self.var.iter_mut().for_each(|v| v.fill(self.prior));
    }
}

/// Streaming frequency-domain Kalman echo canceller with a shadow filter.
pub struct EchoCanceller {
    partitions: usize,
    fft: Fft,
    /// Reference spectra of the last `partitions` blocks; `x_hist[head]` is the newest.
    x_hist: Vec<[Complex<f32>; BINS]>,
    head: usize,
    /// The Kalman filter whose output is returned, and the shadow that never settles.
    main: Filter,
    shadow: Filter,
    prev_ref: [f32; BLOCK],
    /// Consecutive silent reference blocks (the filter has nothing to do past `partitions`).
    silent_run: usize,
    /// Smoothed energies per block of the mic and of both filters' errors (the shadow test).
    mic_avg: f32,
    main_avg: f32,
    shadow_avg: f32,
    /// Smoothed energies of the mic and of the output over the blocks the filter ran
    /// on (about 200 ms; [`EchoCanceller::erle_db`]).
    mic_energy: f32,
    out_energy: f32,
    /// Blocks the filter ran on, and the times the main filter took the shadow's taps
    /// (counters for tests and diagnostics).
    filtered: u64,
    takes: u64,
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
        Ok(EchoCanceller {
            partitions,
            fft: Fft::new(),
            x_hist: vec![[ZERO; BINS]; partitions],
            head: 0,
            main: Filter::new(partitions, P_START, false),
            shadow: Filter::new(partitions, P_SHADOW, true),
            prev_ref: [0.0; BLOCK],
            silent_run: usize::MAX,
            mic_avg: 0.0,
            main_avg: 0.0,
            shadow_avg: 0.0,
            mic_energy: 0.0,
            out_energy: 0.0,
            filtered: 0,
            takes: 0,
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
    /// energy, dB, over the frames the filter ran on (0 before any).
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

    fn step(&mut self, mic: &[f32], reference: &[f32], out: &mut [f32]) {
        let ref_power = mean_square(reference);
        self.silent_run = if ref_power * (BLOCK as f64) < SILENT_ENERGY {
            self.silent_run.saturating_add(1)
        } else {
            0
        };
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
        self.filtered += 1;
        // newest reference spectrum: FFT of [previous block, this block]
        let k = self.partitions;
        self.head = (self.head + k - 1) % k;
        self.fft.time[..BLOCK].copy_from_slice(&self.prev_ref);
        self.fft.time[BLOCK..].copy_from_slice(reference);
        self.prev_ref.copy_from_slice(reference);
        self.fft.forward();
        self.x_hist[self.head].copy_from_slice(&self.fft.spec);

        let mut err = [0.0f32; BLOCK];
        let mut err_shadow = [0.0f32; BLOCK];
        self.main
            .error(&self.x_hist, self.head, &mut self.fft, mic, &mut err);
        self.shadow
            .error(&self.x_hist, self.head, &mut self.fft, mic, &mut err_shadow);
        let energy = |x: &[f32]| x.iter().map(|v| v * v).sum::<f32>();
        let (e_mic, e_main, e_shadow) = (energy(mic), energy(&err), energy(&err_shadow));
        self.mic_avg = SHADOW_SMOOTH * self.mic_avg + (1.0 - SHADOW_SMOOTH) * e_mic;
        self.main_avg = SHADOW_SMOOTH * self.main_avg + (1.0 - SHADOW_SMOOTH) * e_main;
        self.shadow_avg = SHADOW_SMOOTH * self.shadow_avg + (1.0 - SHADOW_SMOOTH) * e_shadow;
        let shadow_better = self.shadow_avg < TAKE_BELOW * self.main_avg;
        if shadow_better
            && (self.shadow_avg < TAKE_CANCELS * self.mic_avg || self.main_avg > self.mic_avg)
        {
            // the shadow explains the echo clearly better, and removes echo rather than
            // the user (or the main filter adds energy: its path is gone): the path moved,
            // or the main filter is young. Its taps become the main filter's, still uncertain
            self.main.take(&self.shadow);
            self.takes += 1;
            self.main_avg = self.shadow_avg;
            err = err_shadow;
        } else if self.shadow_avg > BACK_ABOVE * self.main_avg {
            // near-end speech pulled the shadow off the path: put it back (its variances
            // stay at its prior)
            self.shadow.take(&self.main);
            self.shadow_avg = self.main_avg;
            err_shadow = err;
        }
        for (o, &e) in out.iter_mut().zip(&err) {
            *o = e.clamp(-MAX_SAMPLE_ABS, MAX_SAMPLE_ABS); // a valid sample for the next stage
        }
        self.mic_energy += 0.05 * (e_mic - self.mic_energy);
        self.out_energy += 0.05 * (energy(&err) - self.out_energy);
        self.main
            .adapt(&self.x_hist, self.head, &mut self.fft, &err);
        self.shadow
            .adapt(&self.x_hist, self.head, &mut self.fft, &err_shadow);
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
    fn a_user_talking_from_the_first_frame_is_kept_and_the_echo_still_learnt() {
        // double talk before the filter knows anything: the user (louder than the echo)
        // talks for the first 3 s, then the persona's echo is alone
        let n = 16000 * 8;
        let x = speechy(n, 11);
        let user: Vec<f32> = speechy(n, 12)
            .iter()
            .enumerate()
            .map(|(i, v)| if i < 16000 * 3 { 2.0 * v } else { 0.0 })
            .collect();
        let echo = echo_of(&x, 700, 0.3);
        let mic: Vec<f32> = echo.iter().zip(&user).map(|(a, b)| a + b).collect();
        let out = run(&mut EchoCanceller::default(), &mic, Some(&x));
        let dt = 0..16000 * 3;
        let kept = energy_db(&out[dt.clone()]) - energy_db(&user[dt]);
        assert!(
            kept.abs() < 1.0,
            "the user's speech changed by {kept:.2} dB"
        );
        let tail = n - 16000 * 2;
        let erle = energy_db(&mic[tail..]) - energy_db(&out[tail..]);
        assert!(erle > 20.0, "ERLE once the echo is alone: {erle:.1} dB");
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
        let mut out = run(&mut aec, &mic[..n / 2], Some(&x[..n / 2]));
        let settled = aec.takes;
        out.extend(run(&mut aec, &mic[n / 2..], Some(&x[n / 2..])));
        let tail = n - 16000 * 2;
        let erle = energy_db(&mic[tail..]) - energy_db(&out[tail..]);
        assert!(erle > 20.0, "ERLE 2 s after the path moved: {erle:.1} dB");
        // the shadow filter, which never settles, handed the new path over
        assert!(
            aec.takes > settled,
            "no take-over after the move ({settled} before)"
        );
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
        // ... and from the (partitions + 1)-th silent frame on the mic passes untouched,
        // and the filter does no work
        let pass = 16000 * 4 + (DEFAULT_PARTITIONS + 1) * BLOCK;
        assert_eq!(&out[pass..], &m[pass..]);
        assert_eq!(aec.filtered as usize, 400 + DEFAULT_PARTITIONS);
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
