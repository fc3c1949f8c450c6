//! TODO(helper): resample
