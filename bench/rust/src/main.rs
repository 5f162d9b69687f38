//! Engine-level benchmark: the BENCHMARKS.md workloads through the Rust API
//! (no FFI), with the same inputs, digests and verification as bench/bench.c.
//!
//! Usage: bench_engine [--quick] [--runs R] [--json FILE] [--only w1,w2] [--check]
//! `--check` only generates every workload and compares its digests with the
//! table (the Rust twin of bench/gen_check).

mod gen;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use gen::{fnv1a64, generate, Input, Workload, ALL, FNV_INIT};
use wsproto::{Config, Connection, DataKind, DeflateConfig, DeflateParams, Event, Role};

const CHUNK: usize = 64 << 10;
const DRAIN_THRESHOLD: usize = 64 << 10;

/// What a run delivered (or produced, for the send workloads).
#[derive(Default)]
struct Stats {
    messages: usize,
    bytes: usize,
    fnv: u64,
    sink: usize,
}

type Res<T> = std::result::Result<T, String>;

fn is_recv(w: Workload) -> bool {
    matches!(
        w,
        Workload::RecvSmall
            | Workload::RecvLarge
            | Workload::RecvTextLarge
            | Workload::RecvFragmented
            | Workload::RecvDeflate
    )
}

fn is_bandwidth(w: Workload) -> bool {
    matches!(w, Workload::RecvLarge | Workload::RecvTextLarge | Workload::SendLarge)
}

fn is_deflate(w: Workload) -> bool {
    matches!(w, Workload::RecvDeflate | Workload::SendDeflate)
}

fn deflate_config() -> (Config, Option<DeflateParams>) {
    // Context takeover on, 15-bit windows both ways.
    let cfg = Config { deflate: Some(DeflateConfig::default()), ..Config::default() };
    (cfg, Some(DeflateParams::default()))
}

/// Kept out of line: formatting inside the timed loop made the compiler
/// spill the loop's state (recv-small ran at half speed).
#[cold]
#[inline(never)]
fn unexpected(ev: &Event<'_>, messages: usize) -> String {
    format!("unexpected event after {messages} messages: {ev:?}")
}

fn run_recv(inp: &Input, hash: bool) -> Res<(Stats, f64)> {
    let (cfg, params) = if is_deflate(inp.workload) { deflate_config() } else { (Config::default(), None) };
    let mut conn = Connection::frames_only(Role::Server, cfg, params, &[]);
    let mut st = Stats { fnv: FNV_INIT, ..Stats::default() };
    let t0 = Instant::now();
    for chunk in inp.input.chunks(CHUNK) {
        conn.receive(chunk).map_err(|e| format!("receive: {e:?}"))?;
        while let Some(ev) = conn.next_event() {
            match ev {
                Event::Data { data, message_finished, .. } => {
                    st.messages += message_finished as usize;
                    st.bytes += data.len();
                    st.sink = st.sink.wrapping_add(data.as_ptr() as usize + data.len());
                    if hash {
                        st.fnv = fnv1a64(st.fnv, data);
                    }
                }
                other => return Err(unexpected(&other, st.messages)),
            }
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    std::hint::black_box(st.sink);
    Ok((st, secs))
}

fn run_send(inp: &Input, mut capture: Option<&mut Vec<u8>>) -> Res<(Stats, f64)> {
    let w = inp.workload;
    // The default configuration: the library's own masking keys, and the
    // output copied out (as a socket write would) before it is consumed.
    let (cfg, params) = if is_deflate(w) { deflate_config() } else { (Config::default(), None) };
    // send-deflate runs as a server (unmasked frames); the others as a client.
    let role = if is_deflate(w) { Role::Server } else { Role::Client };
    let mut conn = Connection::frames_only(role, cfg, params, &[]);
    let kind = if w == Workload::SendLarge { DataKind::Binary } else { DataKind::Text };
    let mut st = Stats::default();
    let t0 = Instant::now();
    for payload in inp.input.chunks(inp.msg_len) {
        conn.send_data(kind, payload, true, is_deflate(w)).map_err(|e| format!("send_data: {e:?}"))?;
        if conn.output().len() > DRAIN_THRESHOLD {
            drain(&mut conn, &mut capture, &mut st);
        }
    }
    drain(&mut conn, &mut capture, &mut st);
    let secs = t0.elapsed().as_secs_f64();
    std::hint::black_box(st.sink);
    st.messages = inp.messages;
    Ok((st, secs))
}

thread_local! {
    /// Where drained output is copied, standing in for the socket: reused.
    static SINK: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn drain(conn: &mut Connection, capture: &mut Option<&mut Vec<u8>>, st: &mut Stats) {
    let out = conn.output();
    let n = out.len();
    if let Some(c) = capture {
        c.extend_from_slice(out);
    } else {
        SINK.with(|s| {
            // At the source's offset within a 64-byte line: glibc's `rep
            // movsb` on AMD Zen runs ~17x slower when the destination sits
            // 1-31 bytes past it (see bench.c, SAME_LINE_OFFSET), which is a
            // heap-layout accident, not what writing the bytes to a socket costs.
            let mut s = s.borrow_mut();
            if s.len() < n + 64 {
                s.resize(n + 64, 0);
            }
            let at = (out.as_ptr() as usize).wrapping_sub(s.as_ptr() as usize) & 63;
            s[at..at + n].copy_from_slice(out);
        });
    }
    st.sink = st.sink.wrapping_add(out.as_ptr() as usize + n);
    conn.consume_output(n);
}

/// Parses produced frames: FIN, opcode, RSV1 (deflate), mask bit by role;
/// unmasks or inflates and hashes the payloads.
fn parse_sent(inp: &Input, buf: &[u8]) -> Res<Stats> {
    let w = inp.workload;
    let deflate = is_deflate(w);
    let opcode = if w == Workload::SendLarge { 0x2 } else { 0x1 };
    let mut inflater = Decompress::new_with_window_bits(false, 15);
    let mut st = Stats { fnv: FNV_INIT, ..Stats::default() };
    let mut p = 0;
    let mut payload = Vec::new();
    let mut plain = vec![0u8; inp.msg_len + 64];
    while p < buf.len() {
        let hdr = buf.get(p..p + 2).ok_or("truncated header")?;
        let (b0, b1) = (hdr[0], hdr[1]);
        let mut len = (b1 & 0x7F) as usize;
        let mut hl = 2;
        if len == 126 {
            len = u16::from_be_bytes(buf.get(p + 2..p + 4).ok_or("truncated")?.try_into().unwrap()) as usize;
            hl = 4;
        } else if len == 127 {
            len = u64::from_be_bytes(buf.get(p + 2..p + 10).ok_or("truncated")?.try_into().unwrap()) as usize;
            hl = 10;
        }
        let masked = b1 & 0x80 != 0;
        let want_b0 = 0x80 | if deflate { 0x40 } else { 0 } | opcode;
        if b0 != want_b0 || masked == deflate {
            return Err(format!("frame {}: first byte {b0:02x}, masked {masked}", st.messages));
        }
        let key_len = if masked { 4 } else { 0 };
        let body = buf.get(p + hl + key_len..p + hl + key_len + len).ok_or("truncated payload")?;
        payload.clear();
        payload.extend_from_slice(body);
        if masked {
            let key: [u8; 4] = buf[p + hl..p + hl + 4].try_into().unwrap();
            gen::xor_mask(&mut payload, key);
        }
        let data: &[u8] = if deflate {
            payload.extend_from_slice(&[0, 0, 0xff, 0xff]);
            let before = inflater.total_out();
            inflater.decompress(&payload, &mut plain, FlushDecompress::Sync).map_err(|e| format!("inflate: {e}"))?;
            &plain[..(inflater.total_out() - before) as usize]
        } else {
            &payload
        };
        if data.len() != inp.msg_len {
            return Err(format!("frame {}: message length {}", st.messages, data.len()));
        }
        st.fnv = fnv1a64(st.fnv, data);
        st.bytes += data.len();
        st.messages += 1;
        p += hl + key_len + len;
    }
    Ok(st)
}

fn run_handshake(inp: &Input, hash: bool) -> Res<(Stats, f64)> {
    let mut st = Stats { fnv: FNV_INIT, ..Stats::default() };
    let t0 = Instant::now();
    for (m, req) in inp.input.chunks(inp.msg_len).enumerate() {
        let mut conn = Connection::server(Config::default());
        conn.receive(req).map_err(|e| format!("request {m}: {e:?}"))?;
        match conn.next_event() {
            Some(Event::Request(_)) => {}
            other => return Err(format!("request {m}: {other:?} instead of Request")),
        }
        conn.accept(None, &[]).map_err(|e| format!("accept {m}: {e:?}"))?;
        let out = conn.output();
        st.sink = st.sink.wrapping_add(out.as_ptr() as usize + out.len());
        if hash {
            let value = accept_header(out).ok_or_else(|| format!("request {m}: no 101 with an accept header"))?;
            st.fnv = fnv1a64(st.fnv, value);
            st.bytes += value.len();
        }
        st.messages += 1;
    }
    let secs = t0.elapsed().as_secs_f64();
    std::hint::black_box(st.sink);
    Ok((st, secs))
}

fn accept_header(out: &[u8]) -> Option<&[u8]> {
    if !out.starts_with(b"HTTP/1.1 101") {
        return None;
    }
    let name = b"\r\nsec-websocket-accept:";
    let at = out.windows(name.len()).position(|w| w.eq_ignore_ascii_case(name))? + name.len();
    let rest = &out[at..];
    let start = rest.iter().position(|&b| b != b' ' && b != b'\t')?;
    rest.get(start..start + 28)
}

// ---- ceilings ---------------------------------------------------------------

/// Copy each frame's payload out, unmasking on the way (one pass, 8-byte words).
fn ceiling_recv(inp: &Input, dst: &mut [u8]) -> f64 {
    ceiling_recv_with(inp, dst, false)
}

/// recv-text-large's fuller limit: the copy+XOR above, then SIMD UTF-8
/// validation (simdutf8, the library's validator) of each delivered payload.
fn ceiling_recv_utf8(inp: &Input, dst: &mut [u8]) -> f64 {
    ceiling_recv_with(inp, dst, true)
}

fn ceiling_recv_with(inp: &Input, dst: &mut [u8], validate: bool) -> f64 {
    let buf = &inp.input;
    let mut sink = 0usize;
    let t0 = Instant::now();
    let mut p = 0;
    while p < buf.len() {
        let mut len = (buf[p + 1] & 0x7F) as usize;
        let mut hl = 2;
        if len == 126 {
            len = u16::from_be_bytes([buf[p + 2], buf[p + 3]]) as usize;
            hl = 4;
        } else if len == 127 {
            len = u64::from_be_bytes(buf[p + 2..p + 10].try_into().unwrap()) as usize;
            hl = 10;
        }
        let key: [u8; 4] = buf[p + hl..p + hl + 4].try_into().unwrap();
        let d = &mut dst[..len];
        gen::xor_copy(d, &buf[p + hl + 4..p + hl + 4 + len], key);
        if validate {
            assert!(simdutf8::basic::from_utf8(d).is_ok(), "ceiling: payload is not UTF-8");
        }
        sink = sink.wrapping_add(d[len - 1] as usize);
        p += hl + 4 + len;
    }
    let secs = t0.elapsed().as_secs_f64();
    std::hint::black_box(sink);
    secs
}

/// Copy each payload behind a header, masking on the way (one pass).
fn ceiling_send(inp: &Input, dst: &mut [u8]) -> f64 {
    let mut masks = gen::Rng(0x0123_4567_89AB_CDEF);
    let hl = gen::frame_header_len(inp.msg_len, true);
    let mut sink = 0usize;
    let t0 = Instant::now();
    for payload in inp.input.chunks(inp.msg_len) {
        let key = masks.key();
        let d = &mut dst[hl..hl + payload.len()];
        gen::xor_copy(d, payload, key);
        sink = sink.wrapping_add(d[0] as usize);
    }
    let secs = t0.elapsed().as_secs_f64();
    std::hint::black_box(sink);
    secs
}

/// Raw inflate of the same compressed payloads (already unmasked, tails re-added).
fn ceiling_inflate(payloads: &[Vec<u8>], dst: &mut [u8]) -> f64 {
    let mut d = Decompress::new_with_window_bits(false, 15);
    let mut sink = 0usize;
    let t0 = Instant::now();
    for p in payloads {
        let before = d.total_out();
        d.decompress(p, dst, FlushDecompress::Sync).expect("inflate");
        sink = sink.wrapping_add((d.total_out() - before) as usize);
    }
    let secs = t0.elapsed().as_secs_f64();
    std::hint::black_box(sink);
    secs
}

/// Raw deflate (level 6, sync flush) of the same documents.
fn ceiling_deflate(docs: &[u8], dst: &mut [u8]) -> f64 {
    let mut c = Compress::new_with_window_bits(Compression::new(6), false, 15);
    let mut sink = 0usize;
    let t0 = Instant::now();
    for doc in docs.chunks(1024) {
        let before = c.total_out();
        c.compress(doc, dst, FlushCompress::Sync).expect("deflate");
        sink = sink.wrapping_add((c.total_out() - before) as usize);
    }
    let secs = t0.elapsed().as_secs_f64();
    std::hint::black_box(sink);
    secs
}

/// Unmasked compressed payloads of the recv-deflate stream, each with the
/// 00 00 ff ff tail put back, for the inflate ceiling.
fn recv_deflate_payloads(inp: &Input) -> Vec<Vec<u8>> {
    let buf = &inp.input;
    let mut out = Vec::with_capacity(inp.messages);
    let mut p = 0;
    while p < buf.len() {
        let mut len = (buf[p + 1] & 0x7F) as usize;
        let mut hl = 2;
        if len == 126 {
            len = u16::from_be_bytes([buf[p + 2], buf[p + 3]]) as usize;
            hl = 4;
        }
        let key: [u8; 4] = buf[p + hl..p + hl + 4].try_into().unwrap();
        let mut v = buf[p + hl + 4..p + hl + 4 + len].to_vec();
        gen::xor_mask(&mut v, key);
        v.extend_from_slice(&[0, 0, 0xff, 0xff]);
        out.push(v);
        p += hl + 4 + len;
    }
    out
}

// ---- per-message limits (bench/limits) ---------------------------------------

fn has_limit(w: Workload) -> bool {
    matches!(w, Workload::RecvSmall | Workload::RecvFragmented | Workload::SendSmall | Workload::Handshake)
}

/// Verification run of the limit loop: it must hand over exactly what the
/// library must deliver (or, for send-small, produce frames that parse back
/// to the same payloads).
fn verify_limit(inp: &Input) -> Res<()> {
    use wsproto_bench_limits as lim;
    let st = match inp.workload {
        Workload::SendSmall => {
            let mut cap = vec![0u8; inp.messages * (inp.msg_len + 14)];
            let n = lim::send(&inp.input, inp.msg_len, 1, true, &mut cap);
            cap.truncate(n);
            parse_sent(inp, &cap)?
        }
        Workload::Handshake => {
            let mut d = lim::AcceptDigest::default();
            lim::handshake(&inp.input, inp.msg_len, &mut d).map_err(|e| format!("limit refused a request: {e:?}"))?;
            Stats { messages: d.0.messages as usize, bytes: d.0.bytes as usize, fnv: d.0.fnv, sink: 0 }
        }
        _ => {
            let mut d = lim::Digest::default();
            lim::recv(&inp.input, CHUNK, &mut d).map_err(|e| format!("limit refused the input: {e:?}"))?;
            Stats { messages: d.messages as usize, bytes: d.bytes as usize, fnv: d.fnv, sink: 0 }
        }
    };
    if st.messages != inp.messages || st.bytes != inp.expected_len || st.fnv != inp.expected_fnv {
        return Err(format!(
            "limit loop delivered {} msgs / {} bytes / fnv {:016x}, expected {} / {} / {:016x}",
            st.messages, st.bytes, st.fnv, inp.messages, inp.expected_len, inp.expected_fnv
        ));
    }
    Ok(())
}

/// One timed run of the limit loop (seconds). Out of line: one symbol to
/// profile (`valgrind --tool=callgrind --toggle-collect=*run_limit*`).
#[inline(never)]
fn run_limit(inp: &Input, sink: &mut [u8]) -> f64 {
    use wsproto_bench_limits as lim;
    let t0 = Instant::now();
    let handed = match inp.workload {
        Workload::SendSmall => lim::send(&inp.input, inp.msg_len, 1, true, sink) + sink[0] as usize,
        Workload::Handshake => {
            let mut h = lim::Handover::default();
            lim::handshake(&inp.input, inp.msg_len, &mut h).expect("verified input");
            h.sink
        }
        _ => {
            let mut h = lim::Handover::default();
            lim::recv(&inp.input, CHUNK, &mut h).expect("verified input");
            h.sink
        }
    };
    let secs = t0.elapsed().as_secs_f64();
    std::hint::black_box(handed);
    secs
}

// ---- memory ----------------------------------------------------------------

fn status_kib(field: &str) -> Option<i64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?;
    line[field.len() + 1..].trim().trim_end_matches("kB").trim().parse().ok()
}

/// Resets the RSS high-water mark (Linux >= 4.0) so the peak covers the timed runs only.
fn reset_peak_rss() -> bool {
    // SAFETY: malloc_trim only returns free heap memory to the OS.
    unsafe {
        libc::malloc_trim(0);
    }
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

// ---- driver ----------------------------------------------------------------

struct Outcome {
    unit: &'static str,
    messages: usize,
    runs: Vec<f64>,
    value: f64,
    mb_per_s: Option<f64>,
    ceiling: Option<(f64, Vec<f64>)>,
    /// recv-text-large: copy+XOR+UTF-8 validation ceiling (median).
    ceiling_utf8: Option<f64>,
    peak_rss_kib: i64,
    engine_rss_kib: i64,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn figure(inp: &Input, secs: f64) -> f64 {
    if is_bandwidth(inp.workload) {
        inp.expected_len as f64 / secs / 1e9
    } else {
        inp.messages as f64 / secs
    }
}

fn run_once(inp: &Input, verify: bool) -> Res<(Stats, f64)> {
    let w = inp.workload;
    if is_recv(w) {
        return run_recv(inp, verify);
    }
    if w == Workload::Handshake {
        return run_handshake(inp, verify);
    }
    if !verify {
        return run_send(inp, None);
    }
    let mut cap = Vec::with_capacity(inp.input.len() + inp.messages * 14);
    let (_, secs) = run_send(inp, Some(&mut cap))?;
    Ok((parse_sent(inp, &cap)?, secs))
}

fn run_workload(w: Workload, quick: bool, runs: usize) -> Res<Outcome> {
    let full = w.reference().messages;
    let n = if quick { (full / 100).max(1) } else { full };
    let inp = generate(w, n);
    let (st, _) = run_once(&inp, true).map_err(|e| format!("verification run: {e}"))?;
    if st.messages != inp.messages || st.bytes != inp.expected_len || st.fnv != inp.expected_fnv {
        return Err(format!(
            "delivered {} msgs / {} bytes / fnv {:016x}, expected {} / {} / {:016x}",
            st.messages, st.bytes, st.fnv, inp.messages, inp.expected_len, inp.expected_fnv
        ));
    }
    let r = w.reference();
    if !quick && (st.fnv != r.expected_fnv || inp.input_fnv != r.input_fnv) {
        return Err("digests differ from the BENCHMARKS.md table".into());
    }
    if has_limit(w) {
        verify_limit(&inp)?;
    }
    // The limit's sink (send-small: the C rows' 2 MiB), touched before the RSS reset.
    let mut limit_sink = vec![1u8; if w == Workload::SendSmall { (2 << 20) + 64 } else { 0 }];
    let rss_before = if reset_peak_rss() { status_kib("VmRSS") } else { None };
    // One untimed warm-up after the reset: the peak still counts it, but the
    // first timed run does not pay the page faults of freshly trimmed memory.
    run_once(&inp, false).map_err(|e| format!("warm-up run: {e}"))?;
    let mut figs = Vec::with_capacity(runs);
    let mut limit_figs = Vec::with_capacity(runs);
    for i in 0..runs {
        let (st, secs) = run_once(&inp, false).map_err(|e| format!("timed run {i}: {e}"))?;
        if st.messages != inp.messages {
            return Err(format!("timed run {i}: {} messages", st.messages));
        }
        figs.push(figure(&inp, secs));
        // Interleaved with the library's runs: load on the machine hits both alike.
        if has_limit(w) {
            limit_figs.push(figure(&inp, run_limit(&inp, &mut limit_sink)));
        }
    }
    let peak = rss_before.and_then(|_| status_kib("VmHWM"));
    let value = median(&figs);
    let mb_per_s = is_deflate(w).then(|| value * inp.msg_len as f64 / 1e6);
    let ceiling = if has_limit(w) {
        Some((median(&limit_figs), limit_figs))
    } else if is_bandwidth(w) || is_deflate(w) {
        let mut dst = vec![1u8; inp.msg_len + 4096]; // pre-touched
        let payloads = if w == Workload::RecvDeflate { recv_deflate_payloads(&inp) } else { Vec::new() };
        let c: Vec<f64> = (0..runs)
            .map(|_| {
                let secs = match w {
                    Workload::RecvDeflate => ceiling_inflate(&payloads, &mut dst),
                    Workload::SendDeflate => ceiling_deflate(&inp.docs, &mut dst),
                    _ if is_recv(w) => ceiling_recv(&inp, &mut dst),
                    _ => ceiling_send(&inp, &mut dst),
                };
                figure(&inp, secs)
            })
            .collect();
        Some((median(&c), c))
    } else {
        None
    };
    let ceiling_utf8 = (w == Workload::RecvTextLarge).then(|| {
        let mut dst = vec![1u8; inp.msg_len + 4096];
        median(&(0..runs).map(|_| figure(&inp, ceiling_recv_utf8(&inp, &mut dst))).collect::<Vec<_>>())
    });
    let (peak_rss_kib, engine_rss_kib) = match (peak, rss_before) {
        (Some(p), Some(b)) => (p, p - b),
        _ => (status_kib("VmHWM").unwrap_or(-1), -1),
    };
    Ok(Outcome {
        unit: if is_bandwidth(w) {
            "GB/s"
        } else if w == Workload::Handshake {
            "handshakes/s"
        } else {
            "msg/s"
        },
        messages: n,
        runs: figs,
        value,
        mb_per_s,
        ceiling,
        ceiling_utf8,
        peak_rss_kib,
        engine_rss_kib,
    })
}

fn check_digests(selected: &[Workload]) -> bool {
    let mut ok = true;
    println!(
        "{:<16} {:>8} {:>10} {:<16} {:<5} {:>10} {:<16}",
        "workload", "messages", "input", "input fnv1a64", "", "expected", "expected fnv1a64"
    );
    for &w in selected {
        let r = w.reference();
        let inp = generate(w, r.messages);
        let iok = inp.input.len() == r.input_len && inp.input_fnv == r.input_fnv;
        let eok = inp.expected_len == r.expected_len && inp.expected_fnv == r.expected_fnv;
        ok &= iok && eok;
        println!(
            "{:<16} {:>8} {:>10} {:016x} {:<5} {:>10} {:016x} {}",
            w.name(),
            inp.messages,
            inp.input.len(),
            inp.input_fnv,
            if iok { "PASS" } else { "FAIL" },
            inp.expected_len,
            inp.expected_fnv,
            if eok { "PASS" } else { "FAIL" }
        );
    }
    println!("{}", if ok { "all digests PASS" } else { "SOME DIGESTS FAILED" });
    ok
}

/// Compact human figure: 12.55M, 826.1k, 13.5.
fn human(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.4}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.4}k", v / 1e3)
    } else {
        format!("{v:.4}")
    }
}

fn fmt_runs(v: &[f64]) -> String {
    v.iter().map(|x| format!("{x:.4}")).collect::<Vec<_>>().join(", ")
}

fn main() {
    let mut quick = false;
    let mut check = false;
    let mut runs = 5usize;
    let mut json: Option<String> = None;
    let mut selected: Vec<Workload> = ALL.to_vec();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--check" => check = true,
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).filter(|&r| r >= 1).unwrap_or_else(|| usage()),
            "--json" => json = Some(args.next().unwrap_or_else(|| usage())),
            "--only" => {
                let list = args.next().unwrap_or_else(|| usage());
                selected = list.split(',').map(|n| Workload::from_name(n).unwrap_or_else(|| usage())).collect();
            }
            _ => usage(),
        }
    }
    // One line per engine panic (e.g. a part not implemented yet), not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let msg: String = msg.chars().take(160).collect();
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("engine panicked at {at}: {msg}");
    }));
    if check {
        std::process::exit(if check_digests(&selected) { 0 } else { 1 });
    }

    println!(
        "wsproto engine bench (Rust API, no FFI): {}, median of {runs} runs",
        if quick { "QUICK (1/100 of each workload)" } else { "full workloads" }
    );
    println!(
        "{:<16} {:>8} {:<13} {:>10} {:>10} {:>9} {:>11}  runs / note",
        "workload", "messages", "unit", "median", "ceil/limit", "peak RSS", "engine RSS"
    );
    let mut failures = 0;
    let mut entries = Vec::new();
    for &w in &selected {
        let res = catch_unwind(AssertUnwindSafe(|| run_workload(w, quick, runs)))
            .unwrap_or_else(|_| Err("engine panicked (message on stderr)".into()));
        match res {
            Ok(o) => {
                let ceiling = o.ceiling.as_ref().map(|c| human(c.0)).unwrap_or_default();
                let mut extra = String::new();
                if let Some((c, _)) = &o.ceiling {
                    let what = if has_limit(w) { "limit" } else { "ceiling" };
                    extra += &format!(" [{:.2}x {what}]", o.value / c);
                }
                if let Some(c) = o.ceiling_utf8 {
                    extra += &format!(" [copy+XOR+simdutf8 ceiling {c:.4} GB/s: {:.2}x]", o.value / c);
                }
                if let Some(m) = o.mb_per_s {
                    extra += &format!(" ({m:.1} MB/s uncompressed)");
                }
                println!(
                    "{:<16} {:>8} {:<13} {:>10} {:>10} {:>5} MiB {:>7} KiB  {}{}",
                    w.name(),
                    o.messages,
                    o.unit,
                    human(o.value),
                    ceiling,
                    o.peak_rss_kib / 1024,
                    o.engine_rss_kib,
                    o.runs.iter().map(|&r| human(r)).collect::<Vec<_>>().join(" "),
                    extra
                );
                let mut e = format!(
                    "  \"{}\": {{\"value\": {}, \"unit\": \"{}\", \"runs\": [{}], \"messages\": {}, \"peak_rss_kib\": {}, \"engine_rss_kib\": {}",
                    w.name(),
                    o.value,
                    o.unit,
                    fmt_runs(&o.runs),
                    o.messages,
                    o.peak_rss_kib,
                    o.engine_rss_kib
                );
                if let Some(m) = o.mb_per_s {
                    e += &format!(", \"uncompressed_mb_per_s\": {m}");
                }
                if let Some((v, c)) = &o.ceiling {
                    let key = if has_limit(w) { "limit" } else { "ceiling" };
                    e += &format!(", \"{key}\": {{\"value\": {v}, \"runs\": [{}]}}", fmt_runs(c));
                }
                if let Some(c) = o.ceiling_utf8 {
                    e += &format!(", \"ceiling_utf8\": {c}");
                }
                e += "}";
                entries.push(e);
            }
            Err(e) => {
                failures += 1;
                println!("{:<16} {:>8} {:<13} {:>10}  {e}", w.name(), "", "", "FAILED");
            }
        }
    }
    if selected.len() == ALL.len() {
        mask_key_cost(quick, runs);
    }
    if let Some(path) = json {
        let body = format!("{{\n{}\n}}\n", entries.join(",\n"));
        if let Err(e) = std::fs::write(&path, body) {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    }
    std::process::exit(if failures > 0 { 1 } else { 0 });
}

fn usage() -> ! {
    eprintln!("usage: bench_engine [--quick] [--runs R] [--json FILE] [--only w1,w2,...] [--check]");
    std::process::exit(2)
}

/// The default masking-key source alone: the library's ChaCha12 pool
/// (`wsproto::rng::Rng`, OS-seeded), ns per 4-byte key including its
/// refills, median of `runs`.
fn mask_key_cost(quick: bool, runs: usize) {
    let mut rng = wsproto::rng::Rng::new(None);
    let n: u64 = if quick { 1_000_000 } else { 50_000_000 };
    let mut acc = 0u32;
    let mut per_key = Vec::new();
    for _ in 0..runs.max(1) {
        let t0 = Instant::now();
        for _ in 0..n {
            acc = acc.wrapping_add(u32::from_ne_bytes(rng.mask_key().expect("OS random source")));
        }
        per_key.push(t0.elapsed().as_secs_f64() * 1e9 / n as f64);
    }
    std::hint::black_box(acc);
    per_key.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("mask keys (built-in ChaCha12 pool, {n} keys): {:.2} ns per key (median)", per_key[per_key.len() / 2]);
}
