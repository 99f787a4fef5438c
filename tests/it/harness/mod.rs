//! The shared harness (the `ftl-test-support` crate in `tests/support`),
//! and the browser the console tests drive.

pub use ftl_test_support::*;

pub mod browser;
