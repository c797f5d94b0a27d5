//! The fleet's OS processes: gateways and workers started from the CLI (`slack-rtm fleet
//! gateway`, `slack-rtm fleet tail`), killed with SIGKILL as faults, restarted, and stopped
//! with SIGTERM at the end.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to start the processes.
pub struct Launcher {
    /// The `slack-rtm` binary.
    pub cli: PathBuf,
    pub redis_url: String,
    pub api_url: String,
    pub app_token: String,
    /// Where each process instance writes its output.
    pub dir: PathBuf,
    pub connections: usize,
    pub claim_idle_ms: u64,
    /// A handler that takes this long an event (`--exec 'sleep …'`), if not 0: events wait
    /// longer between being printed and acked, so a SIGKILLed tail leaves duplicates.
    pub handler_ms: u64,
}

/// A gateway or a worker slot; each (re)start is a new instance `<name>-<generation>`.
pub struct Slot {
    pub gateway: bool,
    pub name: String,
    pub generation: u32,
    pub child: Option<Child>,
    pub restart_at: Option<Instant>,
    pub started: Instant,
}

impl Slot {
    /// The running (or last) instance's name: `g0-1`, `w2-3`, …
    pub fn instance(&self) -> String {
        format!("{}-{}", self.name, self.generation)
    }
}

fn output(dir: &Path, name: &str) -> std::io::Result<File> {
    File::create(dir.join(name))
}

impl Launcher {
    fn command(&self, gateway: bool, instance: &str) -> Command {
        let mut cmd = Command::new(&self.cli);
        cmd.args(["fleet", if gateway { "gateway" } else { "tail" }]);
        cmd.args(["--redis", &self.redis_url, "--app", "soak"]);
        if gateway {
            cmd.args(["--connections", &self.connections.to_string(), "--api-url", &self.api_url]);
            cmd.env("SLACK_APP_TOKEN", &self.app_token);
        } else {
            cmd.args(["--group", "soak", "--consumer", instance]);
            cmd.args(["--claim-idle-ms", &self.claim_idle_ms.to_string()]);
            if self.handler_ms > 0 {
                cmd.args(["--exec", &format!("sleep {:.3}", self.handler_ms as f64 / 1000.0)]);
            }
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Starts the slot's next instance: stdout to `<instance>.jsonl` (workers: one event a
    /// line) or `<instance>.log`, stderr to `<instance>.err`.
    pub fn start(&self, slot: &mut Slot) -> std::io::Result<()> {
        slot.generation += 1;
        let instance = slot.instance();
        let mut cmd = self.command(slot.gateway, &instance);
        let out = if slot.gateway { format!("{instance}.log") } else { format!("{instance}.jsonl") };
        cmd.stdout(output(&self.dir, &out)?).stderr(output(&self.dir, &format!("{instance}.err"))?);
        slot.child = Some(cmd.spawn()?);
        slot.restart_at = None;
        slot.started = Instant::now();
        Ok(())
    }
}

/// Every slot, and what happened to them.
pub struct Fleet {
    pub launcher: Launcher,
    pub slots: Vec<Slot>,
    /// Worker instances killed with SIGKILL, and when (Unix ms).
    pub killed_workers: BTreeMap<String, u64>,
    pub gateway_kills: u64,
    pub worker_kills: u64,
    /// Processes that exited without being killed (restarted after a pause).
    pub unexpected_exits: Vec<String>,
    pub restarts: u64,
}

impl Fleet {
    /// Starts `gateways` gateway and `workers` worker processes.
    pub fn start(launcher: Launcher, gateways: usize, workers: usize) -> std::io::Result<Self> {
        let mut slots = Vec::new();
        for (gateway, n, prefix) in [(true, gateways, "g"), (false, workers, "w")] {
            for i in 0..n {
                let name = format!("{prefix}{i}");
                slots.push(Slot {
                    gateway,
                    name,
                    generation: 0,
                    child: None,
                    restart_at: None,
                    started: Instant::now(),
                });
            }
        }
        let mut fleet = Self {
            launcher,
            slots,
            killed_workers: BTreeMap::new(),
            gateway_kills: 0,
            worker_kills: 0,
            unexpected_exits: Vec::new(),
            restarts: 0,
        };
        for slot in &mut fleet.slots {
            fleet.launcher.start(slot)?;
        }
        Ok(fleet)
    }

    /// Restarts what is due, and notices processes that exited by themselves (restarted 1 s
    /// later). Returns a start error, if any.
    pub fn supervise(&mut self, now: Instant) -> std::io::Result<()> {
        for slot in &mut self.slots {
            if let Some(child) = &mut slot.child
                && let Ok(Some(status)) = child.try_wait()
            {
                let instance = slot.instance();
                let err = std::fs::read_to_string(self.launcher.dir.join(format!("{instance}.err")))
                    .unwrap_or_default();
                let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").to_owned();
                self.unexpected_exits.push(format!("{instance} exited ({status}): {last}"));
                slot.child = None;
                slot.restart_at = Some(now + Duration::from_secs(1));
            }
            if slot.child.is_none() && slot.restart_at.is_some_and(|t| t <= now) {
                self.launcher.start(slot)?;
                self.restarts += 1;
            }
        }
        Ok(())
    }

    /// SIGKILLs a random running gateway (`gateway`) or worker; it restarts after `pause`.
    /// Returns the instance killed.
    pub fn kill_one(&mut self, gateway: bool, pick: u64, pause: Duration, now_ms: u64) -> Option<String> {
        let running: Vec<usize> = (0..self.slots.len())
            .filter(|i| self.slots[*i].gateway == gateway && self.slots[*i].child.is_some())
            .collect();
        let slot = &mut self.slots[*running.get(pick as usize % running.len().max(1))?];
        let mut child = slot.child.take()?;
        let _ = child.kill();
        let _ = child.wait();
        slot.restart_at = Some(Instant::now() + pause);
        let instance = slot.instance();
        if gateway {
            self.gateway_kills += 1;
        } else {
            self.worker_kills += 1;
            self.killed_workers.insert(instance.clone(), now_ms);
        }
        Some(instance)
    }

    /// Every slot waiting for a restart restarts now.
    pub fn restart_all_now(&mut self) -> std::io::Result<()> {
        let now = Instant::now();
        for slot in &mut self.slots {
            if slot.child.is_none() {
                slot.restart_at = Some(now);
            }
        }
        self.supervise(now)
    }

    /// SIGTERM to every process; SIGKILL to those still running after `grace`. Returns the
    /// instances that had to be killed.
    pub fn terminate(&mut self, grace: Duration) -> Vec<String> {
        for slot in &self.slots {
            if let Some(child) = &slot.child {
                let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            }
        }
        let deadline = Instant::now() + grace;
        let mut forced = Vec::new();
        for slot in &mut self.slots {
            let Some(mut child) = slot.child.take() else { continue };
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if Instant::now() >= deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    forced.push(slot.instance());
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        forced
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for slot in &mut self.slots {
            if let Some(mut child) = slot.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}
