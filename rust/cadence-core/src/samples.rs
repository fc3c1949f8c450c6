//! The one check every float sample passes where it enters the core.
//!
//! Full scale is 1.0. A sample must be finite *and* at most
//! [`MAX_SAMPLE_ABS`] in magnitude: finite values near `f32::MAX` overflow the
//! downmix, the resampler's dot products and the f32 FFTs of the features, and
//! would come out as inf/NaN — a silent wrong result instead of an error.

use crate::error::{CadenceError, Result};

/// Largest accepted sample magnitude (+120 dB over full scale). Far above any
/// real signal (int16 values mistakenly passed as float are at most 32768),
/// far below where the f32 arithmetic of the core overflows.
pub const MAX_SAMPLE_ABS: f32 = 1.0e6;

/// Index of the first sample that is NaN, infinite or beyond [`MAX_SAMPLE_ABS`].
pub fn first_bad_sample(s: &[f32]) -> Option<usize> {
    // Branch-free (vectorisable) scan first; locate the index only on failure.
    // `!(|v| <= MAX)` is also true for NaN.
    if s.iter()
        .fold(true, |ok, v| ok & (v.abs() <= MAX_SAMPLE_ABS))
    {
        return None;
    }
    s.iter().position(|v| !(v.abs() <= MAX_SAMPLE_ABS))
}

/// The error for the bad sample `value`, located by `at` (e.g. "index 7").
pub fn bad_sample_error(value: f32, at: &str) -> CadenceError {
    if value.is_finite() {
        CadenceError::InvalidAudio(format!(
            "sample {value:e} at {at} exceeds the maximum magnitude {MAX_SAMPLE_ABS:e} (full scale is 1.0)"
        ))
    } else {
        CadenceError::InvalidAudio(format!("non-finite sample {value} at {at}"))
    }
}

/// `Err(InvalidAudio)` naming the first bad sample of `s`, if any.
pub fn check_samples(s: &[f32]) -> Result<()> {
    match first_bad_sample(s) {
        None => Ok(()),
        Some(i) => Err(bad_sample_error(s[i], &format!("index {i}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nan_inf_and_oversize() {
        assert_eq!(
            check_samples(&[0.0, 1.0, -MAX_SAMPLE_ABS, MAX_SAMPLE_ABS]),
            Ok(())
        );
        assert_eq!(first_bad_sample(&[0.0, f32::NAN]), Some(1));
        assert_eq!(first_bad_sample(&[f32::NEG_INFINITY]), Some(0));
        assert_eq!(first_bad_sample(&[0.5, 0.5, 2.0e6]), Some(2));
        let e = check_samples(&[0.0, -3.0e38]).unwrap_err().to_string();
        assert!(
            e.contains("index 1") && e.contains("maximum magnitude"),
            "{e}"
        );
        let e = check_samples(&[f32::NAN]).unwrap_err().to_string();
        assert!(e.contains("non-finite sample NaN at index 0"), "{e}");
    }
}
