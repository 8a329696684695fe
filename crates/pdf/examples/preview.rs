//! Writes a personalised form, a batch of 3 and the open-channel form of the demo data, plus
//! PNG previews of the personalised pages, into a folder (default `target/form-preview`):
//! `cargo run --manifest-path crates/pdf/Cargo.toml --example preview [DIR]`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;

use minping_pdf::Renderer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/form-preview".into()),
    );
    std::fs::create_dir_all(&dir)?;
    let renderer = Renderer::new();
    let content = common::content();
    let who = common::zhang();
    std::fs::write(
        dir.join("personalised.pdf"),
        renderer.personalised(&content, &who)?,
    )?;
    let three: Vec<_> = (0..3).map(common::recipient).collect();
    std::fs::write(
        dir.join("batch-3.pdf"),
        renderer.personalised_batch(&content, &three, &|_| {})?,
    )?;
    std::fs::write(
        dir.join("open-channel.pdf"),
        renderer.open_channel(&content)?,
    )?;
    for page in 0.. {
        match renderer.personalised_png(&content, &who, page, 1.5) {
            Ok(png) => std::fs::write(dir.join(format!("personalised-p{}.png", page + 1)), png)?,
            Err(minping_pdf::PdfError::NoSuchPage { .. }) => break,
            Err(e) => return Err(e.into()),
        }
    }
    println!("wrote {}", dir.display());
    Ok(())
}
