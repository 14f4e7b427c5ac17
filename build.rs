//! Digests the sources that shape what the service writes (code, templates, migrations, the
//! locked dependencies) into `MIP_BUILD_ID`: feeds and embeds salt their ETags with it, so that
//! a build that writes differently never tells a client its older copy is current.

use std::hash::{DefaultHasher, Hasher};
use std::path::Path;

fn digest(path: &Path, hasher: &mut DefaultHasher) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path).into_iter().flatten().flatten().map(|e| e.path()).collect();
        entries.sort();
        for entry in entries {
            digest(&entry, hasher);
        }
    } else if let Ok(bytes) = std::fs::read(path) {
        hasher.write(path.to_string_lossy().as_bytes());
        hasher.write(&bytes);
    }
}

fn main() {
    // `DefaultHasher::new()` has fixed keys: the same sources give the same id on every machine.
    let mut hasher = DefaultHasher::new();
    for source in ["src", "templates", "migrations", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={source}");
        digest(Path::new(source), &mut hasher);
    }
    println!("cargo:rustc-env=MIP_BUILD_ID={:016x}", hasher.finish());
}
