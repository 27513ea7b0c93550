//! The binary itself: `parcours` with no DATABASE_URL runs its own PostgreSQL,
//! serves, and leaves no server process behind when stopped.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

fn parcours(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_parcours"));
    command
        .env_remove("DATABASE_URL")
        .env_remove("PARCOURS_ENV")
        .env("PARCOURS_DATA_DIR", data_dir)
        .env("PARCOURS_BIND", "127.0.0.1:0")
        .env("PARCOURS_WORKERS", "1")
        .env("PARCOURS_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Reads the log until the line saying where it listens; returns the address
/// and whether this start initialised a new cluster.
async fn wait_for_listening(child: &mut Child) -> (String, bool) {
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut initialised = false;
    let found = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            initialised |= line.contains("initialising a private PostgreSQL cluster");
            if let Some(rest) = line.split("listening on ").nth(1) {
                let address: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
                return Some(address);
            }
        }
        None
    })
    .await
    .expect("parcours starts within a minute")
    .expect("parcours logs where it listens");
    // Keep draining so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (found, initialised)
}

/// Processes whose command line names `dir` (the private cluster's server).
fn processes_using(dir: &Path) -> Vec<String> {
    let needle = dir.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| {
            let cmdline = std::fs::read(entry.ok()?.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline.contains(&needle).then_some(cmdline)
        })
        .collect()
}

async fn serve_once(data_dir: &Path) -> bool {
    let mut child = parcours(data_dir).spawn().unwrap();
    let (address, initialised) = wait_for_listening(&mut child).await;
    let ready = reqwest::get(format!("{address}/ready")).await.unwrap();
    assert_eq!(ready.status(), 200);
    assert!(!processes_using(data_dir).is_empty(), "its PostgreSQL runs");

    let pid = nix::unistd::Pid::from_raw(child.id().unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(40), child.wait())
        .await
        .expect("parcours stops on SIGTERM")
        .unwrap();
    assert!(status.success(), "clean exit: {status}");
    let left = processes_using(data_dir);
    assert!(left.is_empty(), "no PostgreSQL left behind: {left:#?}");
    initialised
}

#[tokio::test]
async fn runs_its_own_postgres_and_leaves_nothing_behind() {
    let data_dir = tempfile::tempdir().unwrap();
    assert!(
        serve_once(data_dir.path()).await,
        "the first start initialises the cluster"
    );
    assert!(
        !serve_once(data_dir.path()).await,
        "the next start reuses it"
    );
}

/// Runs parcours with one more variable; it must fail, and its message is returned.
async fn failure_message(data_dir: &Path, variable: &str, value: &str) -> String {
    let output = parcours(data_dir)
        .env(variable, value)
        .output()
        .await
        .unwrap();
    assert!(
        !output.status.success(),
        "{variable}={value} must stop start-up"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn says_what_to_do_without_binaries_or_database() {
    let empty = tempfile::tempdir().unwrap();
    let no_binaries = empty.path().to_str().unwrap();
    let message = failure_message(empty.path(), "PARCOURS_PG_BIN_DIR", no_binaries).await;
    assert!(
        message.contains("PARCOURS_PG_BIN_DIR") && message.contains("initdb"),
        "{message}"
    );
    let message = failure_message(empty.path(), "PARCOURS_ENV", "production").await;
    assert!(
        message.contains("PARCOURS_JWT_SIGNING_KEY_FILE is required in production"),
        "{message}"
    );
    let key = empty.path().join("key.pem");
    std::fs::write(&key, "not a key").unwrap();
    let message = parcours(empty.path())
        .env("PARCOURS_ENV", "production")
        .env("PARCOURS_JWT_SIGNING_KEY_FILE", &key)
        .output()
        .await
        .unwrap();
    let message = String::from_utf8_lossy(&message.stderr);
    assert!(
        message.contains("is not an Ed25519 PKCS#8 PEM private key"),
        "{message}"
    );
    let valid = empty.path().join("valid.pem");
    parcours::auth::keys::write_new_key(&valid).unwrap();
    let output = parcours(empty.path())
        .env("PARCOURS_ENV", "production")
        .env("PARCOURS_JWT_SIGNING_KEY_FILE", &valid)
        .output()
        .await
        .unwrap();
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success()
            && message.contains("PARCOURS_PERSONAL_DATA_KEY_FILE is required in production"),
        "{message}"
    );
    let data_key = empty.path().join("personal-data-key");
    std::fs::write(&data_key, "too short").unwrap();
    let output = parcours(empty.path())
        .env("PARCOURS_ENV", "production")
        .env("PARCOURS_JWT_SIGNING_KEY_FILE", &valid)
        .env("PARCOURS_PERSONAL_DATA_KEY_FILE", &data_key)
        .output()
        .await
        .unwrap();
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("must hold 32 bytes in base64"),
        "{message}"
    );
    std::fs::write(&data_key, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").unwrap();
    let output = parcours(empty.path())
        .env("PARCOURS_ENV", "production")
        .env("PARCOURS_JWT_SIGNING_KEY_FILE", &valid)
        .env("PARCOURS_PERSONAL_DATA_KEY_FILE", &data_key)
        .output()
        .await
        .unwrap();
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("PARCOURS_AUDIT_SIGNING_KEY_FILE is required in production"),
        "{message}"
    );
    let output = parcours(empty.path())
        .env("PARCOURS_ENV", "production")
        .env("PARCOURS_JWT_SIGNING_KEY_FILE", &valid)
        .env("PARCOURS_PERSONAL_DATA_KEY_FILE", &data_key)
        .env("PARCOURS_AUDIT_SIGNING_KEY_FILE", &valid)
        .output()
        .await
        .unwrap();
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && message.contains("DATABASE_URL is required in production"),
        "{message}"
    );
}
