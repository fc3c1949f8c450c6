//! Binding of `cadence_core::dsp`: `FeatureExtractor`.

use cadence_core::dsp::{self, FeatureExtractor as CoreExtractor};
use cadence_core::FRAME_SAMPLES;
use numpy::{PyArray1, PyArray2, PyArrayMethods};
use pyo3::prelude::*;

use crate::arrays::{n_mels_arg, F32Arg};
use crate::errors::{invalid_audio, map, Exclusive, Int};

/// Streaming per-frame features: 6 scalars then `n_mels` log-mel bands per
/// 10 ms frame (see `cadence_core::dsp` for the definitions).
#[pyclass(frozen, module = "cadence._core")]
pub struct FeatureExtractor {
    inner: Exclusive<CoreExtractor>,
    // fixed for the object's life: read without the lock
    names: Vec<String>,
    n_mels: usize,
    n_features: usize,
}

#[pymethods]
impl FeatureExtractor {
    #[new]
    #[pyo3(signature = (n_mels = Int::new(dsp::DEFAULT_N_MELS as i128)), text_signature = "(n_mels=40)")]
    fn new(py: Python<'_>, n_mels: Int) -> PyResult<Self> {
        let inner = map(py, CoreExtractor::new(n_mels_arg(py, n_mels)?))?;
        Ok(FeatureExtractor {
            names: inner.names(),
            n_mels: inner.n_mels(),
            n_features: inner.n_features(),
            inner: Exclusive::new("FeatureExtractor", inner),
        })
    }

    /// Column names: rms_db, zcr, f0_hz, voicing, centroid_hz, tilt, mel_0...
    #[getter]
    fn names(&self) -> Vec<String> {
        self.names.clone()
    }

    #[getter]
    fn n_mels(&self) -> usize {
        self.n_mels
    }

    #[getter]
    fn n_features(&self) -> usize {
        self.n_features
    }

    /// Forget past audio.
    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        self.inner.get(py)?.reset();
        Ok(())
    }

    /// `frames`: float32, shape (n, 160) or 1-D with a length multiple of 160.
    /// Returns float32 (n, 6 + n_mels). Runs with the GIL released.
    fn process<'py>(
        &self,
        py: Python<'py>,
        frames: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let arr = F32Arg::new(py, frames, "frames", true)?;
        let shape = &arr.shape;
        let ok = match shape.as_slice() {
            [n] => n % FRAME_SAMPLES == 0,
            [_, c] => *c == FRAME_SAMPLES,
            _ => false,
        };
        if !ok {
            return Err(invalid_audio(
                py,
                format!("frames must have shape (n, {FRAME_SAMPLES}) or (k*{FRAME_SAMPLES},), got {shape:?}"),
            ));
        }
        let samples = arr.values();
        let n = samples.len() / FRAME_SAMPLES;
        let cols = self.n_features;
        let out = self.inner.run(py, |inner| {
            let mut out = vec![0.0f32; n * cols];
            inner.process(&samples, &mut out).map(|()| out)
        })?;
        PyArray1::from_vec(py, out).reshape([n, cols])
    }

    fn __repr__(&self) -> String {
        format!("FeatureExtractor(n_mels={})", self.n_mels)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<FeatureExtractor>()
}
