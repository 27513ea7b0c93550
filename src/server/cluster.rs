//! A private PostgreSQL cluster in the data folder, for development and tests
//! when no `DATABASE_URL` is given.
//!
//! It uses the machine's own server binaries. It listens only on a Unix socket
//! in a folder of its own (no TCP port to collide with), with trust
//! authentication limited by that folder's permissions. When parcours runs as
//! root the server runs as an unprivileged user (`initdb` refuses root).
//!
//! The server is started by a small shell "lifeline" whose standard input is a
//! pipe from parcours: when parcours closes it — on shutdown, or because it
//! died, even by SIGKILL — the shell stops the server (fast shutdown). So no
//! PostgreSQL process outlives the parcours process that started it.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

/// The superuser created by `initdb` and used by parcours to connect.
const SUPERUSER: &str = "postgres";
/// Port number of the socket file name; nothing listens on TCP.
const PORT: u16 = 5432;
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the cluster lives and who runs it.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Folder holding the cluster (`postgres/`), its socket folder and its log.
    pub root: PathBuf,
    /// Folder with `initdb` and `postgres`; searched for when `None`.
    pub bin_dir: Option<PathBuf>,
    /// User that runs the server when parcours runs as root.
    pub run_as: String,
    /// Delete `root` once the server has stopped (tests' throw-away clusters).
    pub remove_on_exit: bool,
}

/// A running private cluster. Dropping it stops the server without waiting;
/// [`PrivateCluster::stop`] stops it and waits.
#[derive(Debug)]
pub struct PrivateCluster {
    lifeline: Child,
    stdin: Option<ChildStdin>,
    socket_dir: PathBuf,
    log_path: PathBuf,
}

/// The identity the server processes run under.
#[derive(Debug, Clone, Copy)]
struct Owner {
    uid: u32,
    gid: u32,
}

impl PrivateCluster {
    /// Initialises the cluster on first use, starts it and waits until it
    /// accepts connections. Blocking: call it from a blocking context.
    pub fn start(options: &ClusterOptions) -> anyhow::Result<Self> {
        let bin_dir = match &options.bin_dir {
            Some(dir) if has_server(dir) => dir.clone(),
            Some(dir) => bail!(
                "PARCOURS_PG_BIN_DIR is {} but that folder does not hold the PostgreSQL server \
                 binaries (initdb, postgres)",
                dir.display()
            ),
            None => find_bin_dir()?,
        };
        let owner = owner_for(&options.run_as)?;

        fs::create_dir_all(&options.root)
            .with_context(|| format!("creating the data folder {}", options.root.display()))?;
        let root = options.root.canonicalize()?;
        if let Some(owner) = owner {
            // The server user must reach its folders (and delete `root` when asked to).
            fs::set_permissions(&root, fs::Permissions::from_mode(0o755))?;
            if options.remove_on_exit {
                std::os::unix::fs::chown(&root, Some(owner.uid), Some(owner.gid))?;
            }
        }
        let data_dir = root.join("postgres");
        let socket_dir = root.join("postgres-run");
        let log_path = root.join("postgres.log");
        for dir in [&data_dir, &socket_dir] {
            private_dir(dir, owner)?;
        }

        if !data_dir.join("PG_VERSION").exists() {
            initdb(&bin_dir, &data_dir, owner)?;
        }
        check_version(&bin_dir, &data_dir)?;
        refuse_if_running(&data_dir)?;

        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(LIFELINE)
            .arg("lifeline")
            .arg("-D")
            .arg(&data_dir)
            .arg("-k")
            .arg(&socket_dir)
            .args(["-h", "", "-p", &PORT.to_string()])
            .args(["-c", "unix_socket_permissions=0700"])
            .env("PG_SERVER", bin_dir.join("postgres"))
            .env("PG_ROOT", &root)
            .env("PG_REMOVE", if options.remove_on_exit { "1" } else { "" })
            .current_dir(&root)
            .stdin(Stdio::piped())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            // Its own process group: a Ctrl-C meant for parcours must not stop
            // the database under requests that are still draining.
            .process_group(0);
        as_owner(&mut command, owner);
        let mut lifeline = command.spawn().context("starting the PostgreSQL server")?;
        let stdin = lifeline.stdin.take();

        let mut cluster = Self {
            lifeline,
            stdin,
            socket_dir,
            log_path,
        };
        cluster.wait_until_ready(&data_dir)?;
        Ok(cluster)
    }

    /// URL of a database of this cluster, through its Unix socket.
    pub fn url(&self, database: &str) -> String {
        socket_url(&self.socket_dir, database)
    }

    /// The URL of `database` when another process (a running `parcours
    /// serve`) already runs the cluster of `options`; commands such as
    /// `create-user` then use it without starting or stopping anything.
    pub fn running_url(options: &ClusterOptions, database: &str) -> Option<String> {
        let root = options.root.canonicalize().ok()?;
        let data_dir = root.join("postgres");
        refuse_if_running(&data_dir).err()?;
        Some(socket_url(&root.join("postgres-run"), database))
    }

    /// Stops the server (fast shutdown) and waits for it to exit.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.stdin.take();
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if self.lifeline.try_wait()?.is_some() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "PostgreSQL did not stop within {}s; see {}",
                    STOP_TIMEOUT.as_secs(),
                    self.log_path.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_until_ready(&mut self, data_dir: &Path) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        let pid_file = data_dir.join("postmaster.pid");
        loop {
            if let Some(status) = self.lifeline.try_wait()? {
                bail!(
                    "PostgreSQL stopped during start-up ({status}). Its log ({}) ends with:\n{}",
                    self.log_path.display(),
                    log_tail(&self.log_path)
                );
            }
            // Line 8 of postmaster.pid is the server's status: "ready" once it
            // accepts connections (what pg_ctl waits for).
            if let Ok(contents) = fs::read_to_string(&pid_file)
                && contents.lines().nth(7).map(str::trim) == Some("ready")
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "PostgreSQL was not ready within {}s; see {}",
                    START_TIMEOUT.as_secs(),
                    self.log_path.display()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        // Closing the pipe is what tells the lifeline to stop the server.
        self.stdin.take();
    }
}

fn socket_url(socket_dir: &Path, database: &str) -> String {
    let host = utf8_percent_encode(&socket_dir.to_string_lossy(), NON_ALPHANUMERIC).to_string();
    format!("postgresql://{SUPERUSER}@{host}:{PORT}/{database}")
}

/// Runs the server, waits for its standard input to close, then stops it.
const LIFELINE: &str = r#"
"$PG_SERVER" "$@" &
pid=$!
read -r _ignored
kill -INT "$pid" 2>/dev/null
wait "$pid"
if [ -n "$PG_REMOVE" ]; then rm -rf "$PG_ROOT"; fi
"#;

fn initdb(bin_dir: &Path, data_dir: &Path, owner: Option<Owner>) -> anyhow::Result<()> {
    tracing::info!(data_dir = %data_dir.display(), "initialising a private PostgreSQL cluster");
    let mut command = Command::new(bin_dir.join("initdb"));
    command
        .arg("-D")
        .arg(data_dir)
        .args(["-U", SUPERUSER, "-A", "trust", "-E", "UTF8"])
        .args(["--locale=C.UTF-8", "--no-sync"])
        .current_dir(data_dir);
    as_owner(&mut command, owner);
    let output = command.output().context("running initdb")?;
    if !output.status.success() {
        bail!(
            "initdb failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// Two parcours processes on one data folder would share one server and the
/// first to stop would stop it under the other: refuse the second. A server
/// that is only shutting down (the previous parcours was killed) is waited
/// for, at most [`SHUTDOWN_WAIT`].
fn refuse_if_running(data_dir: &Path) -> anyhow::Result<()> {
    let Ok(contents) = fs::read_to_string(data_dir.join("postmaster.pid")) else {
        return Ok(());
    };
    let mut lines = contents.lines();
    let pid = lines.next().and_then(|l| l.trim().parse::<i32>().ok());
    // Line 8 is the server's status: "starting", "ready", "stopping"…
    let status = lines.nth(6).map(str::trim).unwrap_or_default();
    let Some(pid) = pid else {
        return Ok(());
    };
    let alive = || nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
    if alive() && status == "stopping" {
        tracing::info!(
            pid,
            "waiting for the previous PostgreSQL server of this data folder to stop"
        );
        let started = std::time::Instant::now();
        while alive() && started.elapsed() < SHUTDOWN_WAIT {
            std::thread::sleep(Duration::from_millis(100));
        }
        if alive() {
            bail!(
                "the PostgreSQL server (pid {pid}) of the private cluster in {} is still shutting \
                 down after {} s; wait for it, or stop it, then start parcours again",
                data_dir.display(),
                SHUTDOWN_WAIT.as_secs()
            );
        }
        return Ok(());
    }
    if alive() {
        bail!(
            "a PostgreSQL server (pid {pid}) already runs the private cluster in {}: another \
             parcours probably uses it. Stop that one, or set PARCOURS_DATA_DIR to another folder",
            data_dir.display()
        );
    }
    Ok(())
}

/// How long a server left shutting down by a previous run is waited for.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(60);

/// Refuses to start a cluster with binaries of another major version.
fn check_version(bin_dir: &Path, data_dir: &Path) -> anyhow::Result<()> {
    let cluster = fs::read_to_string(data_dir.join("PG_VERSION"))?;
    let cluster = cluster.trim();
    let binaries = server_major_version(bin_dir)?;
    if cluster != binaries {
        bail!(
            "the cluster in {} was created by PostgreSQL {cluster} but the binaries in {} are \
             PostgreSQL {binaries}: set PARCOURS_PG_BIN_DIR to PostgreSQL {cluster}'s bin \
             folder, or move the cluster away to start a new one",
            data_dir.display(),
            bin_dir.display()
        );
    }
    Ok(())
}

/// `postgres (PostgreSQL) 15.19 (Debian …)` → `15`.
fn server_major_version(bin_dir: &Path) -> anyhow::Result<String> {
    let output = Command::new(bin_dir.join("postgres"))
        .arg("--version")
        .output()
        .with_context(|| format!("running {}/postgres --version", bin_dir.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_major_version(&text)
        .with_context(|| format!("unexpected `postgres --version` output: {text}"))
}

fn parse_major_version(text: &str) -> Option<String> {
    let version = text.split_whitespace().nth(2)?;
    let major = version.split('.').next()?;
    major
        .chars()
        .all(|c| c.is_ascii_digit())
        .then(|| major.to_owned())
}

/// Finds `initdb` and `postgres`: on `PATH`, then `pg_config --bindir`, then
/// the usual package folders (newest version first).
pub fn find_bin_dir() -> anyhow::Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        candidates.push(PathBuf::from(
            String::from_utf8_lossy(&output.stdout).trim(),
        ));
    }
    for pattern_root in ["/usr/lib/postgresql", "/usr/local/lib/postgresql"] {
        candidates.extend(versioned_dirs(Path::new(pattern_root), "", "bin"));
    }
    candidates.extend(versioned_dirs(Path::new("/usr"), "pgsql-", "bin"));
    candidates
        .into_iter()
        .find(|dir| has_server(dir))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no DATABASE_URL is set and no PostgreSQL server binaries (initdb, postgres) were \
             found on PATH, through `pg_config --bindir` or under /usr/lib/postgresql/*/bin. \
             Install the PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql`), set \
             PARCOURS_PG_BIN_DIR to the folder holding them, or set DATABASE_URL to an \
             existing server"
            )
        })
}

fn has_server(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("postgres").is_file()
}

/// `{parent}/{prefix}{version}/{leaf}` folders, highest version first.
fn versioned_dirs(parent: &Path, prefix: &str, leaf: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix(prefix)?.split('.').next()?.parse().ok()?;
            Some((version, entry.path().join(leaf)))
        })
        .collect();
    found.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    found.into_iter().map(|(_, dir)| dir).collect()
}

/// As root, the unprivileged user that will own and run the cluster.
fn owner_for(user: &str) -> anyhow::Result<Option<Owner>> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    let account = nix::unistd::User::from_name(user)?.ok_or_else(|| {
        anyhow::anyhow!(
            "parcours runs as root and PostgreSQL refuses to: user `{user}` does not exist. \
             Create it, set PARCOURS_PG_USER to another unprivileged user, or run as a \
             normal user"
        )
    })?;
    if account.uid.is_root() {
        bail!("PARCOURS_PG_USER must name an unprivileged user, not `{user}`");
    }
    Ok(Some(Owner {
        uid: account.uid.as_raw(),
        gid: account.gid.as_raw(),
    }))
}

fn as_owner(command: &mut Command, owner: Option<Owner>) {
    if let Some(owner) = owner {
        // std drops root's supplementary groups when it switches uid.
        command.uid(owner.uid).gid(owner.gid);
    }
}

/// A folder only its owner can enter (PostgreSQL requires it of its data folder).
fn private_dir(dir: &Path, owner: Option<Owner>) -> anyhow::Result<()> {
    if !dir.exists() {
        fs::DirBuilder::new()
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    if let Some(owner) = owner {
        std::os::unix::fs::chown(dir, Some(owner.uid), Some(owner.gid))?;
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    Ok(())
}

fn log_tail(path: &Path) -> String {
    const TAIL: u64 = 2000;
    let Ok(mut file) = File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(TAIL)));
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid_file(dir: &Path, pid: u32, status: &str) {
        let lines = [
            pid.to_string(),
            dir.display().to_string(),
            "0".into(),
            "5432".into(),
            "/tmp".into(),
            "127.0.0.1".into(),
            "0 0".into(),
            status.into(),
        ];
        fs::write(dir.join("postmaster.pid"), lines.join("\n")).unwrap();
    }

    /// A process that ends after `secs`, reaped (so it does not linger).
    fn short_lived(secs: &str) -> u32 {
        let mut child = Command::new("sleep").arg(secs).spawn().unwrap();
        let pid = child.id();
        std::thread::spawn(move || child.wait());
        pid
    }

    #[test]
    fn a_server_still_shutting_down_is_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        pid_file(dir.path(), short_lived("1"), "stopping");
        let started = std::time::Instant::now();
        refuse_if_running(dir.path()).unwrap();
        assert!(started.elapsed() >= Duration::from_millis(500));
    }

    #[test]
    fn a_server_in_use_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        pid_file(dir.path(), short_lived("5"), "ready");
        let started = std::time::Instant::now();
        let refused = refuse_if_running(dir.path()).unwrap_err().to_string();
        assert!(
            refused.contains("another parcours probably uses it"),
            "{refused}"
        );
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn reads_the_major_version() {
        assert_eq!(
            parse_major_version("postgres (PostgreSQL) 15.19 (Debian 15.19-0+deb12u1)\n"),
            Some("15".to_owned())
        );
        assert_eq!(
            parse_major_version("postgres (PostgreSQL) 17devel"),
            None,
            "a development build has no plain major number"
        );
    }

    #[test]
    fn socket_url_is_percent_encoded() {
        let encoded = utf8_percent_encode("/tmp/a b/run", NON_ALPHANUMERIC).to_string();
        assert_eq!(encoded, "%2Ftmp%2Fa%20b%2Frun");
    }
}
