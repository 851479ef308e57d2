//! Writes the demo database: `cargo run --example demo-db -- fixtures/demo.db`.

#[path = "../fixtures/demo.rs"]
mod demo;

fn main() -> anyhow::Result<()> {
    let path = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "fixtures/demo.db".into());
    if path.exists() {
        std::fs::remove_file(&path)?;
    }
    demo::build(&path)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
