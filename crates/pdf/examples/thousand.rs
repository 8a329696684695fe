//! The performance target: 1,000 personalised forms merged into one PDF in ≤ 10 s.
//! `cargo run --release --manifest-path crates/pdf/Cargo.toml --example thousand [N] [OUT.pdf]`
//! prints the time, the size, and the peak memory of the process.

#[path = "../tests/common/mod.rs"]
mod common;

use std::cell::Cell;
use std::time::Instant;

use minping_pdf::Renderer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(1000), |a| a.parse())?;
    let out = args.next();

    let start = Instant::now();
    let renderer = Renderer::new();
    let content = common::content();
    let who: Vec<_> = (0..n).map(common::recipient).collect();
    let setup = start.elapsed();

    let last = Cell::new(0);
    let pdf = renderer.personalised_batch(&content, &who, &|done| {
        // Every ~10 %, so the log stays short.
        if done * 10 / n.max(1) > last.get() * 10 / n.max(1) || done == n {
            eprintln!("  {done}/{n} forms  {:.1} s", start.elapsed().as_secs_f64());
        }
        last.set(done);
    });
    let pdf = pdf?;
    let total = start.elapsed();

    if let Some(out) = out {
        std::fs::write(&out, &pdf)?;
    }
    println!(
        "{n} forms: {:.2} s ({:.2} s setup), {:.1} MB PDF, peak memory {}",
        total.as_secs_f64(),
        setup.as_secs_f64(),
        pdf.len() as f64 / 1e6,
        peak_memory().unwrap_or_else(|| "unknown".into()),
    );
    Ok(())
}

/// The process's peak resident set (Linux `VmHWM`).
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(format!("{:.0} MB", kb / 1024.0))
}
