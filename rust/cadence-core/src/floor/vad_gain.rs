//! A boost-only automatic gain for the voice-activity detector's input.
//!
//! Silero VAD misses quiet speech: 20 dB below the corpus levels (speech at
//! −40 to −64 dBFS) its recall of the user's words drops and the floor policy
//! misses turns (floor.md, "Input level"). The floor model's own features are
//! level-normalised already; only the VAD needs help. [`VadGain`] tracks the
//! upper envelope of the frame level (fast attack, slow release) and raises
//! the frames so that envelope sits at [`TARGET_DB`], by at most
//! [`MAX_BOOST_DB`]; it never lowers a loud input. The gained copy goes to the
//! VAD only, clipped to full scale.
//!
//! Causal, per 10 ms frame; any chunking gives the same output.

use crate::error::Result;
use crate::samples::check_samples;
use crate::FRAME_SAMPLES;

/// Where the tracked speech envelope is brought to, dBFS.
pub const TARGET_DB: f64 = -20.0;
/// The largest boost, dB.
pub const MAX_BOOST_DB: f64 = 30.0;
/// Envelope attack: the share of the gap to a louder frame closed per frame (~200 ms).
pub const ATTACK: f64 = 0.05;
/// Envelope release, dB per frame (1 dB/s).
pub const RELEASE_DB: f64 = 0.01;
/// The envelope before any audio (a nominal speech level) and its lowest value.
pub const INITIAL_DB: f64 = -30.0;
pub const FLOOR_DB: f64 = -80.0;

#[derive(Debug, Clone)]
pub struct VadGain {
    level_db: f64,
}

impl Default for VadGain {
    fn default() -> Self {
        VadGain { level_db: INITIAL_DB }
    }
}

impl VadGain {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// The tracked envelope, dBFS.
    pub fn level_db(&self) -> f64 {
        self.level_db
    }

    /// Advance by one frame of mean square `ms`; the gain (linear, ≥ 1) for it.
    fn step(&mut self, ms: f64) -> f32 {
        let db = 10.0 * (ms + 1e-12).log10();
        self.level_db = if db > self.level_db {
            self.level_db + ATTACK * (db - self.level_db)
        } else {
            (self.level_db - RELEASE_DB).max(FLOOR_DB)
        };
        let boost = (TARGET_DB - self.level_db).clamp(0.0, MAX_BOOST_DB);
        10f64.powf(boost / 20.0) as f32
    }

    /// `frames`: whole 10 ms frames of samples; writes the gained, clipped copy
    /// to `out` (same length) and returns nothing else. Refuses (changing nothing)
    /// a partial frame or a bad sample.
    pub fn process(&mut self, frames: &[f32], out: &mut [f32]) -> Result<()> {
        if frames.len() % FRAME_SAMPLES != 0 || out.len() != frames.len() {
            return Err(crate::error::CadenceError::InvalidAudio(format!(
                "{} samples in, {} out: both must be the same whole number of {FRAME_SAMPLES}-sample frames",
                frames.len(),
                out.len()
            )));
        }
        check_samples(frames)?;
        for (f, o) in frames
            .chunks_exact(FRAME_SAMPLES)
            .zip(out.chunks_exact_mut(FRAME_SAMPLES))
        {
            let ms = f.iter().map(|&x| x as f64 * x as f64).sum::<f64>() / FRAME_SAMPLES as f64;
            let g = self.step(ms);
            for (y, &x) in o.iter_mut().zip(f) {
                *y = (x * g).clamp(-1.0, 1.0);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(n_frames: usize, amp: f32) -> Vec<f32> {
        (0..n_frames * FRAME_SAMPLES)
            .map(|i| amp * (i as f32 * 0.11).sin())
            .collect()
    }

    fn run(g: &mut VadGain, x: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; x.len()];
        g.process(x, &mut out).unwrap();
        out
    }

    fn rms_db(x: &[f32]) -> f64 {
        10.0 * (x.iter().map(|&v| v as f64 * v as f64).sum::<f64>() / x.len() as f64).log10()
    }

    #[test]
    fn quiet_speech_is_raised_to_the_target_loud_speech_is_left_alone() {
        // a 0.01-amplitude sine, -43 dBFS: the envelope releases from -30 dB at 1 dB/s,
        // so after 3 s the boost is 13 dB; after 20 s the output sits at the target
        let mut g = VadGain::new();
        let out = run(&mut g, &sine(300, 0.01));
        let tail = &out[out.len() - 10 * FRAME_SAMPLES..];
        assert!((rms_db(tail) - (-43.0 + 13.0)).abs() < 0.5, "{}", rms_db(tail));
        let out = run(&mut g, &sine(1700, 0.01));
        let tail = &out[out.len() - 10 * FRAME_SAMPLES..];
        assert!((rms_db(tail) - TARGET_DB).abs() < 0.5, "{}", rms_db(tail));
        // -63 dBFS: the boost stops at MAX_BOOST_DB
        let out = run(&mut VadGain::new(), &sine(6000, 0.001));
        let tail = &out[out.len() - 10 * FRAME_SAMPLES..];
        assert!((rms_db(tail) - (-63.0 + MAX_BOOST_DB)).abs() < 0.5, "{}", rms_db(tail));
        // -13.5 dBFS: once the envelope has risen to it (~0.5 s), passed through, never cut
        let x = sine(300, 0.3);
        let out = run(&mut VadGain::new(), &x);
        let tail = 100 * FRAME_SAMPLES;
        assert!(out[tail..] == x[tail..], "a loud input was changed");
    }

    #[test]
    fn chunk_invariant_and_clipped() {
        let x = sine(120, 0.02);
        let whole = run(&mut VadGain::new(), &x);
        let mut g = VadGain::new();
        let mut parts = Vec::new();
        for c in x.chunks(7 * FRAME_SAMPLES) {
            parts.extend(run(&mut g, c));
        }
        assert_eq!(whole, parts);
        let loud: Vec<f32> = (0..FRAME_SAMPLES * 10).map(|i| if i % 2 == 0 { 5.0 } else { -5.0 }).collect();
        assert!(run(&mut VadGain::new(), &loud).iter().all(|v| v.abs() <= 1.0));
    }

    #[test]
    fn refuses_bad_input_and_loses_nothing() {
        let mut g = VadGain::new();
        run(&mut g, &sine(50, 0.001));
        let before = g.level_db();
        let mut out = vec![0.0; 100];
        assert!(g.process(&[0.0; 100], &mut out).is_err());
        let mut bad = sine(2, 0.001);
        bad[5] = f32::NAN;
        let mut out = vec![0.0; bad.len()];
        assert!(g.process(&bad, &mut out).is_err());
        assert_eq!(g.level_db(), before);
    }
}
