//! The floor model's input stage after the raw DSP features: echo estimation
//! against the persona's playback and speaker normalisation, streaming.
//!
//! [`FloorNormalizer::process`] takes, per 10 ms frame, the raw features of
//! [`crate::dsp::FeatureExtractor`], the Silero speech probability, the mic
//! frame and (in full duplex) the reference frame the persona played, and
//! writes [`speaker::N_SCALARS`] + `n_mels` model inputs per frame.
//! Any chunking gives the same output; inputs are validated before any state
//! changes, so a bad call loses nothing.

pub mod aec;
pub mod agc;
pub mod approx;
pub mod echo;
pub mod net;
pub mod speaker;

use crate::dsp::{DEFAULT_N_MELS, MAX_N_MELS, N_SCALAR_FEATURES};
use crate::error::{CadenceError, Result};
use crate::samples::check_samples;
use crate::FRAME_SAMPLES;

/// The largest raw feature magnitude the normalizer takes (real ones stay under 1e4: the
/// spectral centroid in Hz); larger finite values would overflow its running means.
pub const MAX_RAW_FEATURE: f32 = 1.0e6;

use echo::{EchoEstimator, EXCESS_MAX, REF_SILENT_DB};
use speaker::{RawFrame, SpeakerNormalizer, N_SCALARS};

/// Echo estimator + speaker normaliser over whole frames.
#[derive(Debug, Clone)]
pub struct FloorNormalizer {
    echo: EchoEstimator,
    speaker: SpeakerNormalizer,
}

impl Default for FloorNormalizer {
    fn default() -> Self {
        FloorNormalizer {
            echo: EchoEstimator::new(),
            speaker: SpeakerNormalizer::new(DEFAULT_N_MELS),
        }
    }
}

/// `Err(InvalidAudio)` unless the optional persona `reference` covers the same
/// samples as the `mic` and holds only good samples.
pub(crate) fn check_reference(mic: &[f32], reference: Option<&[f32]>) -> Result<()> {
    if let Some(r) = reference {
        if r.len() != mic.len() {
            return Err(CadenceError::InvalidAudio(format!(
                "reference holds {} samples, the mic {}: they must cover the same frames",
                r.len(),
                mic.len()
            )));
        }
        check_samples(r)?;
    }
    Ok(())
}

/// `Err(InvalidAudio)` unless `mic` is whole frames, `out` as long, the optional
/// `reference` covers the same samples, and every sample is good: the checks of a
/// stage that maps mic frames (and what the persona played) to as many frames.
pub(crate) fn check_frames_io(mic: &[f32], reference: Option<&[f32]>, out: &[f32]) -> Result<()> {
    if !mic.len().is_multiple_of(FRAME_SAMPLES) || out.len() != mic.len() {
        return Err(CadenceError::InvalidAudio(format!(
            "{} samples in, {} out: both must be the same whole number of {FRAME_SAMPLES}-sample frames",
            mic.len(),
            out.len()
        )));
    }
    check_reference(mic, reference)?;
    check_samples(mic)
}

/// Mean square of a frame, summed in order (numpy's pairwise `np.mean` in the Python
/// reference can differ in the last bit; no feature has shown a difference).
pub(crate) fn mean_square(frame: &[f32]) -> f64 {
    frame.iter().map(|&x| x as f64 * x as f64).sum::<f64>() / frame.len() as f64
}

impl FloorNormalizer {
    pub fn new(n_mels: usize) -> Result<Self> {
        if n_mels == 0 || n_mels > MAX_N_MELS {
            return Err(CadenceError::InvalidArgument(format!(
                "n_mels must be in 1..={MAX_N_MELS}, got {n_mels}"
            )));
        }
        Ok(FloorNormalizer {
            echo: EchoEstimator::new(),
            speaker: SpeakerNormalizer::new(n_mels),
        })
    }

    pub fn n_mels(&self) -> usize {
        self.speaker.n_mels()
    }

    /// Raw input columns per frame (the extractor's layout).
    pub fn n_inputs(&self) -> usize {
        N_SCALAR_FEATURES + self.n_mels()
    }

    /// Output columns per frame.
    pub fn n_outputs(&self) -> usize {
        N_SCALARS + self.n_mels()
    }

    /// Output column names: [`speaker::SCALAR_NAMES`] then `mel_0 ..`.
    pub fn names(&self) -> Vec<String> {
        speaker::SCALAR_NAMES
            .iter()
            .map(|s| s.to_string())
            .chain((0..self.n_mels()).map(|i| format!("mel_{i}")))
            .collect()
    }

    pub fn reset(&mut self) {
        self.echo.reset();
        self.speaker.reset();
    }

    /// `raw`: n × [`Self::n_inputs`] extractor rows; `vad`: n speech
    /// probabilities in [0, 1]; `mic`: n × 160 samples; `reference`: n × 160
    /// samples the persona played in the same frames, or `None` (half duplex);
    /// `out`: n × [`Self::n_outputs`].
    pub fn process(
        &mut self,
        raw: &[f32],
        vad: &[f32],
        mic: &[f32],
        reference: Option<&[f32]>,
        out: &mut [f32],
    ) -> Result<()> {
        let n = vad.len();
        let (ni, no) = (self.n_inputs(), self.n_outputs());
        if raw.len() != n * ni {
            return Err(CadenceError::InvalidArgument(format!(
                "raw features hold {} values, expected {n} frames x {ni}",
                raw.len()
            )));
        }
        if mic.len() != n * FRAME_SAMPLES {
            return Err(CadenceError::InvalidAudio(format!(
                "mic holds {} samples, expected {n} frames x {FRAME_SAMPLES}",
                mic.len()
            )));
        }
        check_reference(mic, reference)?;
        if out.len() != n * no {
            return Err(CadenceError::InvalidArgument(format!(
                "output holds {} values, expected {n} frames x {no}",
                out.len()
            )));
        }
        check_samples(mic)?;
        if let Some(i) = vad.iter().position(|v| !(0.0..=1.0).contains(v)) {
            return Err(CadenceError::InvalidArgument(format!(
                "vad probability {} at frame {i} is not in [0, 1]",
                vad[i]
            )));
        }
        // a finite value near f32::MAX would overflow the running means and keep the state NaN
        if let Some(i) = raw.iter().position(|v| !(v.abs() <= MAX_RAW_FEATURE)) {
            return Err(CadenceError::InvalidArgument(format!(
                "raw feature {} at frame {}, column {} is not finite or beyond {MAX_RAW_FEATURE:e} in magnitude",
                raw[i],
                i / ni,
                i % ni
            )));
        }
        for i in 0..n {
            let m = &mic[i * FRAME_SAMPLES..(i + 1) * FRAME_SAMPLES];
            let (ref_db, excess) = match reference {
                None => (REF_SILENT_DB, EXCESS_MAX),
                Some(r) => self.echo.step(
                    mean_square(m),
                    mean_square(&r[i * FRAME_SAMPLES..(i + 1) * FRAME_SAMPLES]),
                ),
            };
            let row = &raw[i * ni..(i + 1) * ni];
            let frame = RawFrame {
                rms_db: row[0],
                zcr: row[1],
                f0_hz: row[2],
                voicing: row[3],
                centroid_hz: row[4],
                tilt: row[5],
                mel: &row[N_SCALAR_FEATURES..],
            };
            self.speaker.step(
                frame,
                vad[i] as f64,
                ref_db,
                excess,
                &mut out[i * no..(i + 1) * no],
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::FeatureExtractor;

    fn tone(n: usize) -> Vec<f32> {
        (0..n * FRAME_SAMPLES)
            .map(|i| {
                let t = i as f32 / 16000.0;
                let on = (i / 16000) % 2 == 0;
                if on {
                    0.1 * (2.0 * std::f32::consts::PI * 140.0 * t).sin()
                } else {
                    1e-4 * ((i * 7919 % 97) as f32 / 97.0 - 0.5)
                }
            })
            .collect()
    }

    fn run(chunks: &[usize], with_ref: bool) -> Vec<f32> {
        let n: usize = chunks.iter().sum();
        let mic = tone(n);
        let reference: Vec<f32> = mic.iter().map(|x| x * 3.0).collect();
        let mut fx = FeatureExtractor::new(DEFAULT_N_MELS).unwrap();
        let mut raw = vec![0.0; n * fx.n_features()];
        fx.process(&mic, &mut raw).unwrap();
        let vad: Vec<f32> = (0..n)
            .map(|i| if (i / 100) % 2 == 0 { 0.9 } else { 0.05 })
            .collect();
        let mut fl = FloorNormalizer::new(DEFAULT_N_MELS).unwrap();
        let (ni, no) = (fl.n_inputs(), fl.n_outputs());
        let mut out = vec![0.0; n * no];
        let mut at = 0;
        for &c in chunks {
            let r = with_ref.then(|| &reference[at * FRAME_SAMPLES..(at + c) * FRAME_SAMPLES]);
            fl.process(
                &raw[at * ni..(at + c) * ni],
                &vad[at..at + c],
                &mic[at * FRAME_SAMPLES..(at + c) * FRAME_SAMPLES],
                r,
                &mut out[at * no..(at + c) * no],
            )
            .unwrap();
            at += c;
        }
        out
    }

    #[test]
    fn chunking_does_not_change_the_output() {
        for with_ref in [false, true] {
            let whole = run(&[400], with_ref);
            let parts = run(&[1, 7, 100, 0, 192, 100], with_ref);
            assert_eq!(whole, parts);
            assert!(whole.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn echo_only_mic_reads_as_persona_not_user() {
        let out = run(&[400], true);
        let no = N_SCALARS + DEFAULT_N_MELS;
        // a loud tone that is exactly the (scaled) reference: small echo excess once adapted
        let excess: Vec<f32> = (250..300).map(|i| out[i * no + 13]).collect();
        assert!(excess.iter().all(|&e| e < 0.6), "{excess:?}");
        assert!(
            out[260 * no + 12] > 0.5,
            "persona level column {}",
            out[260 * no + 12]
        );
    }

    #[test]
    fn bad_input_is_refused_and_changes_nothing() {
        let mut fl = FloorNormalizer::new(4).unwrap();
        let raw = vec![0.0f32; 2 * 10];
        let mic = vec![0.0f32; 2 * FRAME_SAMPLES];
        let mut out = vec![0.0f32; 2 * 24];
        let snapshot = format!("{fl:?}");
        assert!(fl.process(&raw, &[0.5, 1.5], &mic, None, &mut out).is_err());
        assert!(fl
            .process(&raw[..10], &[0.5, 0.5], &mic, None, &mut out)
            .is_err());
        assert!(fl
            .process(&raw, &[0.5, 0.5], &mic, Some(&mic[..160]), &mut out)
            .is_err());
        let mut nan = mic.clone();
        nan[200] = f32::NAN;
        assert!(matches!(
            fl.process(&raw, &[0.5, 0.5], &nan, None, &mut out),
            Err(CadenceError::InvalidAudio(_))
        ));
        let mut bad_raw = raw.clone();
        bad_raw[13] = f32::INFINITY;
        assert!(fl
            .process(&bad_raw, &[0.5, 0.5], &mic, None, &mut out)
            .is_err());
        // finite, but it would overflow the running means (and leave the state NaN)
        bad_raw[13] = 3e38;
        assert!(fl
            .process(&bad_raw, &[0.5, 0.5], &mic, None, &mut out)
            .is_err());
        assert_eq!(format!("{fl:?}"), snapshot);
        assert!(fl
            .process(&raw, &[0.5, 0.5], &mic, Some(&mic), &mut out)
            .is_ok());
        assert!(FloorNormalizer::new(0).is_err());
    }
}
