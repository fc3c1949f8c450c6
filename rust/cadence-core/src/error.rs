//! The one error type of the core. Each variant maps to one Python exception
//! class in `cadence.errors` (see `rust/cadence-py/src/errors.rs`).

use std::fmt::Display;
use thiserror::Error;

pub type Result<T> = std::result::Result<T, CadenceError>;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CadenceError {
    /// Samples that cannot be processed: NaN/inf, empty, odd channel layout.
    #[error("invalid audio: {0}")]
    InvalidAudio(String),
    /// A sample rate the framer/resampler does not support.
    #[error("{}", unsupported_rate_message(.rate, .supported))]
    UnsupportedRate { rate: u32, supported: &'static str },
    /// An input larger than the configured maximum.
    #[error("{}", oversize_message(.len, .max))]
    Oversize { len: usize, max: usize },
    /// A ring write that does not fit and the ring's policy is `error`.
    #[error("ring overrun: {requested} samples requested but only {free} free")]
    RingOverrun { requested: usize, free: usize },
    /// A bad argument that is not audio (capacity 0, wrong shape of an output buffer...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// An operation on a speculation epoch that no longer accepts it.
    #[error("epoch {epoch} is {state}: cannot {action}")]
    EpochClosed {
        epoch: u64,
        state: &'static str,
        action: &'static str,
    },
    /// An epoch the ledger has never opened.
    #[error("unknown epoch {0}")]
    UnknownEpoch(u64),
    /// Opening an epoch that is not newer than the latest one.
    #[error("epoch {epoch} is not newer than the latest epoch {latest}")]
    StaleEpoch { epoch: u64, latest: u64 },
}

/// The text of [`CadenceError::UnsupportedRate`]. `rate` is any display, so that a
/// binding can name a rate that no `u32` holds as it was given.
pub fn unsupported_rate_message(rate: impl Display, supported: impl Display) -> String {
    format!("unsupported sample rate {rate} Hz (supported: {supported})")
}

/// The text of [`CadenceError::Oversize`]. `len` is any display, so that a binding can
/// name a request that no `usize` holds as it was given.
pub fn oversize_message(len: impl Display, max: impl Display) -> String {
    format!("oversize input: {len} samples exceeds the maximum of {max}")
}
