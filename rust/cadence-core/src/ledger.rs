//! TODO(helper): ledger
