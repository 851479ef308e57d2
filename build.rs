//! Build script: how the binary is linked (packed relocations; see docs/PERFORMANCE.md).

use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if packs_relocations() {
        // The binary's relative relocations as a bitmap (DT_RELR) instead of a 24-byte entry
        // each: the loader reads every entry at start-up, so 290 KiB of them were resident in
        // every run.
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether this is a Linux/glibc build for the machine it runs on, with glibc 2.36 or later:
/// the linker marks a packed binary as needing glibc's `GLIBC_ABI_DT_RELR` (2.36), so on an
/// older glibc (RHEL 9 has 2.34) it would not start. Cross builds are left as they were.
fn packs_relocations() -> bool {
    let var = |name: &str| env::var(name).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") != "linux"
        || var("CARGO_CFG_TARGET_ENV") != "gnu"
        || var("HOST") != var("TARGET")
    {
        return false;
    }
    // `glibc 2.36`
    let Ok(out) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(version) = text.trim().strip_prefix("glibc ") else {
        return false;
    };
    let mut numbers = version.split('.').map(|n| n.parse::<u32>().ok());
    matches!(
        (numbers.next().flatten(), numbers.next().flatten()),
        (Some(major), Some(minor)) if (major, minor) >= (2, 36)
    )
}
