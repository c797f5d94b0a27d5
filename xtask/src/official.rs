//! The official Slack clients, installed under `target/` and driven by the scripts in
//! `xtask/clients/`: Node `@slack/rtm-api` and `@slack/socket-mode` (their `slackApiUrl`
//! option) and Python `slack-sdk` (`slack_sdk.rtm_v2.RTMClient` and
//! `slack_sdk.socket_mode.builtin.SocketModeClient`, `base_url`).
//!
//! Shared by `cargo xtask conformance` (issue 3: fidelity of the emulator) and the end-to-end
//! benchmarks (issue 6). Also starts the standalone emulator binary as a child process
//! ([`EmulatorProcess`]) and runs child processes with a deadline ([`run_with_timeout`]).
//!
//! Everything goes through `std::process::Command`: `npm install --prefix`, `python3 -m venv`
//! and the venv's `pip`, with pinned versions. Installing is skipped when a stamp file says the
//! same versions are already there.

// Shared by two commands: what one of them does not use is not dead.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// `@slack/rtm-api`: the latest 7.x.
pub const NODE_RTM_API_VERSION: &str = "7.0.4";
/// `@slack/socket-mode`: the latest release (it needs Node 20 or later).
pub const NODE_SOCKET_MODE_VERSION: &str = "3.1.0";
/// `slack-sdk` (Python): the latest release. Its `rtm_v2` client uses the SDK's built-in
/// WebSocket connection, so neither `websocket-client` nor `aiohttp` is needed.
pub const PYTHON_SLACK_SDK_VERSION: &str = "3.48.0";

/// One of the official clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Official {
    /// Node `@slack/rtm-api`.
    Node,
    /// Python `slack_sdk.rtm_v2`.
    Python,
}

impl Official {
    /// Both, in the order they are run.
    pub const ALL: [Official; 2] = [Official::Node, Official::Python];

    /// Short name: `node` or `python`.
    pub fn name(self) -> &'static str {
        match self {
            Official::Node => "node",
            Official::Python => "python",
        }
    }

    /// The `client` field of its bench JSON line.
    pub fn bench_id(self) -> &'static str {
        match self {
            Official::Node => "node-rtm-api",
            Official::Python => "python-slack-sdk",
        }
    }

    /// The `client` field of its Socket Mode bench JSON line.
    pub fn sm_bench_id(self) -> &'static str {
        match self {
            Official::Node => "node-socket-mode",
            Official::Python => "python-socket-mode",
        }
    }

    /// Parses `node` / `python` (also `js`, `py`).
    pub fn parse(s: &str) -> Option<Official> {
        match s {
            "node" | "js" => Some(Official::Node),
            "python" | "py" => Some(Official::Python),
            _ => None,
        }
    }

    fn script_ext(self) -> &'static str {
        match self {
            Official::Node => "js",
            Official::Python => "py",
        }
    }
}

/// Where the installed clients are.
#[derive(Clone, Debug)]
pub struct OfficialClients {
    /// `target/official`.
    pub root: PathBuf,
    /// `target/official/node/node_modules` (given to node as `NODE_PATH`).
    pub node_modules: PathBuf,
    /// The venv's interpreter, `target/official/venv/bin/python`.
    pub python: PathBuf,
    /// `xtask/clients`: the scripts.
    pub scripts: PathBuf,
}

impl OfficialClients {
    /// A command running `xtask/clients/<stem>.<js|py>` with `client`'s runtime and the
    /// installed packages.
    pub fn script_command(&self, client: Official, stem: &str) -> Command {
        let script = self.scripts.join(format!("{stem}.{}", client.script_ext()));
        match client {
            Official::Node => {
                let mut cmd = Command::new("node");
                cmd.env("NODE_PATH", &self.node_modules).arg(script);
                cmd
            }
            Official::Python => {
                let mut cmd = Command::new(&self.python);
                // No user site-packages, no .pyc writes into the tree; unbuffered output.
                cmd.env("PYTHONNOUSERSITE", "1")
                    .env("PYTHONDONTWRITEBYTECODE", "1")
                    .env("PYTHONUNBUFFERED", "1")
                    .arg(script);
                cmd
            }
        }
    }
}

/// The workspace root (the folder of the top `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

/// The cargo that runs this xtask (`$CARGO`), else `cargo` from the PATH.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// `CARGO_TARGET_DIR`, else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() { dir } else { workspace_root().join(dir) }
        }
        _ => workspace_root().join("target"),
    }
}

/// Installs (or finds already installed) both official clients under
/// `<target_dir>/official`. Idempotent: each client has a stamp file naming the pinned
/// version, and is skipped when the stamp matches and its files are there.
pub fn install_official_clients(target_dir: &Path) -> Result<OfficialClients, String> {
    let root = target_dir.join("official");
    fs::create_dir_all(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let clients = OfficialClients {
        node_modules: root.join("node").join("node_modules"),
        python: root.join("venv").join("bin").join("python"),
        scripts: workspace_root().join("xtask").join("clients"),
        root,
    };
    install_node(&clients)?;
    install_python(&clients)?;
    Ok(clients)
}

fn stamp_ok(stamp: &Path, want: &str, files: &[&Path]) -> bool {
    fs::read_to_string(stamp).is_ok_and(|s| s == want) && files.iter().all(|f| f.exists())
}

fn install_node(c: &OfficialClients) -> Result<(), String> {
    let prefix = c.root.join("node");
    let stamp = c.root.join("node.stamp");
    let want =
        format!("@slack/rtm-api@{NODE_RTM_API_VERSION}\n@slack/socket-mode@{NODE_SOCKET_MODE_VERSION}\n");
    let package = c.node_modules.join("@slack").join("rtm-api").join("package.json");
    let sm_package = c.node_modules.join("@slack").join("socket-mode").join("package.json");
    if stamp_ok(&stamp, &want, &[&package, &sm_package]) {
        return Ok(());
    }
    check_tool(
        "node",
        &["--version"],
        "Node.js (with npm) is needed for @slack/rtm-api and @slack/socket-mode",
    )?;
    eprintln!(
        "installing @slack/rtm-api@{NODE_RTM_API_VERSION} and @slack/socket-mode@{NODE_SOCKET_MODE_VERSION} into {}",
        prefix.display()
    );
    let _ = fs::remove_file(&stamp);
    fs::create_dir_all(&prefix).map_err(|e| format!("cannot create {}: {e}", prefix.display()))?;
    let mut npm = Command::new("npm");
    npm.arg("install")
        .arg("--prefix")
        .arg(&prefix)
        .args(["--no-audit", "--no-fund", "--save-exact", "--loglevel=error"])
        .arg(format!("@slack/rtm-api@{NODE_RTM_API_VERSION}"))
        .arg(format!("@slack/socket-mode@{NODE_SOCKET_MODE_VERSION}"));
    run_checked(npm, Duration::from_secs(600), "npm install @slack/rtm-api @slack/socket-mode")?;
    for p in [&package, &sm_package] {
        if !p.exists() {
            return Err(format!("npm install finished but {} is missing", p.display()));
        }
    }
    fs::write(&stamp, want).map_err(|e| format!("cannot write {}: {e}", stamp.display()))
}

fn install_python(c: &OfficialClients) -> Result<(), String> {
    let venv = c.root.join("venv");
    let stamp = c.root.join("python.stamp");
    let want = format!("slack-sdk=={PYTHON_SLACK_SDK_VERSION}\n");
    if stamp_ok(&stamp, &want, &[&c.python]) {
        return Ok(());
    }
    check_tool("python3", &["--version"], "Python 3 (with the venv module) is needed for slack-sdk")?;
    eprintln!("installing slack-sdk=={PYTHON_SLACK_SDK_VERSION} into {}", venv.display());
    let _ = fs::remove_file(&stamp);
    if !c.python.exists() {
        let mut mk = Command::new("python3");
        mk.args(["-m", "venv"]).arg(&venv);
        run_checked(
            mk,
            Duration::from_secs(300),
            "python3 -m venv (on Debian: apt-get install python3-venv)",
        )?;
    }
    let mut pip = Command::new(&c.python);
    pip.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("slack-sdk=={PYTHON_SLACK_SDK_VERSION}"));
    run_checked(pip, Duration::from_secs(600), "pip install slack-sdk")?;
    let mut check = Command::new(&c.python);
    check.args(["-c", "import slack_sdk.rtm_v2, slack_sdk.socket_mode.builtin"]);
    run_checked(check, Duration::from_secs(60), "import slack_sdk.rtm_v2, slack_sdk.socket_mode.builtin")?;
    fs::write(&stamp, want).map_err(|e| format!("cannot write {}: {e}", stamp.display()))
}

fn check_tool(program: &str, args: &[&str], why: &str) -> Result<(), String> {
    match Command::new(program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("`{program}` does not work ({s}): {why}")),
        Err(e) => Err(format!("cannot run `{program}` ({e}): {why}")),
    }
}

fn run_checked(cmd: Command, timeout: Duration, what: &str) -> Result<(), String> {
    let out = run_with_timeout(cmd, timeout).map_err(|e| format!("{what}: {e}"))?;
    match out.status {
        Some(s) if s.success() => Ok(()),
        Some(s) => Err(format!("{what} failed ({s}): {}", tail(&out.stderr, 20))),
        None => Err(format!("{what}: killed after {timeout:?}")),
    }
}

/// What a child process left behind.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status; `None` when it was killed at the deadline.
    pub status: Option<ExitStatus>,
    /// Everything it wrote on stdout.
    pub stdout: String,
    /// Everything it wrote on stderr.
    pub stderr: String,
}

/// Runs `cmd` (stdin closed, stdout and stderr captured) and kills it if it is still running
/// after `timeout`.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Result<Finished, String> {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let deadline = started + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("cannot wait for {:?}: {e}", cmd.get_program()));
            }
        }
    };
    Ok(Finished { status, stdout: join_drain(out), stderr: join_drain(err) })
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> Option<thread::JoinHandle<String>> {
    pipe.map(|mut p| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = p.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    })
}

fn join_drain(h: Option<thread::JoinHandle<String>>) -> String {
    h.and_then(|h| h.join().ok()).unwrap_or_default()
}

/// The last `lines` non-empty lines of `s`, joined with ` | `.
pub fn tail(s: &str, lines: usize) -> String {
    let all: Vec<&str> = s.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect();
    let from = all.len().saturating_sub(lines);
    let t = all[from..].join(" | ");
    if t.is_empty() { "(no output)".to_owned() } else { t }
}

/// What a bench run measures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BenchMode {
    /// Count `n` blast `message` events (the emulator runs with `--blast n`).
    Events,
    /// `n` messages one at a time, each awaiting its ack, posted in `channel` (the emulator
    /// runs with `--no-rate-limit` and without `--blast`).
    Rtt {
        /// A channel the token's user is in (the emulator prints it as `SLACK_CHANNEL=`).
        channel: String,
    },
    /// Socket Mode: ack and count `n` `events_api` envelopes (the emulator runs with
    /// `--sm-blast n`; the token is the app-level token).
    Envelopes,
}

/// Runs one official client's bench script (`xtask/clients/bench.{js,py}`, or
/// `bench_socket_mode.{js,py}` for [`BenchMode::Envelopes`]) and returns its
/// JSON line: `{"client","mode","n","connect_to_hello_us","elapsed_us","cpu_us",
/// "peak_rss_kb"}`. A client that crashes, reconnects mid-run, prints no valid line or is still
/// running after `timeout` (it is then killed) gives an `Err` with the reason.
pub fn run_official_bench(
    clients: &OfficialClients,
    client: Official,
    api_url: &str,
    token: &str,
    mode: &BenchMode,
    n: u64,
    timeout: Duration,
) -> Result<String, String> {
    let stem = if *mode == BenchMode::Envelopes { "bench_socket_mode" } else { "bench" };
    let mut cmd = clients.script_command(client, stem);
    cmd.arg(api_url).arg(token);
    match mode {
        BenchMode::Events => cmd.arg("events").arg(n.to_string()),
        BenchMode::Rtt { channel } => cmd.arg("rtt").arg(n.to_string()).arg(channel),
        BenchMode::Envelopes => cmd.arg("envelopes").arg(n.to_string()),
    };
    let name = if *mode == BenchMode::Envelopes { client.sm_bench_id() } else { client.bench_id() };
    let out = run_with_timeout(cmd, timeout)?;
    match out.status {
        None => {
            return Err(format!(
                "{name}: no result within {timeout:?} (killed); stderr: {}",
                tail(&out.stderr, 5)
            ));
        }
        Some(s) if !s.success() => {
            return Err(format!("{name}: exited with {s}: {}", tail(&out.stderr, 5)));
        }
        Some(_) => {}
    }
    let line = out
        .stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .ok_or_else(|| format!("{name}: no JSON line on stdout: {}", tail(&out.stdout, 3)))?
        .trim();
    let v: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("{name}: bad JSON line ({e}): {line}"))?;
    for key in ["connect_to_hello_us", "elapsed_us", "cpu_us", "peak_rss_kb", "n"] {
        if !v.get(key).is_some_and(serde_json::Value::is_u64) {
            return Err(format!("{name}: `{key}` missing or not a count in {line}"));
        }
    }
    if v.get("client").and_then(|c| c.as_str()) != Some(name) {
        return Err(format!("{name}: unexpected `client` in {line}"));
    }
    Ok(line.to_owned())
}

/// Builds the standalone emulator (`cargo build -p slack-rtm-emulator --features blast`,
/// release unless `release` is false) and returns the binary's path. With `blast`, as
/// [`crate::bench::build_release`] builds it: the same binary, never rebuilt between them.
pub fn build_emulator(release: bool) -> Result<PathBuf, String> {
    let mut cmd = Command::new(cargo());
    cmd.current_dir(workspace_root()).args(["build", "--quiet", "-p", "slack-rtm-emulator", "--bin"]);
    cmd.args(["slack-rtm-emulator", "--features", "blast"]);
    if release {
        cmd.arg("--release");
    }
    let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building slack-rtm-emulator failed ({status})"));
    }
    let bin = target_dir().join(if release { "release" } else { "debug" }).join("slack-rtm-emulator");
    if bin.exists() { Ok(bin) } else { Err(format!("{} not found after the build", bin.display())) }
}

/// The standalone emulator running as a child process; killed (and reaped) on drop.
pub struct EmulatorProcess {
    child: Child,
    /// Its stdout lines after the start-up lines.
    lines: mpsc::Receiver<String>,
    /// `SLACK_APP_TOKEN`: a valid app-level token (empty if this emulator does not print it).
    pub app_token: String,
    /// `SLACK_API_URL`, e.g. `http://127.0.0.1:PORT/api/`.
    pub api_url: String,
    /// `SLACK_TOKEN`: a valid bot token.
    pub token: String,
    /// `SLACK_CHANNEL`: the general channel (empty if this emulator does not print it).
    pub channel: String,
}

impl EmulatorProcess {
    /// Starts `bin` with `args` (e.g. `--blast 20000 --no-rate-limit`) on a free port and
    /// waits (up to 10 s) for the lines it prints on stdout.
    pub fn start(bin: &Path, args: &[&str]) -> Result<EmulatorProcess, String> {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let (tx, rx) = mpsc::channel::<String>();
        if let Some(stdout) = child.stdout.take() {
            // Keeps reading until the process ends, so it never blocks on a full pipe.
            thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        let stderr = drain(child.stderr.take());
        let mut emu = EmulatorProcess {
            child,
            lines: rx,
            app_token: String::new(),
            api_url: String::new(),
            token: String::new(),
            channel: String::new(),
        };
        let mut deadline = Instant::now() + Duration::from_secs(10);
        while emu.api_url.is_empty()
            || emu.token.is_empty()
            || emu.channel.is_empty()
            || emu.app_token.is_empty()
        {
            if !emu.api_url.is_empty() && !emu.token.is_empty() {
                // The lines come together; an emulator that does not print the channel or the
                // app token is not waited for long.
                deadline = deadline.min(Instant::now() + Duration::from_secs(1));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match emu.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(v) = line.strip_prefix("SLACK_API_URL=") {
                        emu.api_url = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("SLACK_TOKEN=") {
                        emu.token = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("SLACK_CHANNEL=") {
                        emu.channel = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("SLACK_APP_TOKEN=") {
                        emu.app_token = v.trim().to_owned();
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) if !emu.api_url.is_empty() && !emu.token.is_empty() => {
                    break;
                }
                Err(_) => {
                    let _ = emu.child.kill();
                    let _ = emu.child.wait();
                    return Err(format!(
                        "the emulator did not print SLACK_API_URL and SLACK_TOKEN: {}",
                        tail(&join_drain(stderr), 5)
                    ));
                }
            }
        }
        Ok(emu)
    }
}

impl std::fmt::Debug for EmulatorProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The tokens are secrets, even a local emulator's.
        f.debug_struct("EmulatorProcess")
            .field("pid", &self.child.id())
            .field("api_url", &self.api_url)
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl EmulatorProcess {
    /// The process id (to read its CPU time from `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The stdout lines printed since the last call (or since start-up), waiting up to `wait`
    /// for a line starting with `until` when given.
    pub fn lines(&mut self, until: Option<&str>, wait: Duration) -> Vec<String> {
        let deadline = Instant::now() + wait;
        let mut out = Vec::new();
        loop {
            while let Ok(line) = self.lines.try_recv() {
                out.push(line);
            }
            let found = until.is_none_or(|u| out.iter().any(|l| l.starts_with(u)));
            let left = deadline.saturating_duration_since(Instant::now());
            if found || left.is_zero() {
                return out;
            }
            match self.lines.recv_timeout(left.min(Duration::from_millis(50))) {
                Ok(line) => out.push(line),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return out,
            }
        }
    }

    /// `Some(status)` if the emulator is no longer running (it crashed or something killed it).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
