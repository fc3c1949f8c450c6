//! Speaker normalisation: raw per-frame features → the floor model's inputs,
//! relative to the current speaker's running baselines.
//!
//! Energy is taken relative to a running speech level and noise floor, f0 in
//! semitones relative to the running mean voiced pitch over the running spread,
//! log-mel bands minus their running mean (timbre and channel), and speaking
//! rate relative to the running rate. Latched summaries of the last stretch of
//! speech (silence so far, run lengths, final pitch and energy movement) stay
//! constant through a pause. The column order is [`SCALAR_NAMES`] then the mel
//! bands; the Python reference is `cadence.floor.reference.SpeakerNormalizer`
//! (f64 state, f32 mel state), which this follows step for step.

use std::collections::VecDeque;

/// Columns before the normalised mel bands.
pub const N_SCALARS: usize = 20;
/// Names of the scalar output columns, in order (the model's input layout).
pub const SCALAR_NAMES: [&str; N_SCALARS] = [
    "e_speech",
    "e_noise",
    "e_delta",
    "zcr",
    "voicing",
    "f0_z",
    "f0_delta",
    "voiced_recent",
    "centroid",
    "tilt",
    "vad",
    "rate",
    "persona",
    "echo_excess",
    "sil_s",
    "run_s",
    "vrun_s",
    "last_f0_z",
    "f0_slope",
    "e_final",
];

const ACTIVE_E_LEN: usize = 50;
const VOICED_ST_LEN: usize = 20;

/// One frame of raw features as the Rust `FeatureExtractor` gives them.
#[derive(Debug, Clone, Copy)]
pub struct RawFrame<'a> {
    pub rms_db: f32,
    pub zcr: f32,
    pub f0_hz: f32,
    pub voicing: f32,
    pub centroid_hz: f32,
    pub tilt: f32,
    pub mel: &'a [f32],
}

/// Running per-speaker baselines; see the module doc.
#[derive(Debug, Clone)]
pub struct SpeakerNormalizer {
    noise: f64,
    speech: f64,
    n_speech: u64,
    f0_mean: f64,
    f0_var: f64,
    n_voiced: u64,
    last_st: Option<f64>,
    prev_rms: f64,
    voiced_trace: f64,
    mel_mean: Vec<f32>,
    n_mel: u64,
    env_prev: f64,
    env_rising: bool,
    peak_trace: f64,
    rate_mean: f64,
    sil: u64,
    run: u64,
    last_run: u64,
    vrun: u64,
    last_vrun: u64,
    last_f0_z: f64,
    voiced_st: VecDeque<f64>,
    f0_slope: f64,
    active_e: VecDeque<f64>,
    e_final: f64,
}

fn clip(v: f64, lo: f64, hi: f64) -> f64 {
    v.max(lo).min(hi)
}

impl SpeakerNormalizer {
    pub fn new(n_mels: usize) -> Self {
        SpeakerNormalizer {
            noise: -70.0,
            speech: -30.0,
            n_speech: 0,
            f0_mean: 0.0,
            f0_var: 9.0,
            n_voiced: 0,
            last_st: None,
            prev_rms: -100.0,
            voiced_trace: 0.0,
            mel_mean: vec![0.0; n_mels],
            n_mel: 0,
            env_prev: -100.0,
            env_rising: false,
            peak_trace: 0.0,
            rate_mean: 0.04, // ~4 peaks/s at 100 frames/s
            sil: 0,
            run: 0,
            last_run: 0,
            vrun: 0,
            last_vrun: 0,
            last_f0_z: 0.0,
            voiced_st: VecDeque::with_capacity(VOICED_ST_LEN + 1),
            f0_slope: 0.0,
            active_e: VecDeque::with_capacity(ACTIVE_E_LEN + 1),
            e_final: 0.0,
        }
    }

    pub fn n_mels(&self) -> usize {
        self.mel_mean.len()
    }

    pub fn reset(&mut self) {
        *self = Self::new(self.n_mels());
    }

    /// Normalise one frame into `out` (`N_SCALARS + n_mels` values).
    /// `ref_db`/`excess_db` come from the echo estimator: frames whose energy the
    /// persona's echo explains do not update the *user's* baselines.
    pub fn step(
        &mut self,
        raw: RawFrame<'_>,
        vad: f64,
        ref_db: f64,
        excess_db: f64,
        out: &mut [f32],
    ) {
        let rms = raw.rms_db as f64;
        let f0 = raw.f0_hz as f64;
        let voicing = raw.voicing as f64;

        // noise floor: fast down, slow up (minimum tracking)
        if rms < self.noise {
            self.noise += 0.3 * (rms - self.noise);
        } else {
            self.noise += 0.0005 * (rms - self.noise);
        }
        let is_speech = vad >= 0.5 && rms > self.noise + 6.0 && excess_db > 6.0;
        if is_speech {
            self.n_speech += 1;
            let a = (1.0 / self.n_speech as f64).max(0.005);
            self.speech += a * (rms - self.speech);
            self.n_mel += 1;
            let am = (1.0 / self.n_mel as f64).max(0.003) as f32;
            for (m, &x) in self.mel_mean.iter_mut().zip(raw.mel) {
                *m += am * (x - *m);
            }
        }

        let voiced = voicing >= 0.5 && f0 > 0.0 && is_speech;
        let (mut f0_z, mut f0_delta) = (0.0, 0.0);
        if voiced {
            let st = 12.0 * (f0 / 100.0).log2();
            self.n_voiced += 1;
            let a = (1.0 / self.n_voiced as f64).max(0.004);
            let d = st - self.f0_mean;
            self.f0_mean += a * d;
            self.f0_var += a * (d * d - self.f0_var);
            let spread = self.f0_var.max(1.0).sqrt();
            f0_z = clip((st - self.f0_mean) / spread, -4.0, 4.0);
            if let Some(last) = self.last_st {
                f0_delta = clip(st - last, -4.0, 4.0) / 2.0;
            }
            self.last_st = Some(st);
        }
        self.voiced_trace = 0.85 * self.voiced_trace + if voiced { 0.15 } else { 0.0 };

        // syllable-ish energy peaks → speaking rate
        let mut peak = 0.0;
        if rms > self.env_prev + 0.5 {
            self.env_rising = true;
        } else if self.env_rising && rms < self.env_prev - 0.5 {
            self.env_rising = false;
            if self.env_prev > self.noise + 10.0 {
                peak = 1.0;
            }
        }
        self.env_prev = rms;
        self.peak_trace = 0.995 * self.peak_trace + 0.005 * peak;
        if is_speech {
            self.rate_mean += 0.002 * (self.peak_trace - self.rate_mean);
        }
        let rate = self.peak_trace / self.rate_mean.max(1e-3) - 1.0;

        let o = out;
        o[0] = ((rms - self.speech) / 10.0) as f32;
        o[1] = ((rms - self.noise) / 20.0) as f32;
        o[2] = clip((rms - self.prev_rms) / 10.0, -3.0, 3.0) as f32;
        o[3] = raw.zcr;
        o[4] = raw.voicing;
        o[5] = f0_z as f32;
        o[6] = f0_delta as f32;
        o[7] = self.voiced_trace as f32;
        o[8] = ((raw.centroid_hz as f64).max(50.0) / 1000.0).log2() as f32;
        o[9] = clip((raw.tilt as f64 + 8.0) / 5.0, -3.0, 3.0) as f32;
        o[10] = vad as f32;
        o[11] = clip(rate, -2.0, 4.0) as f32;
        o[12] = clip((ref_db + 40.0) / 20.0, -3.0, 3.0) as f32;
        o[13] = clip(excess_db / 10.0, -1.0, 3.0) as f32;
        self.latch(rms, voiced, f0_z);
        o[14] = (self.sil as f64 / 200.0).min(1.5) as f32;
        let run = if self.run > 0 {
            self.run
        } else {
            self.last_run
        };
        o[15] = (run as f64 / 200.0).min(2.0) as f32;
        let vrun = if self.vrun > 0 {
            self.vrun
        } else {
            self.last_vrun
        };
        o[16] = (vrun as f64 / 30.0).min(3.0) as f32;
        o[17] = self.last_f0_z as f32;
        o[18] = self.f0_slope as f32;
        o[19] = self.e_final as f32;
        for ((dst, &x), &m) in o[N_SCALARS..].iter_mut().zip(raw.mel).zip(&self.mel_mean) {
            *dst = (x - m) / 4.0;
        }
        self.prev_rms = rms;
    }

    fn latch(&mut self, rms: f64, voiced: bool, f0_z: f64) {
        if rms > self.noise + 9.0 {
            self.sil = 0;
            self.run += 1;
            self.active_e.push_back(rms);
            if self.active_e.len() > ACTIVE_E_LEN {
                self.active_e.pop_front();
            }
            let n = self.active_e.len();
            if n >= 20 {
                let head: f64 = self.active_e.iter().take(n - 10).sum();
                let tail: f64 = self.active_e.iter().skip(n - 10).sum();
                self.e_final = clip((tail / 10.0 - head / (n - 10) as f64) / 10.0, -3.0, 3.0);
            }
        } else {
            self.sil += 1;
            if self.run > 0 {
                self.last_run = self.run;
                self.run = 0;
            }
        }
        if voiced {
            self.vrun += 1;
            self.last_f0_z = f0_z;
            self.voiced_st.push_back(f0_z);
            if self.voiced_st.len() > VOICED_ST_LEN {
                self.voiced_st.pop_front();
            }
            let n = self.voiced_st.len();
            if n >= 5 {
                let xm = (n - 1) as f64 / 2.0;
                let ym = self.voiced_st.iter().sum::<f64>() / n as f64;
                let mut num = 0.0;
                let mut den = 0.0;
                for (i, &v) in self.voiced_st.iter().enumerate() {
                    num += (i as f64 - xm) * (v - ym);
                    den += (i as f64 - xm) * (i as f64 - xm);
                }
                let spread = self.f0_var.max(1.0).sqrt();
                // slope in z units per frame → semitones per 100 ms
                self.f0_slope = clip(num / den * spread * 10.0 / 2.0, -3.0, 3.0);
            }
        } else if self.vrun > 0 {
            self.last_vrun = self.vrun;
            self.vrun = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>(rms: f32, f0: f32, mel: &'a [f32]) -> RawFrame<'a> {
        RawFrame {
            rms_db: rms,
            zcr: 0.1,
            f0_hz: f0,
            voicing: if f0 > 0.0 { 0.9 } else { 0.0 },
            centroid_hz: 800.0,
            tilt: -8.0,
            mel,
        }
    }

    #[test]
    fn pitch_is_relative_to_the_speaker() {
        // the same contour an octave apart gives the same f0_z after adaptation
        let mel = [0.0f32; 4];
        let run = |base: f32| {
            let mut s = SpeakerNormalizer::new(4);
            let mut out = [0.0f32; N_SCALARS + 4];
            let mut z = Vec::new();
            for i in 0..3000 {
                let f0 = base * (1.0 + 0.1 * ((i as f32) * 0.05).sin());
                s.step(raw(-25.0, f0, &mel), 0.9, -100.0, 30.0, &mut out);
                z.push(out[5]);
            }
            z
        };
        let (lo, hi) = (run(110.0), run(220.0));
        for i in 2500..3000 {
            assert!(
                (lo[i] - hi[i]).abs() < 1e-3,
                "frame {i}: {} vs {}",
                lo[i],
                hi[i]
            );
        }
    }

    #[test]
    fn level_changes_do_not_move_e_speech() {
        let mel = [0.0f32; 4];
        let mut s = SpeakerNormalizer::new(4);
        let mut out = [0.0f32; N_SCALARS + 4];
        for i in 0..6000 {
            let rms = if i < 3000 { -30.0 } else { -15.0 };
            s.step(raw(rms, 120.0, &mel), 0.9, -100.0, 30.0, &mut out);
        }
        assert!(
            out[0].abs() < 0.1,
            "e_speech {} after adapting to +15 dB",
            out[0]
        );
    }

    #[test]
    fn silence_latches_and_counts() {
        let mel = [0.0f32; 4];
        let mut s = SpeakerNormalizer::new(4);
        let mut out = [0.0f32; N_SCALARS + 4];
        for _ in 0..100 {
            s.step(raw(-70.0, 0.0, &mel), 0.0, -100.0, 30.0, &mut out);
        }
        for _ in 0..120 {
            s.step(raw(-25.0, 150.0, &mel), 0.9, -100.0, 30.0, &mut out);
        }
        for _ in 0..50 {
            s.step(raw(-70.0, 0.0, &mel), 0.0, -100.0, 30.0, &mut out);
        }
        assert!((out[14] - 0.25).abs() < 1e-6, "sil_s {}", out[14]); // 50 frames / 200
        assert!((out[15] - 0.6).abs() < 1e-6, "run_s {}", out[15]); // 120 / 200
        assert!((out[16] - 3.0).abs() < 1e-6, "vrun_s {}", out[16]); // clipped
                                                                     // echo-explained frames do not update the speech level
        let before = s.speech;
        s.step(raw(-10.0, 150.0, &mel), 0.9, -20.0, 0.0, &mut out);
        assert_eq!(s.speech, before);
    }
}
