//! Fuzz target `handshake_client`: the body and its invariants live in
//! tests/fuzz_support/mod.rs, shared with tests/fuzz_regressions.rs.
#![no_main]

#[path = "../../tests/fuzz_support/mod.rs"]
mod support;

libfuzzer_sys::fuzz_target!(|data: &[u8]| support::handshake_client(data));
