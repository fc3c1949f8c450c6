//! Exact 10 ms framing at the engine's internal rate, and the reverse path.
//!
//! [`Framer`]: PCM chunks of any length (int16 or f32, mono or interleaved
//! stereo, any supported rate) → mono f32 16 kHz frames of exactly
//! [`FRAME_SAMPLES`] samples; the remainder is carried to the next call.
//! [`OutputFramer`]: mono PCM at a TTS rate → f32 at the transport rate.
//!
//! Both validate a whole chunk before touching any state: a rejected chunk
//! (wrong layout, NaN/inf, oversize) leaves the framer exactly as it was.

use crate::error::{CadenceError, Result};
use crate::resample::Resampler;
use crate::samples::{bad_sample_error, first_bad_sample};
use crate::{FRAME_SAMPLES, INTERNAL_RATE};

/// Default maximum chunk length, in samples per channel (10 s at 48 kHz, 5 s at 96 kHz).
pub const DEFAULT_MAX_CHUNK_SAMPLES: usize = 480_000;
const I16_SCALE: f32 = 1.0 / 32768.0;

/// Interleaved PCM, borrowed.
#[derive(Debug, Clone, Copy)]
pub enum Pcm<'a> {
    F32(&'a [f32]),
    I16(&'a [i16]),
}

impl Pcm<'_> {
    pub fn len(&self) -> usize {
        match self {
            Pcm::F32(s) => s.len(),
            Pcm::I16(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Check layout, size and sample values (finite, within `MAX_SAMPLE_ABS`).
fn validate(pcm: Pcm<'_>, channels: usize, max_frames: usize) -> Result<usize> {
    let len = pcm.len();
    if len % channels != 0 {
        return Err(CadenceError::InvalidAudio(format!(
            "{len} interleaved samples is not a multiple of {channels} channels"
        )));
    }
    let frames = len / channels;
    if frames > max_frames {
        return Err(CadenceError::Oversize {
            len: frames,
            max: max_frames,
        });
    }
    if let Pcm::F32(s) = pcm {
        if let Some(i) = first_bad_sample(s) {
            let at = if channels == 1 {
                format!("index {i}")
            } else {
                format!(
                    "index {i} (sample {}, channel {})",
                    i / channels,
                    i % channels
                )
            };
            return Err(bad_sample_error(s[i], &at));
        }
    }
    Ok(frames)
}

/// Convert to mono f32 (average of channels) into `mono` (cleared first).
fn to_mono(pcm: Pcm<'_>, channels: usize, mono: &mut Vec<f32>) {
    mono.clear();
    match (pcm, channels) {
        (Pcm::F32(s), 1) => mono.extend_from_slice(s),
        (Pcm::I16(s), 1) => mono.extend(s.iter().map(|&v| v as f32 * I16_SCALE)),
        (Pcm::F32(s), 2) => mono.extend(s.chunks_exact(2).map(|p| (p[0] + p[1]) * 0.5)),
        (Pcm::I16(s), 2) => mono.extend(
            s.chunks_exact(2)
                .map(|p| (p[0] as i32 + p[1] as i32) as f32 * (0.5 * I16_SCALE)),
        ),
        (Pcm::F32(s), c) => {
            let inv = 1.0 / c as f32;
            mono.extend(s.chunks_exact(c).map(|p| p.iter().sum::<f32>() * inv))
        }
        (Pcm::I16(s), c) => {
            let k = I16_SCALE / c as f32;
            mono.extend(
                s.chunks_exact(c)
                    .map(|p| p.iter().map(|&v| v as i32).sum::<i32>() as f32 * k),
            )
        }
    }
}

fn check_common(channels: usize, max_chunk_samples: usize) -> Result<()> {
    if !(1..=2).contains(&channels) {
        return Err(CadenceError::InvalidArgument(format!(
            "channels must be 1 or 2, got {channels}"
        )));
    }
    if max_chunk_samples == 0 {
        return Err(CadenceError::InvalidArgument(
            "max_chunk_samples must be at least 1".into(),
        ));
    }
    Ok(())
}

/// Any-rate PCM chunks → exact 10 ms mono frames at 16 kHz.
#[derive(Debug, Clone)]
pub struct Framer {
    rate: u32,
    channels: usize,
    max_chunk_samples: usize,
    resampler: Resampler,
    mono: Vec<f32>,
    pending: Vec<f32>,
}

impl Framer {
    pub fn new(rate: u32, channels: usize, max_chunk_samples: usize) -> Result<Self> {
        let resampler = Resampler::new(rate, INTERNAL_RATE)?;
        check_common(channels, max_chunk_samples)?;
        Ok(Framer {
            rate,
            channels,
            max_chunk_samples,
            resampler,
            mono: Vec::new(),
            pending: Vec::with_capacity(4 * FRAME_SAMPLES),
        })
    }

    pub fn rate(&self) -> u32 {
        self.rate
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    pub fn max_chunk_samples(&self) -> usize {
        self.max_chunk_samples
    }

    /// 16 kHz samples waiting for a full frame.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Resampler group delay, in 16 kHz samples.
    pub fn delay_samples(&self) -> usize {
        self.resampler.delay_samples()
    }

    /// Move every whole frame from `pending` to `out`; returns frames moved.
    fn emit(&mut self, out: &mut Vec<f32>) -> usize {
        let frames = self.pending.len() / FRAME_SAMPLES;
        let n = frames * FRAME_SAMPLES;
        out.extend_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        frames
    }

    /// Frame one interleaved chunk, appending whole frames to `out`
    /// (`FRAME_SAMPLES` each). Returns the number of frames appended.
    pub fn push(&mut self, pcm: Pcm<'_>, out: &mut Vec<f32>) -> Result<usize> {
        validate(pcm, self.channels, self.max_chunk_samples)?;
        let mut mono = std::mem::take(&mut self.mono);
        to_mono(pcm, self.channels, &mut mono);
        self.resampler.process(&mono, &mut self.pending);
        self.mono = mono;
        Ok(self.emit(out))
    }

    /// End of stream: push the resampler tail out, pad the last partial frame
    /// with zeros, append the frame(s) to `out` and reset. Returns frames appended.
    pub fn flush(&mut self, out: &mut Vec<f32>) -> usize {
        self.resampler.flush(&mut self.pending);
        let rem = self.pending.len() % FRAME_SAMPLES;
        if rem != 0 {
            self.pending
                .resize(self.pending.len() + FRAME_SAMPLES - rem, 0.0);
        }
        self.emit(out)
    }
}

/// Mono PCM at a synthesis rate → f32 at the transport rate (48 kHz by default).
#[derive(Debug, Clone)]
pub struct OutputFramer {
    max_chunk_samples: usize,
    resampler: Resampler,
    mono: Vec<f32>,
}

impl OutputFramer {
    pub fn new(in_rate: u32, out_rate: u32, max_chunk_samples: usize) -> Result<Self> {
        let resampler = Resampler::new(in_rate, out_rate)?;
        check_common(1, max_chunk_samples)?;
        Ok(OutputFramer {
            max_chunk_samples,
            resampler,
            mono: Vec::new(),
        })
    }

    pub fn in_rate(&self) -> u32 {
        self.resampler.from_rate()
    }

    pub fn out_rate(&self) -> u32 {
        self.resampler.to_rate()
    }

    pub fn max_chunk_samples(&self) -> usize {
        self.max_chunk_samples
    }

    /// Resampler group delay, in output samples.
    pub fn delay_samples(&self) -> usize {
        self.resampler.delay_samples()
    }

    /// Resample one mono chunk, appending to `out`. Returns samples appended.
    pub fn push(&mut self, pcm: Pcm<'_>, out: &mut Vec<f32>) -> Result<usize> {
        validate(pcm, 1, self.max_chunk_samples)?;
        Ok(match pcm {
            Pcm::F32(s) => self.resampler.process(s, out),
            Pcm::I16(_) => {
                let mut mono = std::mem::take(&mut self.mono);
                to_mono(pcm, 1, &mut mono);
                let n = self.resampler.process(&mono, out);
                self.mono = mono;
                n
            }
        })
    }

    /// End of stream: the resampler tail (`delay_samples` + rounding), then reset.
    pub fn flush(&mut self, out: &mut Vec<f32>) -> usize {
        self.resampler.flush(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_exact_and_remainder_carried() {
        let mut f = Framer::new(16_000, 1, DEFAULT_MAX_CHUNK_SAMPLES).unwrap();
        let x: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
        let mut out = Vec::new();
        assert_eq!(f.push(Pcm::F32(&x[..150]), &mut out).unwrap(), 0);
        assert_eq!(f.pending(), 150);
        assert_eq!(f.push(Pcm::F32(&x[150..]), &mut out).unwrap(), 6);
        assert_eq!(out, x[..960]);
        assert_eq!(f.flush(&mut out), 1);
        assert_eq!(&out[960..1000], &x[960..]);
        assert!(out[1000..].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn stereo_int16_downmix() {
        let mut f = Framer::new(16_000, 2, 1000).unwrap();
        let pcm: Vec<i16> = (0..320)
            .map(|i| if i % 2 == 0 { 16384 } else { -8192 })
            .collect();
        let mut out = Vec::new();
        assert_eq!(f.push(Pcm::I16(&pcm), &mut out).unwrap(), 1);
        assert!(out.iter().all(|&v| v == 0.125));
    }

    #[test]
    fn rejected_chunk_changes_nothing() {
        let mut f = Framer::new(48_000, 2, 480).unwrap();
        let mut out = Vec::new();
        f.push(Pcm::F32(&[0.25; 300]), &mut out).unwrap();
        let before = (f.pending(), f.resampler.clone().flush(&mut Vec::new()));
        let mut bad = vec![0.0f32; 10];
        bad[7] = f32::NAN;
        let e = f.push(Pcm::F32(&bad), &mut out).unwrap_err();
        assert!(
            e.to_string().contains("index 7 (sample 3, channel 1)"),
            "{e}"
        );
        assert!(matches!(
            f.push(Pcm::F32(&[0.0; 3]), &mut out),
            Err(CadenceError::InvalidAudio(_))
        ));
        assert!(matches!(
            f.push(Pcm::F32(&[0.0; 962]), &mut out),
            Err(CadenceError::Oversize { len: 481, max: 480 })
        ));
        assert_eq!(
            (f.pending(), f.resampler.clone().flush(&mut Vec::new())),
            before
        );
        assert!(matches!(
            Framer::new(11_000, 1, 10),
            Err(CadenceError::UnsupportedRate { .. })
        ));
        assert!(matches!(
            Framer::new(16_000, 3, 10),
            Err(CadenceError::InvalidArgument(_))
        ));
    }
}
