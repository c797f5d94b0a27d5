//! Runs a part of the benchmark on one CPU: this process's main thread is pinned, and every
//! process it starts meanwhile (the emulator, each client) inherits the pinning.
//!
//! Why (docs/perf/rtt7.md): a round trip is a ping-pong between the client and the emulator,
//! and what one round trip costs the client in CPU depends on where the scheduler put the two.
//! On the 2-core VM the benchmarks run on, the same client's CPU per round trip was ≈ 11 µs with
//! the emulator on its CPU and ≈ 35 µs with the emulator on the other (each wake-up of the peer
//! crosses CPUs), and an unpinned run is either, or a mix: one run in five of either client was
//! 1.5–4 × its median, so the ratio of two clients' medians of 3 runs moved between 0.4 and
//! 3.7. With both on one CPU, the same pairs of runs agreed within a few percent.

use std::process::Command;

/// The main thread pinned to one CPU until dropped (then its former CPUs are restored).
pub struct OneCpu {
    pid: String,
    /// The affinity mask before (`taskset`'s hexadecimal form).
    before: String,
    /// The CPU pinned to.
    pub cpu: u32,
}

impl OneCpu {
    /// Pins this process's main thread to the first CPU it may run on. `Err` (and nothing
    /// pinned) if `taskset` is missing or refuses.
    pub fn pin() -> Result<OneCpu, String> {
        let pid = std::process::id().to_string();
        let out = Command::new("taskset")
            .args(["-p", &pid])
            .output()
            .map_err(|e| format!("cannot run taskset: {e}"))?;
        // "pid 123's current affinity mask: 3"
        let text = String::from_utf8_lossy(&out.stdout);
        let before = text.rsplit(':').next().map(str::trim).unwrap_or_default().to_owned();
        let mask =
            u128::from_str_radix(&before, 16).map_err(|_| format!("unexpected taskset output {text:?}"))?;
        if mask == 0 {
            return Err(format!("unexpected taskset output {text:?}"));
        }
        let cpu = mask.trailing_zeros();
        taskset(&["-p", "-c", &cpu.to_string(), &pid])?;
        Ok(OneCpu { pid, before, cpu })
    }
}

impl Drop for OneCpu {
    fn drop(&mut self) {
        if let Err(e) = taskset(&["-p", &self.before, &self.pid]) {
            eprintln!("bench: could not restore the CPU affinity: {e}");
        }
    }
}

fn taskset(args: &[&str]) -> Result<(), String> {
    let out = Command::new("taskset").args(args).output().map_err(|e| format!("cannot run taskset: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("taskset {args:?}: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::{OneCpu, taskset};
    use std::process::Command;

    /// The main thread's affinity mask as `taskset` prints it.
    fn mask() -> Option<String> {
        let out = Command::new("taskset").args(["-p", &std::process::id().to_string()]).output().ok()?;
        Some(String::from_utf8_lossy(&out.stdout).rsplit(':').next()?.trim().to_owned())
    }

    #[test]
    fn pins_the_main_thread_to_one_cpu_and_restores_it() {
        let Some(before) = mask() else {
            // No taskset here: pinning says so instead of running unpinned silently.
            assert!(OneCpu::pin().is_err());
            assert!(taskset(&["-p", "1"]).is_err());
            return;
        };
        let pinned = match OneCpu::pin() {
            Ok(p) => p,
            // Affinity refused here (a restricted container): said, and nothing changed.
            Err(e) => {
                assert!(e.contains("taskset"), "{e}");
                assert_eq!(mask().unwrap(), before);
                return;
            }
        };
        let during = u128::from_str_radix(&mask().unwrap(), 16).unwrap();
        assert_eq!(during, 1 << pinned.cpu, "one CPU, the first allowed before");
        assert_eq!(u128::from_str_radix(&before, 16).unwrap().trailing_zeros(), pinned.cpu);
        drop(pinned);
        assert_eq!(mask().unwrap(), before, "restored");
    }
}
