//! Cadence real-time core, free of Python.
//!
//! * [`ring`]: lock-free SPSC ring of f32 samples.
//! * [`resample`] / [`framer`]: band-limited resampling and exact 10 ms framing.
//! * [`dsp`]: per-frame features (energy, ZCR, f0/voicing, spectral shape, log-mel).
//! * [`floor`]: echo estimation and speaker normalisation (the floor model's inputs).
//! * [`ledger`]: the speculation commit/discard state machine.
//! * [`samples`]: the finite/magnitude check every float input passes.
//!
//! Every fallible call returns [`CadenceError`]; the Python binding maps each
//! variant to one exception class under `cadence.CadenceError`.

pub mod dsp;
pub mod error;
pub mod floor;
pub mod framer;
pub mod ledger;
pub mod resample;
pub mod ring;
pub mod samples;

pub use error::{CadenceError, Result};

/// Internal sample rate of the engine (Hz).
pub const INTERNAL_RATE: u32 = 16_000;
/// Samples in one internal 10 ms frame.
pub const FRAME_SAMPLES: usize = 160;
