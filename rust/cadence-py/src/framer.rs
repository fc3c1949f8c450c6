//! Bindings of `cadence_core::framer` (Framer, OutputFramer) and the one-shot
//! `resample` function. Validation, conversion and resampling run with the
//! GIL released; a rejected chunk leaves the framer unchanged (the core
//! validates before it mutates).

use cadence_core::framer::{
    Framer as CoreFramer, OutputFramer as CoreOutputFramer, Pcm, DEFAULT_MAX_CHUNK_SAMPLES,
};

// The pyo3 signature default must be a literal (it becomes the text signature).
const _: () = assert!(DEFAULT_MAX_CHUNK_SAMPLES == 480_000);
use cadence_core::FRAME_SAMPLES;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2};
use pyo3::prelude::*;

use crate::errors::{detached, invalid_argument, map, rate_arg, Exclusive, Int};
use crate::ring::{non_negative, pcm_arg};

fn frames_array(py: Python<'_>, buf: Vec<f32>) -> PyResult<Bound<'_, PyArray2<f32>>> {
    let n = buf.len() / FRAME_SAMPLES;
    let arr = Array2::from_shape_vec((n, FRAME_SAMPLES), buf)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    Ok(arr.into_pyarray(py))
}

/// Any-rate PCM chunks → exact 10 ms mono float32 frames at 16 kHz.
#[pyclass(frozen, module = "cadence._core", name = "Framer")]
pub struct Framer {
    inner: Exclusive<CoreFramer>,
    // fixed for the object's life: read without the lock
    rate: u32,
    channels: usize,
    max_chunk_samples: usize,
    delay_samples: usize,
}

#[pymethods]
impl Framer {
    #[new]
    #[pyo3(
        signature = (rate, channels = Int::new(1), max_chunk_samples = Int::new(480_000)),
        text_signature = "(rate, channels=1, max_chunk_samples=480000)"
    )]
    fn new(py: Python<'_>, rate: Int, channels: Int, max_chunk_samples: Int) -> PyResult<Self> {
        if channels.saturated() {
            // the core's message would name the saturated count, not the int given
            return Err(invalid_argument(
                py,
                format!("channels must be 1 or 2, got {channels}"),
            ));
        }
        let channels = non_negative(py, "channels", channels)?;
        let max = non_negative(py, "max_chunk_samples", max_chunk_samples)?;
        let inner = map(py, CoreFramer::new(rate_arg(py, rate)?, channels, max))?;
        Ok(Framer {
            rate: inner.rate(),
            channels: inner.channels(),
            max_chunk_samples: inner.max_chunk_samples(),
            delay_samples: inner.delay_samples(),
            inner: Exclusive::new("Framer", inner),
        })
    }

    /// Frame one chunk (1-D interleaved or 2-D `(n, channels)`, float32 or
    /// int16). Returns a `(n_frames, 160)` float32 array, possibly empty.
    fn push<'py>(
        &self,
        py: Python<'py>,
        chunk: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let channels = self.channels;
        let max = self.max_chunk_samples.saturating_mul(channels);
        let arg = pcm_arg(py, chunk, "chunk", Some(channels), Some(max))?;
        let pcm = arg.pcm();
        let out = self.inner.run(py, |inner| {
            let mut out = Vec::new();
            inner.push(pcm, &mut out)?;
            Ok(out)
        })?;
        frames_array(py, out)
    }

    /// End of stream: the resampler tail and the zero-padded last frame(s).
    /// The framer is then reset and can take a new stream.
    fn flush<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let out = self.inner.run(py, |inner| {
            let mut out = Vec::new();
            inner.flush(&mut out);
            Ok(out)
        })?;
        frames_array(py, out)
    }

    /// 16 kHz samples waiting for a full frame.
    #[getter]
    fn pending(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.inner.get(py)?.pending())
    }

    /// Resampler group delay in 16 kHz samples (0 at 16 kHz input).
    #[getter]
    fn delay_samples(&self) -> usize {
        self.delay_samples
    }

    #[getter]
    fn rate(&self) -> u32 {
        self.rate
    }

    #[getter]
    fn channels(&self) -> usize {
        self.channels
    }

    #[getter]
    fn max_chunk_samples(&self) -> usize {
        self.max_chunk_samples
    }

    fn __repr__(&self) -> String {
        let pending = self.inner.repr(|f| f.pending().to_string());
        format!(
            "Framer(rate={}, channels={}, pending={pending})",
            self.rate, self.channels
        )
    }
}

/// Mono PCM at a synthesis rate → float32 at the transport rate.
#[pyclass(frozen, module = "cadence._core", name = "OutputFramer")]
pub struct OutputFramer {
    inner: Exclusive<CoreOutputFramer>,
    // fixed for the object's life: read without the lock
    in_rate: u32,
    out_rate: u32,
    max_chunk_samples: usize,
    delay_samples: usize,
}

#[pymethods]
impl OutputFramer {
    #[new]
    #[pyo3(
        signature = (in_rate, out_rate = Int::new(48000), max_chunk_samples = Int::new(480_000)),
        text_signature = "(in_rate, out_rate=48000, max_chunk_samples=480000)"
    )]
    fn new(py: Python<'_>, in_rate: Int, out_rate: Int, max_chunk_samples: Int) -> PyResult<Self> {
        let max = non_negative(py, "max_chunk_samples", max_chunk_samples)?;
        let inner = map(
            py,
            CoreOutputFramer::new(rate_arg(py, in_rate)?, rate_arg(py, out_rate)?, max),
        )?;
        Ok(OutputFramer {
            in_rate: inner.in_rate(),
            out_rate: inner.out_rate(),
            max_chunk_samples: inner.max_chunk_samples(),
            delay_samples: inner.delay_samples(),
            inner: Exclusive::new("OutputFramer", inner),
        })
    }

    /// Resample one mono chunk (1-D float32 or int16); returns float32 samples.
    fn push<'py>(
        &self,
        py: Python<'py>,
        chunk: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let arg = pcm_arg(py, chunk, "chunk", None, Some(self.max_chunk_samples))?;
        let pcm = arg.pcm();
        let out = self.inner.run(py, |inner| {
            let mut out = Vec::new();
            inner.push(pcm, &mut out)?;
            Ok(out)
        })?;
        Ok(PyArray1::from_vec(py, out))
    }

    /// End of stream: the resampler tail; then reset.
    fn flush<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let out = self.inner.run(py, |inner| {
            let mut out = Vec::new();
            inner.flush(&mut out);
            Ok(out)
        })?;
        Ok(PyArray1::from_vec(py, out))
    }

    /// Resampler group delay in output samples.
    #[getter]
    fn delay_samples(&self) -> usize {
        self.delay_samples
    }

    #[getter]
    fn in_rate(&self) -> u32 {
        self.in_rate
    }

    #[getter]
    fn out_rate(&self) -> u32 {
        self.out_rate
    }

    #[getter]
    fn max_chunk_samples(&self) -> usize {
        self.max_chunk_samples
    }

    fn __repr__(&self) -> String {
        format!(
            "OutputFramer(in_rate={}, out_rate={})",
            self.in_rate, self.out_rate
        )
    }
}

/// One-shot resampling of a 1-D float32/int16 signal, delay removed:
/// `ceil(len(x) * to_rate / from_rate)` samples aligned with the input.
#[pyfunction]
#[pyo3(signature = (x, from_rate, to_rate))]
fn resample<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    from_rate: Int,
    to_rate: Int,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let arg = pcm_arg(py, x, "x", None, Some(crate::arrays::MAX_COPY))?;
    let pcm = arg.pcm();
    let (from, to) = (rate_arg(py, from_rate)?, rate_arg(py, to_rate)?);
    let out = detached(py, || match pcm {
        Pcm::F32(s) => {
            cadence_core::samples::check_samples(s)?;
            cadence_core::resample::resample(s, from, to)
        }
        Pcm::I16(s) => {
            let v: Vec<f32> = s.iter().map(|&x| x as f32 * (1.0 / 32768.0)).collect();
            cadence_core::resample::resample(&v, from, to)
        }
    })?;
    Ok(PyArray1::from_vec(py, out))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Framer>()?;
    m.add_class::<OutputFramer>()?;
    m.add_function(wrap_pyfunction!(resample, m)?)?;
    let rates = pyo3::types::PyTuple::new(m.py(), cadence_core::resample::SUPPORTED_RATES)?;
    m.add("SUPPORTED_RATES", rates)?;
    Ok(())
}
