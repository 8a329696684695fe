//! `minping receipts verify`, as a citizen runs it on a downloaded list: it passes on the
//! list as published and fails, naming why, on every kind of tampering.

use minping_domain::{Receipt, receipt::CountedReceipts};
use serde_json::{Value, json};
use std::process::Command;

/// Runs the command on `list` with extra arguments; its success and what it printed.
fn verify(list: &Value, args: &[&str]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("receipts.json");
    std::fs::write(&path, list.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_minping"))
        .args(["receipts", "verify"])
        .arg(&path)
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn a_published_list_verifies_and_any_tampering_is_caught() {
    let mut rng = rand::thread_rng();
    let receipts: Vec<Receipt> = (0..300).map(|_| Receipt::generate(&mut rng)).collect();
    let counted = CountedReceipts::of(&receipts);
    let list = json!({"round_id": 7, "count": counted.len(), "root": counted.root(), "hashes": counted.hex()});
    // As printed in the notice: groups of 16, upper case.
    let printed = minping_domain::receipt::printed_root(&counted.root()).to_uppercase();
    let mine = receipts[123].as_str().to_lowercase().replace('-', " ");

    let (ok, out) = verify(&list, &["--root", &printed, "--receipt", &mine]);
    assert!(ok, "{out}");
    assert!(out.contains("300 counted receipts"), "{out}");
    assert!(out.contains("printed in the notice"), "{out}");
    assert!(
        out.contains(&format!("receipt {} is in the list", receipts[123])),
        "{out}"
    );

    // A receipt that was not counted.
    let stranger = Receipt::generate(&mut rng);
    let (ok, out) = verify(&list, &["--root", &printed, "--receipt", stranger.as_str()]);
    assert!(!ok && out.contains("not in the list"), "{out}");
    // Not a receipt at all.
    let (ok, out) = verify(&list, &["--root", &printed, "--receipt", "hello"]);
    assert!(!ok && out.contains("not a receipt"), "{out}");
    // The notice printed another root.
    let other = CountedReceipts::of(&receipts[1..]).root();
    let (ok, out) = verify(&list, &["--root", &other]);
    assert!(!ok && out.contains("not the root printed"), "{out}");
    // A hash dropped from the list, with its count and root left alone.
    let mut dropped = list.clone();
    dropped["hashes"].as_array_mut().unwrap().remove(10);
    let (ok, out) = verify(&dropped, &["--root", &printed]);
    assert!(!ok && out.contains("holds 299"), "{out}");
    // ... or with the count fixed too: the root no longer matches.
    dropped["count"] = json!(299);
    let (ok, out) = verify(&dropped, &["--root", &printed]);
    assert!(!ok && out.contains("give the root"), "{out}");
    // A hash swapped for another.
    let mut swapped = list.clone();
    swapped["hashes"][0] = json!("00".repeat(32));
    let (ok, out) = verify(&swapped, &["--root", &printed]);
    assert!(!ok && out.contains("give the root"), "{out}");
    // Reordered.
    let mut reordered = list.clone();
    reordered["hashes"].as_array_mut().unwrap().swap(5, 6);
    let (ok, out) = verify(&reordered, &["--root", &printed]);
    assert!(!ok && out.contains("ascending order"), "{out}");
    // Not a list.
    let (ok, out) = verify(&json!({"hello": 1}), &["--root", &printed]);
    // Without the printed root there is nothing to check the list against.
    let (ok_without_root, _) = verify(&list, &[]);
    assert!(!ok_without_root);
    assert!(!ok && out.contains("is not a receipt list"), "{out}");
}
