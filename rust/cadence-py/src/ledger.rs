//! Binding of `cadence_core::ledger`: `SpeculationLedger` over arbitrary
//! Python objects, each with an optional `audio_seconds` for waste accounting.

use cadence_core::ledger::{EpochState, Ledger};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::errors::{invalid_argument, map, Int};

/// An epoch argument: any Python int; outside `u64` is `InvalidArgumentError`
/// (not pyo3's OverflowError).
fn epoch_arg(py: Python<'_>, epoch: Int) -> PyResult<u64> {
    u64::try_from(epoch.get())
        .map_err(|_| invalid_argument(py, format!("epoch must be in [0, 2**64 - 1], got {epoch}")))
}

/// The speculation commit/discard ledger (see `cadence_core::ledger`).
#[pyclass(module = "cadence._core")]
pub struct SpeculationLedger {
    inner: Ledger<Py<PyAny>>,
}

#[pymethods]
impl SpeculationLedger {
    #[new]
    fn new() -> Self {
        SpeculationLedger {
            inner: Ledger::new(),
        }
    }

    /// Open a new draft epoch; discards the previous draft.
    fn open(&mut self, py: Python<'_>, epoch: Int) -> PyResult<()> {
        map(py, self.inner.open(epoch_arg(py, epoch)?))
    }

    /// Append an item (any object) to a draft or a committed, unclosed epoch.
    #[pyo3(signature = (epoch, item, audio_seconds = 0.0))]
    fn append(
        &mut self,
        py: Python<'_>,
        epoch: Int,
        item: Py<PyAny>,
        audio_seconds: f64,
    ) -> PyResult<()> {
        map(
            py,
            self.inner
                .append_with_audio(epoch_arg(py, epoch)?, item, audio_seconds),
        )
    }

    fn commit(&mut self, py: Python<'_>, epoch: Int) -> PyResult<()> {
        map(py, self.inner.commit(epoch_arg(py, epoch)?))
    }

    fn discard(&mut self, py: Python<'_>, epoch: Int) -> PyResult<()> {
        map(py, self.inner.discard(epoch_arg(py, epoch)?))
    }

    fn close(&mut self, py: Python<'_>, epoch: Int) -> PyResult<()> {
        map(py, self.inner.close(epoch_arg(py, epoch)?))
    }

    /// Not-yet-released items of committed epochs, by epoch then append order.
    fn release<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.inner.release())
    }

    /// "draft", "committed", "discarded" or "closed".
    fn state(&self, py: Python<'_>, epoch: Int) -> PyResult<&'static str> {
        map(
            py,
            self.inner
                .state(epoch_arg(py, epoch)?)
                .map(EpochState::as_str),
        )
    }

    /// Items of `epoch` appended and neither released nor wasted.
    fn pending(&self, py: Python<'_>, epoch: Int) -> PyResult<usize> {
        map(py, self.inner.pending(epoch_arg(py, epoch)?))
    }

    /// The newest epoch ever opened, or None.
    #[getter]
    fn latest(&self) -> Option<u64> {
        self.inner.latest()
    }

    /// The current draft epoch, or None.
    #[getter]
    fn draft(&self) -> Option<u64> {
        self.inner.draft()
    }

    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let m = self.inner.metrics();
        let d = PyDict::new(py);
        d.set_item("drafts_opened", m.drafts_opened)?;
        d.set_item("drafts_committed", m.drafts_committed)?;
        d.set_item("drafts_discarded", m.drafts_discarded)?;
        d.set_item("items_appended", m.items_appended)?;
        d.set_item("items_released", m.items_released)?;
        d.set_item("items_wasted", m.items_wasted)?;
        d.set_item("items_pending", m.items_pending)?;
        d.set_item("audio_seconds_appended", m.audio_seconds_appended)?;
        d.set_item("audio_seconds_committed", m.audio_seconds_committed)?;
        d.set_item("audio_seconds_wasted", m.audio_seconds_wasted)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let m = self.inner.metrics();
        format!(
            "SpeculationLedger(latest={:?}, draft={:?}, pending={})",
            self.inner.latest(),
            self.inner.draft(),
            m.items_pending
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SpeculationLedger>()
}
