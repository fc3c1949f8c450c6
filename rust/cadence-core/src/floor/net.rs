//! The floor model's forward pass: one trained network of the ensemble, streaming.
//!
//! Per 10 ms frame `x` (the featurizer's `n_in` inputs):
//!
//! ```text
//! u = tanh(W_in ((x − mean) / std) + b_in)                    projection
//! u = tanh(causal conv(u)) [+ u]                              each conv layer (residual when
//!                                                             in = out, after the first)
//! h = GRU(u, h)                                               torch's gate order r, z, n
//! targets = σ(W_out h + b_out);  heads = σ(w_k · [h ‖ u] + b_k)
//! ```
//!
//! The same arithmetic as the numpy reference (`cadence.floor.model._Member`), in f32,
//! with the sums in another order and `exp`/`tanh` from [`super::approx`] (SIMD over a
//! slice; `exp` within 2 ulp, `tanh` and the sigmoid within 2e-7 and 1e-7 absolute;
//! agreement to ~1e-6). Where the CPU has AVX2 the pass is
//! compiled for it too (8 lanes), with the same bits. The layers before the GRU run
//! layer by layer over a whole chunk (each weight row meets every frame of the chunk
//! while it is in cache), the GRU frame by frame. Every output sums its terms in the
//! same order whatever the chunk, and every conv layer keeps its own history, so any
//! chunking of the frames gives the same bits; a refused call changes nothing.

use std::sync::Arc;

use super::approx::{sigmoid, sigmoid_slice, tanh_slice};
use crate::error::{CadenceError, Result};

/// The largest dilation a conv layer may have (frames), and the most inputs it may keep.
pub const MAX_DILATION: usize = 1 << 16;
pub const MAX_HISTORY: usize = 1 << 24;

/// One causal Conv1d layer (kernel `k`, dilation `d`), its weights laid out for the pass.
#[derive(Debug)]
struct Conv {
    /// weights as (k, in, out): tap j, input c is the row `w[(j * cin + c) * cout ..][..cout]`
    w: Vec<f32>,
    b: Vec<f32>,
    cin: usize,
    cout: usize,
    k: usize,
    d: usize,
    residual: bool,
}

impl Conv {
    /// The inputs a call keeps between chunks: `(k − 1)·d` rows of `cin`.
    fn history_len(&self) -> usize {
        (self.k - 1) * self.d * self.cin
    }

    /// Run `n` frames: `u` (n rows of cin) → `y` (n rows of cout); `hist` holds the last
    /// `(k − 1)·d` inputs, oldest first (zeros at the start of a call), and is moved on.
    /// Each weight row is applied to every frame of the chunk while it is in cache; each
    /// output still sums its terms in the same order (bias, then tap by tap, input by
    /// input), so any chunking gives the same bits.
    #[inline(always)]
    fn run(&self, hist: &mut [f32], u: &[f32], n: usize, y: &mut [f32]) {
        let (cin, cout) = (self.cin, self.cout);
        // the inputs this chunk reads: the history, then the chunk's own
        let mut z = Vec::with_capacity(hist.len() + u.len());
        z.extend_from_slice(hist);
        z.extend_from_slice(u);
        for yt in y.chunks_exact_mut(cout) {
            yt.copy_from_slice(&self.b);
        }
        for j in 0..self.k {
            // tap j of frame t reads z row t + j·d: the input (k − 1 − j)·d frames back
            let zj = &z[j * self.d * cin..];
            for c in 0..cin {
                let row = &self.w[(j * cin + c) * cout..(j * cin + c + 1) * cout];
                for (t, yt) in y.chunks_exact_mut(cout).enumerate() {
                    let zc = zj[t * cin + c];
                    for (yo, w) in yt.iter_mut().zip(row) {
                        *yo += zc * w;
                    }
                }
            }
        }
        tanh_slice(y);
        if self.residual {
            for (yo, ui) in y.iter_mut().zip(u) {
                *yo += ui;
            }
        }
        let keep = hist.len();
        hist.copy_from_slice(&z[z.len() - keep..]);
        debug_assert_eq!(y.len(), n * cout);
    }
}

/// One conv layer's parameters: weights (out, in, k) in torch's layout, bias (out), dilation.
#[derive(Debug, Clone)]
pub struct ConvParams {
    pub w: Vec<f32>,
    pub b: Vec<f32>,
    pub cout: usize,
    pub cin: usize,
    pub k: usize,
    pub dilation: usize,
}

/// The parameters of one network, in torch's layouts (row-major, out × in).
#[derive(Debug, Clone)]
pub struct NetParams {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    /// (proj, n_in)
    pub in_w: Vec<f32>,
    pub in_b: Vec<f32>,
    pub convs: Vec<ConvParams>,
    /// (3H, C), (3H), (3H, H), (3H)
    pub w_ih: Vec<f32>,
    pub b_ih: Vec<f32>,
    pub w_hh: Vec<f32>,
    pub b_hh: Vec<f32>,
    /// (targets, H), (targets)
    pub out_w: Vec<f32>,
    pub out_b: Vec<f32>,
    /// (heads, H + C), (heads): linear heads on the GRU state ‖ conv output
    pub head_w: Vec<f32>,
    pub head_b: Vec<f32>,
}

/// What a network's calls share and never change: shapes and weights, laid out for the
/// pass (`in_w`, `w_ih` and `w_hh` transposed to (in, out): each output is a sum of scaled rows).
#[derive(Debug)]
struct Weights {
    n_in: usize,
    proj: usize,
    hidden: usize,
    targets: usize,
    heads: usize,
    mean: Vec<f32>,
    std: Vec<f32>,
    in_wt: Vec<f32>,
    in_b: Vec<f32>,
    convs: Vec<Conv>,
    w_iht: Vec<f32>,
    b_ih: Vec<f32>,
    w_hht: Vec<f32>,
    b_hh: Vec<f32>,
    out_w: Vec<f32>,
    out_b: Vec<f32>,
    head_w: Vec<f32>,
    head_b: Vec<f32>,
}

/// One network of the floor model, streaming: shared weights and this call's state (a
/// clone shares the weights and copies the state).
#[derive(Debug, Clone)]
pub struct FloorNet {
    w: Arc<Weights>,
    /// per conv layer, its history (`Conv::run`)
    hist: Vec<Vec<f32>>,
    h: Vec<f32>,
}

/// The (in, out) row-major transpose of a (rows = out, cols = in) matrix.
fn transpose(w: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0f32; w.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = w[r * cols + c];
        }
    }
    t
}

fn bad(msg: String) -> CadenceError {
    CadenceError::InvalidArgument(msg)
}

fn expect_len(what: &str, v: &[f32], len: usize) -> Result<()> {
    if v.len() != len {
        return Err(bad(format!(
            "{what} must have {len} values, got {}",
            v.len()
        )));
    }
    if v.iter().any(|x| !x.is_finite()) {
        return Err(bad(format!("{what} has a value that is not finite")));
    }
    Ok(())
}

impl FloorNet {
    /// A network from its parameters: `n_in` inputs, `hidden` GRU units; every shape is
    /// checked (and every value finite) before anything is built.
    pub fn new(n_in: usize, hidden: usize, p: NetParams) -> Result<Self> {
        if n_in == 0 || hidden == 0 {
            return Err(bad("a floor network needs inputs and hidden units".into()));
        }
        expect_len("mean", &p.mean, n_in)?;
        expect_len("std", &p.std, n_in)?;
        // 1/std must be finite: zero and subnormal values (below f32::MIN_POSITIVE) are refused
        if let Some(s) = p.std.iter().find(|s| !(s.abs() >= f32::MIN_POSITIVE)) {
            return Err(bad(format!(
                "std has {s:e}: zero, subnormal or not a number"
            )));
        }
        let proj = p.in_b.len();
        if proj == 0 {
            return Err(bad(
                "in_b is empty: the network needs an input projection".into()
            ));
        }
        expect_len("in_b", &p.in_b, proj)?;
        expect_len("in_w", &p.in_w, proj * n_in)?;
        let mut convs = Vec::with_capacity(p.convs.len());
        let mut width = proj;
        for (i, c) in p.convs.iter().enumerate() {
            let (w, b, cout, cin, k, d) = (&c.w, &c.b, c.cout, c.cin, c.k, c.dilation);
            if cin != width || cout == 0 || k == 0 || d == 0 {
                return Err(bad(format!(
                    "conv{i}: (out {cout}, in {cin}, k {k}, dilation {d}) does not follow a width of {width}"
                )));
            }
            // the inputs it keeps between chunks, (k − 1)·d frames of cin: bounded, checked
            let history = (k - 1)
                .checked_mul(d)
                .and_then(|x| x.checked_mul(cin))
                .filter(|&x| x <= MAX_HISTORY);
            if d > MAX_DILATION || history.is_none() {
                return Err(bad(format!(
                    "conv{i}: kernel {k} and dilation {d} (at most {MAX_DILATION}) reach further back \
                     than a network may keep ({MAX_HISTORY} values)"
                )));
            }
            expect_len(&format!("conv{i}_w"), w, cout * cin * k)?;
            expect_len(&format!("conv{i}_b"), b, cout)?;
            let mut wt = vec![0.0f32; k * cin * cout];
            for o in 0..cout {
                for c in 0..cin {
                    for j in 0..k {
                        wt[(j * cin + c) * cout + o] = w[(o * cin + c) * k + j];
                    }
                }
            }
            convs.push(Conv {
                w: wt,
                b: b.clone(),
                cin,
                cout,
                k,
                d,
                residual: cin == cout && i > 0,
            });
            width = cout;
        }
        let g = 3 * hidden;
        expect_len("w_ih", &p.w_ih, g * width)?;
        expect_len("b_ih", &p.b_ih, g)?;
        expect_len("w_hh", &p.w_hh, g * hidden)?;
        expect_len("b_hh", &p.b_hh, g)?;
        let targets = p.out_b.len();
        expect_len("out_b", &p.out_b, targets)?;
        expect_len("out_w", &p.out_w, targets * hidden)?;
        let heads = p.head_b.len();
        if targets + heads == 0 {
            return Err(bad(
                "out_b and head_b are empty: the network has no outputs".into(),
            ));
        }
        expect_len("head_b", &p.head_b, heads)?;
        expect_len("head_w", &p.head_w, heads * (hidden + width))?;
        let hist = convs.iter().map(|c| vec![0.0; c.history_len()]).collect();
        let w = Weights {
            n_in,
            proj,
            hidden,
            targets,
            heads,
            in_wt: transpose(&p.in_w, proj, n_in),
            w_iht: transpose(&p.w_ih, g, width),
            w_hht: transpose(&p.w_hh, g, hidden),
            mean: p.mean,
            std: p.std,
            in_b: p.in_b,
            convs,
            b_ih: p.b_ih,
            b_hh: p.b_hh,
            out_w: p.out_w,
            out_b: p.out_b,
            head_w: p.head_w,
            head_b: p.head_b,
        };
        Ok(FloorNet {
            w: Arc::new(w),
            hist,
            h: vec![0.0; hidden],
        })
    }

    pub fn n_inputs(&self) -> usize {
        self.w.n_in
    }

    /// Outputs per frame: the targets' probabilities, then the heads'.
    pub fn n_outputs(&self) -> usize {
        self.w.targets + self.w.heads
    }

    /// Forget the call: GRU state and every conv layer's history back to zeros.
    pub fn reset(&mut self) {
        self.h.iter_mut().for_each(|v| *v = 0.0);
        for hist in &mut self.hist {
            hist.iter_mut().for_each(|v| *v = 0.0);
        }
    }

    /// `x`: n frames of `n_inputs()` (row-major); writes n rows of `n_outputs()`
    /// probabilities to `out`. A refused call (wrong sizes, a value that is not
    /// finite) changes nothing.
    pub fn process(&mut self, x: &[f32], out: &mut [f32]) -> Result<()> {
        if !x.len().is_multiple_of(self.w.n_in) {
            return Err(bad(format!(
                "features must be whole frames of {} values, got {}",
                self.w.n_in,
                x.len()
            )));
        }
        let n = x.len() / self.w.n_in;
        let no = self.n_outputs();
        if out.len() != n * no {
            return Err(bad(format!(
                "output must have {} values, got {}",
                n * no,
                out.len()
            )));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(bad(
                "features have a value that is not finite (NaN or inf)".into()
            ));
        }
        // blocks of BLOCK frames: the block's activations stay in cache while the weights pass
        for (xb, ob) in x
            .chunks(BLOCK * self.w.n_in)
            .zip(out.chunks_mut(BLOCK * no))
        {
            self.run_block(xb, ob);
        }
        Ok(())
    }

    /// `process` on at most `BLOCK` checked frames, with the widest SIMD this CPU has.
    fn run_block(&mut self, x: &[f32], out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above)
            unsafe { self.run_block_avx2(x, out) };
            return;
        }
        self.run_block_any(x, out);
    }

    /// `run_block_any` compiled for AVX2 (8 lanes in place of SSE2's 4). The same bits: Rust
    /// never fuses a multiply and an add, so each lane does the same two roundings.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_block_avx2(&mut self, x: &[f32], out: &mut [f32]) {
        self.run_block_any(x, out);
    }

    /// `process` on at most `BLOCK` checked frames (inlined into each build of `run_block`).
    #[inline(always)]
    fn run_block_any(&mut self, x: &[f32], out: &mut [f32]) {
        let p = &*self.w;
        let n = x.len() / p.n_in;
        let no = p.targets + p.heads;
        let (hd, g) = (p.hidden, 3 * p.hidden);
        let width = p.convs.last().map_or(p.proj, |c| c.cout);
        // the layers before the GRU, layer by layer over the whole chunk
        let mut xn = vec![0.0f32; x.len()];
        for (xo, xf) in xn.chunks_exact_mut(p.n_in).zip(x.chunks_exact(p.n_in)) {
            for (((o, xi), m), s) in xo.iter_mut().zip(xf).zip(&p.mean).zip(&p.std) {
                *o = (xi - m) / s;
            }
        }
        let mut u = vec![0.0f32; n * p.proj];
        for ut in u.chunks_exact_mut(p.proj) {
            ut.copy_from_slice(&p.in_b);
        }
        axpy_rows(&p.in_wt, &xn, p.n_in, &mut u);
        tanh_slice(&mut u);
        for (conv, hist) in p.convs.iter().zip(&mut self.hist) {
            let mut y = vec![0.0f32; n * conv.cout];
            conv.run(hist, &u, n, &mut y);
            u = y;
        }
        let mut gi = vec![0.0f32; n * g];
        for gt in gi.chunks_exact_mut(g) {
            gt.copy_from_slice(&p.b_ih);
        }
        axpy_rows(&p.w_iht, &u, width, &mut gi);
        // the GRU and the heads, frame by frame
        let mut gh = vec![0.0f32; g];
        let (mut rz, mut cand) = (vec![0.0f32; 2 * hd], vec![0.0f32; hd]);
        let mut zin = vec![0.0f32; hd + width];
        for ((git, ut), of) in gi
            .chunks_exact(g)
            .zip(u.chunks_exact(width))
            .zip(out.chunks_exact_mut(no))
        {
            gh.copy_from_slice(&p.b_hh);
            axpy_t(&p.w_hht, &self.h, &mut gh);
            // gates r and z, then the candidate, each over the whole state (SIMD lanes)
            for ((v, a), b) in rz.iter_mut().zip(&git[..2 * hd]).zip(&gh[..2 * hd]) {
                *v = a + b;
            }
            sigmoid_slice(&mut rz);
            let (r, z) = rz.split_at(hd);
            for (((c, a), r), b) in cand
                .iter_mut()
                .zip(&git[2 * hd..])
                .zip(r)
                .zip(&gh[2 * hd..])
            {
                *c = a + r * b;
            }
            tanh_slice(&mut cand);
            for ((h, c), z) in self.h.iter_mut().zip(&cand).zip(z) {
                *h = (1.0 - z) * c + z * *h;
            }
            for (t, o) in of[..p.targets].iter_mut().enumerate() {
                *o = sigmoid(p.out_b[t] + dot(&p.out_w[t * hd..(t + 1) * hd], &self.h));
            }
            if p.heads > 0 {
                zin[..hd].copy_from_slice(&self.h);
                zin[hd..].copy_from_slice(ut);
                let hw = hd + width;
                for k in 0..p.heads {
                    of[p.targets + k] =
                        sigmoid(p.head_b[k] + dot(&p.head_w[k * hw..(k + 1) * hw], &zin));
                }
            }
        }
    }
}

/// Networks whose probabilities are averaged (an ensemble), run in one call.
#[derive(Debug, Clone)]
pub struct FloorEnsemble {
    nets: Vec<FloorNet>,
    scratch: Vec<f32>,
}

impl FloorEnsemble {
    /// At least one network; all with the same inputs and outputs.
    pub fn new(nets: Vec<FloorNet>) -> Result<Self> {
        let Some(first) = nets.first() else {
            return Err(bad("an ensemble needs at least one network".into()));
        };
        let shape = |n: &FloorNet| (n.w.n_in, n.w.targets, n.w.heads);
        let (ni, nt, nh) = shape(first);
        if let Some((i, n)) = nets
            .iter()
            .enumerate()
            .find(|(_, n)| shape(n) != (ni, nt, nh))
        {
            return Err(bad(format!(
                "network {i} has {} inputs, {} targets and {} heads; network 0 {ni}, {nt} and {nh}",
                n.w.n_in, n.w.targets, n.w.heads
            )));
        }
        Ok(FloorEnsemble {
            nets,
            scratch: Vec::new(),
        })
    }

    pub fn n_inputs(&self) -> usize {
        self.nets[0].n_inputs()
    }

    pub fn n_outputs(&self) -> usize {
        self.nets[0].n_outputs()
    }

    pub fn reset(&mut self) {
        self.nets.iter_mut().for_each(FloorNet::reset);
    }

    /// `FloorNet::process` of each network, summed in order and divided by their number.
    /// A refused call changes nothing (every network checks the same sizes and values).
    pub fn process(&mut self, x: &[f32], out: &mut [f32]) -> Result<()> {
        let (first, rest) = self.nets.split_first_mut().expect("at least one network");
        first.process(x, out)?;
        self.scratch.resize(out.len(), 0.0);
        for net in rest {
            net.process(x, &mut self.scratch)?;
            for (o, v) in out.iter_mut().zip(&self.scratch) {
                *o += v;
            }
        }
        let k = self.nets.len() as f32;
        out.iter_mut().for_each(|o| *o /= k);
        Ok(())
    }
}

/// Frames run through the layers before the GRU together (see `FloorNet::process`).
const BLOCK: usize = 16;

/// y += Σᵢ x[i] · wt[i] for `wt` (len x, len y) row-major: a matrix–vector product whose
/// inner loop runs over the outputs (SIMD lanes, no horizontal sums).
#[inline(always)]
fn axpy_t(wt: &[f32], x: &[f32], y: &mut [f32]) {
    let n = y.len();
    debug_assert_eq!(wt.len(), x.len() * n);
    for (row, xi) in wt.chunks_exact(n).zip(x) {
        for (yo, w) in y.iter_mut().zip(row) {
            *yo += xi * w;
        }
    }
}

/// `axpy_t` on every frame of a chunk: `x` rows of `n_x`, `y` rows of `wt`'s width. Each
/// weight row meets every frame while it is in cache; each output sums in input order.
#[inline(always)]
fn axpy_rows(wt: &[f32], x: &[f32], n_x: usize, y: &mut [f32]) {
    let n_y = wt.len() / n_x;
    for (i, row) in wt.chunks_exact(n_y).enumerate() {
        for (yt, xt) in y.chunks_exact_mut(n_y).zip(x.chunks_exact(n_x)) {
            let xi = xt[i];
            for (yo, w) in yt.iter_mut().zip(row) {
                *yo += xi * w;
            }
        }
    }
}

/// Σ a·b with eight running sums (so the compiler can use SIMD lanes).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(w: Vec<f32>, b: Vec<f32>, k: usize, dilation: usize) -> ConvParams {
        ConvParams {
            w,
            b,
            cout: 4,
            cin: 4,
            k,
            dilation,
        }
    }

    /// `n` deterministic weights: a sine sampled at 0.37 rad steps from phase `s`, times `amp`.
    fn wave(n: usize, s: f32, amp: f32) -> Vec<f32> {
        (0..n).map(|i| (i as f32 * 0.37 + s).sin() * amp).collect()
    }

    fn toy(heads: usize) -> FloorNet {
        FloorNet::new(3, 2, toy_params(heads)).unwrap()
    }

    fn toy_params(heads: usize) -> NetParams {
        // 3 inputs, proj 4, one conv (4 → 4, k 2, d 2) and a residual one, 2 hidden units
        let f = |n: usize, s: f32| wave(n, s, 0.5);
        let p = NetParams {
            mean: vec![0.1, -0.2, 0.0],
            std: vec![1.0, 2.0, 0.5],
            in_w: f(12, 0.1),
            in_b: f(4, 0.2),
            convs: vec![
                conv(f(32, 0.3), f(4, 0.4), 2, 2),
                conv(f(48, 0.5), f(4, 0.6), 3, 1),
            ],
            w_ih: f(24, 0.7),
            b_ih: f(6, 0.8),
            w_hh: f(12, 0.9),
            b_hh: f(6, 1.0),
            out_w: f(10, 1.1),
            out_b: f(5, 1.2),
            head_w: f(heads * 6, 1.3),
            head_b: f(heads, 1.4),
        };
        p
    }

    #[test]
    fn shapes_that_would_panic_or_overflow_in_a_pass_are_refused_when_built() {
        let refused = |p: NetParams, what: &str| match FloorNet::new(3, 2, p) {
            Err(CadenceError::InvalidArgument(m)) => assert!(m.contains(what), "{m}"),
            other => panic!("expected an error naming {what}, got {other:?}"),
        };
        let mut p = toy_params(0);
        (p.out_w, p.out_b) = (vec![], vec![]);
        refused(p, "no outputs");
        let mut p = toy_params(2);
        (p.in_w, p.in_b, p.convs) = (vec![], vec![], vec![]);
        refused(p, "input projection");
        for d in [MAX_DILATION + 1, 1 << 44, usize::MAX] {
            let mut p = toy_params(2);
            p.convs[0].dilation = d;
            refused(p, "reach further back");
        }
        let mut p = toy_params(2);
        p.std[1] = 1e-45;
        refused(p, "subnormal");
        let mut p = toy_params(2);
        p.convs[0].dilation = MAX_DILATION;
        assert!(FloorNet::new(3, 2, p).is_ok());
    }

    #[test]
    fn any_chunking_gives_the_same_output_and_reset_starts_over() {
        let x: Vec<f32> = (0..3 * 40)
            .map(|i| ((i * 7 % 13) as f32 - 6.0) / 4.0)
            .collect();
        let mut a = toy(2);
        let mut whole = vec![0.0; 40 * 7];
        a.process(&x, &mut whole).unwrap();
        let mut b = toy(2);
        let mut parts = vec![0.0; 40 * 7];
        let mut at = 0;
        for n in [1usize, 3, 2, 10, 24] {
            b.process(&x[at * 3..(at + n) * 3], &mut parts[at * 7..(at + n) * 7])
                .unwrap();
            at += n;
        }
        assert_eq!(whole, parts);
        b.reset();
        let mut again = vec![0.0; 40 * 7];
        b.process(&x, &mut again).unwrap();
        assert_eq!(whole, again);
        assert!(whole.iter().all(|v| *v > 0.0 && *v < 1.0));
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_build_gives_the_same_bits_as_the_baseline_build() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return; // nothing to compare on this CPU
        }
        // rows longer than 8 lanes and not a multiple of them: 11 inputs, proj and convs 20,
        // 19 hidden units (3 gates: 57), 5 targets and a head
        let f = |n: usize, s: f32| wave(n, s, 0.6);
        let c = |k: usize, d: usize, s: f32| ConvParams {
            w: f(20 * 20 * k, s),
            b: f(20, s + 0.1),
            cout: 20,
            cin: 20,
            k,
            dilation: d,
        };
        let p = NetParams {
            mean: f(11, 0.05),
            std: vec![1.5; 11],
            in_w: f(20 * 11, 0.1),
            in_b: f(20, 0.2),
            convs: vec![c(3, 1, 0.3), c(2, 2, 0.5)],
            w_ih: f(57 * 20, 0.7),
            b_ih: f(57, 0.8),
            w_hh: f(57 * 19, 0.9),
            b_hh: f(57, 1.0),
            out_w: f(5 * 19, 1.1),
            out_b: f(5, 1.2),
            head_w: f(19 + 20, 1.3),
            head_b: f(1, 1.4),
        };
        let x: Vec<f32> = (0..11 * 13)
            .map(|i| ((i * 5 % 11) as f32 - 5.0) / 3.0)
            .collect();
        let mut a = FloorNet::new(11, 19, p).unwrap();
        let mut b = a.clone();
        let (mut wa, mut wb) = (vec![0.0; 13 * 6], vec![0.0; 13 * 6]);
        for _ in 0..2 {
            a.run_block_any(&x, &mut wa);
            // SAFETY: the CPU has AVX2 (checked above)
            unsafe { b.run_block_avx2(&x, &mut wb) };
            assert_eq!(
                wa.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                wb.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn a_middle_conv_wider_than_the_others_is_run() {
        let f = |n: usize, s: f32| wave(n, s, 0.5);
        let wide = |cout: usize, cin: usize, s: f32| ConvParams {
            w: f(cout * cin * 2, s),
            b: f(cout, s + 0.1),
            cout,
            cin,
            k: 2,
            dilation: 1,
        };
        let p = NetParams {
            mean: vec![0.0; 3],
            std: vec![1.0; 3],
            in_w: f(12, 0.1),
            in_b: f(4, 0.2),
            convs: vec![wide(8, 4, 0.3), wide(4, 8, 0.5)], // 4 → 8 → 4
            w_ih: f(24, 0.7),
            b_ih: f(6, 0.8),
            w_hh: f(12, 0.9),
            b_hh: f(6, 1.0),
            out_w: f(10, 1.1),
            out_b: f(5, 1.2),
            head_w: f(6, 1.3),
            head_b: f(1, 1.4),
        };
        let mut net = FloorNet::new(3, 2, p).unwrap();
        let mut o = vec![0.0; 5 * 6];
        net.process(&f(15, 0.0), &mut o).unwrap();
        assert!(o.iter().all(|v| *v > 0.0 && *v < 1.0));
    }

    #[test]
    fn an_ensemble_averages_its_networks_and_refuses_a_mismatch() {
        let x: Vec<f32> = (0..3 * 12)
            .map(|i| ((i * 5 % 11) as f32 - 5.0) / 3.0)
            .collect();
        let mut a = toy(1);
        let mut pb = toy_params(1);
        pb.out_b[0] += 1.0; // a different second network
        let b = FloorNet::new(3, 2, pb).unwrap();
        let mut ens = FloorEnsemble::new(vec![a.clone(), b.clone()]).unwrap();
        let (mut oa, mut ob, mut oe) = (vec![0.0; 72], vec![0.0; 72], vec![0.0; 72]);
        a.process(&x, &mut oa).unwrap();
        b.clone().process(&x, &mut ob).unwrap();
        ens.process(&x, &mut oe).unwrap();
        for ((e, va), vb) in oe.iter().zip(&oa).zip(&ob) {
            assert_eq!(*e, (va + vb) / 2.0);
        }
        assert!(oa != ob);
        assert!(FloorEnsemble::new(vec![toy(1), toy(2)]).is_err());
        assert!(FloorEnsemble::new(vec![]).is_err());
    }

    #[test]
    fn a_refused_call_changes_nothing() {
        let x: Vec<f32> = (0..30).map(|i| i as f32 / 30.0).collect();
        let (mut a, mut b) = (toy(0), toy(0));
        let mut o = vec![0.0; 50];
        a.process(&x, &mut o).unwrap();
        let mut bad_x = x.clone();
        bad_x[4] = f32::NAN;
        assert!(b.process(&bad_x, &mut vec![0.0; 50]).is_err());
        assert!(b.process(&x[..29], &mut vec![0.0; 50]).is_err());
        assert!(b.process(&x, &mut vec![0.0; 49]).is_err());
        let mut o2 = vec![0.0; 50];
        b.process(&x, &mut o2).unwrap();
        assert_eq!(o, o2);
    }

    #[test]
    fn shapes_are_checked_at_construction() {
        let mut p = toy_params(1);
        p.w_hh.pop();
        assert!(FloorNet::new(3, 2, p).is_err());
        let mut p = toy_params(1);
        p.convs[1].cin = 5; // in 5 after a width of 4
        assert!(FloorNet::new(3, 2, p).is_err());
        let mut p = toy_params(1);
        p.std[0] = 0.0;
        assert!(FloorNet::new(3, 2, p).is_err());
    }
}
