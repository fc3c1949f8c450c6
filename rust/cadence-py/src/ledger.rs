//! Binding of `cadence_core::ledger`: `SpeculationLedger` over arbitrary
//! Python objects, each with an optional `audio_seconds` for waste accounting.

use cadence_core::ledger::{EpochState, Ledger};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::errors::{invalid_argument, map, Exclusive, Int};

/// An epoch argument: any Python int; outside `u64` is `InvalidArgumentError`
/// (not pyo3's OverflowError).
fn epoch_arg(py: Python<'_>, epoch: Int) -> PyResult<u64> {
    u64::try_from(epoch.get())
        .map_err(|_| invalid_argument(py, format!("epoch must be in [0, 2**64 - 1], got {epoch}")))
}

/// The speculation commit/discard ledger (see `cadence_core::ledger`). Its calls keep the
/// GIL, but dropping an item may run the item's `__del__`, and a `__del__` that calls the
/// ledger back (or lets another thread in that does) meets `InUseError`, not pyo3's bare
/// "Already mutably borrowed".
#[pyclass(frozen, module = "cadence._core")]
pub struct SpeculationLedger {
    inner: Exclusive<Ledger<Py<PyAny>>>,
}

#[pymethods]
impl SpeculationLedger {
    #[new]
    fn new() -> Self {
        SpeculationLedger {
            inner: Exclusive::new("SpeculationLedger", Ledger::new()),
        }
    }

    /// Open a new draft epoch; discards the previous draft.
    fn open(&self, py: Python<'_>, epoch: Int) -> PyResult<()> {
        let epoch = epoch_arg(py, epoch)?;
        map(py, self.inner.get(py)?.open(epoch))
    }

    /// Append an item (any object) to a draft or a committed, unclosed epoch.
    #[pyo3(signature = (epoch, item, audio_seconds = 0.0))]
    fn append(
        &self,
        py: Python<'_>,
        epoch: Int,
        item: Py<PyAny>,
        audio_seconds: f64,
    ) -> PyResult<()> {
        let epoch = epoch_arg(py, epoch)?;
        map(
            py,
            self.inner
                .get(py)?
                .append_with_audio(epoch, item, audio_seconds),
        )
    }

    fn commit(&self, py: Python<'_>, epoch: Int) -> PyResult<()> {
        let epoch = epoch_arg(py, epoch)?;
        map(py, self.inner.get(py)?.commit(epoch))
    }

    fn discard(&self, py: Python<'_>, epoch: Int) -> PyResult<()> {
        let epoch = epoch_arg(py, epoch)?;
        map(py, self.inner.get(py)?.discard(epoch))
    }

    fn close(&self, py: Python<'_>, epoch: Int) -> PyResult<()> {
        let epoch = epoch_arg(py, epoch)?;
        map(py, self.inner.get(py)?.close(epoch))
    }

    /// Not-yet-released items of committed epochs, by epoch then append order.
    fn release<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self.inner.get(py)?.release();
        PyList::new(py, items)
    }

    /// "draft", "committed", "discarded" or "closed".
    fn state(&self, py: Python<'_>, epoch: Int) -> PyResult<&'static str> {
        let epoch = epoch_arg(py, epoch)?;
        map(py, self.inner.get(py)?.state(epoch).map(EpochState::as_str))
    }

    /// Items of `epoch` appended and neither released nor wasted.
    fn pending(&self, py: Python<'_>, epoch: Int) -> PyResult<usize> {
        let epoch = epoch_arg(py, epoch)?;
        map(py, self.inner.get(py)?.pending(epoch))
    }

    /// The newest epoch ever opened, or None.
    #[getter]
    fn latest(&self, py: Python<'_>) -> PyResult<Option<u64>> {
        Ok(self.inner.get(py)?.latest())
    }

    /// The current draft epoch, or None.
    #[getter]
    fn draft(&self, py: Python<'_>) -> PyResult<Option<u64>> {
        Ok(self.inner.get(py)?.draft())
    }

    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let m = self.inner.get(py)?.metrics();
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
        // Python's spelling of an optional epoch: 2 or None (Rust's Debug said Some(2))
        let py_opt = |o: Option<u64>| o.map_or_else(|| "None".to_string(), |v| v.to_string());
        self.inner.repr(|l| {
            format!(
                "SpeculationLedger(latest={}, draft={}, pending={})",
                py_opt(l.latest()),
                py_opt(l.draft()),
                l.metrics().items_pending
            )
        })
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SpeculationLedger>()
}
