//! Builds the Zig binding of wsproto against the C library.
//!
//!   zig build test [-Dlib-dir=DIR] [-Dinclude-dir=DIR] [-Dstatic=true]
//!   zig build      (installs bin/echo_server and bin/bench)
//!
//! The header is imported with translate-c (Zig 0.17 has no @cImport);
//! the library is libwsproto.so from -Dlib-dir (default ../../target/release,
//! rpath set), or libwsproto.a with -Dstatic=true.
const std = @import("std");

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{ .preferred_optimize_mode = .ReleaseFast });
    const include_dir = b.option(std.Build.LazyPath, "include-dir", "directory of wsproto.h") orelse b.path("../../include");
    const lib_dir = b.option(std.Build.LazyPath, "lib-dir", "directory of libwsproto.so / libwsproto.a") orelse b.path("../../target/release");
    const static = b.option(bool, "static", "link libwsproto.a instead of libwsproto.so") orelse false;

    const tc = b.addTranslateC(.{
        .root_source_file = b.path("src/c.h"),
        .target = target,
        .optimize = optimize,
    });
    tc.addIncludePath(include_dir);
    const c_mod = tc.createModule();

    const ws = b.addModule("wsproto", .{
        .root_source_file = b.path("src/wsproto.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .imports = &.{.{ .name = "c", .module = c_mod }},
    });
    ws.addLibraryPath(lib_dir);
    if (static) {
        // A Rust staticlib needs the unwinder (_Unwind_*); Zig's own
        // libunwind provides it (no gcc toolchain needed).
        ws.linkSystemLibrary("wsproto", .{ .preferred_link_mode = .static, .search_strategy = .no_fallback, .use_pkg_config = .no });
        ws.link_libcpp = true;
    } else {
        ws.linkSystemLibrary("wsproto", .{ .preferred_link_mode = .dynamic, .use_pkg_config = .no });
        ws.addRPath(lib_dir);
    }

    const tests = b.addTest(.{ .root_module = ws });
    const run_tests = b.addRunArtifact(tests);
    b.step("test", "Run the binding's tests against the library").dependOn(&run_tests.step);

    inline for (.{ "echo_server", "bench" }) |name| {
        const exe = b.addExecutable(.{
            .name = name,
            .root_module = b.createModule(.{
                .root_source_file = b.path("src/" ++ name ++ ".zig"),
                .target = target,
                .optimize = optimize,
                .link_libc = true,
                .imports = &.{ .{ .name = "wsproto", .module = ws }, .{ .name = "c", .module = c_mod } },
            }),
        });
        b.installArtifact(exe);
    }
}
