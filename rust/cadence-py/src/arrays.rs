//! Array and size arguments shared by the bindings: a float32 numpy array
//! (checked dtype, its shape, a borrowed row-major view, copied only when the
//! array is not contiguous) and the `n_mels` constructor argument.

use std::borrow::Cow;

use cadence_core::dsp;
use numpy::{PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::errors::{invalid_argument, invalid_audio, Int};

/// The most values an argument that must be copied (not C-contiguous: strided, broadcast,
/// Fortran-ordered) may hold: 1 GiB of float32. A broadcast view may name terabytes.
pub const MAX_COPY: usize = 1 << 28;

/// A float32 numpy argument, read-only for as long as it lives.
pub struct F32Arg<'py> {
    pub shape: Vec<usize>,
    ro: PyReadonlyArrayDyn<'py, f32>,
}

impl<'py> F32Arg<'py> {
    /// `obj` as a float32 array, or an error naming `what` and what it got:
    /// `InvalidAudioError` when `audio` (samples), else `InvalidArgumentError`.
    pub fn new(
        py: Python<'py>,
        obj: &Bound<'py, PyAny>,
        what: &str,
        audio: bool,
    ) -> PyResult<Self> {
        let arr = obj.downcast::<PyArrayDyn<f32>>().map_err(|_| {
            let got = match obj.getattr("dtype") {
                Ok(dt) => format!("an array of dtype {dt}"),
                Err(_) => format!(
                    "a {}",
                    obj.get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ),
            };
            let msg = format!("{what} must be a float32 numpy array, got {got}");
            if audio {
                invalid_audio(py, msg)
            } else {
                invalid_argument(py, msg)
            }
        })?;
        if !arr.is_c_contiguous() && arr.len() > MAX_COPY {
            return crate::errors::map(
                py,
                Err(cadence_core::CadenceError::Oversize {
                    len: arr.len(),
                    max: MAX_COPY,
                }),
            );
        }
        Ok(F32Arg {
            shape: arr.shape().to_vec(),
            ro: arr.readonly(),
        })
    }

    /// The values in row-major order: borrowed when C-contiguous, else copied (a
    /// Fortran-ordered array is contiguous too, but its memory is column-major).
    pub fn values(&self) -> Cow<'_, [f32]> {
        if self.ro.is_c_contiguous() {
            if let Ok(s) = self.ro.as_slice() {
                return Cow::Borrowed(s);
            }
        }
        Cow::Owned(self.ro.as_array().iter().copied().collect())
    }
}

/// The `n_mels` argument (taken as [`Int`]: a negative or huge int is an
/// `InvalidArgumentError`, not `OverflowError`; the core checks the range).
pub fn n_mels_arg(py: Python<'_>, n_mels: Int) -> PyResult<usize> {
    usize::try_from(n_mels.get()).map_err(|_| {
        invalid_argument(
            py,
            format!("n_mels must be in 1..={}, got {n_mels}", dsp::MAX_N_MELS),
        )
    })
}
