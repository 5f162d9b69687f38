//! A single-threaded WebSocket echo server: non-blocking sockets and poll(2)
//! through libc, one wsproto connection per client.
//! Usage: echo_server [--port N] [--deflate]; prints "listening on PORT".
const std = @import("std");
const ws = @import("wsproto");
const c = @import("c");

const max_clients = 256;
const buf_size = 64 * 1024;

const Client = struct {
    fd: c_int,
    conn: ws.Conn,
    buf: [buf_size]u8 = undefined,
    pending: usize = 0, // bytes read and not yet taken (kept on InputFull)
    eof: bool = false,
    eof_fed: bool = false,
    failed: bool = false,

    fn feed(self: *Client) void {
        if (self.pending == 0) return;
        self.conn.receive(self.buf[0..self.pending]) catch |e| switch (e) {
            error.InputFull => return, // keep the bytes: events and output first
            error.Handshake => {
                self.conn.reject(self.conn.handshakeStatusHint(), &.{}, false) catch {};
                self.pending = 0;
                return;
            },
            else => {
                self.failed = true; // NoMemory etc.: a close is queued; flush it
                self.pending = 0;
                return;
            },
        };
        self.pending = 0;
    }

    fn events(self: *Client) void {
        while (true) {
            const ev = (self.conn.nextEvent() catch {
                self.failed = true;
                return;
            }) orelse return;
            switch (ev.kind()) {
                .request => self.conn.accept("", &.{}) catch {},
                .text => self.conn.sendText(ev.data(), 0) catch {},
                .binary => self.conn.sendBinary(ev.data(), 0) catch {},
                else => {}, // pings and closes are answered by the engine
            }
        }
    }

    /// Returns false when the connection should be closed.
    fn process(self: *Client) bool {
        self.feed();
        self.events();
        if (self.pending > 0 and self.conn.wantsRead()) {
            self.feed();
            self.events();
        }
        if (self.eof and self.pending == 0 and !self.eof_fed) {
            self.eof_fed = true;
            self.conn.receiveEof() catch {};
            self.events();
        }
        while (true) {
            const out = self.conn.output();
            if (out.len == 0) break;
            const w = c.write(self.fd, out.ptr, out.len);
            if (w <= 0) {
                if (w < 0 and c.__errno_location().* == c.EAGAIN) break;
                return false;
            }
            self.conn.consume(@intCast(w)) catch return false;
        }
        if (self.conn.wantsCloseTransport()) return false;
        if (self.failed and self.conn.output().len == 0) return false;
        // Events taken, output written, still no input wanted: the engine
        // waits on nothing we can give it (input ended, or it failed).
        if (!self.conn.wantsRead() and self.conn.output().len == 0) return false;
        return true;
    }
};

pub fn main(init: std.process.Init.Minimal) !void {
    var port: u16 = 9001;
    var deflate = false;
    var it = init.args.iterate();
    _ = it.next();
    while (it.next()) |arg| {
        if (std.mem.eql(u8, arg, "--port")) {
            port = try std.fmt.parseInt(u16, it.next() orelse return error.MissingPort, 10);
        } else if (std.mem.eql(u8, arg, "--deflate")) {
            deflate = true;
        } else return error.UnknownArgument;
    }

    var cfg = try ws.Config.init();
    defer cfg.deinit();
    try cfg.setDeflate(deflate);
    try cfg.setMaxMessageSize(16 << 20);

    const lfd = c.socket(c.AF_INET, c.SOCK_STREAM | c.SOCK_NONBLOCK, 0);
    if (lfd < 0) return error.Socket;
    var one: c_int = 1;
    _ = c.setsockopt(lfd, c.SOL_SOCKET, c.SO_REUSEADDR, &one, @sizeOf(c_int));
    var addr: c.struct_sockaddr_in = std.mem.zeroes(c.struct_sockaddr_in);
    addr.sin_family = c.AF_INET;
    addr.sin_port = std.mem.nativeToBig(u16, port);
    addr.sin_addr.s_addr = std.mem.nativeToBig(u32, 0x7f000001);
    if (c.bind(lfd, @ptrCast(&addr), @sizeOf(c.struct_sockaddr_in)) != 0) return error.Bind;
    if (c.listen(lfd, 128) != 0) return error.Listen;
    var len: c.socklen_t = @sizeOf(c.struct_sockaddr_in);
    _ = c.getsockname(lfd, @ptrCast(&addr), &len);
    var line: [64]u8 = undefined;
    const msg = try std.fmt.bufPrint(&line, "listening on {d}\n", .{std.mem.bigToNative(u16, addr.sin_port)});
    _ = c.write(1, msg.ptr, msg.len);

    var clients: [max_clients]?*Client = @splat(null);
    var fds: [max_clients + 1]c.struct_pollfd = undefined;
    var slot_of: [max_clients + 1]usize = undefined;
    while (true) {
        fds[0] = .{ .fd = lfd, .events = c.POLLIN, .revents = 0 };
        var n: usize = 1;
        for (clients, 0..) |maybe, i| {
            const cl = maybe orelse continue;
            var events: c_short = 0;
            if (cl.conn.wantsRead() and cl.pending == 0 and !cl.eof) events |= c.POLLIN;
            if (cl.conn.output().len > 0) events |= c.POLLOUT;
            fds[n] = .{ .fd = cl.fd, .events = events, .revents = 0 };
            slot_of[n] = i;
            n += 1;
        }
        _ = c.poll(&fds, @intCast(n), 1000);
        if (fds[0].revents & c.POLLIN != 0) {
            const fd = c.accept(lfd, null, null);
            if (fd >= 0) {
                _ = c.fcntl(fd, c.F_SETFL, c.O_NONBLOCK);
                _ = c.setsockopt(fd, c.IPPROTO_TCP, c.TCP_NODELAY, &one, @sizeOf(c_int));
                const slot = for (clients, 0..) |m, i| {
                    if (m == null) break i;
                } else null;
                if (slot) |i| {
                    const cl = std.heap.c_allocator.create(Client) catch null;
                    if (cl) |p| {
                        if (ws.Conn.server(&cfg)) |conn| {
                            p.* = .{ .fd = fd, .conn = conn };
                            clients[i] = p;
                        } else |_| {
                            std.heap.c_allocator.destroy(p);
                            _ = c.close(fd);
                        }
                    } else _ = c.close(fd);
                } else _ = c.close(fd);
            }
        }
        for (fds[1..n], slot_of[1..n]) |pfd, i| {
            const cl = clients[i] orelse continue;
            if (pfd.revents & (c.POLLIN | c.POLLHUP | c.POLLERR) != 0 and cl.pending == 0 and !cl.eof) {
                const r = c.read(cl.fd, &cl.buf, cl.buf.len);
                if (r > 0) {
                    cl.pending = @intCast(r);
                } else if (r == 0 or c.__errno_location().* != c.EAGAIN) {
                    cl.eof = true;
                }
            }
            if (!cl.process()) {
                _ = c.close(cl.fd);
                cl.conn.deinit();
                std.heap.c_allocator.destroy(cl);
                clients[i] = null;
            }
        }
    }
}
