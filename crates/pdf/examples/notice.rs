//! Writes the circulation notice (通报) of the demo round to a file (default
//! `target/notice.pdf`):
//! `cargo run --manifest-path crates/pdf/Cargo.toml --example notice [OUT.pdf]`.

#[path = "../tests/common/mod.rs"]
mod common;

use minping_pdf::Renderer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/notice.pdf".into());
    std::fs::write(&out, Renderer::new().notice(&common::notice())?)?;
    println!("wrote {out}");
    Ok(())
}
