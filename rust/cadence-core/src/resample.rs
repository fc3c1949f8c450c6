//! Band-limited streaming resampler: polyphase windowed-sinc (Kaiser window)
//! for rational ratios `L/M` between the supported rates.
//!
//! Design, per rate pair (`min_nyq = min(from, to) / 2`):
//! * passband edge `0.90 * min_nyq`, stopband edge `1.00 * min_nyq`
//!   (cutoff `0.95 * min_nyq`), stopband attenuation [`STOPBAND_DB`];
//! * the prototype runs at `L * from` Hz and is split into `L` phases of `K`
//!   taps each. Its length is chosen as `2 * D * M + 1` so the group delay is
//!   exactly `D` output samples ([`Resampler::delay_samples`]); about 3.1 ms for
//!   every pair whose lower rate is 16 kHz.
//!
//! Streaming: output sample `m` is a dot product of phase `(m*M) mod L` with
//! the `K` input samples ending at `floor(m*M/L)`. Each output depends only on
//! the input samples, never on how they were split into calls, so any chunking
//! gives bit-identical output. Calls allocate nothing beyond growing the caller's
//! output vector and the internal history buffer (whose capacity is reused).

use crate::error::{CadenceError, Result};

/// Rates accepted by [`Resampler::new`] (Hz).
pub const SUPPORTED_RATES: [u32; 11] = [
    8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 88_200, 96_000,
];
/// [`SUPPORTED_RATES`] as text, for error messages.
pub const SUPPORTED_TEXT: &str =
    "8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000";
/// Stopband attenuation of the Kaiser design (dB).
pub const STOPBAND_DB: f64 = 80.0;
/// Passband edge as a fraction of the lower Nyquist frequency.
pub const PASSBAND_EDGE: f64 = 0.90;
/// Stopband edge as a fraction of the lower Nyquist frequency.
pub const STOPBAND_EDGE: f64 = 1.00;

pub(crate) fn check_rate(rate: u32) -> Result<()> {
    if SUPPORTED_RATES.contains(&rate) {
        Ok(())
    } else {
        Err(CadenceError::UnsupportedRate {
            rate,
            supported: SUPPORTED_TEXT,
        })
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Modified Bessel function of the first kind, order 0 (power series).
fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let (mut term, mut sum, mut k) = (1.0f64, 1.0f64, 1.0f64);
    while term > sum * 1e-17 {
        term *= q / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

/// The polyphase filter bank of one rate pair.
#[derive(Debug, Clone)]
struct Bank {
    up: usize,
    down: usize,
    taps: usize,
    /// `up` phases × `taps`, each phase reversed for a forward dot product.
    coeffs: Vec<f32>,
    delay: usize,
}

impl Bank {
    fn design(from: u32, to: u32) -> Bank {
        let g = gcd(from as u64, to as u64);
        let (up, down) = ((to as u64 / g) as usize, (from as u64 / g) as usize);
        let fs_up = from as f64 * up as f64;
        let min_nyq = from.min(to) as f64 / 2.0;
        let cutoff = 0.5 * (PASSBAND_EDGE + STOPBAND_EDGE) * min_nyq / fs_up; // cycles / sample
        let d_omega =
            2.0 * std::f64::consts::PI * (STOPBAND_EDGE - PASSBAND_EDGE) * min_nyq / fs_up;
        let beta = 0.1102 * (STOPBAND_DB - 8.7);
        let n_min = ((STOPBAND_DB - 7.95) / (2.285 * d_omega)).ceil() as usize + 1;
        // Length 2*D*M + 1: centre at D*M, i.e. exactly D output samples of delay.
        let delay = (n_min - 1).div_ceil(2 * down);
        let n = 2 * delay * down + 1;
        let centre = (delay * down) as f64;
        let i0_beta = bessel_i0(beta);
        let mut h: Vec<f64> = (0..n)
            .map(|i| {
                let t = i as f64 - centre;
                let x = 2.0 * cutoff * t;
                let sinc = if t == 0.0 {
                    1.0
                } else {
                    (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
                };
                let r = t / centre;
                let w = bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / i0_beta;
                2.0 * cutoff * sinc * w
            })
            .collect();
        // Unit DC gain after zero-stuffing by `up`.
        let sum: f64 = h.iter().sum();
        for v in &mut h {
            *v *= up as f64 / sum;
        }
        let taps = n.div_ceil(up);
        let mut coeffs = vec![0.0f32; up * taps];
        for p in 0..up {
            for i in 0..taps {
                let k = p + i * up;
                if k < n {
                    coeffs[p * taps + (taps - 1 - i)] = h[k] as f32;
                }
            }
        }
        Bank {
            up,
            down,
            taps,
            coeffs,
            delay,
        }
    }
}

/// Dot product with 8 independent accumulators (vectorisable, deterministic).
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// A stateful mono resampler from one supported rate to another.
#[derive(Debug, Clone)]
pub struct Resampler {
    from: u32,
    to: u32,
    bank: Option<Bank>, // None: identity (from == to)
    /// History (`taps - 1` samples) followed by not-yet-used input.
    buf: Vec<f32>,
    /// Index in `buf` of the newest input sample the next output needs.
    next: usize,
    /// Phase of the next output (`(m * M) mod L`).
    phase: usize,
    total_in: u64,
    total_out: u64,
}

impl Resampler {
    pub fn new(from: u32, to: u32) -> Result<Self> {
        check_rate(from)?;
        check_rate(to)?;
        let bank = (from != to).then(|| Bank::design(from, to));
        let mut r = Resampler {
            from,
            to,
            bank,
            buf: Vec::new(),
            next: 0,
            phase: 0,
            total_in: 0,
            total_out: 0,
        };
        r.reset();
        Ok(r)
    }

    /// Forget all input: back to the state of a new resampler.
    pub fn reset(&mut self) {
        self.buf.clear();
        if let Some(b) = &self.bank {
            self.buf.resize(b.taps - 1, 0.0);
            self.next = b.taps - 1;
        }
        self.phase = 0;
        self.total_in = 0;
        self.total_out = 0;
    }

    pub fn from_rate(&self) -> u32 {
        self.from
    }

    pub fn to_rate(&self) -> u32 {
        self.to
    }

    /// `(L, M)`: output rate / input rate in lowest terms.
    pub fn ratio(&self) -> (usize, usize) {
        self.bank.as_ref().map_or((1, 1), |b| (b.up, b.down))
    }

    /// Taps per polyphase branch (0 for the identity).
    pub fn taps_per_phase(&self) -> usize {
        self.bank.as_ref().map_or(0, |b| b.taps)
    }

    /// Group delay in output samples: output `m + delay` lines up with input time `m`.
    pub fn delay_samples(&self) -> usize {
        self.bank.as_ref().map_or(0, |b| b.delay)
    }

    /// Output samples produced by `n` more input samples (exact).
    pub fn output_len_for(&self, n: usize) -> usize {
        match &self.bank {
            None => n,
            Some(b) => {
                let avail = self.buf.len() + n;
                if avail <= self.next {
                    return 0;
                }
                // Outputs whose newest sample index `next + (phase + j*M) div L` < avail.
                let span = (avail - 1 - self.next) as u64; // in input samples
                ((span * b.up as u64 + (b.up - 1 - self.phase) as u64) / b.down as u64 + 1) as usize
            }
        }
    }

    /// Resample `input`, appending the output to `out`. Returns samples appended.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) -> usize {
        self.total_in += input.len() as u64;
        let Some(b) = &self.bank else {
            out.extend_from_slice(input);
            self.total_out += input.len() as u64;
            return input.len();
        };
        self.buf.extend_from_slice(input);
        out.reserve(self.output_len_for(0));
        let before = out.len();
        let (up, down, taps) = (b.up, b.down, b.taps);
        let (mut next, mut phase) = (self.next, self.phase);
        let buf = &self.buf[..];
        while next < buf.len() {
            let window = &buf[next + 1 - taps..=next];
            out.push(dot(&b.coeffs[phase * taps..(phase + 1) * taps], window));
            phase += down;
            next += phase / up;
            phase %= up;
        }
        let keep_from = (next + 1 - taps).min(self.buf.len());
        self.buf.drain(..keep_from);
        self.next = next - keep_from;
        self.phase = phase;
        let produced = out.len() - before;
        self.total_out += produced as u64;
        produced
    }

    /// End of stream: push the filter tail out (zero input) so every input
    /// sample has emerged — total output becomes `ceil(n_in * L / M) + delay`
    /// — then reset. Returns samples appended.
    pub fn flush(&mut self, out: &mut Vec<f32>) -> usize {
        let Some(b) = &self.bank else {
            self.reset();
            return 0;
        };
        if self.total_in == 0 {
            // nothing was pushed: no tail to push out (the delay is of samples that came in)
            self.reset();
            return 0;
        }
        let (up, down, delay) = (b.up as u64, b.down as u64, b.delay as u64);
        let target = (self.total_in * up).div_ceil(down) + delay;
        let before = out.len();
        let zeros = [0.0f32; 256];
        while self.total_out < target {
            let missing = target - self.total_out;
            let n_in = (missing * down).div_ceil(up).clamp(1, zeros.len() as u64) as usize;
            self.process(&zeros[..n_in], out);
        }
        let excess = (self.total_out - target) as usize;
        out.truncate(out.len() - excess);
        let produced = out.len() - before;
        self.reset();
        produced
    }
}

/// One-shot resampling with the delay removed: `ceil(len * L / M)` samples,
/// aligned with the input (like `scipy.signal.resample_poly`).
pub fn resample(x: &[f32], from: u32, to: u32) -> Result<Vec<f32>> {
    crate::samples::check_samples(x)?;
    let mut r = Resampler::new(from, to)?;
    let delay = r.delay_samples();
    let mut out = Vec::with_capacity(r.output_len_for(x.len()) + delay + 16);
    r.process(x, &mut out);
    r.flush(&mut out);
    out.drain(..delay.min(out.len()));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(n: usize, f: f64, fs: f64) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * std::f64::consts::PI * f * i as f64 / fs).sin() as f32 * 0.5)
            .collect()
    }

    #[test]
    fn a_flush_with_nothing_pushed_gives_nothing() {
        let mut r = Resampler::new(48_000, 16_000).unwrap();
        let mut out = Vec::new();
        assert_eq!(r.flush(&mut out), 0);
        assert_eq!(r.flush(&mut out), 0);
        assert!(out.is_empty());
        r.process(&[0.5; 480], &mut out);
        r.flush(&mut out);
        assert_eq!(out.len(), 160 + r.delay_samples()); // 480 samples in: all 160 out, and the delay
    }

    #[test]
    fn unsupported_rate() {
        assert!(matches!(
            Resampler::new(11_000, 16_000),
            Err(CadenceError::UnsupportedRate { rate: 11_000, .. })
        ));
        assert!(matches!(
            Resampler::new(16_000, 192_000),
            Err(CadenceError::UnsupportedRate { rate: 192_000, .. })
        ));
    }

    #[test]
    fn lengths_and_delay() {
        for &(f, t) in &[
            (48_000u32, 16_000u32),
            (22_050, 16_000),
            (16_000, 48_000),
            (8_000, 16_000),
            (44_100, 16_000),
            (11_025, 16_000),
            (12_000, 16_000),
            (32_000, 16_000),
            (88_200, 16_000),
            (96_000, 16_000),
        ] {
            let y = resample(&vec![0.1f32; 1001], f, t).unwrap();
            let (l, m) = Resampler::new(f, t).unwrap().ratio();
            assert_eq!(y.len(), (1001 * l).div_ceil(m), "{f}->{t}");
            // ~3.1 ms when the lower rate is 16 kHz; the transition band (and
            // so the delay) scales with the lower rate.
            let r = Resampler::new(f, t).unwrap();
            let ms = r.delay_samples() as f64 * 1000.0 / t as f64 * f.min(t) as f64 / 16_000.0;
            assert!((2.9..3.4).contains(&ms), "{f}->{t}: delay {ms} ms (scaled)");
        }
    }

    #[test]
    fn chunking_is_bit_identical() {
        let x = tone(9_000, 440.0, 44_100.0);
        let mut whole = Resampler::new(44_100, 16_000).unwrap();
        let mut a = Vec::new();
        whole.process(&x, &mut a);
        let mut parts = Resampler::new(44_100, 16_000).unwrap();
        let mut b = Vec::new();
        let mut i = 0;
        let mut step = 1;
        while i < x.len() {
            let j = (i + step).min(x.len());
            let predicted = parts.output_len_for(j - i);
            assert_eq!(parts.process(&x[i..j], &mut b), predicted);
            i = j;
            step = step * 5 % 997 + 1;
        }
        assert_eq!(a, b);
    }

    #[test]
    fn passes_passband_tone_and_rejects_alias() {
        // 1 kHz passes at unit gain; 10 kHz (would alias to 6 kHz at 16 kHz) is removed.
        let pass = resample(&tone(48_000, 1_000.0, 48_000.0), 48_000, 16_000).unwrap();
        let mid = &pass[2000..14000];
        let rms = (mid.iter().map(|v| (v * v) as f64).sum::<f64>() / mid.len() as f64).sqrt();
        assert!((rms - 0.5 / 2f64.sqrt()).abs() < 1e-3, "rms {rms}");
        let stop = resample(&tone(48_000, 10_000.0, 48_000.0), 48_000, 16_000).unwrap();
        let peak = stop[2000..14000].iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(peak < 0.5 * 1e-3, "alias peak {peak}");
    }

    #[test]
    fn flush_emits_tail_and_resets() {
        let mut r = Resampler::new(24_000, 48_000).unwrap();
        let mut out = Vec::new();
        r.process(&[1.0; 100], &mut out);
        r.flush(&mut out);
        assert_eq!(out.len(), 200 + r.delay_samples());
        let mut again = Vec::new();
        r.process(&[1.0; 100], &mut again);
        r.flush(&mut again);
        assert_eq!(out, again);
    }
}
