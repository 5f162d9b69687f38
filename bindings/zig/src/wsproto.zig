//! Zig binding of wsproto: a thin wrapper over the C API with error unions.
//!
//! Declarations come from include/wsproto.h through translate-c (module
//! "c", re-exported as `c`), so they cannot drift from the header. Borrowed
//! views (event data, output()) stay valid until the next call on the
//! connection that mutates it, as in C. A Conn is used from one thread at a
//! time.
const std = @import("std");
pub const c = @import("c");

/// Every ws_result_t error code as a Zig error.
pub const Error = error{
    NullArgument,
    InvalidArgument,
    WrongState,
    Handshake,
    Closed,
    BufferTooSmall,
    Rng,
    Panic,
    Poisoned,
    NoMemory,
    InputFull,
    Unknown,
};

/// The ws_result_t code for an error (for ws_result_str and logs).
pub fn errorCode(e: Error) u32 {
    return switch (e) {
        error.NullArgument => 7001,
        error.InvalidArgument => 7002,
        error.WrongState => 7003,
        error.Handshake => 7004,
        error.Closed => 7005,
        error.BufferTooSmall => 7006,
        error.Rng => 7007,
        error.Panic => 7008,
        error.Poisoned => 7009,
        error.NoMemory => 7010,
        error.InputFull => 7011,
        error.Unknown => 0xffff_ffff,
    };
}

fn check(r: anytype) Error!void {
    const code: u32 = @intCast(r);
    return switch (code) {
        0 => {},
        7001 => error.NullArgument,
        7002 => error.InvalidArgument,
        7003 => error.WrongState,
        7004 => error.Handshake,
        7005 => error.Closed,
        7006 => error.BufferTooSmall,
        7007 => error.Rng,
        7008 => error.Panic,
        7009 => error.Poisoned,
        7010 => error.NoMemory,
        7011 => error.InputFull,
        else => error.Unknown,
    };
}

pub const send_more: u32 = c.WS_SEND_MORE;
pub const send_no_compress: u32 = c.WS_SEND_NO_COMPRESS;
pub const flag_frame_finished: u32 = c.WS_EVENT_FLAG_FRAME_FINISHED;
pub const flag_message_finished: u32 = c.WS_EVENT_FLAG_MESSAGE_FINISHED;
pub const flag_protocol_error: u32 = c.WS_EVENT_FLAG_PROTOCOL_ERROR;

pub const EventType = enum(u32) { none = 0, request, accept, reject, reject_data, text, binary, ping, pong, close, _ };
pub const State = enum(u32) { connecting = 0, open, remote_closing, local_closing, closed, rejecting, _ };
pub const Role = enum(u32) { client = 0, server = 1 };

/// A ws_str_t borrowing `s`.
pub fn str(s: []const u8) c.ws_str_t {
    return .{ .ptr = if (s.len == 0) null else s.ptr, .len = s.len };
}
/// A ws_header_t borrowing name and value.
pub fn header(name: []const u8, value: []const u8) c.ws_header_t {
    return .{ .name = str(name), .value = str(value) };
}
/// A ws_str_t as a slice.
pub fn slice(s: c.ws_str_t) []const u8 {
    if (s.len == 0) return &.{};
    return @as([*]const u8, @ptrCast(s.ptr))[0..s.len];
}

/// An event; everything it points at borrows from the connection.
pub const Event = struct {
    raw: c.ws_event_t,

    pub fn kind(self: *const Event) EventType {
        return @enumFromInt(@as(u32, @intCast(self.raw.type)));
    }
    pub fn flags(self: *const Event) u32 {
        return self.raw.flags;
    }
    pub fn messageFinished(self: *const Event) bool {
        return self.raw.flags & flag_message_finished != 0;
    }
    /// CLOSE: close code; REJECT: HTTP status.
    pub fn code(self: *const Event) u16 {
        return self.raw.code;
    }
    /// Payload, or the close reason.
    pub fn data(self: *const Event) []const u8 {
        if (self.raw.len == 0) return &.{};
        return @as([*]const u8, @ptrCast(self.raw.data))[0..self.raw.len];
    }
    pub fn target(self: *const Event) []const u8 {
        return slice(self.raw.target);
    }
    pub fn host(self: *const Event) []const u8 {
        return slice(self.raw.host);
    }
    pub fn subprotocol(self: *const Event) []const u8 {
        return slice(self.raw.subprotocol);
    }
    pub fn subprotocols(self: *const Event) []const c.ws_str_t {
        if (self.raw.subprotocols_len == 0) return &.{};
        return @as([*]const c.ws_str_t, @ptrCast(self.raw.subprotocols))[0..self.raw.subprotocols_len];
    }
    pub fn headers(self: *const Event) []const c.ws_header_t {
        if (self.raw.headers_len == 0) return &.{};
        return @as([*]const c.ws_header_t, @ptrCast(self.raw.headers))[0..self.raw.headers_len];
    }
};

/// Connection options (ws_config_t).
pub const Config = struct {
    ptr: *c.ws_config_t,

    pub fn init() Error!Config {
        return .{ .ptr = c.ws_config_new() orelse return error.NoMemory };
    }
    pub fn deinit(self: *Config) void {
        c.ws_config_free(self.ptr);
    }
    pub fn setDeflate(self: *Config, on: bool) Error!void {
        try check(c.ws_config_set_deflate(self.ptr, on));
    }
    pub fn setMaxMessageSize(self: *Config, n: u64) Error!void {
        try check(c.ws_config_set_max_message_size(self.ptr, n));
    }
    pub fn setMaxFrameSize(self: *Config, n: u64) Error!void {
        try check(c.ws_config_set_max_frame_size(self.ptr, n));
    }
    pub fn setMemoryBudget(self: *Config, n: u64) Error!void {
        try check(c.ws_config_set_memory_budget(self.ptr, n));
    }
    pub fn setMaxBufferedInput(self: *Config, n: usize) Error!void {
        try check(c.ws_config_set_max_buffered_input(self.ptr, n));
    }
    pub fn setOutputHighWater(self: *Config, n: usize) Error!void {
        try check(c.ws_config_set_output_high_water(self.ptr, n));
    }
    pub fn setAutoPong(self: *Config, on: bool) Error!void {
        try check(c.ws_config_set_auto_pong(self.ptr, on));
    }
};

/// One connection (ws_conn_t). deinit() frees it.
pub const Conn = struct {
    ptr: *c.ws_conn_t,

    fn cfgPtr(cfg: ?*const Config) ?*const c.ws_config_t {
        return if (cfg) |k| k.ptr else null;
    }
    pub fn server(cfg: ?*const Config) Error!Conn {
        var out: ?*c.ws_conn_t = null;
        try check(c.ws_conn_new_server(cfgPtr(cfg), &out));
        return .{ .ptr = out.? };
    }
    pub fn client(cfg: ?*const Config) Error!Conn {
        var out: ?*c.ws_conn_t = null;
        try check(c.ws_conn_new_client(cfgPtr(cfg), &out));
        return .{ .ptr = out.? };
    }
    /// Starts OPEN (handshake done elsewhere); trailing: bytes read past it.
    pub fn framesOnly(cfg: ?*const Config, role: Role, trailing: []const u8) Error!Conn {
        var out: ?*c.ws_conn_t = null;
        try check(c.ws_conn_new_frames_only(cfgPtr(cfg), @intFromEnum(role), if (trailing.len == 0) null else trailing.ptr, trailing.len, &out));
        return .{ .ptr = out.? };
    }
    pub fn deinit(self: *Conn) void {
        c.ws_conn_free(self.ptr);
        self.* = undefined;
    }

    /// Feeds transport bytes. error.InputFull: nothing was taken; take
    /// events, write output, feed the same bytes again.
    pub fn receive(self: *Conn, bytes: []const u8) Error!void {
        try check(c.ws_conn_receive(self.ptr, if (bytes.len == 0) null else bytes.ptr, bytes.len));
    }
    pub fn receiveEof(self: *Conn) Error!void {
        try check(c.ws_conn_receive_eof(self.ptr));
    }
    /// The next event, or null when none is pending. Borrowed: valid until
    /// the next call on the connection.
    pub fn nextEvent(self: *Conn) Error!?Event {
        var ev: Event = .{ .raw = undefined };
        try check(c.ws_conn_poll_event(self.ptr, &ev.raw));
        if (ev.kind() == .none) return null;
        return ev;
    }
    pub fn sendText(self: *Conn, text: []const u8, flags: u32) Error!void {
        try check(c.ws_conn_send_text(self.ptr, if (text.len == 0) null else text.ptr, text.len, flags));
    }
    pub fn sendBinary(self: *Conn, bytes: []const u8, flags: u32) Error!void {
        try check(c.ws_conn_send_binary(self.ptr, if (bytes.len == 0) null else bytes.ptr, bytes.len, flags));
    }
    pub fn sendPing(self: *Conn, bytes: []const u8) Error!void {
        try check(c.ws_conn_send_ping(self.ptr, if (bytes.len == 0) null else bytes.ptr, bytes.len));
    }
    pub fn sendPong(self: *Conn, bytes: []const u8) Error!void {
        try check(c.ws_conn_send_pong(self.ptr, if (bytes.len == 0) null else bytes.ptr, bytes.len));
    }
    pub fn sendClose(self: *Conn, close_code: u16, reason: []const u8) Error!void {
        try check(c.ws_conn_send_close(self.ptr, close_code, if (reason.len == 0) null else reason.ptr, reason.len));
    }
    pub fn sendRequest(self: *Conn, host: []const u8, target: []const u8, subprotocols: []const c.ws_str_t, headers: []const c.ws_header_t) Error!void {
        try check(c.ws_conn_send_request(self.ptr, host.ptr, host.len, target.ptr, target.len, if (subprotocols.len == 0) null else subprotocols.ptr, subprotocols.len, if (headers.len == 0) null else headers.ptr, headers.len));
    }
    pub fn accept(self: *Conn, subprotocol: []const u8, headers: []const c.ws_header_t) Error!void {
        try check(c.ws_conn_accept(self.ptr, if (subprotocol.len == 0) null else subprotocol.ptr, subprotocol.len, if (headers.len == 0) null else headers.ptr, headers.len));
    }
    pub fn reject(self: *Conn, status: u16, headers: []const c.ws_header_t, has_body: bool) Error!void {
        try check(c.ws_conn_reject(self.ptr, status, if (headers.len == 0) null else headers.ptr, headers.len, has_body));
    }
    /// Pending output (borrowed until the next mutating call); after writing
    /// some of it, consume() the count.
    pub fn output(self: *const Conn) []const u8 {
        var p: [*c]const u8 = null;
        var n: usize = 0;
        check(c.ws_conn_output_peek(self.ptr, &p, &n)) catch return &.{};
        if (n == 0) return &.{};
        return @as([*]const u8, @ptrCast(p))[0..n];
    }
    pub fn consume(self: *Conn, n: usize) Error!void {
        try check(c.ws_conn_output_consume(self.ptr, n));
    }
    /// Copies and consumes up to buf.len output bytes; returns the count.
    pub fn outputCopy(self: *Conn, buf: []u8) Error!usize {
        var n: usize = 0;
        try check(c.ws_conn_output_copy(self.ptr, buf.ptr, buf.len, &n));
        return n;
    }
    pub fn state(self: *const Conn) State {
        return @enumFromInt(@as(u32, @intCast(c.ws_conn_state(self.ptr))));
    }
    pub fn wantsRead(self: *const Conn) bool {
        return c.ws_conn_wants_read(self.ptr);
    }
    pub fn wantsCloseTransport(self: *const Conn) bool {
        return c.ws_conn_wants_close_transport(self.ptr);
    }
    pub fn memoryUsed(self: *const Conn) usize {
        return c.ws_conn_memory_used(self.ptr);
    }
    pub fn handshakeStatusHint(self: *const Conn) u16 {
        return c.ws_conn_handshake_status_hint(self.ptr);
    }
    /// The last error's detail (borrowed until the next mutating call).
    pub fn lastError(self: *const Conn) []const u8 {
        return std.mem.span(c.ws_conn_last_error(self.ptr));
    }
    pub fn deflateNegotiated(self: *const Conn) bool {
        var p: c.ws_deflate_params_t = undefined;
        return c.ws_conn_deflate_params(self.ptr, &p);
    }
};

/// Checks that the header this was compiled with and the library agree on
/// the layout of ws_event_t (when the library can report it), and by a
/// probe that parses known frames and checks each field.
pub fn checkLayout() Error!void {
    if (@hasDecl(c, "ws_abi_sizeof")) {
        if (c.ws_abi_sizeof(c.WS_ABI_EVENT) != @sizeOf(c.ws_event_t)) return error.Unknown;
    }
    var conn = try Conn.framesOnly(null, .server, "\x81\x85\x00\x00\x00\x00probe\x88\x85\x00\x00\x00\x00\x10\xe1why");
    defer conn.deinit();
    const e1 = (try conn.nextEvent()) orelse return error.Unknown;
    if (e1.kind() != .text or !std.mem.eql(u8, e1.data(), "probe") or e1.flags() != 3 or e1.code() != 0) return error.Unknown;
    const e2 = (try conn.nextEvent()) orelse return error.Unknown;
    if (e2.kind() != .close or e2.code() != 4321 or !std.mem.eql(u8, e2.data(), "why")) return error.Unknown;
}

// Tests ------------------------------------------------------------------------

const testing = std.testing;

fn pump(from: *Conn, to: *Conn) !void {
    const out = from.output();
    if (out.len == 0) return;
    var buf: [1 << 20]u8 = undefined;
    var total: usize = 0;
    while (true) {
        const n = try from.outputCopy(buf[total..]);
        if (n == 0) break;
        total += n;
    }
    try to.receive(buf[0..total]);
}

fn openPair(deflate: bool) !struct { client: Conn, server: Conn } {
    var cfg = try Config.init();
    defer cfg.deinit();
    try cfg.setDeflate(deflate);
    var cl = try Conn.client(&cfg);
    var sv = try Conn.server(&cfg);
    const subs = [_]c.ws_str_t{ str("v2"), str("v1") };
    const hdrs = [_]c.ws_header_t{header("Origin", "http://zig")};
    try cl.sendRequest("example.com", "/zig", &subs, &hdrs);
    try pump(&cl, &sv);
    const req = (try sv.nextEvent()).?;
    try testing.expectEqual(EventType.request, req.kind());
    try testing.expectEqualStrings("/zig", req.target());
    try testing.expectEqualStrings("example.com", req.host());
    try testing.expectEqual(@as(usize, 2), req.subprotocols().len);
    try testing.expectEqualStrings("v1", slice(req.subprotocols()[1]));
    try sv.accept("v1", &.{});
    try pump(&sv, &cl);
    const acc = (try cl.nextEvent()).?;
    try testing.expectEqual(EventType.accept, acc.kind());
    try testing.expectEqualStrings("v1", acc.subprotocol());
    try testing.expectEqual(State.open, cl.state());
    try testing.expectEqual(deflate, cl.deflateNegotiated());
    return .{ .client = cl, .server = sv };
}

test "layout matches the library" {
    try checkLayout();
}

test "handshake, messages, fragments, ping/pong, close (with and without deflate)" {
    for ([_]bool{ false, true }) |deflate| {
        var p = try openPair(deflate);
        defer p.client.deinit();
        defer p.server.deinit();
        var big: [70000]u8 = undefined;
        for (&big, 0..) |*b, i| b.* = @truncate(i *% 7);
        try p.client.sendText("hello", 0);
        try p.client.sendBinary(&big, 0);
        try p.client.sendText("frag", send_more);
        try p.client.sendText("ment", 0);
        try p.client.sendPing("zp");
        try pump(&p.client, &p.server);
        var ev = (try p.server.nextEvent()).?;
        try testing.expect(ev.kind() == .text and ev.messageFinished());
        try testing.expectEqualStrings("hello", ev.data());
        ev = (try p.server.nextEvent()).?;
        try testing.expectEqual(EventType.binary, ev.kind());
        try testing.expectEqualSlices(u8, &big, ev.data());
        ev = (try p.server.nextEvent()).?;
        try testing.expectEqualStrings("fragment", ev.data());
        ev = (try p.server.nextEvent()).?;
        try testing.expectEqual(EventType.ping, ev.kind());
        try testing.expect((try p.server.nextEvent()) == null);
        try pump(&p.server, &p.client);
        ev = (try p.client.nextEvent()).?;
        try testing.expectEqual(EventType.pong, ev.kind());
        try testing.expectEqualStrings("zp", ev.data());
        try p.client.sendClose(1000, "bye");
        try pump(&p.client, &p.server);
        ev = (try p.server.nextEvent()).?;
        try testing.expect(ev.kind() == .close and ev.code() == 1000);
        try testing.expectEqualStrings("bye", ev.data());
        try pump(&p.server, &p.client);
        ev = (try p.client.nextEvent()).?;
        try testing.expect(ev.kind() == .close and ev.code() == 1000);
        try testing.expect(p.client.wantsCloseTransport() and p.server.wantsCloseTransport());
    }
}

test "errors are error unions with the library's detail" {
    var cl = try Conn.client(null);
    defer cl.deinit();
    try testing.expectError(error.WrongState, cl.sendText("early", 0));
    try testing.expect(cl.lastError().len > 0);
    var p = try openPair(false);
    defer p.client.deinit();
    defer p.server.deinit();
    try testing.expectError(error.InvalidArgument, p.client.sendText("\xff", 0));
    const long_ping: [126]u8 = @splat(0);
    try testing.expectError(error.InvalidArgument, p.client.sendPing(&long_ping));
    try testing.expectError(error.WrongState, p.server.accept("", &.{}));
    var bad = try Conn.server(null);
    defer bad.deinit();
    try testing.expectError(error.Handshake, bad.receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    try bad.reject(bad.handshakeStatusHint(), &.{}, false);
    try testing.expect(std.mem.startsWith(u8, bad.output(), "HTTP/1.1 4"));
}

test "limits: over max_message_size closes with 1009; input full keeps bytes" {
    var cfg = try Config.init();
    defer cfg.deinit();
    try cfg.setMaxMessageSize(100);
    try cfg.setMaxBufferedInput(4096);
    var sv = try Conn.framesOnly(&cfg, .server, "");
    defer sv.deinit();
    var cl = try Conn.framesOnly(null, .client, "");
    defer cl.deinit();
    const too_big: [101]u8 = @splat(1);
    try cl.sendBinary(&too_big, 0);
    try pump(&cl, &sv);
    const ev = (try sv.nextEvent()).?;
    try testing.expect(ev.kind() == .close and ev.code() == 1009 and ev.flags() & flag_protocol_error != 0);

    var sv2 = try Conn.framesOnly(&cfg, .server, "");
    defer sv2.deinit();
    var cl2 = try Conn.framesOnly(null, .client, "");
    defer cl2.deinit();
    for (0..6000) |_| try cl2.sendBinary("x", 0);
    var wire: [6000 * 7]u8 = undefined;
    const n = try cl2.outputCopy(&wire);
    var pos: usize = 0;
    var received: usize = 0;
    var refused: usize = 0;
    while (pos < n) {
        const end = @min(pos + 1024, n);
        sv2.receive(wire[pos..end]) catch |e| {
            try testing.expectEqual(error.InputFull, e);
            try testing.expect(!sv2.wantsRead());
            refused += 1;
            while (try sv2.nextEvent()) |_| received += 1;
            continue;
        };
        pos = end;
    }
    while (try sv2.nextEvent()) |_| received += 1;
    try testing.expectEqual(@as(usize, 6000), received);
    try testing.expect(refused > 0);
}
