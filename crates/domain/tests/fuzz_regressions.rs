//! Replays the fuzz inputs kept in the repository through the same checks the fuzz targets
//! run (`fuzz/src/checks.rs`): the seeds under `fuzz/seeds/TARGET/` and every input that
//! once crashed a target, minimized, under `fuzz/regressions/TARGET/`. A crash found by
//! `scripts/fuzz` becomes a test here by saving its input in the regressions folder.

#[path = "../../../fuzz/src/checks.rs"]
mod checks;

use std::path::{Path, PathBuf};

fn inputs(folder: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(folder)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable folder").path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    files
}

fn replay(folder: &str) -> usize {
    let mut replayed = 0;
    let mut failed = Vec::new();
    for (target, check) in checks::TARGETS {
        for file in inputs(folder, target) {
            let data = std::fs::read(&file).expect("a readable input");
            if let Err(panic) = std::panic::catch_unwind(|| check(&data)) {
                let why = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("a panic");
                failed.push(format!("{}: {why}", file.display()));
            }
            replayed += 1;
        }
    }
    assert!(failed.is_empty(), "these fuzz inputs fail: {failed:#?}");
    replayed
}

#[test]
fn every_seed_of_every_fuzz_target_passes_its_checks() {
    for (target, _) in checks::TARGETS {
        assert!(
            !inputs("seeds", target).is_empty(),
            "fuzz target {target} has no seeds in fuzz/seeds/{target}"
        );
    }
    assert!(replay("seeds") > 0);
}

#[test]
fn no_input_that_once_crashed_a_fuzz_target_crashes_it_again() {
    replay("regressions");
}
