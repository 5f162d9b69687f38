//! Replays every fuzz corpus seed and every saved crash input
//! (`fuzz/corpus/<target>/`, `fuzz/regressions/<target>/`) through the same
//! invariant-checking code the libFuzzer targets run, so a fixed crash stays
//! fixed under plain `cargo test` on stable Rust.

mod fuzz_support;

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

fn files_in(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(rd) = fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

/// Runs `target` on every input of `name`; fails listing each input that panics.
fn replay(name: &str, target: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let corpus = files_in(&root.join("corpus").join(name));
    assert!(corpus.len() >= 10, "fuzz/corpus/{name} has only {} seeds; run fuzz/make_seeds.py", corpus.len());
    let mut inputs = corpus;
    inputs.extend(files_in(&root.join("regressions").join(name)));
    let mut failures = Vec::new();
    for path in &inputs {
        let data = fs::read(path).expect("readable input");
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| target(&data))) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}: {msg}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{} of {} inputs failed:\n{}", failures.len(), inputs.len(), failures.join("\n"));
}

#[test]
fn frame_parser() {
    replay("frame_parser", fuzz_support::frame_parser);
}

#[test]
fn handshake_server() {
    replay("handshake_server", fuzz_support::handshake_server);
}

#[test]
fn handshake_client() {
    replay("handshake_client", fuzz_support::handshake_client);
}

#[test]
fn deflate() {
    replay("deflate", fuzz_support::deflate);
}

#[test]
fn connection_chunked() {
    replay("connection_chunked", fuzz_support::connection_chunked);
}

/// The independent output parser must itself reject malformed output, or
/// the fuzz targets' output checks would prove nothing.
#[test]
fn wire_checker_rejects_malformed_frames() {
    use fuzz_support::Wire;
    let bad: &[(&[u8], bool)] = &[
        (&[0x82, 0x01, b'x'], true),                       // client frame not masked
        (&[0x82, 0x81, 0, 0, 0, 0, b'x'], false),          // server frame masked
        (&[0x09, 0x00], false),                            // fragmented ping
        (&[0x89, 0x7e, 0x00, 0x7e], false),                // ping with 126 bytes (length shown)
        (&[0x88, 0x01, 0x03], false),                      // 1-byte close payload
        (&[0x88, 0x02, 0x03, 0xed], false),                // close code 1005
        (&[0x80, 0x00], false),                            // continuation without a message
        (&[0xc2, 0x00], false),                            // RSV1 without deflate
        (&[0x83, 0x00], false),                            // reserved opcode
        (&[0x82, 0x7e, 0x00, 0x05, 1, 2, 3, 4, 5], false), // non-minimal length
        (&[0x81, 0x01, 0xff], false),                      // text not UTF-8
        (&[0x88, 0x00, 0x8a, 0x00], false),                // frame after close
        (&[0x82, 0x02, 0x00], false),                      // truncated frame
    ];
    for (bytes, client) in bad {
        let r = catch_unwind(AssertUnwindSafe(|| Wire::new(*client, false, false).feed(bytes)));
        assert!(r.is_err(), "accepted malformed output {bytes:02x?}");
    }
    let mut w = Wire::new(false, false, false);
    w.feed(&[0x01, 0x01, 0xc3, 0x89, 0x00, 0x80, 0x01, 0xa9, 0x88, 0x02, 0x03, 0xe8]);
    assert!(w.close_written());
    assert_eq!(w.frames.len(), 4);
    assert_eq!(w.frames[3], (0x8, true, false, vec![0x03, 0xe8]));
}

#[test]
fn transitions() {
    use wsproto::State::*;
    assert!(fuzz_support::reachable(Connecting, RemoteClosing));
    assert!(fuzz_support::reachable(LocalClosing, Closed));
    assert!(!fuzz_support::reachable(Closed, Open));
    assert!(!fuzz_support::reachable(LocalClosing, RemoteClosing));
    assert!(!fuzz_support::reachable(Open, Rejecting));
    assert!(!fuzz_support::reachable(Open, Connecting));
}
