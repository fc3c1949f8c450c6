//! Per-frame audio features, streaming.
//!
//! One row per 10 ms frame (160 samples at 16 kHz). The extractor keeps the
//! last 48 ms of audio, so every feature uses only the current and past
//! samples (zeros before the first frame). Columns, in order:
//!
//! | column | definition |
//! |---|---|
//! | `rms_db` | `20 log10(sqrt(mean(x^2)))` over the current 160 samples, floored at -100 dB (full scale = 1.0) |
//! | `zcr` | sign changes between consecutive samples / 160, over the pairs `(x[-1], x[0]) .. (x[158], x[159])` where `x[-1]` is the last sample of the previous frame (0 before the first); a sample `>= 0` counts as positive |
//! | `f0_hz` | YIN f0 (Hz), 0 when unvoiced; range 50–500 Hz |
//! | `voicing` | normalized cross-correlation at the YIN lag, in [0, 1]; 0 when the window is below the silence gate |
//! | `centroid_hz` | power-weighted mean frequency of the spectrum below (Hz); 0 when silent |
//! | `tilt` | least-squares slope of `10 log10(P_k + 1e-10)` vs `log2(f_k)`, bins 1..=256, in dB/octave |
//! | `mel_i` | `ln(sum_k w_ik P_k + 1e-10)`, HTK mel triangles (peak 1, unnormalized), 0 Hz–8 kHz |
//!
//! Spectrum: the last 25 ms (400 samples) times a periodic Hann window,
//! zero-padded to a 512-point FFT, `P_k = |X_k|^2` (no scaling), k = 0..=256.
//!
//! Pitch: YIN (cumulative mean normalized difference, absolute threshold
//! 0.15 with descent to the local minimum, parabolic interpolation) on the
//! last 47.6 ms (762 samples: a 27.5 ms integration window plus lags up to
//! 20 ms), so f0 describes a window centred ~24 ms before the end of the
//! current frame. The difference function is computed by FFT
//! cross-correlation. `voicing` is the normalized cross-correlation at the
//! chosen lag. A frame is voiced when `voicing >= 0.5` and the window's RMS is
//! above both -55 dBFS and the recent speech level minus 20 dB (a peak tracker
//! of the window RMS that decays by 1 dB/s: past-only, like Praat's silence
//! threshold relative to the loudest part).
//!
//! After [`FeatureExtractor::new`] no call allocates.

pub mod spectrum;
pub mod yin;

use crate::error::{CadenceError, Result};
use crate::{FRAME_SAMPLES, INTERNAL_RATE};

use spectrum::Spectrum;
use yin::Yin;

/// Default number of mel bands.
pub const DEFAULT_N_MELS: usize = 40;
/// Largest supported number of mel bands.
pub const MAX_N_MELS: usize = 128;
/// Columns before the mel bands.
pub const N_SCALAR_FEATURES: usize = 6;
/// Names of the scalar columns, in order.
pub const SCALAR_NAMES: [&str; N_SCALAR_FEATURES] =
    ["rms_db", "zcr", "f0_hz", "voicing", "centroid_hz", "tilt"];

/// Samples of history kept (48 ms): the YIN span.
pub const HISTORY: usize = 768;
/// Spectral analysis window (25 ms).
pub const SPECTRUM_WINDOW: usize = 400;
/// FFT size.
pub const N_FFT: usize = 512;
/// Floor of `rms_db`.
pub const DB_FLOOR: f32 = -100.0;
/// Below this window RMS (dBFS) a frame is unvoiced whatever its periodicity.
pub const SILENCE_GATE_DB: f32 = -55.0;
/// A frame quieter than the recent speech level minus this (dB) is unvoiced.
pub const RELATIVE_GATE_DB: f32 = 20.0;
/// Decay of the speech-level tracker, dB per frame (1 dB/s).
const LEVEL_DECAY_DB: f32 = 0.01;

const YIN_WINDOW: usize = 440;
const F0_MIN: f32 = 50.0;
const F0_MAX: f32 = 500.0;

/// Streaming per-frame feature extractor.
#[derive(Debug)]
pub struct FeatureExtractor {
    history: Vec<f32>,
    last_sample: f32,
    /// Decaying peak of the pitch window's RMS (dBFS).
    level_db: f32,
    yin: Yin,
    spectrum: Spectrum,
}

impl FeatureExtractor {
    pub fn new(n_mels: usize) -> Result<Self> {
        if n_mels == 0 || n_mels > MAX_N_MELS {
            return Err(CadenceError::InvalidArgument(format!(
                "n_mels must be in 1..={MAX_N_MELS}, got {n_mels}"
            )));
        }
        let rate = INTERNAL_RATE as f32;
        let yin = Yin::new(rate, YIN_WINDOW, F0_MIN, F0_MAX);
        assert!(yin.span() <= HISTORY);
        Ok(FeatureExtractor {
            history: vec![0.0; HISTORY],
            last_sample: 0.0,
            level_db: DB_FLOOR,
            yin,
            spectrum: Spectrum::new(rate, SPECTRUM_WINDOW, N_FFT, n_mels),
        })
    }

    pub fn n_mels(&self) -> usize {
        self.spectrum.n_mels()
    }

    /// Values per frame: 6 + n_mels.
    pub fn n_features(&self) -> usize {
        N_SCALAR_FEATURES + self.n_mels()
    }

    /// Column names: the scalar names then `mel_0 .. mel_{n-1}`.
    pub fn names(&self) -> Vec<String> {
        SCALAR_NAMES
            .iter()
            .map(|s| s.to_string())
            .chain((0..self.n_mels()).map(|i| format!("mel_{i}")))
            .collect()
    }

    /// Forget all past audio (as if newly constructed).
    pub fn reset(&mut self) {
        self.history.fill(0.0);
        self.last_sample = 0.0;
        self.level_db = DB_FLOOR;
    }

    /// Process `samples` (a whole number of 160-sample frames) into `out`
    /// (`frames * n_features` values, row-major). The input is validated
    /// before any state changes: on error the extractor is untouched.
    pub fn process(&mut self, samples: &[f32], out: &mut [f32]) -> Result<()> {
        if samples.len() % FRAME_SAMPLES != 0 {
            return Err(CadenceError::InvalidAudio(format!(
                "{} samples is not a whole number of {FRAME_SAMPLES}-sample frames",
                samples.len()
            )));
        }
        let n = samples.len() / FRAME_SAMPLES;
        let cols = self.n_features();
        if out.len() != n * cols {
            return Err(CadenceError::InvalidArgument(format!(
                "output holds {} values, expected {n} frames x {cols}",
                out.len()
            )));
        }
        // Finite but huge samples would overflow the f32 FFTs into NaN features.
        crate::samples::check_samples(samples)?;
        for (frame, row) in samples
            .chunks_exact(FRAME_SAMPLES)
            .zip(out.chunks_exact_mut(cols))
        {
            self.frame(frame, row);
        }
        Ok(())
    }

    /// One frame (already validated) into one row.
    fn frame(&mut self, frame: &[f32], row: &mut [f32]) {
        // Slide the history and append the frame.
        self.history.copy_within(FRAME_SAMPLES.., 0);
        self.history[HISTORY - FRAME_SAMPLES..].copy_from_slice(frame);

        // Energy and zero crossings of the current frame.
        let energy: f64 = frame.iter().map(|&x| x as f64 * x as f64).sum();
        row[0] = rms_db(energy / FRAME_SAMPLES as f64);
        let mut prev = self.last_sample >= 0.0;
        let mut crossings = 0u32;
        for &x in frame {
            let pos = x >= 0.0;
            crossings += (pos != prev) as u32;
            prev = pos;
        }
        row[1] = crossings as f32 / FRAME_SAMPLES as f32;
        self.last_sample = frame[FRAME_SAMPLES - 1];

        // Pitch over the whole history, gated on its energy.
        let span = self.yin.span();
        let window = &self.history[HISTORY - span..];
        let win_energy: f64 = window.iter().map(|&x| x as f64 * x as f64).sum();
        let win_db = rms_db(win_energy / span as f64);
        self.level_db = win_db.max(self.level_db - LEVEL_DECAY_DB);
        if win_db < SILENCE_GATE_DB.max(self.level_db - RELATIVE_GATE_DB) {
            row[2] = 0.0;
            row[3] = 0.0;
        } else {
            let p = self.yin.analyse(window);
            row[2] = p.f0_hz;
            row[3] = p.voicing;
        }

        // Spectral shape and log-mel over the last 25 ms.
        self.spectrum
            .analyse(&self.history[HISTORY - SPECTRUM_WINDOW..]);
        row[4] = self.spectrum.centroid_hz();
        row[5] = self.spectrum.tilt_db_per_octave();
        self.spectrum.log_mel(&mut row[N_SCALAR_FEATURES..]);
    }
}

fn rms_db(mean_square: f64) -> f32 {
    if mean_square <= 0.0 {
        return DB_FLOOR;
    }
    ((10.0 * mean_square.log10()) as f32).max(DB_FLOOR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    /// Counts allocations made by the current thread (tests run in parallel).
    struct CountingAlloc;
    thread_local! {
        static ALLOCS: Cell<usize> = const { Cell::new(0) };
    }
    unsafe impl GlobalAlloc for CountingAlloc {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
            System.alloc(layout)
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            System.dealloc(ptr, layout)
        }
    }
    #[global_allocator]
    static GLOBAL: CountingAlloc = CountingAlloc;

    #[test]
    fn processing_does_not_allocate() {
        let mut fe = FeatureExtractor::new(40).unwrap();
        let x = tone(180.0, 0.5);
        let mut out = vec![0.0; x.len() / FRAME_SAMPLES * fe.n_features()];
        fe.process(&x, &mut out).unwrap(); // warm-up
        let before = ALLOCS.with(|n| n.get());
        fe.process(&x, &mut out).unwrap();
        assert_eq!(
            ALLOCS.with(|n| n.get()) - before,
            0,
            "allocations while processing"
        );
        assert!(out[fe.n_features() * 10 + 2] > 170.0);
        // The counter does see allocations.
        let v: Vec<u64> = Vec::with_capacity(4);
        assert!(ALLOCS.with(|n| n.get()) > before && v.capacity() >= 4);
    }

    fn run(fe: &mut FeatureExtractor, x: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; x.len() / FRAME_SAMPLES * fe.n_features()];
        fe.process(x, &mut out).unwrap();
        out
    }

    fn tone(f0: f32, secs: f32) -> Vec<f32> {
        let n = (secs * INTERNAL_RATE as f32) as usize / FRAME_SAMPLES * FRAME_SAMPLES;
        (0..n)
            .map(|i| {
                0.3 * (2.0 * std::f32::consts::PI * f0 * i as f32 / INTERNAL_RATE as f32).sin()
            })
            .collect()
    }

    #[test]
    fn sine_f0_rms_and_centroid() {
        let mut fe = FeatureExtractor::new(40).unwrap();
        for f0 in [60.0f32, 110.0, 200.0, 220.0, 440.0] {
            fe.reset();
            let out = run(&mut fe, &tone(f0, 0.5));
            let cols = fe.n_features();
            for row in out.chunks_exact(cols).skip(6) {
                assert!((row[2] - f0).abs() / f0 < 0.01, "f0 {} for {f0}", row[2]);
                assert!(row[3] > 0.9);
                // 0.3 amplitude sine: rms = 0.3/sqrt(2) -> -13.47 dB, exactly
                // when the frame holds whole periods (200 Hz).
                let tol = if f0 == 200.0 { 0.01 } else { 1.0 };
                assert!((row[0] + 13.468).abs() < tol, "rms {}", row[0]);
                assert!(
                    (row[4] - f0).abs() < 0.15 * f0 + 40.0,
                    "centroid {}",
                    row[4]
                );
            }
        }
    }

    #[test]
    fn silence_is_floor_and_unvoiced() {
        let mut fe = FeatureExtractor::new(8).unwrap();
        let out = run(&mut fe, &[0.0; 480]);
        for row in out.chunks_exact(fe.n_features()) {
            assert_eq!(&row[..5], &[DB_FLOOR, 0.0, 0.0, 0.0, 0.0]);
            assert!(row[6..]
                .iter()
                .all(|&m| (m - (1e-10f64).ln() as f32).abs() < 1e-3));
        }
    }

    #[test]
    fn chunking_does_not_change_the_result() {
        let x: Vec<f32> = tone(150.0, 0.3)
            .iter()
            .enumerate()
            .map(|(i, v)| v + 0.01 * ((i * 7919) % 13) as f32)
            .collect();
        let mut a = FeatureExtractor::new(40).unwrap();
        let whole = run(&mut a, &x);
        let mut b = FeatureExtractor::new(40).unwrap();
        let mut parts = Vec::new();
        for chunk in x.chunks(FRAME_SAMPLES * 3) {
            parts.extend(run(&mut b, chunk));
        }
        assert_eq!(whole, parts);
    }

    #[test]
    fn bad_input_leaves_state_untouched() {
        let mut fe = FeatureExtractor::new(40).unwrap();
        let mut out = vec![0.0; fe.n_features()];
        assert!(matches!(
            fe.process(&[0.0; 100], &mut out),
            Err(CadenceError::InvalidAudio(_))
        ));
        let mut bad = tone(200.0, 0.01);
        bad[5] = f32::NAN;
        assert!(matches!(
            fe.process(&bad, &mut out),
            Err(CadenceError::InvalidAudio(_))
        ));
        assert!(matches!(
            fe.process(&[0.0; 160], &mut [0.0; 3]),
            Err(CadenceError::InvalidArgument(_))
        ));
        assert!(fe.history.iter().all(|&x| x == 0.0));
        assert!(matches!(
            FeatureExtractor::new(0),
            Err(CadenceError::InvalidArgument(_))
        ));
        assert_eq!(fe.names()[6], "mel_0");
        assert_eq!(fe.names().len(), 46);
    }
}
