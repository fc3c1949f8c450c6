//! Error conversion and the GIL-releasing call helper.
//!
//! The exception classes live in Python (`cadence/errors.py`) so that they can
//! inherit from both `CadenceError` and the matching builtin (`ValueError`...).
//! Each `CadenceError` variant maps to exactly one class, looked up once.

use cadence_core::CadenceError;
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::PyType;

static ERRORS_MODULE: GILOnceCell<Py<PyModule>> = GILOnceCell::new();

fn class_name(e: &CadenceError) -> &'static str {
    match e {
        CadenceError::InvalidAudio(_) => "InvalidAudioError",
        CadenceError::UnsupportedRate { .. } => "UnsupportedRateError",
        CadenceError::Oversize { .. } => "OversizeError",
        CadenceError::RingOverrun { .. } => "RingOverrunError",
        CadenceError::InvalidArgument(_) => "InvalidArgumentError",
        CadenceError::EpochClosed { .. } => "EpochClosedError",
        CadenceError::UnknownEpoch(_) => "UnknownEpochError",
        CadenceError::StaleEpoch { .. } => "StaleEpochError",
    }
}

/// Convert a core error into the matching `cadence.errors` exception.
pub fn to_pyerr(py: Python<'_>, e: CadenceError) -> PyErr {
    new_error(py, class_name(&e), e.to_string())
}

/// An exception of the `cadence.errors` class `name` with message `msg`.
fn new_error(py: Python<'_>, name: &str, msg: String) -> PyErr {
    let module =
        ERRORS_MODULE.get_or_try_init(py, || py.import("cadence.errors").map(|m| m.unbind()));
    match module.and_then(|m| m.bind(py).getattr(name)) {
        Ok(cls) => match cls.downcast_into::<PyType>() {
            Ok(t) => PyErr::from_type(t, msg),
            Err(_) => pyo3::exceptions::PyRuntimeError::new_err(msg),
        },
        Err(import_err) => import_err,
    }
}

/// Shorthand for `Result<T, CadenceError>` → `PyResult<T>`.
pub fn map<T>(py: Python<'_>, r: cadence_core::Result<T>) -> PyResult<T> {
    r.map_err(|e| to_pyerr(py, e))
}

/// Run `f` with the GIL released, then check for Ctrl-C and map the error.
/// Every call that touches more than a handful of samples goes through here.
pub fn detached<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    T: Send,
    F: Send + FnOnce() -> cadence_core::Result<T>,
{
    let r = py.allow_threads(f);
    py.check_signals()?;
    map(py, r)
}

/// Raise `InvalidArgumentError` / `InvalidAudioError` from binding-level checks.
pub fn invalid_audio(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    to_pyerr(py, CadenceError::InvalidAudio(msg.into()))
}

pub fn invalid_argument(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    to_pyerr(py, CadenceError::InvalidArgument(msg.into()))
}

/// A sample-rate argument (taken as `i128` so that any plausible Python int
/// arrives intact): one that is not a `u32` raises `UnsupportedRateError`
/// naming the value as given; the core checks the rest.
pub fn rate_arg(py: Python<'_>, rate: i128) -> PyResult<u32> {
    u32::try_from(rate).map_err(|_| {
        new_error(
            py,
            "UnsupportedRateError",
            format!(
                "unsupported sample rate {rate} Hz (supported: {})",
                cadence_core::resample::SUPPORTED_TEXT
            ),
        )
    })
}
