//! pyo3 bindings: the extension module `cadence._core`. All maths lives in
//! `cadence-core`; this crate only converts arguments, releases the GIL and
//! maps errors.

use pyo3::prelude::*;

mod arrays;
mod dsp;
mod errors;
mod floor;
mod framer;
mod ledger;
mod net;
mod ring;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("INTERNAL_RATE", cadence_core::INTERNAL_RATE)?;
    m.add("FRAME_SAMPLES", cadence_core::FRAME_SAMPLES)?;
    m.add("MAX_SAMPLE_ABS", cadence_core::samples::MAX_SAMPLE_ABS)?;
    ring::register(m)?;
    framer::register(m)?;
    ledger::register(m)?;
    dsp::register(m)?;
    floor::register(m)?;
    net::register(m)?;
    Ok(())
}
