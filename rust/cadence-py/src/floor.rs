//! Binding of `cadence_core::floor`: `FloorNormalizer`, `MicAgc`, `EchoCanceller`.

use cadence_core::dsp;
use cadence_core::floor::aec::{self, EchoCanceller as CoreCanceller};
use cadence_core::floor::agc::{self, MicAgc as CoreMicAgc};
use cadence_core::floor::FloorNormalizer as CoreNormalizer;
use cadence_core::FRAME_SAMPLES;
use numpy::{PyArray1, PyArray2, PyArrayMethods};
use pyo3::prelude::*;

use crate::arrays::{n_mels_arg, F32Arg};
use crate::errors::{invalid_argument, invalid_audio, map, Exclusive, Int};

/// The optional `reference` (what the persona played): float32, the mic's shape.
fn reference_arg<'py>(
    py: Python<'py>,
    reference: Option<&Bound<'py, PyAny>>,
    mic_shape: &[usize],
) -> PyResult<Option<F32Arg<'py>>> {
    let Some(r) = reference else { return Ok(None) };
    let r = F32Arg::new(py, r, "reference", true)?;
    if r.shape != mic_shape {
        let shape = &r.shape;
        return Err(invalid_audio(
            py,
            format!("reference shape {shape:?} does not match frames {mic_shape:?}"),
        ));
    }
    Ok(Some(r))
}

/// Echo estimation against the persona's playback plus speaker normalisation:
/// raw `FeatureExtractor` rows → the floor model's inputs (20 scalars then the
/// normalised mel bands per 10 ms frame), streaming and chunk-invariant.
#[pyclass(frozen, module = "cadence._core")]
pub struct FloorNormalizer {
    inner: Exclusive<CoreNormalizer>,
    // fixed for the object's life: read without the lock
    names: Vec<String>,
    n_mels: usize,
    n_inputs: usize,
    n_outputs: usize,
}

#[pymethods]
impl FloorNormalizer {
    #[new]
    #[pyo3(signature = (n_mels = Int::new(dsp::DEFAULT_N_MELS as i128)), text_signature = "(n_mels=40)")]
    fn new(py: Python<'_>, n_mels: Int) -> PyResult<Self> {
        let inner = map(py, CoreNormalizer::new(n_mels_arg(py, n_mels)?))?;
        Ok(FloorNormalizer {
            names: inner.names(),
            n_mels: inner.n_mels(),
            n_inputs: inner.n_inputs(),
            n_outputs: inner.n_outputs(),
            inner: Exclusive::new("FloorNormalizer", inner),
        })
    }

    /// Output column names: e_speech, e_noise, ..., e_final, mel_0...
    #[getter]
    fn names(&self) -> Vec<String> {
        self.names.clone()
    }

    #[getter]
    fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// Forget the speaker's baselines and the echo path.
    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        self.inner.get(py)?.reset();
        Ok(())
    }

    /// `raw`: float32 (n, 6 + n_mels) from `FeatureExtractor.process`; `vad`: float32
    /// (n,) speech probabilities; `frames`: float32 (n, 160) mic; `reference`: float32
    /// (n, 160) what the persona played in the same frames, or None. Returns float32
    /// (n, 20 + n_mels). Runs with the GIL released; a refused call changes nothing.
    #[pyo3(signature = (raw, vad, frames, reference = None))]
    fn process<'py>(
        &self,
        py: Python<'py>,
        raw: &Bound<'py, PyAny>,
        vad: &Bound<'py, PyAny>,
        frames: &Bound<'py, PyAny>,
        reference: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (ni, no) = (self.n_inputs, self.n_outputs);
        let raw = F32Arg::new(py, raw, "raw", false)?;
        let vad = F32Arg::new(py, vad, "vad", false)?;
        let mic = F32Arg::new(py, frames, "frames", true)?;
        let (raw_shape, vad_shape, mic_shape) = (&raw.shape, &vad.shape, &mic.shape);
        let n = match vad_shape.as_slice() {
            [n] => *n,
            _ => {
                return Err(invalid_argument(
                    py,
                    format!("vad must have shape (n,), got {vad_shape:?}"),
                ))
            }
        };
        if *raw_shape != [n, ni] {
            return Err(invalid_argument(
                py,
                format!("raw must have shape ({n}, {ni}), got {raw_shape:?}"),
            ));
        }
        if *mic_shape != [n, FRAME_SAMPLES] {
            return Err(invalid_audio(
                py,
                format!("frames must have shape ({n}, {FRAME_SAMPLES}), got {mic_shape:?}"),
            ));
        }
        let reference = reference_arg(py, reference, mic_shape)?;
        let (raw, vad, mic) = (raw.values(), vad.values(), mic.values());
        let reference = reference.as_ref().map(|r| r.values());
        let out = self.inner.run(py, |inner| {
            let mut out = vec![0.0f32; n * no];
            inner
                .process(&raw, &vad, &mic, reference.as_deref(), &mut out)
                .map(|()| out)
        })?;
        PyArray1::from_vec(py, out).reshape([n, no])
    }

    fn __repr__(&self) -> String {
        format!("FloorNormalizer(n_mels={})", self.n_mels)
    }
}

/// Boost-only automatic gain on the mic, ahead of the floor features and the VAD:
/// quiet speech is raised so its envelope sits at -20 dBFS (at most +30 dB, never
/// cut); the envelope is frozen while the persona plays (and 300 ms after).
/// Streaming and chunk-invariant.
#[pyclass(frozen, module = "cadence._core")]
pub struct MicAgc {
    inner: Exclusive<CoreMicAgc>,
}

#[pymethods]
impl MicAgc {
    #[new]
    fn new() -> Self {
        MicAgc {
            inner: Exclusive::new("MicAgc", CoreMicAgc::new()),
        }
    }

    /// The tracked speech envelope, dBFS.
    #[getter]
    fn level_db(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(self.inner.get(py)?.level_db())
    }

    #[classattr]
    const TARGET_DB: f64 = agc::TARGET_DB;
    #[classattr]
    const MAX_BOOST_DB: f64 = agc::MAX_BOOST_DB;

    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        self.inner.get(py)?.reset();
        Ok(())
    }

    /// `frames`: float32 (n, 160) mic; `reference`: float32 (n, 160) what the persona
    /// played in the same frames, or None. Returns the raised mic, float32 (n, 160),
    /// not clipped to full scale. Runs with the GIL released; a refused call changes nothing.
    #[pyo3(signature = (frames, reference = None))]
    fn process<'py>(
        &self,
        py: Python<'py>,
        frames: &Bound<'py, PyAny>,
        reference: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        map_frames(py, &self.inner, frames, reference, |inner, x, r, out| {
            inner.process(x, r, out)
        })
    }

    fn __repr__(&self) -> String {
        let level = self.inner.repr(|a| format!("{:.1}", a.level_db()));
        format!("MicAgc(level_db={level})")
    }
}

/// `frames`: float32 (n, 160), returned as (its values, n).
fn frames_arg<'py>(py: Python<'py>, frames: &Bound<'py, PyAny>) -> PyResult<(F32Arg<'py>, usize)> {
    let arr = F32Arg::new(py, frames, "frames", true)?;
    match arr.shape.as_slice() {
        [n, c] if *c == FRAME_SAMPLES => {
            let n = *n;
            Ok((arr, n))
        }
        shape => Err(invalid_audio(
            py,
            format!("frames must have shape (n, {FRAME_SAMPLES}), got {shape:?}"),
        )),
    }
}

/// The body of `process(frames, reference=None)` for stages that turn mic frames (and
/// what the persona played) into as many frames: checks, then `run` on the stage's state
/// with the GIL released.
fn map_frames<'py, T: Send>(
    py: Python<'py>,
    state: &Exclusive<T>,
    frames: &Bound<'py, PyAny>,
    reference: Option<&Bound<'py, PyAny>>,
    run: impl Send + FnOnce(&mut T, &[f32], Option<&[f32]>, &mut [f32]) -> cadence_core::Result<()>,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let (arr, n) = frames_arg(py, frames)?;
    let reference = reference_arg(py, reference, &arr.shape)?;
    let x = arr.values();
    let reference = reference.as_ref().map(|r| r.values());
    let out = state.run(py, |inner| {
        let mut out = vec![0.0f32; x.len()];
        run(inner, &x[..], reference.as_deref(), &mut out).map(|()| out)
    })?;
    PyArray1::from_vec(py, out).reshape([n, FRAME_SAMPLES])
}

/// Adaptive echo canceller: learns the echo path from what the persona played
/// (the reference) to the mic and subtracts the predicted echo (frequency-domain
/// Kalman filter: near-end speech lowers its gain; a shadow filter follows a
/// moved echo path).
/// Without a reference the mic passes unchanged. Streaming and chunk-invariant.
#[pyclass(frozen, module = "cadence._core")]
pub struct EchoCanceller {
    inner: Exclusive<CoreCanceller>,
    partitions: usize, // fixed for the object's life: read without the lock
}

#[pymethods]
impl EchoCanceller {
    #[new]
    #[pyo3(signature = (partitions = Int::new(aec::DEFAULT_PARTITIONS as i128)), text_signature = "(partitions=25)")]
    fn new(py: Python<'_>, partitions: Int) -> PyResult<Self> {
        let p = usize::try_from(partitions.get()).map_err(|_| {
            invalid_argument(
                py,
                format!(
                    "partitions must be in 1..={} (10 ms each), got {partitions}",
                    aec::MAX_PARTITIONS
                ),
            )
        })?;
        let inner = map(py, CoreCanceller::new(p))?;
        Ok(EchoCanceller {
            partitions: inner.partitions(),
            inner: Exclusive::new("EchoCanceller", inner),
        })
    }

    #[classattr]
    const MAX_PARTITIONS: usize = aec::MAX_PARTITIONS;

    /// Filter length in 10 ms frames.
    #[getter]
    fn partitions(&self) -> usize {
        self.partitions
    }

    /// Smoothed mic energy over output energy in frames with a reference, dB.
    #[getter]
    fn erle_db(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(self.inner.get(py)?.erle_db())
    }

    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        self.inner.get(py)?.reset();
        Ok(())
    }

    /// `frames`: float32 (n, 160) mic; `reference`: float32 (n, 160) what the persona
    /// played in the same frames, or None. Returns the mic with the predicted echo
    /// removed, float32 (n, 160). Runs with the GIL released; a refused call changes nothing.
    #[pyo3(signature = (frames, reference = None))]
    fn process<'py>(
        &self,
        py: Python<'py>,
        frames: &Bound<'py, PyAny>,
        reference: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        map_frames(py, &self.inner, frames, reference, |inner, x, r, out| {
            inner.process(x, r, out)
        })
    }

    fn __repr__(&self) -> String {
        let erle = self.inner.repr(|a| format!("{:.1}", a.erle_db()));
        format!(
            "EchoCanceller(partitions={}, erle_db={erle})",
            self.partitions
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<FloorNormalizer>()?;
    m.add_class::<MicAgc>()?;
    m.add_class::<EchoCanceller>()
}
