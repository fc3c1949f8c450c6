//! A boost-only automatic gain on the mic, ahead of the floor features and the VAD.
//!
//! Quiet speech hurts twice: Silero VAD misses it, and the log-mel bands of its
//! quiet parts sink to the spectrum's floor. 20 dB below the corpus levels
//! (speech at −40 to −64 dBFS) the floor policy missed turns and cut in more
//! (floor.md, "Input level"). [`MicAgc`] tracks the upper envelope of the frame
//! level (fast attack, slow release) and raises the frames so that envelope sits
//! at [`TARGET_DB`], by at most [`MAX_BOOST_DB`]; it never lowers a loud input.
//! The features are taken on the raised copy (the speaker normalisation makes
//! them level-free otherwise); the VAD hears it clipped to full scale.
//!
//! The envelope releases at [`RELEASE_DB`] only on frames within [`GATE_DB`] of it
//! (speech); in pauses, far below it, at [`SLOW_RELEASE_DB`]. A gain that rose in
//! every pause would make the silence after a word look louder and louder, and
//! the speaker normalisation would chase it.
//!
//! While the persona plays (a reference frame above [`PERSONA_DB`]) and for
//! [`HOLD_FRAMES`] after, the envelope is frozen: the echo must not move the
//! gain, or the persona's own voice, raised more and more, starts to look like
//! the user talking over it.
//!
//! Cold start: the envelope starts at [`INITIAL_DB`], and speech more than
//! [`GATE_DB`] below that (a quiet mic) would count as a pause and release it at
//! [`SLOW_RELEASE_DB`]: +11 dB of boost after 10 s and +15 dB after 40 s where +22
//! to +24 dB was due (floor.md, "Features v4"). So over the first [`COLD_FRAMES`]
//! frames of speech — frames [`COLD_SNR_DB`] above a running noise floor (the
//! quietest recent frame, rising [`NOISE_RISE_DB`] per frame) — the envelope is
//! the loudest of them instead. A steady tone has no such frames and never
//! leaves the initial envelope this way. The cold start reads a frame's
//! *sustained* level, the quietest of it and the [`SUSTAIN_FRAMES`] − 1 frames
//! before it: one click (a plug, a tap on the mic) at the start of a call set the
//! envelope to its own level before (−12 dB for a 2.5 ms click at 0.5 of full
//! scale), and quiet speech, more than [`GATE_DB`] under it, released it at
//! [`SLOW_RELEASE_DB`]: no boost for minutes. A sound held 30 ms or longer (a
//! door, a cough) still counts as speech here.
//!
//! Causal, per 10 ms frame; any chunking gives the same output.

use crate::error::Result;
use crate::samples::MAX_SAMPLE_ABS;

use super::{check_frames_io, mean_square};
use crate::FRAME_SAMPLES;

/// Where the tracked speech envelope is brought to, dBFS.
pub const TARGET_DB: f64 = -20.0;
/// The largest boost, dB.
pub const MAX_BOOST_DB: f64 = 30.0;
/// Envelope attack: the share of the gap to a louder frame closed per frame (~200 ms).
pub const ATTACK: f64 = 0.05;
/// Envelope release on frames within [`GATE_DB`] below it, dB per frame (1 dB/s).
pub const RELEASE_DB: f64 = 0.01;
/// Frames further below the envelope than this are a pause.
pub const GATE_DB: f64 = 15.0;
/// Envelope release in pauses, dB per frame (0.1 dB/s).
pub const SLOW_RELEASE_DB: f64 = 0.001;
/// The envelope before any audio (a nominal speech level) and its lowest value.
pub const INITIAL_DB: f64 = -30.0;
pub const FLOOR_DB: f64 = -80.0;
/// A reference frame above this level means the persona is playing (the policy's rule).
pub const PERSONA_DB: f64 = -60.0;
/// Frames the envelope stays frozen after the persona's playback (300 ms).
pub const HOLD_FRAMES: u32 = 30;
/// Frames of speech over which the envelope is set from the loudest of them (500 ms).
pub const COLD_FRAMES: u32 = 50;
/// A frame this far above the noise floor is speech, for the cold start, dB.
pub const COLD_SNR_DB: f64 = 12.0;
/// The noise floor's rise per frame (it falls at once to a quieter frame), dB (1 dB/s).
pub const NOISE_RISE_DB: f64 = 0.01;
/// The cold start reads the quietest of this many consecutive frames (30 ms): a level held
/// that long, not a click.
pub const SUSTAIN_FRAMES: usize = 3;

fn frame_db(f: &[f32]) -> f64 {
    10.0 * (mean_square(f) + 1e-12).log10()
}

#[derive(Debug, Clone)]
pub struct MicAgc {
    level_db: f64,
    since_persona: u32,
    /// The running noise floor, dBFS (`None` before the first frame; tracked during the
    /// cold start only).
    noise_db: Option<f64>,
    /// Frames of speech heard so far, up to [`COLD_FRAMES`].
    cold_heard: u32,
    /// The levels of the frames before this one, newest first (cold start only).
    recent_db: [f64; SUSTAIN_FRAMES - 1],
}

impl Default for MicAgc {
    fn default() -> Self {
        MicAgc {
            level_db: INITIAL_DB,
            since_persona: HOLD_FRAMES,
            noise_db: None,
            cold_heard: 0,
            recent_db: [f64::INFINITY; SUSTAIN_FRAMES - 1],
        }
    }
}

impl MicAgc {
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

    /// Advance by one mic frame (`persona`: the reference is audible in it); the
    /// linear gain (≥ 1) for the frame.
    fn step(&mut self, db: f64, persona: bool) -> f32 {
        self.since_persona = if persona {
            0
        } else {
            self.since_persona.saturating_add(1)
        };
        // the noise floor matters only until the cold start is over
        let cold = self.cold_heard < COLD_FRAMES;
        // the level held over the last SUSTAIN_FRAMES frames (fewer at the very start)
        let sustained = self.recent_db.iter().fold(db, |m, &d| m.min(d));
        if cold {
            self.noise_db = Some(self.noise_db.map_or(db, |n| (n + NOISE_RISE_DB).min(db)));
            self.recent_db.rotate_right(1);
            self.recent_db[0] = db;
        }
        if self.since_persona >= HOLD_FRAMES
            && cold
            && self.noise_db.is_some_and(|n| sustained > n + COLD_SNR_DB)
        {
            // cold start: the envelope is the loudest sustained speech level so far
            self.level_db = if self.cold_heard == 0 {
                sustained
            } else {
                self.level_db.max(sustained)
            };
            self.cold_heard += 1;
        } else if self.since_persona >= HOLD_FRAMES {
            self.level_db = if db > self.level_db {
                self.level_db + ATTACK * (db - self.level_db)
            } else if db > self.level_db - GATE_DB {
                (self.level_db - RELEASE_DB).max(FLOOR_DB)
            } else {
                (self.level_db - SLOW_RELEASE_DB).max(FLOOR_DB)
            };
        }
        let boost = (TARGET_DB - self.level_db).clamp(0.0, MAX_BOOST_DB);
        10f64.powf(boost / 20.0) as f32
    }

    /// `mic`: whole 10 ms frames; `reference`: what the persona played in the same
    /// frames, or `None`. Writes the raised mic to `out` (same length, magnitudes
    /// capped at [`MAX_SAMPLE_ABS`], not clipped to full scale). Refuses (changing
    /// nothing) a partial frame, mismatched lengths or a bad sample.
    pub fn process(
        &mut self,
        mic: &[f32],
        reference: Option<&[f32]>,
        out: &mut [f32],
    ) -> Result<()> {
        check_frames_io(mic, reference, out)?;
        for (i, (f, o)) in mic
            .chunks_exact(FRAME_SAMPLES)
            .zip(out.chunks_exact_mut(FRAME_SAMPLES))
            .enumerate()
        {
            let persona = reference
                .map(|r| frame_db(&r[i * FRAME_SAMPLES..(i + 1) * FRAME_SAMPLES]) > PERSONA_DB)
                .unwrap_or(false);
            let g = self.step(frame_db(f), persona);
            for (y, &x) in o.iter_mut().zip(f) {
                *y = (x * g).clamp(-MAX_SAMPLE_ABS, MAX_SAMPLE_ABS);
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

    fn run(g: &mut MicAgc, x: &[f32], r: Option<&[f32]>) -> Vec<f32> {
        let mut out = vec![0.0; x.len()];
        g.process(x, r, &mut out).unwrap();
        out
    }

    #[test]
    fn quiet_speech_is_raised_to_the_target_loud_speech_is_left_alone() {
        // a 0.01-amplitude sine, -43 dBFS: the envelope releases from -30 dB at 1 dB/s,
        // so after 3 s the boost is 13 dB; after 20 s the output sits at the target
        let mut g = MicAgc::new();
        let out = run(&mut g, &sine(300, 0.01), None);
        let tail = &out[out.len() - 10 * FRAME_SAMPLES..];
        assert!(
            (frame_db(tail) - (-43.0 + 13.0)).abs() < 0.5,
            "{}",
            frame_db(tail)
        );
        let out = run(&mut g, &sine(1700, 0.01), None);
        let tail = &out[out.len() - 10 * FRAME_SAMPLES..];
        assert!(
            (frame_db(tail) - TARGET_DB).abs() < 0.5,
            "{}",
            frame_db(tail)
        );
        // -63 dBFS, 33 dB below the first envelope: a pause to the gate, so the envelope
        // first releases at 0.1 dB/s (18 dB in 180 s), then at 1 dB/s; the boost stops
        // at MAX_BOOST_DB
        let mut g = MicAgc::new();
        run(&mut g, &sine(10_000, 0.001), None);
        assert!(
            (g.level_db() - (-30.0 - 0.1 * 100.0)).abs() < 0.01,
            "{}",
            g.level_db()
        );
        let out = run(&mut g, &sine(12_000, 0.001), None);
        let tail = &out[out.len() - 10 * FRAME_SAMPLES..];
        assert!(
            (frame_db(tail) - (-63.0 + MAX_BOOST_DB)).abs() < 0.5,
            "{}",
            frame_db(tail)
        );
        // a pause far below the envelope moves it 10x slower than speech near it
        let (mut a, mut b) = (MicAgc::new(), MicAgc::new());
        run(
            &mut a,
            &sine(100, 10f32.powf(-40.0 / 20.0) * 2f32.sqrt()),
            None,
        );
        run(
            &mut b,
            &sine(100, 10f32.powf(-60.0 / 20.0) * 2f32.sqrt()),
            None,
        );
        assert!(
            (INITIAL_DB - a.level_db() - 1.0).abs() < 1e-6
                && (INITIAL_DB - b.level_db() - 0.1).abs() < 1e-6
        );
        // -13.5 dBFS: once the envelope has risen to it (~0.5 s), passed through, never cut
        let x = sine(300, 0.3);
        let out = run(&mut MicAgc::new(), &x, None);
        let tail = 100 * FRAME_SAMPLES;
        assert!(out[tail..] == x[tail..], "a loud input was changed");
    }

    /// `n` frames alternating 30 frames of a sine at `db` dBFS and 20 frames 40 dB under it.
    fn bursts(n_frames: usize, db: f64) -> Vec<f32> {
        let amp = (10f64.powf(db / 20.0) * 2f64.sqrt()) as f32;
        let x = sine(n_frames, amp);
        x.iter()
            .enumerate()
            .map(|(i, v)| {
                if (i / FRAME_SAMPLES) % 50 < 30 {
                    *v
                } else {
                    v * 0.01
                }
            })
            .collect()
    }

    #[test]
    fn cold_start_sets_the_envelope_from_the_first_speech() {
        // speech bursts at -46 dBFS (16 dB under the first envelope, a pause to its gate):
        // after 0.5 s of them the envelope is their level, the output sits at the target
        let mut g = MicAgc::new();
        let out = run(&mut g, &bursts(300, -46.0), None);
        assert!((g.level_db() - (-46.0)).abs() < 0.6, "{}", g.level_db());
        let last = &out[(250 + 10) * FRAME_SAMPLES..(250 + 20) * FRAME_SAMPLES];
        assert!(
            (frame_db(last) - TARGET_DB).abs() < 0.6,
            "{}",
            frame_db(last)
        );
        // then the envelope tracks as before: it no longer jumps down to quieter speech
        run(&mut g, &bursts(100, -56.0), None);
        assert!(g.level_db() > -47.5, "{}", g.level_db());
        // loud speech: from its second burst (the first one set the noise floor) the
        // envelope is its level, nothing is raised
        let mut g = MicAgc::new();
        let x = bursts(100, -12.0);
        let from = 50 * FRAME_SAMPLES;
        assert!(run(&mut g, &x, None)[from..] == x[from..]);
        // a click (one frame at -6 dBFS) before quiet speech is not a sustained level: the
        // envelope ends where it ends without the click
        let mut x = bursts(300, -46.0);
        x[20 * FRAME_SAMPLES + 40..20 * FRAME_SAMPLES + 80].fill(0.5);
        let mut g = MicAgc::new();
        run(&mut g, &x, None);
        assert!((g.level_db() - (-46.0)).abs() < 0.6, "{}", g.level_db());
        // bursts while the persona plays move nothing (its echo must not set the gain)
        let mut g = MicAgc::new();
        run(&mut g, &bursts(100, -46.0), Some(&sine(100, 0.1)));
        assert_eq!(g.level_db(), INITIAL_DB);
        // chunk-invariant like the rest
        let x = bursts(200, -40.0);
        let whole = run(&mut MicAgc::new(), &x, None);
        let mut g = MicAgc::new();
        let parts: Vec<f32> = x
            .chunks(3 * FRAME_SAMPLES)
            .flat_map(|c| run(&mut g, c, None))
            .collect();
        assert_eq!(whole, parts);
    }

    #[test]
    fn the_envelope_is_frozen_while_the_persona_plays() {
        let mic = sine(300, 0.01);
        let mut g = MicAgc::new();
        run(&mut g, &mic[..100 * FRAME_SAMPLES], None);
        let before = g.level_db();
        // 2 s of persona playback: the envelope does not move, then 300 ms more
        let reference = sine(200, 0.1);
        run(&mut g, &mic[..200 * FRAME_SAMPLES], Some(&reference));
        assert_eq!(g.level_db(), before);
        run(
            &mut g,
            &mic[..(HOLD_FRAMES as usize - 1) * FRAME_SAMPLES],
            None,
        );
        assert_eq!(g.level_db(), before);
        run(&mut g, &mic[..FRAME_SAMPLES], None);
        assert!(g.level_db() < before);
        // a silent reference (below PERSONA_DB) holds nothing
        let mut h = MicAgc::new();
        let silent = vec![1e-5f32; 50 * FRAME_SAMPLES];
        run(&mut h, &mic[..50 * FRAME_SAMPLES], Some(&silent));
        assert!(h.level_db() < INITIAL_DB);
    }

    #[test]
    fn chunk_invariant_and_capped() {
        let x = sine(120, 0.02);
        let r = sine(120, 0.05);
        let r: Vec<f32> = r
            .iter()
            .enumerate()
            .map(|(i, v)| if i < 6000 { *v } else { 0.0 })
            .collect();
        let whole = run(&mut MicAgc::new(), &x, Some(&r));
        let mut g = MicAgc::new();
        let mut parts = Vec::new();
        for (c, rc) in x.chunks(7 * FRAME_SAMPLES).zip(r.chunks(7 * FRAME_SAMPLES)) {
            parts.extend(run(&mut g, c, Some(rc)));
        }
        assert_eq!(whole, parts);
        let mut huge = vec![0.0f32; 30 * FRAME_SAMPLES];
        huge[29 * FRAME_SAMPLES] = MAX_SAMPLE_ABS;
        assert!(run(&mut MicAgc::new(), &huge, None)
            .iter()
            .all(|v| v.abs() <= MAX_SAMPLE_ABS));
    }

    #[test]
    fn refuses_bad_input_and_loses_nothing() {
        let mut g = MicAgc::new();
        run(&mut g, &sine(50, 0.001), None);
        let before = g.level_db();
        let mut out = vec![0.0; 100];
        assert!(g.process(&[0.0; 100], None, &mut out).is_err());
        let mut bad = sine(2, 0.001);
        bad[5] = f32::NAN;
        let mut out = vec![0.0; bad.len()];
        assert!(g.process(&bad, None, &mut out).is_err());
        let ok = sine(2, 0.001);
        assert!(g.process(&ok, Some(&bad), &mut out).is_err());
        assert!(g.process(&ok, Some(&ok[..160]), &mut out).is_err());
        assert_eq!(g.level_db(), before);
    }
}
