//! TODO(helper): framer
