//! Password hashing with Argon2id, off the async workers.
//!
//! Every hash and verification runs on a few threads of its own, behind a
//! bounded queue, so a flood of logins waits here instead of taking every
//! core from the requests that read case files. What those threads may take
//! is a budget of CPU time (`PARCOURS_PASSWORD_CPU_SHARE` of the cores, on
//! average), paid with the CPU time each hash measurably took: it holds
//! whatever the kernel's scheduling does, autogroups or not. The threads
//! also run at a lower scheduling priority (`PARCOURS_PASSWORD_SCHEDULING`).
//! A login beyond the queue (`PARCOURS_PASSWORD_QUEUE`) answers 503 with
//! `Retry-After`. An unknown user is verified against a dummy hash, so that
//! it costs the same time as a wrong password.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use argon2::password_hash::{
    self, Output, ParamsString, PasswordHash, PasswordVerifier, Salt, SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::rngs::OsRng;
use tokio::sync::Semaphore;

use crate::config::{AuthSettings, PasswordScheduling};

/// Longest wait for a hashing slot before the request answers 503.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(10);

/// How many steps of niceness the hashing threads take below the server's
/// own with `nice`: the scheduler gives a thread about ten times the share
/// of a busy core of one ten steps nicer.
const HASHING_NICENESS_STEPS: libc::c_int = 10;
/// The nicest a thread can be.
const NICEST: libc::c_int = 19;

/// The niceness of hashing threads spawned by a thread of niceness
/// `server`: ten steps below it, as far as the scale goes. Relative, so
/// that a server started under `nice` (a systemd `Nice=`) never hashes
/// above its own requests.
fn hashing_niceness(server: libc::c_int) -> libc::c_int {
    server.saturating_add(HASHING_NICENESS_STEPS).min(NICEST)
}

type Job = Box<dyn FnOnce() + Send>;

/// CPU time the hashing may save up while idle, in seconds: a few hashes'
/// worth, so that a lone login never waits for the budget.
const BUDGET_BURST_SECS: f64 = 0.2;

/// A budget of CPU time shared by the hashing threads: `rate` CPU-seconds
/// per second on average, at most [`BUDGET_BURST_SECS`] saved up. A thread
/// takes its next job only while the budget is not overdrawn, and pays for
/// each job with the CPU time the job took on that thread.
struct CpuBudget {
    rate: f64,
    state: Mutex<(f64, Instant)>,
}

impl CpuBudget {
    fn new(rate: f64) -> Self {
        Self {
            rate,
            state: Mutex::new((BUDGET_BURST_SECS, Instant::now())),
        }
    }

    /// The balance now, credited for the time since it was last read.
    fn balance(&self, change: f64) -> f64 {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (balance, at) = *state;
        let now = Instant::now();
        let credited = (balance + now.duration_since(at).as_secs_f64() * self.rate)
            .min(BUDGET_BURST_SECS)
            + change;
        *state = (credited, now);
        credited
    }

    /// Sleeps until the budget is no longer overdrawn.
    fn wait(&self) {
        loop {
            let balance = self.balance(0.0);
            if balance >= 0.0 {
                return;
            }
            std::thread::sleep(Duration::from_secs_f64(-balance / self.rate));
        }
    }

    fn pay(&self, seconds: f64) {
        self.balance(-seconds);
    }
}

/// CPU time the calling thread has used, in seconds.
fn thread_cpu_seconds() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes the calling thread's clock into a local.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    now.tv_sec as f64 + now.tv_nsec as f64 / 1e9
}

/// How loaded the hashing is, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PasswordLoad {
    /// Logins waiting for a hashing thread or for the budget now.
    pub queued: usize,
    /// Logins answered 503 because the queue was full, since start.
    pub refused: u64,
}

#[derive(Clone)]
pub struct PasswordHasherPool {
    params: Params,
    permits: Arc<Semaphore>,
    jobs: mpsc::Sender<Job>,
    dummy_hash: Arc<String>,
    queued: Arc<AtomicUsize>,
    refused: Arc<AtomicU64>,
    max_queued: usize,
}

/// A login's place in the queue, given up when its hash starts or when
/// the login is abandoned.
struct InQueue(Arc<AtomicUsize>);

impl Drop for InQueue {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// The password matches. `rehash` is set when the stored hash used other
    /// parameters than today's: the caller stores the new one.
    Yes {
        rehash: Option<String>,
    },
    No,
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many password checks are waiting")]
    Busy,
    #[error("password hashing failed: {0}")]
    Failed(String),
}

impl PasswordHasherPool {
    pub fn new(settings: &AuthSettings) -> anyhow::Result<Self> {
        settings.check()?;
        let params = Params::new(
            settings.argon2_memory_kib,
            settings.argon2_iterations,
            settings.argon2_lanes,
            None,
        )
        .map_err(|e| anyhow::anyhow!("invalid Argon2 parameters: {e}"))?;
        let concurrency = settings.password_threads();
        let dummy_hash = hash_with(&params, "parcours-dummy-password-for-unknown-users")?;
        // Only the hashing threads keep Argon2 memory, not the one starting.
        MEMORY.with_borrow_mut(std::mem::take);
        let budget = Arc::new(CpuBudget::new(
            settings.password_cpu_share * crate::config::cores() as f64,
        ));
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(concurrency)),
            jobs: hashing_threads(concurrency, settings.password_scheduling, budget)?,
            dummy_hash: Arc::new(dummy_hash),
            queued: Arc::default(),
            refused: Arc::default(),
            max_queued: settings.password_queue,
        })
    }

    pub fn current_load(&self) -> PasswordLoad {
        PasswordLoad {
            queued: self.queued.load(Ordering::Acquire),
            refused: self.refused.load(Ordering::Acquire),
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let params = self.params.clone();
        self.run(move || {
            hash_with(&params, &password).map_err(|e| HashError::Failed(e.to_string()))
        })
        .await
    }

    /// Verifies `password` against `stored`, or against the dummy hash when
    /// there is no account (the answer is then always `No`).
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<Verified, HashError> {
        let params = self.params.clone();
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        self.run(move || {
            let parsed =
                PasswordHash::new(&stored).map_err(|e| HashError::Failed(e.to_string()))?;
            let matches = matches(&params, password.as_bytes(), &parsed);
            if !(matches && known) {
                return Ok(Verified::No);
            }
            let rehash = if !at_todays_cost(&params, &parsed) {
                Some(hash_with(&params, &password).map_err(|e| HashError::Failed(e.to_string()))?)
            } else {
                None
            };
            Ok(Verified::Yes { rehash })
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            self.refused.fetch_add(1, Ordering::AcqRel);
            return Err(HashError::Busy);
        }
        let in_queue = InQueue(self.queued.clone());
        let permit = tokio::time::timeout(QUEUE_TIMEOUT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| HashError::Busy)?
            .map_err(|_| HashError::Busy)?;
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            drop(in_queue);
            let _permit = permit;
            // The caller may have gone (a dropped request): nothing to tell.
            let _ = done.send(work());
        });
        self.jobs
            .send(job)
            .map_err(|_| HashError::Failed("the hashing threads stopped".to_owned()))?;
        result
            .await
            .map_err(|_| HashError::Failed("a hashing thread panicked".to_owned()))?
    }
}

/// Starts `count` hashing threads scheduled as `scheduling` says, sharing
/// one queue; they end when the last pool handle is dropped.
fn hashing_threads(
    count: usize,
    scheduling: PasswordScheduling,
    budget: Arc<CpuBudget>,
) -> anyhow::Result<mpsc::Sender<Job>> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for n in 0..count {
        let queue = queue.clone();
        let budget = budget.clone();
        std::thread::Builder::new()
            .name(format!("argon2-{n}"))
            .spawn(move || {
                lower_priority(scheduling);
                loop {
                    // The lock is held only while waiting for the next job.
                    let next = queue.lock().map(|q| q.recv());
                    match next {
                        // A panicking job fails its request (its result is
                        // never sent), not the thread.
                        Ok(Ok(job)) => {
                            budget.wait();
                            let started = thread_cpu_seconds();
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                            budget.pay(thread_cpu_seconds() - started);
                        }
                        _ => return,
                    }
                }
            })?;
    }
    Ok(jobs)
}

/// Lowers the calling thread's scheduling priority as `scheduling` says
/// (Linux schedules each thread on its own, so these calls touch no other
/// thread). Best effort: where one fails, hashing runs at the normal
/// priority.
fn lower_priority(scheduling: PasswordScheduling) {
    // SAFETY: plain system calls on the calling thread, no memory shared.
    unsafe {
        match scheduling {
            PasswordScheduling::Normal => {}
            PasswordScheduling::Nice => {
                let thread = libc::syscall(libc::SYS_gettid);
                if let Ok(thread) = libc::id_t::try_from(thread) {
                    // A new thread starts at its spawner's niceness: the server's.
                    let server = libc::getpriority(libc::PRIO_PROCESS, thread);
                    libc::setpriority(libc::PRIO_PROCESS, thread, hashing_niceness(server));
                }
            }
            PasswordScheduling::Idle => {
                let param = libc::sched_param { sched_priority: 0 };
                libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
            }
        }
    }
}

/// Warns, once at start, when the kernel's autogroups are on
/// (`kernel.sched_autogroup_enabled=1`, Debian's default): each core is then
/// shared first between sessions — this server's, PostgreSQL's — and a
/// priority ranks the hashing only within this server's share. The CPU
/// budget still bounds what the hashing takes on average, but a hash that
/// runs beside a PostgreSQL backend takes half its core for its whole
/// time slice, which reads feel.
pub fn warn_if_autogrouped(scheduling: PasswordScheduling) {
    const SYSCTL: &str = "/proc/sys/kernel/sched_autogroup_enabled";
    let grouped = std::fs::read_to_string(SYSCTL).is_ok_and(|on| on.trim() == "1");
    if grouped && scheduling != PasswordScheduling::Normal {
        tracing::warn!(
            "kernel.sched_autogroup_enabled is 1: password hashing stays within its CPU budget, \
             but its lower priority does not hold against PostgreSQL; set it to 0 (sysctl) so \
             that reads keep their latency during a flood of logins"
        );
    }
}

fn argon2_with(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

thread_local! {
    /// Each hashing thread's Argon2 memory (19 MiB in production), kept from
    /// one password to the next. Allocated anew each time, it was mapped and
    /// unmapped by every login, and with the hashing threads at a low
    /// priority requests stalled for tens of milliseconds (most likely behind
    /// the process's memory-map lock, held by a preempted hashing thread).
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Argon2id of `password` with `salt`, `len` bytes long, computed in this
/// thread's memory.
fn output_of(
    params: &Params,
    password: &[u8],
    salt: Salt<'_>,
    len: usize,
) -> password_hash::Result<Output> {
    let mut bytes = [0u8; Salt::MAX_LENGTH];
    let salt = salt.decode_b64(&mut bytes)?;
    Output::init_with(len, |out| {
        MEMORY.with_borrow_mut(|memory| {
            memory.resize(params.block_count(), Block::default());
            argon2_with(params)
                .hash_password_into_with_memory(password, salt, out, memory.as_mut_slice())
                .map_err(|_| password_hash::Error::Crypto)
        })
    })
}

fn hash_with(params: &Params, password: &str) -> anyhow::Result<String> {
    let failed = |e: password_hash::Error| anyhow::anyhow!("hashing a password: {e}");
    let salt = SaltString::generate(&mut OsRng);
    let output = output_of(
        params,
        password.as_bytes(),
        salt.as_salt(),
        Params::DEFAULT_OUTPUT_LEN,
    )
    .map_err(failed)?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(failed)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// Whether `stored` is an Argon2id hash of today's cost (memory,
/// iterations, lanes); one that is not is made again at a successful login.
fn at_todays_cost(params: &Params, stored: &PasswordHash) -> bool {
    stored.algorithm == Algorithm::Argon2id.ident()
        && Params::try_from(stored).is_ok_and(|p| {
            (p.m_cost(), p.t_cost(), p.p_cost())
                == (params.m_cost(), params.t_cost(), params.p_cost())
        })
}

/// Whether `password` gives `stored`. A hash of today's cost and version
/// is recomputed in this thread's memory and compared in constant time;
/// another (an older cost, another variant) through the crate's verifier.
fn matches(params: &Params, password: &[u8], stored: &PasswordHash) -> bool {
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
        return false;
    };
    if !(at_todays_cost(params, stored) && stored.version == Some(Version::V0x13.into())) {
        return argon2_with(params)
            .verify_password(password, stored)
            .is_ok();
    }
    output_of(params, password, salt, expected.len()).is_ok_and(|computed| computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(memory_kib: u32) -> PasswordHasherPool {
        scheduled(memory_kib, PasswordScheduling::Normal)
    }

    fn scheduled(memory_kib: u32, scheduling: PasswordScheduling) -> PasswordHasherPool {
        let mut settings = crate::config::Settings::for_tests(String::new(), "./var".into()).auth;
        settings.argon2_memory_kib = memory_kib;
        settings.password_scheduling = scheduling;
        PasswordHasherPool::new(&settings).unwrap()
    }

    /// The calling thread's niceness.
    fn niceness() -> libc::c_int {
        // SAFETY: plain system calls on the calling thread.
        unsafe {
            let thread = libc::syscall(libc::SYS_gettid);
            libc::getpriority(
                libc::PRIO_PROCESS,
                libc::id_t::try_from(thread).unwrap_or(0),
            )
        }
    }

    #[tokio::test]
    async fn hashing_runs_at_the_priority_asked_and_survives_a_panic() {
        let here = niceness();
        let nice = scheduled(1024, PasswordScheduling::Nice);
        let there = nice.run(|| Ok(niceness())).await.unwrap();
        assert_eq!(there, hashing_niceness(here), "requests at {here}");
        assert!(
            there > here || here == NICEST,
            "{there} (requests at {here})"
        );
        let idle = scheduled(1024, PasswordScheduling::Idle);
        // SAFETY: reads the calling thread's policy.
        let policy = idle
            .run(|| Ok(unsafe { libc::sched_getscheduler(0) }))
            .await;
        assert_eq!(policy.unwrap(), libc::SCHED_IDLE);
        let pool = pool(1024);
        assert_eq!(pool.run(|| Ok(niceness())).await.unwrap(), here);
        let panicked = pool
            .run(|| -> Result<(), HashError> { panic!("a bug") })
            .await;
        assert!(matches!(panicked, Err(HashError::Failed(_))));
        // The threads still answer.
        assert!(pool.hash("cheval agrafe pile".into()).await.is_ok());
        assert!(pool.hash("cheval agrafe pile".into()).await.is_ok());
    }

    /// Busy for `seconds` of this thread's CPU time.
    fn spin(seconds: f64) {
        let started = thread_cpu_seconds();
        while thread_cpu_seconds() - started < seconds {
            std::hint::spin_loop();
        }
    }

    #[test]
    fn the_hashing_takes_no_more_cpu_than_its_budget() {
        // A tenth of a core: after the burst saved up, 0.3 s of CPU more
        // cannot be spent in less than 3 s.
        let budget = CpuBudget::new(0.1);
        let started = Instant::now();
        let mut spent = 0.0;
        while spent < BUDGET_BURST_SECS + 0.3 {
            budget.wait();
            spin(0.05);
            budget.pay(0.05);
            spent += 0.05;
        }
        assert!(
            started.elapsed() >= Duration::from_millis(2_500),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn logins_beyond_the_queue_are_refused_at_once_and_counted() {
        let mut settings = crate::config::Settings::for_tests(String::new(), "./var".into()).auth;
        settings.argon2_memory_kib = 1024;
        settings.password_concurrency = 1;
        settings.password_queue = 1;
        let pool = PasswordHasherPool::new(&settings).unwrap();
        // One hash runs (held), one waits for it: the queue is full.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started, has_started) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(move || {
                    let _ = started.send(());
                    Ok(held.recv().is_ok())
                })
                .await
            }
        });
        has_started.await.unwrap();
        let waiting = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(|| Ok(())).await }
        });
        while pool.current_load().queued == 0 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(pool.run(|| Ok(())).await, Err(HashError::Busy)));
        assert_eq!(
            pool.current_load(),
            PasswordLoad {
                queued: 1,
                refused: 1
            }
        );
        release.send(()).unwrap();
        assert!(running.await.unwrap().unwrap());
        waiting.await.unwrap().unwrap();
        assert_eq!(pool.current_load().queued, 0);
    }

    #[test]
    fn hashing_is_ten_steps_nicer_than_the_server_as_far_as_the_scale_goes() {
        assert_eq!(hashing_niceness(0), 10);
        assert_eq!(hashing_niceness(-5), 5);
        assert_eq!(hashing_niceness(5), 15);
        assert_eq!(hashing_niceness(15), 19);
        assert_eq!(hashing_niceness(19), 19);
    }

    #[tokio::test]
    async fn verifies_and_upgrades_old_parameters() {
        let old = pool(1024);
        let hash = old.hash("cheval agrafe pile".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert_eq!(
            old.verify("cheval agrafe pile".into(), Some(hash.clone()))
                .await
                .unwrap(),
            Verified::Yes { rehash: None }
        );
        assert_eq!(
            old.verify("wrong".into(), Some(hash.clone()))
                .await
                .unwrap(),
            Verified::No
        );

        let new = pool(2048);
        let Verified::Yes {
            rehash: Some(upgraded),
        } = new
            .verify("cheval agrafe pile".into(), Some(hash))
            .await
            .unwrap()
        else {
            panic!("an old hash is upgraded");
        };
        assert!(upgraded.contains("m=2048"), "{upgraded}");
    }

    /// The hashes made in a thread's kept memory are the crate's own: each
    /// verifies the other's, and a wrong password or a changed salt fails.
    #[test]
    fn hashes_in_kept_memory_are_the_crates_own() {
        use argon2::password_hash::PasswordHasher;
        let params = Params::new(1024, 2, 1, None).unwrap();
        let ours = hash_with(&params, "cheval agrafe pile").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            argon2_with(&params)
                .verify_password(b"cheval agrafe pile", &parsed)
                .is_ok()
        );
        let salt = SaltString::generate(&mut OsRng);
        let theirs = argon2_with(&params)
            .hash_password(b"cheval agrafe pile", &salt)
            .unwrap()
            .to_string();
        let parsed = PasswordHash::new(&theirs).unwrap();
        assert!(matches(&params, b"cheval agrafe pile", &parsed));
        assert!(!matches(&params, b"cheval agrafe pilE", &parsed));
        let fresh = SaltString::generate(&mut OsRng);
        let other_salt = theirs.replacen(salt.as_str(), fresh.as_str(), 1);
        assert_ne!(other_salt, theirs);
        assert!(!matches(
            &params,
            b"cheval agrafe pile",
            &PasswordHash::new(&other_salt).unwrap()
        ));
        // The same memory serves the next password, and another cost.
        let bigger = Params::new(2048, 2, 1, None).unwrap();
        let again = hash_with(&bigger, "autre phrase de passe").unwrap();
        assert!(matches(
            &bigger,
            b"autre phrase de passe",
            &PasswordHash::new(&again).unwrap()
        ));
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        let pool = pool(1024);
        let dummy = "parcours-dummy-password-for-unknown-users".to_owned();
        assert_eq!(pool.verify(dummy, None).await.unwrap(), Verified::No);
    }
}
