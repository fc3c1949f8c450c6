//! YIN fundamental-frequency estimation (de Cheveigné & Kawahara, 2002):
//! difference function, cumulative mean normalized difference (CMND),
//! absolute threshold with descent to the local minimum, and parabolic
//! interpolation of the period.
//!
//! The difference function is computed through one FFT cross-correlation,
//! `d(τ) = Σa² + Σx_{j+τ}² − 2 Σ a_j x_{j+τ}` (energies from prefix sums),
//! instead of the direct O(W·τmax) sum. The voicing value is the normalized
//! cross-correlation (NCCF, as in RAPT/Praat) at the chosen lag, which is
//! insensitive to the amplitude changes of voicing onsets and offsets, where
//! the CMND alone is pessimistic. Buffers are owned and reused: no allocation
//! after construction.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Result of one YIN analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pitch {
    /// Fundamental frequency (Hz); 0 when unvoiced.
    pub f0_hz: f32,
    /// Normalized cross-correlation at the chosen lag, clamped to [0, 1].
    pub voicing: f32,
    /// Whether the frame is judged voiced.
    pub voiced: bool,
}

/// A YIN estimator over windows of `window + tau_max + 2` samples.
pub struct Yin {
    sample_rate: f32,
    f_min: f32,
    f_max: f32,
    window: usize,
    tau_min: usize,
    tau_max: usize,
    /// Absolute threshold on the CMND for picking the first dip.
    threshold: f32,
    /// NCCF at the chosen lag must reach this for the frame to be voiced.
    voiced_above: f32,
    fwd: Arc<dyn RealToComplex<f32>>,
    inv: Arc<dyn ComplexToReal<f32>>,
    a_buf: Vec<f32>,
    x_buf: Vec<f32>,
    a_spec: Vec<Complex<f32>>,
    x_spec: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    corr: Vec<f32>,
    /// prefix[i] = Σ_{j<i} x_j², f64 against cancellation.
    prefix: Vec<f64>,
    cmnd: Vec<f32>,
}

impl std::fmt::Debug for Yin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Yin")
            .field("window", &self.window)
            .field("tau_min", &self.tau_min)
            .field("tau_max", &self.tau_max)
            .finish()
    }
}

impl Yin {
    /// `window`: integration length (samples); lags cover
    /// `sample_rate / f_max ..= sample_rate / f_min`.
    pub fn new(sample_rate: f32, window: usize, f_min: f32, f_max: f32) -> Self {
        assert!(window > 0 && f_min > 0.0 && f_max > f_min);
        let tau_min = (sample_rate / f_max).floor().max(2.0) as usize;
        let tau_max = (sample_rate / f_min).ceil() as usize;
        let span = window + tau_max + 2;
        let n_fft = span.next_power_of_two();
        let mut planner = RealFftPlanner::<f32>::new();
        let fwd = planner.plan_fft_forward(n_fft);
        let inv = planner.plan_fft_inverse(n_fft);
        let scratch_len = fwd.get_scratch_len().max(inv.get_scratch_len());
        Yin {
            sample_rate,
            f_min,
            f_max,
            window,
            tau_min,
            tau_max,
            threshold: 0.15,
            voiced_above: 0.5,
            a_buf: fwd.make_input_vec(),
            x_buf: fwd.make_input_vec(),
            a_spec: fwd.make_output_vec(),
            x_spec: fwd.make_output_vec(),
            scratch: vec![Complex::new(0.0, 0.0); scratch_len],
            corr: inv.make_output_vec(),
            prefix: vec![0.0; span + 1],
            cmnd: vec![0.0; tau_max + 2],
            fwd,
            inv,
        }
    }

    /// Samples an analysis needs: `window + tau_max + 2` (one extra lag for
    /// interpolation).
    pub fn span(&self) -> usize {
        self.window + self.tau_max + 2
    }

    /// Analyse the first [`Yin::span`] samples of `x`.
    pub fn analyse(&mut self, x: &[f32]) -> Pitch {
        let span = self.span();
        assert!(x.len() >= span);
        let x = &x[..span];
        let w = self.window;
        let top = self.tau_max + 1;

        // c[τ] = Σ_{j<w} x_j x_{j+τ} by FFT (no wrap: w + span ≤ ... since
        // j + τ < span ≤ n_fft for every j < w, τ ≤ top).
        self.a_buf[..w].copy_from_slice(&x[..w]);
        self.a_buf[w..].fill(0.0);
        self.x_buf[..span].copy_from_slice(x);
        self.x_buf[span..].fill(0.0);
        self.fwd
            .process_with_scratch(&mut self.a_buf, &mut self.a_spec, &mut self.scratch)
            .expect("planned lengths");
        self.fwd
            .process_with_scratch(&mut self.x_buf, &mut self.x_spec, &mut self.scratch)
            .expect("planned lengths");
        for (a, b) in self.a_spec.iter_mut().zip(&self.x_spec) {
            *a = a.conj() * b;
        }
        // The inverse needs real DC/Nyquist bins; they are (a* b is real there).
        let last = self.a_spec.len() - 1;
        self.a_spec[0].im = 0.0;
        self.a_spec[last].im = 0.0;
        self.inv
            .process_with_scratch(&mut self.a_spec, &mut self.corr, &mut self.scratch)
            .expect("planned lengths");
        let scale = 1.0 / self.corr.len() as f64;

        self.prefix[0] = 0.0;
        for (i, &v) in x.iter().enumerate() {
            self.prefix[i + 1] = self.prefix[i] + v as f64 * v as f64;
        }
        let e0 = self.prefix[w];
        let energy = |tau: usize, p: &[f64]| p[tau + w] - p[tau];

        // Difference function and its CMND.
        self.cmnd[0] = 1.0;
        let mut running = 0.0f64;
        for tau in 1..=top {
            let c = self.corr[tau] as f64 * scale;
            let d = (e0 + energy(tau, &self.prefix) - 2.0 * c).max(0.0);
            running += d;
            self.cmnd[tau] = if running > 0.0 {
                (d * tau as f64 / running) as f32
            } else {
                1.0
            };
        }
        let c = &self.cmnd;
        // First dip under the threshold, then down to its local minimum; if
        // there is none, the global minimum.
        let mut best = None;
        let mut tau = self.tau_min;
        while tau <= self.tau_max {
            if c[tau] < self.threshold {
                while tau < self.tau_max && c[tau + 1] < c[tau] {
                    tau += 1;
                }
                best = Some(tau);
                break;
            }
            tau += 1;
        }
        let tau = best.unwrap_or_else(|| {
            (self.tau_min..=self.tau_max)
                .min_by(|&i, &j| c[i].total_cmp(&c[j]))
                .expect("non-empty lag range")
        });
        let et = energy(tau, &self.prefix);
        let nccf = if e0 > 0.0 && et > 0.0 {
            self.corr[tau] as f64 * scale / (e0 * et).sqrt()
        } else {
            0.0
        };
        let voicing = (nccf as f32).clamp(0.0, 1.0);
        let voiced = voicing >= self.voiced_above;
        if !voiced {
            return Pitch {
                f0_hz: 0.0,
                voicing,
                voiced,
            };
        }
        // Parabolic interpolation of the CMND around the chosen lag.
        let (l, m, r) = (c[tau - 1], c[tau], c[tau + 1]);
        let denom = l - 2.0 * m + r;
        let shift = if denom > 0.0 {
            (0.5 * (l - r) / denom).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        let period = tau as f32 + shift;
        // Interpolation may step just past the lag range: keep f0 in range.
        let f0_hz = (self.sample_rate / period).clamp(self.f_min, self.f_max);
        Pitch {
            f0_hz,
            voicing,
            voiced,
        }
    }
}
