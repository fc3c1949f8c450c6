//! Short-time power spectrum (Hann window, zero-padded real FFT) and the
//! features computed from it: spectral centroid, spectral tilt and log-mel
//! bands. All buffers are allocated at construction.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

/// HTK mel scale: `2595 * log10(1 + f / 700)`.
pub fn hz_to_mel(f: f64) -> f64 {
    2595.0 * (1.0 + f / 700.0).log10()
}

pub fn mel_to_hz(m: f64) -> f64 {
    700.0 * (10f64.powf(m / 2595.0) - 1.0)
}

/// One triangular mel filter over FFT bins `start .. start + weights.len()`.
#[derive(Debug, Clone)]
struct MelFilter {
    start: usize,
    weights: Vec<f32>,
}

/// Power spectrum of the last `win_len` samples plus spectral features.
pub struct Spectrum {
    sample_rate: f32,
    n_fft: usize,
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    input: Vec<f32>,
    output: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// |X[k]|^2, k = 0 ..= n_fft/2.
    power: Vec<f32>,
    mel: Vec<MelFilter>,
    /// log2(f_k) minus its mean over bins 1 ..= n_fft/2, and sum of squares.
    tilt_x: Vec<f32>,
    tilt_sxx: f64,
}

impl std::fmt::Debug for Spectrum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spectrum")
            .field("n_fft", &self.n_fft)
            .field("win_len", &self.window.len())
            .field("n_mels", &self.mel.len())
            .finish()
    }
}

impl Spectrum {
    pub fn new(sample_rate: f32, win_len: usize, n_fft: usize, n_mels: usize) -> Self {
        assert!(win_len <= n_fft && n_fft % 2 == 0 && n_mels > 0);
        // Periodic Hann window (as numpy/scipy `hann(N, sym=False)`).
        let window = (0..win_len)
            .map(|n| {
                (0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / win_len as f64).cos()) as f32
            })
            .collect();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n_fft);
        let input = fft.make_input_vec();
        let output = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        let n_bins = n_fft / 2 + 1;
        let bin_hz = |k: usize| k as f64 * sample_rate as f64 / n_fft as f64;

        // HTK mel filterbank, 0 Hz .. Nyquist, triangles with peak 1 on the
        // (continuous) mel-spaced centre frequencies.
        let m_hi = hz_to_mel(sample_rate as f64 / 2.0);
        let edges: Vec<f64> = (0..n_mels + 2)
            .map(|i| mel_to_hz(m_hi * i as f64 / (n_mels + 1) as f64))
            .collect();
        let mel = (0..n_mels)
            .map(|b| {
                let (lo, c, hi) = (edges[b], edges[b + 1], edges[b + 2]);
                let w: Vec<(usize, f32)> = (0..n_bins)
                    .filter_map(|k| {
                        let f = bin_hz(k);
                        let v = ((f - lo) / (c - lo)).min((hi - f) / (hi - c));
                        (v > 0.0).then_some((k, v as f32))
                    })
                    .collect();
                match w.first() {
                    Some(&(start, _)) => {
                        // Bins with positive weight are contiguous for a triangle.
                        MelFilter {
                            start,
                            weights: w.iter().map(|&(_, v)| v).collect(),
                        }
                    }
                    None => MelFilter {
                        start: 0,
                        weights: Vec::new(),
                    },
                }
            })
            .collect();

        let xs: Vec<f64> = (1..n_bins).map(|k| bin_hz(k).log2()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let tilt_x: Vec<f32> = xs.iter().map(|x| (x - mean) as f32).collect();
        let tilt_sxx = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
        Spectrum {
            sample_rate,
            n_fft,
            window,
            fft,
            input,
            output,
            scratch,
            power: vec![0.0; n_bins],
            mel,
            tilt_x,
            tilt_sxx,
        }
    }

    pub fn win_len(&self) -> usize {
        self.window.len()
    }

    pub fn n_mels(&self) -> usize {
        self.mel.len()
    }

    /// Compute the power spectrum of `x` (length `win_len`).
    pub fn analyse(&mut self, x: &[f32]) {
        debug_assert_eq!(x.len(), self.window.len());
        let n = x.len();
        for ((dst, &s), &w) in self.input[..n].iter_mut().zip(x).zip(&self.window) {
            *dst = s * w;
        }
        self.input[n..].fill(0.0);
        self.fft
            .process_with_scratch(&mut self.input, &mut self.output, &mut self.scratch)
            .expect("FFT buffers have the planned lengths");
        for (p, c) in self.power.iter_mut().zip(&self.output) {
            *p = c.re * c.re + c.im * c.im;
        }
    }

    /// Power-weighted mean frequency (Hz); 0 for a silent window.
    pub fn centroid_hz(&self) -> f32 {
        let bin_hz = self.sample_rate as f64 / self.n_fft as f64;
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for (k, &p) in self.power.iter().enumerate() {
            num += k as f64 * p as f64;
            den += p as f64;
        }
        if den > 1e-12 {
            (num / den * bin_hz) as f32
        } else {
            0.0
        }
    }

    /// Least-squares slope of `10 log10(P_k + 1e-10)` against `log2(f_k)`
    /// over bins 1 ..= n_fft/2, in dB per octave.
    pub fn tilt_db_per_octave(&self) -> f32 {
        let mut sxy = 0.0f64;
        for (&x, &p) in self.tilt_x.iter().zip(&self.power[1..]) {
            sxy += x as f64 * (10.0 * (p as f64 + 1e-10).log10());
        }
        (sxy / self.tilt_sxx) as f32
    }

    /// Natural log of each mel band's power, `ln(sum_k w_bk P_k + 1e-10)`.
    pub fn log_mel(&self, out: &mut [f32]) {
        for (o, f) in out.iter_mut().zip(&self.mel) {
            let p = &self.power[f.start..f.start + f.weights.len()];
            let e: f32 = p.iter().zip(&f.weights).map(|(a, b)| a * b).sum();
            *o = (e as f64 + 1e-10).ln() as f32;
        }
    }
}
