//! Generates include/wsproto.h from src/ffi/*.rs with cbindgen.
//!
//! Only the ffi module is parsed (so engine constants never leak into the C
//! header) and the file is rewritten only when its content changed, so the
//! committed header's mtime is not churned by every build. The version
//! macros come from Cargo.toml's version.
//!
//! It also gives the shared library its SONAME (libwsproto.so.N, N =
//! WSPROTO_ABI_VERSION of src/ffi/version.rs) on ELF targets, and an
//! @rpath install name on macOS: rustc sets neither for a cdylib.

use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let ffi_dir = root.join("src/ffi");
    let config_path = root.join("cbindgen.toml");
    println!("cargo:rerun-if-changed={}", config_path.display());
    println!("cargo:rerun-if-changed={}", ffi_dir.display());
    println!("cargo:rerun-if-changed=build.rs");

    let mut config = cbindgen::Config::from_file(&config_path).expect("cbindgen.toml");
    config.after_includes = Some(version_macros());
    soname(&ffi_dir.join("version.rs"));
    // mod.rs names the other files of the module; cbindgen follows them.
    for entry in std::fs::read_dir(&ffi_dir).expect("src/ffi") {
        println!("cargo:rerun-if-changed={}", entry.expect("dir entry").path().display());
    }
    let builder = cbindgen::Builder::new().with_config(config).with_src(ffi_dir.join("mod.rs"));
    let bindings = builder.generate().expect("cbindgen failed to generate include/wsproto.h");

    let mut header = Vec::new();
    bindings.write(&mut header);
    write_if_changed(&root.join("include/wsproto.h"), &header);
}

fn write_if_changed(path: &Path, content: &[u8]) {
    if std::fs::read(path).is_ok_and(|old| old == content) {
        return;
    }
    std::fs::create_dir_all(path.parent().expect("include dir")).expect("create include/");
    std::fs::write(path, content).expect("write include/wsproto.h");
}

/// The WSPROTO_VERSION_* macros of the header, from the package version.
fn version_macros() -> String {
    let v = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k}"));
    let (major, minor, patch) =
        (v("CARGO_PKG_VERSION_MAJOR"), v("CARGO_PKG_VERSION_MINOR"), v("CARGO_PKG_VERSION_PATCH"));
    let number: u32 = major.parse::<u32>().expect("major") * 10000
        + minor.parse::<u32>().expect("minor") * 100
        + patch.parse::<u32>().expect("patch");
    format!(
        "\n/** Major version of this header (the library's is in ws_version()). */\n\
         #define WSPROTO_VERSION_MAJOR {major}\n\
         /** Minor version of this header. */\n\
         #define WSPROTO_VERSION_MINOR {minor}\n\
         /** Patch version of this header. */\n\
         #define WSPROTO_VERSION_PATCH {patch}\n\
         /** \"MAJOR.MINOR.PATCH\" of this header; compare with ws_version(). */\n\
         #define WSPROTO_VERSION_STRING \"{major}.{minor}.{patch}\"\n\
         /** MAJOR * 10000 + MINOR * 100 + PATCH; compare with ws_version_number(). */\n\
         #define WSPROTO_VERSION_NUMBER {number}\n"
    )
}

/// Passes the SONAME / install name to the linker of the cdylib.
fn soname(version_rs: &Path) {
    let src = std::fs::read_to_string(version_rs).expect("src/ffi/version.rs");
    let abi = src
        .lines()
        .find_map(|l| l.strip_prefix("pub const WSPROTO_ABI_VERSION: u32 = "))
        .and_then(|rest| rest.trim_end_matches(';').trim().parse::<u32>().ok())
        .expect("pub const WSPROTO_ABI_VERSION: u32 = N; in src/ffi/version.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let family = std::env::var("CARGO_CFG_TARGET_FAMILY").unwrap_or_default();
    if os == "macos" || os == "ios" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libwsproto.{abi}.dylib");
    } else if family == "unix" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libwsproto.so.{abi}");
    }
}
