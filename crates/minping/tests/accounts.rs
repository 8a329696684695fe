//! The command line as an administrator uses it on a data folder: accounts whose passwords
//! come from standard input (never an argument), tokens listed and revoked, the audit log
//! verified and found out when edited in the database, and `serve` refusing a folder whose
//! accounts still have the demo password. On SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` names a server (in a database of its own).

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

/// A data folder, and the database URL when on PostgreSQL.
struct Folder {
    dir: tempfile::TempDir,
    database_url: Option<String>,
}

impl Folder {
    /// Runs `minping` on this folder with `stdin` as its standard input.
    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_minping"));
        command.arg("--data").arg(self.dir.path());
        if let Some(url) = &self.database_url {
            command.args(["--database-url", url]);
        }
        let mut child = command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs it and expects success; what it printed.
    fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        let text = text(&out);
        assert!(out.status.success(), "minping {args:?}: {text}");
        text
    }

    /// Runs statements straight on the database.
    async fn tamper(&self, statements: &[String]) {
        match &self.database_url {
            None => {
                let pool = sqlx::SqlitePool::connect(&format!(
                    "sqlite://{}",
                    self.dir.path().join("minping.db").display()
                ))
                .await
                .unwrap();
                for s in statements {
                    sqlx::query(sqlx::AssertSqlSafe(s.clone()))
                        .execute(&pool)
                        .await
                        .unwrap();
                }
            }
            Some(url) => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                for s in statements {
                    sqlx::query(sqlx::AssertSqlSafe(s.clone()))
                        .execute(&pool)
                        .await
                        .unwrap();
                }
            }
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A fresh folder on SQLite, or on a fresh PostgreSQL database.
async fn folders() -> Vec<Folder> {
    let mut out = vec![Folder {
        dir: tempfile::tempdir().unwrap(),
        database_url: None,
    }];
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) => {
            let name = format!("minping_cli_{}", hex::encode(rand::random::<[u8; 5]>()));
            let server = sqlx::PgPool::connect(&url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&server)
                .await
                .unwrap();
            let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
            out.push(Folder {
                dir: tempfile::tempdir().unwrap(),
                database_url: Some(format!("{base}/{name}")),
            });
        }
        Err(_) => eprintln!("TEST_DATABASE_URL is not set: PostgreSQL skipped"),
    }
    out
}

#[tokio::test]
async fn accounts_tokens_and_the_audit_log_from_the_command_line() {
    for folder in folders().await {
        // A password is read from standard input, one line; never taken as an argument.
        let out = folder.run(
            &[
                "user",
                "add",
                "--name",
                "zhang",
                "--role",
                "organizer",
                "--password",
                "x",
            ],
            "",
        );
        assert!(!out.status.success(), "--password is no longer an argument");
        folder.ok(
            &["user", "add", "--name", "zhang", "--role", "organizer"],
            "a long enough password\n",
        );
        let weak = folder.run(
            &["user", "add", "--name", "li", "--role", "clerk"],
            "short\n",
        );
        assert!(!weak.status.success());
        assert!(text(&weak).contains("at least 8"), "{}", text(&weak));
        folder.ok(
            &["user", "passwd", "--name", "zhang"],
            "another long password\n",
        );

        // Tokens: issued with their expiry, listed without the token, revoked.
        let issued = folder.run(&["user", "token", "--name", "zhang"], "");
        assert!(issued.status.success(), "{}", text(&issued));
        // The token alone on standard output (for `$(…)`), what it is on standard error.
        let token = String::from_utf8(issued.stdout.clone())
            .unwrap()
            .trim()
            .to_string();
        assert!(token.starts_with("mp_") && token.len() == 67, "{token}");
        assert!(String::from_utf8_lossy(&issued.stderr).contains("valid until"));
        let list = folder.ok(&["token", "list", "--name", "zhang"], "");
        assert!(list.contains("zhang") && list.contains("expires"), "{list}");
        assert!(!list.contains(&token), "the list never shows a token");
        let revoked = folder.ok(&["token", "revoke", "--name", "zhang"], "");
        assert!(revoked.contains("revoked 1"), "{revoked}");
        assert!(folder.ok(&["token", "list"], "").contains("no tokens"));
        folder.ok(&["user", "disable", "--name", "zhang"], "");
        folder.ok(&["user", "enable", "--name", "zhang"], "");

        // The audit log: intact, then edited in the database.
        let verified = folder.ok(&["audit", "verify"], "");
        assert!(
            verified.contains("audit log intact: 6 events"),
            "{verified}"
        );
        folder
            .tamper(&["UPDATE audit_events SET actor = 'someone' WHERE seq = 3".into()])
            .await;
        let broken = folder.run(&["audit", "verify"], "");
        assert!(!broken.status.success());
        assert!(
            text(&broken).contains("event #3 was altered"),
            "{}",
            text(&broken)
        );
        folder
            .tamper(&["DELETE FROM audit_events WHERE seq = 3".into()])
            .await;
        let broken = folder.run(&["audit", "verify"], "");
        assert!(!broken.status.success());
        assert!(
            text(&broken).contains("event #3 is missing"),
            "{}",
            text(&broken)
        );

        // An account with the demo password keeps `serve` from starting.
        folder.ok(
            &["user", "add", "--name", "demo", "--role", "clerk"],
            "minping-demo\n",
        );
        let refused = folder.run(&["serve", "--listen", "127.0.0.1:0"], "");
        assert!(!refused.status.success());
        assert!(
            text(&refused).contains("demo password: demo"),
            "{}",
            text(&refused)
        );
        if let (Some(url), Ok(server)) = (&folder.database_url, std::env::var("TEST_DATABASE_URL"))
        {
            let name = url.rsplit_once('/').map(|(_, n)| n.to_string()).unwrap();
            let server = sqlx::PgPool::connect(&server).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name}"
            )))
            .execute(&server)
            .await
            .unwrap();
        }
    }
}
