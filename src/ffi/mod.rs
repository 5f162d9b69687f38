//! The C ABI (documented in include/wsproto.h, generated from these files).
//!
//! Translation only: pointers and lengths become slices and strings, engine
//! results become `ws_result_t`, engine events become `ws_event_t`. No
//! protocol logic lives here. Each C type has its own file (rustls-ffi
//! style); every export runs inside the panic boundary of `macros.rs`.
//!
//! Type names are the C names (`ws_conn_t`...) so that cbindgen emits them
//! verbatim; hence the lint allowance.
//!
//! The exports are safe `extern "C"` functions called from C; their pointer
//! contracts are documented in the header, and they check what can be
//! checked (NULL). Marking them `unsafe fn` would not change anything for C,
//! so clippy's `not_unsafe_ptr_arg_deref` is allowed for this module.
#![allow(non_camel_case_types)]
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod alloc;
pub mod config;
pub mod conn;
pub mod deflate;
pub mod event;
pub mod h2;
pub mod handshake;
pub(crate) mod macros;
pub mod result;
pub mod version;
