//! `exp`, `tanh` and the logistic sigmoid for the floor networks, in plain f32 arithmetic
//! that the compiler turns into SIMD over a slice.
//!
//! The standard library's `f32::exp` and `f32::tanh` are calls into libm, one value at a
//! time: they were ~40 % of the forward pass (about 550 of them per network and frame).
//! These run 4 or 8 lanes at once. `exp` is Cephes' `expf` (range reduction by ln 2 in
//! two parts, a degree-5 polynomial, the exponent set in the bits): within 2 ulp of
//! the true value on [−87, 88], and clamped there. The rounding to the nearest integer
//! is done with the 1.5·2²³ trick, so no step needs SSE4.1 or a libm call.
//!
//! Every value goes through the same sequence of IEEE operations whether it lands in a
//! SIMD lane or in a slice's scalar remainder, and Rust never fuses a multiply with an
//! add, so the results are the same bits at any slice length, offset or SIMD width.

const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 = LN2_HI + LN2_LO, with LN2_HI exact in few bits (so `n · LN2_HI` is exact)
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// 1.5 · 2²³: adding it rounds a float of magnitude < 2²² to an integer (to nearest, even)
const ROUND: f32 = 12_582_912.0;
const EXP_MIN: f32 = -87.0;
const EXP_MAX: f32 = 88.0;

/// eˣ for x clamped to [−87, 88] (so the result is a normal float); within 2 ulp.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(EXP_MIN, EXP_MAX);
    // n = round(x / ln 2), from the bits of x·log2(e) + 1.5·2²³
    let t = x * LOG2E + ROUND;
    let n = t.to_bits() as i32 - ROUND.to_bits() as i32;
    let nf = t - ROUND;
    let r = (x - nf * LN2_HI) - nf * LN2_LO; // |r| ≤ ln2 / 2
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let er = p * (r * r) + r + 1.0;
    // 2ⁿ with n in [−126, 127]: a normal float's exponent field
    er * f32::from_bits(((n + 127) as u32) << 23)
}

/// tanh x = (e²ˣ − 1) / (e²ˣ + 1); ±1 where e²ˣ saturates. Absolute error below 2e-7.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let e = exp(2.0 * x);
    (e - 1.0) / (e + 1.0)
}

/// 1 / (1 + e⁻ˣ).
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh` of every value, in place.
#[inline(always)]
pub fn tanh_slice(v: &mut [f32]) {
    v.iter_mut().for_each(|x| *x = tanh(*x));
}

/// `sigmoid` of every value, in place.
#[inline(always)]
pub fn sigmoid_slice(v: &mut [f32]) {
    v.iter_mut().for_each(|x| *x = sigmoid(*x));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Units in the last place between a and b (same sign, both finite).
    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    fn grid(lo: f32, hi: f32, n: usize) -> impl Iterator<Item = f32> {
        (0..=n).map(move |i| lo + (hi - lo) * i as f32 / n as f32)
    }

    #[test]
    fn exp_is_within_two_ulp_of_the_true_value_on_its_range() {
        let mut worst = 0;
        for x in grid(-87.0, 88.0, 400_000) {
            let want = (x as f64).exp() as f32;
            worst = worst.max(ulps(exp(x), want));
        }
        assert!(worst <= 2, "worst {worst} ulp");
        assert_eq!(exp(0.0), 1.0);
        // clamped, never inf or subnormal
        assert_eq!(exp(1000.0), exp(88.0));
        assert!(exp(88.0).is_finite());
        assert!(exp(-1000.0) >= f32::MIN_POSITIVE);
    }

    #[test]
    fn tanh_and_sigmoid_are_close_to_the_true_values_and_saturate() {
        let (mut t_err, mut s_err) = (0.0f64, 0.0f64);
        for x in grid(-30.0, 30.0, 200_000) {
            t_err = t_err.max((tanh(x) as f64 - (x as f64).tanh()).abs());
            s_err = s_err.max((sigmoid(x) as f64 - 1.0 / (1.0 + (-(x as f64)).exp())).abs());
        }
        assert!(t_err < 2e-7, "tanh {t_err}");
        assert!(s_err < 1e-7, "sigmoid {s_err}");
        assert_eq!((tanh(100.0), tanh(-100.0)), (1.0, -1.0));
        assert_eq!((sigmoid(200.0), sigmoid(-200.0) < 1e-37), (1.0, true));
        assert_eq!(tanh(0.0), 0.0);
        assert_eq!(sigmoid(0.0), 0.5);
    }

    #[test]
    fn a_slice_gives_the_same_bits_as_one_value_at_a_time_at_any_offset() {
        let v: Vec<f32> = grid(-12.0, 12.0, 1000).collect();
        for start in 0..9 {
            let mut t = v[start..].to_vec();
            tanh_slice(&mut t);
            let mut s = v[start..].to_vec();
            sigmoid_slice(&mut s);
            for ((x, a), b) in v[start..].iter().zip(&t).zip(&s) {
                assert_eq!(a.to_bits(), tanh(*x).to_bits());
                assert_eq!(b.to_bits(), sigmoid(*x).to_bits());
            }
        }
    }
}
