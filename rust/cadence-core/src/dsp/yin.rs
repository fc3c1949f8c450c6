//! YIN fundamental-frequency estimation (de Cheveigné & Kawahara, 2002):
//! difference function, cumulative mean normalized difference (CMND),
//! absolute threshold with descent to the local minimum, and parabolic
//! interpolation of the period. Buffers are owned and reused: no allocation
//! after construction.

/// Result of one YIN analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pitch {
    /// Fundamental frequency (Hz); 0 when unvoiced.
    pub f0_hz: f32,
    /// `1 - CMND` at the chosen lag, clamped to [0, 1]: 1 is perfectly periodic.
    pub voicing: f32,
    /// Whether the frame is judged voiced.
    pub voiced: bool,
}

/// A YIN estimator over windows of `window + tau_max` samples.
#[derive(Debug, Clone)]
pub struct Yin {
    sample_rate: f32,
    window: usize,
    tau_min: usize,
    tau_max: usize,
    /// Absolute threshold on the CMND for picking the first dip.
    threshold: f32,
    /// CMND at the chosen lag must be below this for the frame to be voiced.
    voiced_below: f32,
    cmnd: Vec<f32>,
}

impl Yin {
    /// `window`: integration length (samples, multiple of 8); lags cover
    /// `sample_rate / f_max ..= sample_rate / f_min`.
    pub fn new(sample_rate: f32, window: usize, f_min: f32, f_max: f32) -> Self {
        assert!(window % 8 == 0 && window > 0, "window must be a positive multiple of 8");
        let tau_min = (sample_rate / f_max).floor().max(2.0) as usize;
        let tau_max = (sample_rate / f_min).ceil() as usize;
        Yin {
            sample_rate,
            window,
            tau_min,
            tau_max,
            threshold: 0.15,
            voiced_below: 0.35,
            cmnd: vec![0.0; tau_max + 2],
        }
    }

    /// Samples an analysis needs: `window + tau_max + 2` (one extra lag for interpolation).
    pub fn span(&self) -> usize {
        self.window + self.tau_max + 2
    }

    /// Analyse `x` (length >= [`Yin::span`]; the first `span` samples are used).
    pub fn analyse(&mut self, x: &[f32]) -> Pitch {
        assert!(x.len() >= self.span());
        let w = self.window;
        let top = self.tau_max + 1; // one extra lag so the max lag can be interpolated
        // Difference function d(tau) and, in place, its CMND.
        self.cmnd[0] = 1.0;
        let mut running = 0.0f64;
        let a = &x[..w];
        for tau in 1..=top {
            let b = &x[tau..tau + w];
            let mut acc = [0.0f32; 8];
            for (ca, cb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
                for i in 0..8 {
                    let t = ca[i] - cb[i];
                    acc[i] += t * t;
                }
            }
            let d = acc.iter().sum::<f32>() as f64;
            running += d;
            self.cmnd[tau] = if running > 0.0 { (d * tau as f64 / running) as f32 } else { 1.0 };
        }
        let c = &self.cmnd;
        // First dip under the threshold, then down to its local minimum.
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
            // No dip under the threshold: the global minimum (for the voicing value).
            (self.tau_min..=self.tau_max)
                .min_by(|&i, &j| c[i].total_cmp(&c[j]))
                .expect("non-empty lag range")
        });
        let voicing = (1.0 - c[tau]).clamp(0.0, 1.0);
        let voiced = c[tau] < self.voiced_below;
        if !voiced {
            return Pitch { f0_hz: 0.0, voicing, voiced };
        }
        // Parabolic interpolation of the CMND around the chosen lag.
        let (l, m, r) = (c[tau - 1], c[tau], c[tau + 1]);
        let denom = l - 2.0 * m + r;
        let shift = if denom > 0.0 { (0.5 * (l - r) / denom).clamp(-0.5, 0.5) } else { 0.0 };
        let period = tau as f32 + shift;
        Pitch { f0_hz: self.sample_rate / period, voicing, voiced }
    }
}
