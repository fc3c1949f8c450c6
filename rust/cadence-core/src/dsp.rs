//! TODO(helper): dsp
