//! What reviewers see change: the OpenAPI document is a reviewed snapshot, and every message
//! the application can show exists in both languages, once.

use std::{collections::BTreeSet, path::Path};

/// Any change to the API shows in review as a change to `snapshots/web__contract__openapi.snap`
/// (accept it with `cargo insta review`).
#[test]
fn the_openapi_document_is_the_reviewed_one() {
    insta::assert_json_snapshot!("openapi", minping_web::api::document());
}

/// The locale file's keys, in order, with the languages each one gives.
fn locale_keys() -> Vec<(String, BTreeSet<String>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales/app.yml");
    let text = std::fs::read_to_string(path).unwrap();
    let mut keys: Vec<(String, BTreeSet<String>)> = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        if let Some(key) = line.strip_suffix(':').filter(|_| !line.starts_with(' ')) {
            keys.push((key.to_string(), BTreeSet::new()));
        } else if let Some((lang, _)) = line.trim_start().split_once(':')
            && line.starts_with(' ')
        {
            keys.last_mut().unwrap().1.insert(lang.to_string());
        }
    }
    keys
}

#[test]
fn every_message_is_written_once_in_chinese_and_in_english() {
    let keys = locale_keys();
    let mut seen = BTreeSet::new();
    for (key, langs) in &keys {
        assert!(
            seen.insert(key),
            "{key} is written twice: the second hides the first"
        );
        let both: BTreeSet<String> = ["zh-CN", "en"].map(String::from).into();
        assert_eq!(langs, &both, "{key}");
    }
}

/// The codes a workflow's error can carry, read from every `fn code` of the application and
/// storage crates (the domain's own errors word themselves in both languages).
fn error_codes() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut codes = BTreeSet::new();
    let mut dirs = vec![root.join("app/src"), root.join("storage/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for (at, _) in source.match_indices("fn code(&self) -> &'static str {") {
                let body = &source[at..];
                let body = &body[..body.find("\n    }").unwrap()];
                codes.extend(
                    body.split('"')
                        .skip(1)
                        .step_by(2)
                        .filter(|c| c.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                        .map(String::from),
                );
            }
        }
    }
    codes
}

#[test]
fn every_error_code_has_its_message() {
    let codes = error_codes();
    assert!(codes.len() > 40, "the codes were found: {codes:?}");
    let keys: BTreeSet<String> = locale_keys().into_iter().map(|(k, _)| k).collect();
    let missing: Vec<&String> = codes
        .iter()
        .filter(|c| !keys.contains(&format!("error.{c}")))
        .collect();
    assert!(missing.is_empty(), "no message for {missing:?}");
}
