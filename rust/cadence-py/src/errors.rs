//! Error conversion and the GIL-releasing call helper.
//!
//! The exception classes live in Python (`cadence/errors.py`) so that they can
//! inherit from both `CadenceError` and the matching builtin (`ValueError`...).
//! Each `CadenceError` variant maps to exactly one class, looked up once.

use cadence_core::CadenceError;
use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::PyType;
use std::fmt;
use std::sync::{Mutex, MutexGuard, TryLockError};

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

/// `OversizeError` for a request of `len` samples (an [`Int`]: named as given) past `max`.
pub fn oversize(py: Python<'_>, len: &Int, max: usize) -> PyErr {
    new_error(
        py,
        "OversizeError",
        cadence_core::error::oversize_message(len, max),
    )
}

/// One stream's state in a binding object, behind a lock that is tried, never waited on. A
/// call releases the GIL while it computes, so another thread may call the same object
/// meanwhile: that call raises `InUseError` and changes nothing (with pyo3's own borrow
/// flag it was a bare "Already borrowed" RuntimeError). No call waits on the lock, so
/// none can deadlock against the GIL.
pub struct Exclusive<T> {
    what: &'static str,
    cell: Mutex<T>,
}

impl<T> Exclusive<T> {
    pub fn new(what: &'static str, value: T) -> Self {
        Exclusive {
            what,
            cell: Mutex::new(value),
        }
    }

    /// The state, or `InUseError` while a call from another thread holds it.
    pub fn get(&self, py: Python<'_>) -> PyResult<MutexGuard<'_, T>> {
        match self.cell.try_lock() {
            Ok(g) => Ok(g),
            // a panic inside a call (pyo3 raised it as PanicException) left the state as a
            // RefCell would have: read on, as before
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(new_error(
                py,
                "InUseError",
                format!(
                    "this {} is in use by another call (from another thread: calls on one \
                     object must not overlap; give each thread its own)",
                    self.what
                ),
            )),
        }
    }

    /// [`detached`] on the state: `f` runs with the GIL released and the lock held; the lock is
    /// let go before Python runs again (signal handlers included), so nothing on this thread
    /// can find its own call holding it. Check the arguments before: a check may run Python.
    pub fn run<R, F>(&self, py: Python<'_>, f: F) -> PyResult<R>
    where
        T: Send,
        R: Send,
        F: Send + FnOnce(&mut T) -> cadence_core::Result<R>,
    {
        let r = {
            let mut guard = self.get(py)?;
            let state = &mut *guard;
            py.allow_threads(|| f(state))
        };
        py.check_signals()?;
        map(py, r)
    }

    /// `f` of the state for a `__repr__`, or `"<what>(in use)"`: a repr never raises.
    pub fn repr(&self, f: impl FnOnce(&T) -> String) -> String {
        match self.cell.try_lock() {
            Ok(g) => f(&g),
            Err(TryLockError::Poisoned(p)) => f(&p.into_inner()),
            Err(TryLockError::WouldBlock) => format!("{}(in use)", self.what),
        }
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

/// An int argument of any size. One that fits `i128` arrives exactly; one
/// past it (pyo3 would raise `OverflowError`) saturates to `i128`'s end of
/// its sign, which every caller refuses or caps as out of range, and keeps
/// its decimal text so that an error names the value as given.
#[derive(Debug, Clone)]
pub struct Int {
    value: i128,
    text: Option<String>,
}

impl Int {
    pub const fn new(value: i128) -> Self {
        Int { value, text: None }
    }

    /// Whether the int lay past `i128` (its value saturated).
    pub fn saturated(&self) -> bool {
        self.text.is_some()
    }

    /// The value, saturated to `i128`.
    pub fn get(&self) -> i128 {
        self.value
    }
}

impl fmt::Display for Int {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.text {
            Some(t) => f.write_str(t),
            None => write!(f, "{}", self.value),
        }
    }
}

impl<'py> FromPyObject<'py> for Int {
    fn extract_bound(ob: &Bound<'py, PyAny>) -> PyResult<Self> {
        let py = ob.py();
        // the int the object stands for (`operator.index`: an exact int, also for an int
        // subclass or an object with `__index__` alone); a float or a str is a TypeError
        // SAFETY: PyNumber_Index returns a new reference or NULL with an exception set
        let int =
            unsafe { Bound::from_owned_ptr_or_err(py, pyo3::ffi::PyNumber_Index(ob.as_ptr())) }?;
        match int.extract::<i128>() {
            Ok(value) => Ok(Int::new(value)),
            Err(e) if e.is_instance_of::<PyOverflowError>(py) => {
                let negative = int.lt(0)?;
                let value = if negative { i128::MIN } else { i128::MAX };
                // past Python's 4300-digit limit for int -> str, name its size instead
                let text = match int.str() {
                    Ok(t) => t.to_string(),
                    Err(_) => format!(
                        "{} of {} bits",
                        if negative { "a negative int" } else { "an int" },
                        int.call_method0("bit_length")?
                    ),
                };
                Ok(Int {
                    value,
                    text: Some(text),
                })
            }
            Err(e) => Err(e),
        }
    }
}

/// A sample-rate argument ([`Int`], so that any Python int arrives): one that
/// is not a `u32` raises `UnsupportedRateError` naming the value as given;
/// the core checks the rest.
pub fn rate_arg(py: Python<'_>, rate: Int) -> PyResult<u32> {
    u32::try_from(rate.get()).map_err(|_| {
        new_error(
            py,
            "UnsupportedRateError",
            cadence_core::error::unsupported_rate_message(
                &rate,
                cadence_core::resample::SUPPORTED_TEXT,
            ),
        )
    })
}
