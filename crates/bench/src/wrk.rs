//! The load generator: Debian's `wrk`, driven with a Lua script that posts a rotation of
//! realistic ballot bodies, and its `--latency` output parsed.

use anyhow::{Context, bail};
use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// What one wrk run measured.
pub struct WrkResult {
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Socket errors, timeouts and non-2xx answers.
    pub errors: u64,
}

pub fn check_installed() -> anyhow::Result<()> {
    Command::new("wrk")
        .arg("--version")
        .output()
        .context("wrk is needed (scripts/bench installs it: apt-get install wrk)")?;
    Ok(())
}

/// Writes a Lua script posting `bodies` in turn to the round's ballot route.
pub fn script(dir: &Path, round: i64, bodies: &[String]) -> anyhow::Result<PathBuf> {
    let mut lua = String::from("local bodies = {\n");
    for b in bodies {
        if b.contains("]==]") {
            bail!("a body cannot be quoted in Lua");
        }
        lua.push_str("[==[");
        lua.push_str(b);
        lua.push_str("]==],\n");
    }
    lua.push_str(&format!(
        r#"}}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/api/v1/rounds/{round}/ballots", nil, bodies[i])
end
"#
    ));
    let path = dir.join(format!("ballots-{round}.lua"));
    std::fs::write(&path, lua)?;
    Ok(path)
}

/// One load of `seconds` at `connections` connections on 2 threads.
pub fn run(base: &str, script: &Path, connections: u32, seconds: u64) -> anyhow::Result<WrkResult> {
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "--timeout",
            "5s",
            "-s",
        ])
        .arg(script)
        .arg(base)
        .output()
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        bail!("wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    }
    parse(&text).with_context(|| format!("reading wrk's output:\n{text}"))
}

/// Parses `wrk --latency` output.
pub fn parse(text: &str) -> anyhow::Result<WrkResult> {
    let mut rps = None;
    let (mut p50, mut p99) = (None, None);
    let mut errors = 0;
    for line in text.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("Requests/sec:") => rps = words.next().and_then(|w| w.parse().ok()),
            Some("50%") => p50 = words.next().and_then(duration_ms),
            Some("99%") => p99 = words.next().and_then(duration_ms),
            Some("Non-2xx") => {
                errors += line
                    .rsplit(' ')
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0)
            }
            Some("Socket") => {
                // Socket errors: connect 0, read 0, write 0, timeout 0
                errors += line
                    .split(',')
                    .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    Ok(WrkResult {
        requests_per_sec: rps.context("Requests/sec")?,
        p50_ms: p50.context("50%")?,
        p99_ms: p99.context("99%")?,
        errors,
    })
}

/// `1.23ms`, `456.00us`, `1.01s` → milliseconds.
fn duration_ms(w: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = w.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = w.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = w.strip_suffix("m") {
        (n, 60_000.0)
    } else if let Some(n) = w.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_throughput_latency_and_errors() {
        let out = "Running 10s test @ http://127.0.0.1:1\n  2 threads and 64 connections\n\
  Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency     2.10ms    1.00ms  30.00ms   90.00%\n\
  Latency Distribution\n     50%    1.95ms\n     75%    2.50ms\n     90%    3.10ms\n     99%  812.00us\n\
  200000 requests in 10.00s, 30.00MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\n\
  Non-2xx or 3xx responses: 4\nRequests/sec:  20000.50\nTransfer/sec:      3.00MB\n";
        let r = parse(out).unwrap();
        assert_eq!(r.requests_per_sec, 20000.5);
        assert_eq!(r.p50_ms, 1.95);
        assert!((r.p99_ms - 0.812).abs() < 1e-9);
        assert_eq!(r.errors, 7);
        assert_eq!(duration_ms("1.01s"), Some(1010.0));
    }
}
