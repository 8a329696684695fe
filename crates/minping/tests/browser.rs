//! A real browser (headless Chromium driven over WebDriver) fills in the public ballot form
//! of the demo district's open round on a phone-sized screen.
//!
//! Needs the Debian packages `chromium` and `chromium-driver` (`scripts/test` installs them).
//! `MINPING_CHROMEDRIVER` and `MINPING_CHROMIUM` override where the two programs are looked for.

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use minping_domain::{Round, Unit};
use minping_storage::StoredBallot;
use serde_json::{Value, json};
use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

const WAIT: Duration = Duration::from_secs(30);

/// The chromedriver process; killed when the test ends, however it ends.
struct Chromedriver {
    child: Child,
    port: u16,
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // chromedriver leads its own process group; a browser it left behind goes with it.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Finds a program: the environment variable if set, else `PATH`, else `/usr/bin`.
fn program(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var) {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    names.iter().find_map(|name| {
        dirs.iter()
            .map(|d| d.join(name))
            .chain(std::iter::once(Path::new("/usr/bin").join(name)))
            .find(|p| p.is_file())
    })
}

fn require(var: &str, names: &[&str], package: &str) -> PathBuf {
    program(var, names).unwrap_or_else(|| {
        panic!(
            "the browser test needs `{}` from the Debian package `{package}`, and it was not \
             found: run `sudo apt-get install chromium chromium-driver` (or `scripts/test`, \
             which installs them), or point {var} at the program",
            names[0]
        )
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

async fn start_chromedriver(driver: &Path) -> Chromedriver {
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
    let mut driver_process = Chromedriver { child, port };
    let started = Instant::now();
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    loop {
        if let Some(status) = driver_process
            .child
            .try_wait()
            .expect("chromedriver status")
        {
            panic!("chromedriver exited at start with {status}");
        }
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            let ready = reqwest::get(format!("http://{address}/status"))
                .await
                .ok()
                .filter(|r| r.status().is_success());
            if let Some(r) = ready {
                let status: Value = r.json().await.unwrap_or_default();
                if status["value"]["ready"] != json!(false) {
                    return driver_process;
                }
            }
        }
        assert!(
            started.elapsed() < WAIT,
            "chromedriver did not answer on port {port} within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn connect_browser(driver: &Chromedriver, chromium: &Path, profile: &Path) -> Client {
    // fantoccini's and reqwest's rustls enable two crypto providers; choose one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--no-default-browser-check",
                "--window-size=412,900",
                format!("--user-data-dir={}", profile.display()),
            ],
        }
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    ClientBuilder::rustls()
        .expect("a WebDriver client")
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|e| panic!("chromedriver could not start {}: {e}", chromium.display()))
}

/// The demo district in a fresh SQLite data folder, served in-process on a random port.
struct Site {
    state: minping_web::Shared,
    base: String,
    _data: tempfile::TempDir,
}

async fn demo_site() -> Site {
    let data = tempfile::tempdir().expect("a temporary data folder");
    let (app, _) = minping::demo::open(data.path(), None, 2014)
        .await
        .expect("the demo district");
    let state = Arc::new(
        minping_web::AppState::new(app, "http://127.0.0.1".into()).without_background_scan(),
    );
    let server = minping_web::Application::build(state.clone(), "127.0.0.1:0")
        .await
        .expect("the application");
    let base = format!("http://{}", server.local_addr());
    tokio::spawn(server.run());
    Site {
        state,
        base,
        _data: data,
    }
}

impl Site {
    async fn open_round_id(&self) -> i64 {
        let rounds: Value = reqwest::get(format!("{}/api/v1/rounds", self.base))
            .await
            .expect("GET /api/v1/rounds")
            .json()
            .await
            .expect("rounds as JSON");
        rounds
            .as_array()
            .expect("a list of rounds")
            .iter()
            .find(|r| r["state"] == "open")
            .and_then(|r| r["id"].as_i64())
            .expect("the demo has an open round")
    }

    async fn unit(&self, agency_part: &str, name: &str) -> Unit {
        self.state
            .store()
            .units()
            .await
            .expect("units")
            .into_iter()
            .find(|u| u.name == name && u.agency.contains(agency_part))
            .unwrap_or_else(|| panic!("the demo has no unit {agency_part} {name}"))
    }

    async fn stored(&self, receipt: &str) -> (StoredBallot, Round) {
        let stored = self
            .state
            .store()
            .ballot_by_receipt(receipt)
            .await
            .expect("read the ballot")
            .unwrap_or_else(|| panic!("no ballot stored under receipt {receipt}"));
        let round = self
            .state
            .store()
            .round(stored.round_id)
            .await
            .expect("read the round")
            .expect("the ballot's round");
        (stored, round)
    }
}

/// The unit's fieldset, after opening its agency group by clicking the group's summary.
async fn expand(client: &Client, unit: &Unit) -> Element {
    let fieldset = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(&format!("#unit-{}", unit.id.0)))
        .await
        .expect("the unit on the form");
    let group = client
        .execute(
            "const d = arguments[0].closest('details.agency'); return d ? d.open : null;",
            vec![serde_json::to_value(&fieldset).expect("element reference")],
        )
        .await
        .expect("the agency group");
    assert_eq!(
        group,
        json!(false),
        "the agency group of {} starts closed",
        unit.name
    );
    let summary_css = format!("details.agency:has(#unit-{}) > summary", unit.id.0);
    let summary = client
        .find(Locator::Css(&summary_css))
        .await
        .expect("the group's summary");
    click(client, &summary).await;
    let open = client
        .execute(
            "return arguments[0].closest('details.agency').open;",
            vec![serde_json::to_value(&fieldset).expect("element reference")],
        )
        .await
        .expect("the agency group");
    assert_eq!(
        open,
        json!(true),
        "clicking the summary opens the group of {}",
        unit.name
    );
    fieldset
}

/// Scrolls an element to the middle of the small screen, then clicks it like a finger would.
async fn click(client: &Client, element: &Element) {
    client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(element).expect("element reference")],
        )
        .await
        .expect("scroll");
    element.click().await.expect("click");
}

async fn tick(client: &Client, fieldset: &Element, code: &str) {
    let b = fieldset
        .find(Locator::Css(&format!("input[type=checkbox][value={code}]")))
        .await
        .unwrap_or_else(|_| panic!("indicator {code} on the unit"));
    click(client, &b).await;
    assert!(
        b.is_selected().await.expect("checkbox state"),
        "{code} is ticked"
    );
}

async fn untick(client: &Client, fieldset: &Element, code: &str) {
    let b = fieldset
        .find(Locator::Css(&format!("input[type=checkbox][value={code}]")))
        .await
        .unwrap_or_else(|_| panic!("indicator {code} on the unit"));
    click(client, &b).await;
    assert!(
        !b.is_selected().await.expect("checkbox state"),
        "{code} is no longer ticked"
    );
}

async fn type_comment(client: &Client, fieldset: &Element, text: &str) {
    let area = fieldset
        .find(Locator::Css("textarea"))
        .await
        .expect("the comment box");
    click(client, &area).await;
    area.send_keys(text).await.expect("typing the comment");
    assert_eq!(
        comment_of(fieldset).await,
        text,
        "the comment box holds what was typed"
    );
}

async fn comment_of(fieldset: &Element) -> String {
    let area = fieldset
        .find(Locator::Css("textarea"))
        .await
        .expect("the comment box");
    area.prop("value")
        .await
        .expect("textarea value")
        .unwrap_or_default()
}

async fn submit_and_read_receipt(client: &Client) -> String {
    let button = client
        .find(Locator::Id("submit-ballot"))
        .await
        .expect("the submit button");
    click(client, &button).await;
    let receipt = match client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("strong#receipt"))
        .await
    {
        Ok(receipt) => receipt,
        Err(e) => {
            let url = client.current_url().await.map(|u| u.to_string());
            let page = client.source().await.unwrap_or_default();
            panic!("the receipt page after submitting: {e}; at {url:?}:\n{page}");
        }
    };
    let receipt = receipt
        .text()
        .await
        .expect("receipt text")
        .trim()
        .to_string();
    let url = client.current_url().await.expect("current url");
    assert_eq!(
        url.path(),
        "/receipts/new",
        "redirected to the receipt, which is in no address"
    );
    assert!(!url.as_str().contains(&receipt));
    assert!(!receipt.is_empty(), "the receipt is shown");
    receipt
}

/// Unit id → (indicator codes, comment), from a stored ballot.
fn contents(stored: &StoredBallot, round: &Round) -> Vec<(i64, Vec<String>, Option<String>)> {
    let mut v: Vec<_> = stored
        .ballot
        .nominations
        .iter()
        .map(|n| {
            let mut codes: Vec<String> = round
                .settings
                .indicators
                .codes(n.indicators)
                .into_iter()
                .map(String::from)
                .collect();
            codes.sort();
            (n.unit_id.0, codes, n.comment.clone())
        })
        .collect();
    v.sort();
    v
}

fn strings(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_names_two_units_in_a_phone_browser_and_gets_a_receipt() {
    let chromedriver = require("MINPING_CHROMEDRIVER", &["chromedriver"], "chromium-driver");
    let chromium = require(
        "MINPING_CHROMIUM",
        &["chromium", "chromium-browser"],
        "chromium",
    );
    let driver = start_chromedriver(&chromedriver).await;
    let profile = tempfile::tempdir().expect("a fresh browser profile");
    let site = demo_site().await;

    let client = connect_browser(&driver, &chromium, profile.path()).await;
    // The steps run in their own task so that the browser is closed even when one fails.
    let steps = tokio::spawn(citizen_steps(client.clone(), site));
    let outcome = steps.await;
    let _ = client.close().await;
    drop(driver);
    drop(profile);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn citizen_steps(client: Client, site: Site) {
    let round_id = site.open_round_id().await;
    let registry = site.unit("规划和自然资源局", "不动产登记中心").await;
    let registration = site.unit("市场监管局", "企业注册科").await;
    let funeral = site.unit("民政局", "殡仪馆").await;
    let pensions = site.unit("人力社保局", "城乡居民养老保险科").await;
    {
        let form = format!("{}/rounds/{round_id}/ballot?lang=zh", site.base);

        // Two units named with indicators, one with a comment in Chinese.
        client.goto(&form).await.expect("open the ballot form");
        let comment = "办证要跑三趟，窗口人员态度冷淡，还暗示请吃饭。";
        let a = expand(&client, &registry).await;
        tick(&client, &a, "cold").await;
        tick(&client, &a, "greedy").await;
        type_comment(&client, &a, comment).await;
        let b = expand(&client, &registration).await;
        tick(&client, &b, "shirking").await;
        let receipt = submit_and_read_receipt(&client).await;

        let (stored, round) = site.stored(&receipt).await;
        assert_eq!(stored.round_id.0, round_id, "stored in the open round");
        assert_eq!(
            stored.ballot.channel.to_string(),
            "open",
            "an open-channel ballot"
        );
        assert_eq!(
            contents(&stored, &round),
            {
                let mut want = vec![
                    (
                        registry.id.0,
                        strings(&["cold", "greedy"]),
                        Some(comment.to_string()),
                    ),
                    (registration.id.0, strings(&["shirking"]), None),
                ];
                want.sort();
                want
            },
            "the stored ballot names exactly the two units, with their indicators and comment"
        );
        let api: Value = reqwest::get(format!("{}/api/v1/receipts/{receipt}", site.base))
            .await
            .expect("GET the receipt")
            .json()
            .await
            .expect("receipt JSON");
        assert_eq!(
            api,
            serde_json::json!({"receipt": receipt, "round_id": round_id, "status": "stored"}),
            "the receipt answers where the ballot stands, never what it said"
        );
        let page = client.source().await.expect("the receipt page");
        assert!(
            !page.contains(comment) && !page.contains(&registry.name),
            "the receipt page shows no content of the ballot"
        );

        // A comment without an indicator is refused in place, and nothing typed is lost.
        let before = site
            .state
            .store()
            .ballot_count(stored.round_id)
            .await
            .expect("ballot count");
        client
            .goto(&form)
            .await
            .expect("open the ballot form again");
        let c = expand(&client, &funeral).await;
        let lonely = "排队两个小时没人管。";
        tick(&client, &c, "lazy").await;
        type_comment(&client, &c, lonely).await;
        untick(&client, &c, "lazy").await;
        let d = expand(&client, &pensions).await;
        tick(&client, &d, "lazy").await;
        let button = client
            .find(Locator::Id("submit-ballot"))
            .await
            .expect("the submit button");
        click(&client, &button).await;
        let error_css = format!("#unit-{}.has-error .error", funeral.id.0);
        let error = client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(&error_css))
            .await
            .expect("the error shown next to the unit with a comment but no indicator");
        assert!(
            !error.text().await.expect("error text").trim().is_empty(),
            "the error says something"
        );
        assert!(
            error.is_displayed().await.expect("visibility"),
            "the error is visible"
        );
        let c = client
            .find(Locator::Css(&format!("#unit-{}", funeral.id.0)))
            .await
            .expect("the unit after the refusal");
        assert_eq!(
            comment_of(&c).await,
            lonely,
            "the typed comment is still there"
        );
        let d = client
            .find(Locator::Css(&format!("#unit-{}", pensions.id.0)))
            .await
            .expect("the other unit after the refusal");
        let lazy = d
            .find(Locator::Css("input[value=lazy]"))
            .await
            .expect("the other unit's indicator");
        assert!(
            lazy.is_selected().await.expect("checkbox state"),
            "the other unit's tick is kept"
        );
        assert_eq!(
            site.state
                .store()
                .ballot_count(stored.round_id)
                .await
                .expect("ballot count"),
            before,
            "a refused form stores nothing"
        );

        // Correcting the one mistake is enough to cast the ballot.
        tick(&client, &c, "arbitrary").await;
        let receipt = submit_and_read_receipt(&client).await;
        let (stored, round) = site.stored(&receipt).await;
        assert_eq!(
            contents(&stored, &round),
            {
                let mut want = vec![
                    (
                        funeral.id.0,
                        strings(&["arbitrary"]),
                        Some(lonely.to_string()),
                    ),
                    (pensions.id.0, strings(&["lazy"]), None),
                ];
                want.sort();
                want
            },
            "the corrected ballot is stored as typed"
        );
    }
}
