//! Generates include/wsproto.h from src/ffi/*.rs with cbindgen.
//!
//! Only the ffi module is parsed (so engine constants never leak into the C
//! header) and the file is rewritten only when its content changed, so the
//! committed header's mtime is not churned by every build.

use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let ffi_dir = root.join("src/ffi");
    let config_path = root.join("cbindgen.toml");
    println!("cargo:rerun-if-changed={}", config_path.display());
    println!("cargo:rerun-if-changed={}", ffi_dir.display());
    println!("cargo:rerun-if-changed=build.rs");

    let config = cbindgen::Config::from_file(&config_path).expect("cbindgen.toml");
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
