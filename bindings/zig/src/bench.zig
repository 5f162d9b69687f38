//! 32-byte echoes in memory through the Zig binding (compare with
//! tests/bindings/bench_c.c, which does the same through the C ABI).
const std = @import("std");
const ws = @import("wsproto");
const c = @import("c");

fn now() f64 {
    var ts: c.struct_timespec = undefined;
    _ = c.clock_gettime(c.CLOCK_MONOTONIC, &ts);
    return @as(f64, @floatFromInt(ts.tv_sec)) + @as(f64, @floatFromInt(ts.tv_nsec)) / 1e9;
}

pub fn main() !void {
    var cl = try ws.Conn.framesOnly(null, .client, "");
    defer cl.deinit();
    var sv = try ws.Conn.framesOnly(null, .server, "");
    defer sv.deinit();
    const msg: [32]u8 = @splat('x');
    var buf: [4096]u8 = undefined;
    const iters: usize = 1_000_000;
    const t0 = now();
    for (0..iters) |_| {
        try cl.sendBinary(&msg, 0);
        var n = try cl.outputCopy(&buf);
        try sv.receive(buf[0..n]);
        const e = (try sv.nextEvent()).?;
        try sv.sendBinary(e.data(), 0);
        n = try sv.outputCopy(&buf);
        try cl.receive(buf[0..n]);
        const back = (try cl.nextEvent()).?;
        if (back.data().len != 32) return error.EchoFailed;
    }
    const dt = now() - t0;
    var line: [128]u8 = undefined;
    const out = try std.fmt.bufPrint(&line, "zig:  {d:.0} echoes/s (32 B, in memory, {d} iterations)\n", .{ @as(f64, @floatFromInt(iters)) / dt, iters });
    _ = c.write(1, out.ptr, out.len);
}
