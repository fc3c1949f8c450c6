//! Binding of `cadence_core::ring::AudioRing`, plus the numpy → PCM argument
//! conversion shared with the framer binding.
//!
//! The ring is a `frozen` pyclass: every method takes `&self`, so a writer
//! thread and a reader thread can call it at the same time; the copies run
//! with the GIL released and the core's per-side guards enforce SPSC.

use cadence_core::framer::Pcm;
use cadence_core::ring::{AudioRing as CoreRing, Overrun};
use cadence_core::CadenceError;
use numpy::{
    PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{detached, invalid_argument, invalid_audio, Int};

/// A numpy PCM argument: a zero-copy borrow when C-contiguous, else a copy.
pub(crate) enum PcmArg<'py> {
    F32(PyReadonlyArrayDyn<'py, f32>),
    I16(PyReadonlyArrayDyn<'py, i16>),
    OwnedF32(Vec<f32>),
    OwnedI16(Vec<i16>),
}

impl PcmArg<'_> {
    pub(crate) fn pcm(&self) -> Pcm<'_> {
        match self {
            // Contiguity was checked when the argument was built.
            PcmArg::F32(a) => Pcm::F32(a.as_slice().unwrap_or(&[])),
            PcmArg::I16(a) => Pcm::I16(a.as_slice().unwrap_or(&[])),
            PcmArg::OwnedF32(v) => Pcm::F32(v),
            PcmArg::OwnedI16(v) => Pcm::I16(v),
        }
    }
}

fn describe(obj: &Bound<'_, PyAny>) -> String {
    if let Ok(a) = obj.downcast::<PyUntypedArray>() {
        return format!(
            "a {}-D array of dtype {}",
            a.ndim(),
            a.dtype().str().map(|s| s.to_string()).unwrap_or_default()
        );
    }
    match obj.getattr("dtype") {
        // a numpy scalar has a dtype but is not an array
        Ok(d) => format!(
            "a {} scalar, not an array",
            d.str().map(|s| s.to_string()).unwrap_or_default()
        ),
        Err(_) => format!(
            "type {}",
            obj.get_type()
                .name()
                .map(|s| s.to_string())
                .unwrap_or_default()
        ),
    }
}

/// Convert `obj` (a 1-D array, or with `channels = Some(c)` also a 2-D `(n, c)`
/// array) of float32 or int16 into interleaved PCM. An array that must be copied (not
/// C-contiguous: strided, broadcast) and holds more than `max_len` samples is refused
/// before the copy (`OversizeError`): a broadcast view may name terabytes.
pub(crate) fn pcm_arg<'py>(
    py: Python<'py>,
    obj: &Bound<'py, PyAny>,
    what: &str,
    channels: Option<usize>,
    max_len: Option<usize>,
) -> PyResult<PcmArg<'py>> {
    let Ok(untyped) = obj.downcast::<PyUntypedArray>() else {
        return Err(invalid_audio(
            py,
            format!(
                "{what} must be a numpy array of float32 or int16, got {}",
                describe(obj)
            ),
        ));
    };
    let shape = untyped.shape().to_vec();
    match (shape.len(), channels) {
        (1, _) => {}
        (2, Some(c)) if shape[1] == c => {}
        (2, Some(c)) => {
            return Err(invalid_audio(
                py,
                format!("{what} has shape {shape:?}: a 2-D chunk must be (n, {c})"),
            ));
        }
        _ => {
            let want = if channels.is_some() {
                "1-D (interleaved) or 2-D (n, channels)"
            } else {
                "1-D"
            };
            return Err(invalid_audio(
                py,
                format!(
                    "{what} must be {want}, got {}-D shape {shape:?}",
                    shape.len()
                ),
            ));
        }
    }
    let contiguous = untyped.is_c_contiguous();
    if let Some(max) = max_len.filter(|&m| !contiguous && untyped.len() > m) {
        return crate::errors::map(
            py,
            Err(CadenceError::Oversize {
                len: untyped.len(),
                max,
            }),
        );
    }
    if let Ok(a) = obj.downcast::<PyArrayDyn<f32>>() {
        let ro = a
            .try_readonly()
            .map_err(|e| invalid_argument(py, format!("{what}: {e}")))?;
        return Ok(if contiguous && ro.as_slice().is_ok() {
            PcmArg::F32(ro)
        } else {
            PcmArg::OwnedF32(ro.as_array().iter().copied().collect())
        });
    }
    if let Ok(a) = obj.downcast::<PyArrayDyn<i16>>() {
        let ro = a
            .try_readonly()
            .map_err(|e| invalid_argument(py, format!("{what}: {e}")))?;
        return Ok(if contiguous && ro.as_slice().is_ok() {
            PcmArg::I16(ro)
        } else {
            PcmArg::OwnedI16(ro.as_array().iter().copied().collect())
        });
    }
    Err(invalid_audio(
        py,
        format!("{what} must be float32 or int16, got {}", describe(obj)),
    ))
}

/// Map a Python int to `usize`, raising `InvalidArgumentError` when negative.
/// Taken as [`Int`] so that any int arrives (no OverflowError); a value past
/// `usize::MAX` saturates, which every caller treats as "too big".
pub(crate) fn non_negative(py: Python<'_>, name: &str, v: Int) -> PyResult<usize> {
    if v.get() < 0 {
        return Err(invalid_argument(
            py,
            format!("{name} must be >= 0, got {v}"),
        ));
    }
    Ok(usize::try_from(v.get()).unwrap_or(usize::MAX))
}

/// Lock-free single-producer/single-consumer ring of float32 samples.
#[pyclass(frozen, module = "cadence._core", name = "AudioRing")]
pub struct AudioRing {
    inner: CoreRing,
}

#[pymethods]
impl AudioRing {
    #[new]
    #[pyo3(signature = (capacity, overrun = "error"))]
    fn new(py: Python<'_>, capacity: Int, overrun: &str) -> PyResult<Self> {
        let policy = match overrun {
            "error" => Overrun::Error,
            "overwrite" => Overrun::OverwriteOldest,
            other => {
                return Err(invalid_argument(
                    py,
                    format!("overrun must be 'error' or 'overwrite', got {other:?}"),
                ));
            }
        };
        if capacity.get() < 1 {
            return Err(invalid_argument(
                py,
                format!("ring capacity must be at least 1, got {capacity}"),
            ));
        }
        if capacity.get() > cadence_core::ring::MAX_CAPACITY as i128 {
            return Err(invalid_argument(
                py,
                format!(
                    "ring capacity {capacity} exceeds the maximum of {}",
                    cadence_core::ring::MAX_CAPACITY
                ),
            ));
        }
        let capacity = capacity.get() as usize;
        let inner = crate::errors::map(py, CoreRing::new(capacity, policy))?;
        Ok(AudioRing { inner })
    }

    /// Append all of `samples` (1-D float32, or int16 scaled by 1/32768).
    /// Returns the number of samples written.
    fn write(&self, py: Python<'_>, samples: &Bound<'_, PyAny>) -> PyResult<usize> {
        let arg = pcm_arg(py, samples, "samples", None, Some(self.inner.capacity()))?;
        let pcm = arg.pcm();
        let ring = &self.inner;
        let cap = ring.capacity();
        if pcm.len() > cap {
            return crate::errors::map(
                py,
                Err(CadenceError::Oversize {
                    len: pcm.len(),
                    max: cap,
                }),
            );
        }
        detached(py, || match pcm {
            Pcm::F32(s) => {
                cadence_core::samples::check_samples(s)?;
                ring.write(s)
            }
            Pcm::I16(s) => ring.write_iter(s.iter().map(|&v| v as f32 * (1.0 / 32768.0))),
        })
    }

    /// Read up to `len(out)` samples into `out` (1-D, float32, writable, contiguous).
    fn read_into(&self, py: Python<'_>, out: &Bound<'_, PyAny>) -> PyResult<usize> {
        let arr = out.downcast::<PyArray1<f32>>().map_err(|_| {
            invalid_argument(
                py,
                format!(
                    "out must be a 1-D float32 numpy array, got {}",
                    describe(out)
                ),
            )
        })?;
        let mut rw = arr.try_readwrite().map_err(|e| {
            invalid_argument(py, format!("out must be writable and not borrowed: {e}"))
        })?;
        let slice = rw
            .as_slice_mut()
            .map_err(|_| invalid_argument(py, "out must be contiguous"))?;
        let ring = &self.inner;
        detached(py, || ring.read(slice))
    }

    /// Read and consume up to `n` samples (fewer if fewer are available).
    fn read<'py>(&self, py: Python<'py>, n: Int) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let n = non_negative(py, "n", n)?;
        let mut buf = vec![0.0f32; n.min(self.inner.capacity())];
        let ring = &self.inner;
        let k = detached(py, || ring.read_request(&mut buf, n))?;
        buf.truncate(k);
        Ok(PyArray1::from_vec(py, buf))
    }

    /// Read exactly `n` samples, or return None (counting an underrun) and
    /// consume nothing when fewer are available.
    fn read_exact<'py>(
        &self,
        py: Python<'py>,
        n: Int,
    ) -> PyResult<Option<Bound<'py, PyArray1<f32>>>> {
        let cap = self.inner.capacity();
        let want = non_negative(py, "n", n.clone())?;
        if want > cap {
            return Err(crate::errors::oversize(py, &n, cap)); // n as given, not saturated
        }
        let n = want;
        let mut buf = vec![0.0f32; n];
        let ring = &self.inner;
        let ok = detached(py, || ring.read_exact(&mut buf))?;
        Ok(ok.then(|| PyArray1::from_vec(py, buf)))
    }

    /// Copy up to `n` of the oldest samples without consuming them.
    fn peek<'py>(&self, py: Python<'py>, n: Int) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let n = non_negative(py, "n", n)?;
        let mut buf = vec![0.0f32; n.min(self.inner.capacity())];
        let ring = &self.inner;
        let k = detached(py, || ring.peek(&mut buf))?;
        buf.truncate(k);
        Ok(PyArray1::from_vec(py, buf))
    }

    /// Drop up to `n` of the oldest samples; returns how many were dropped.
    fn skip(&self, py: Python<'_>, n: Int) -> PyResult<usize> {
        let n = non_negative(py, "n", n)?;
        crate::errors::map(py, self.inner.skip(n))
    }

    #[getter]
    fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    #[getter]
    fn available(&self) -> usize {
        self.inner.available()
    }

    #[getter]
    fn free(&self) -> usize {
        self.inner.free()
    }

    #[getter]
    fn overrun(&self) -> &'static str {
        match self.inner.policy() {
            Overrun::Error => "error",
            Overrun::OverwriteOldest => "overwrite",
        }
    }

    /// Counters: capacity, fill, peak_fill, total_written, total_read,
    /// overrun_events, overrun_samples, underrun_events.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let d = PyDict::new(py);
        d.set_item("capacity", s.capacity)?;
        d.set_item("fill", s.fill)?;
        d.set_item("peak_fill", s.peak_fill)?;
        d.set_item("total_written", s.total_written)?;
        d.set_item("total_read", s.total_read)?;
        d.set_item("overrun_events", s.overrun_events)?;
        d.set_item("overrun_samples", s.overrun_samples)?;
        d.set_item("underrun_events", s.underrun_events)?;
        Ok(d)
    }

    fn __len__(&self) -> usize {
        self.inner.available()
    }

    fn __repr__(&self) -> String {
        format!(
            "AudioRing(capacity={}, overrun={:?}, available={})",
            self.inner.capacity(),
            self.overrun(),
            self.inner.available()
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<AudioRing>()?;
    Ok(())
}
