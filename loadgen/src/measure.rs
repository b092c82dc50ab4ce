//! Measuring: the generator's one monotonic clock, CPU time (user and system apart) and
//! memory of a process from /proc, latency percentiles, and the `key=value` line.

use std::fmt;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Nanoseconds on the generator's one monotonic clock.
pub fn now_ns() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// CPU time a process has used, user and system apart.
#[derive(Clone, Copy)]
pub struct Cpu {
    pub user: Duration,
    pub sys: Duration,
}

/// CPU time of a process (`pid`, or `self`), from /proc/PID/stat.
pub fn cpu_of(pid: &str) -> Option<Cpu> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses; utime and
    // stime are the 14th and 15th of the whole line.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    // Linux reports clock ticks of 1/100 s (USER_HZ) on every platform this runs on.
    Some(Cpu {
        user: Duration::from_millis(ticks(11)? * 10),
        sys: Duration::from_millis(ticks(12)? * 10),
    })
}

/// A stopwatch of one process's CPU time against wall time.
pub struct CpuClock {
    pid: Option<String>,
    start: Option<Cpu>,
    at: Instant,
}

impl CpuClock {
    /// Starts now for the process `pid` (none: nothing to measure).
    pub fn start(pid: Option<u32>) -> Self {
        Self::of(pid.map(|p| p.to_string()))
    }

    /// Starts now for the generator itself.
    pub fn start_self() -> Self {
        Self::of(Some("self".to_owned()))
    }

    fn of(pid: Option<String>) -> Self {
        let start = pid.as_deref().and_then(cpu_of);
        Self {
            pid,
            start,
            at: Instant::now(),
        }
    }

    /// What the process used from the start until now.
    pub fn read(&self) -> CpuUse {
        let now = self.pid.as_deref().and_then(cpu_of);
        let used = match (self.start, now) {
            (Some(a), Some(b)) => Some(Cpu {
                user: b.user.saturating_sub(a.user),
                sys: b.sys.saturating_sub(a.sys),
            }),
            _ => None,
        };
        CpuUse {
            used,
            elapsed: self.at.elapsed(),
        }
    }
}

/// Busy CPU time of the whole machine, all cores (/proc/stat: everything but idle and
/// iowait; guest time is already in user).
fn machine_busy() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    let busy = [0, 1, 2, 5, 6, 7]
        .iter()
        .map(|&i| ticks.get(i).copied().unwrap_or(0))
        .sum::<u64>();
    Some(Duration::from_millis(busy * 10))
}

/// The CPU of the server, of the generator and of the whole machine over one window.
pub struct Meter {
    server: CpuClock,
    own: CpuClock,
    machine: Option<Duration>,
}

impl Meter {
    pub fn start(server_pid: Option<u32>) -> Self {
        Self {
            server: CpuClock::start(server_pid),
            own: CpuClock::start_self(),
            machine: machine_busy(),
        }
    }

    pub fn read(&self) -> Usage {
        let server = self.server.read();
        let own = self.own.read();
        let others = match (self.machine, machine_busy(), server.total(), own.total()) {
            (Some(a), Some(b), Some(s), Some(o)) => {
                Some((b.saturating_sub(a)).saturating_sub(s + o))
            }
            _ => None,
        };
        Usage {
            server,
            own,
            others,
        }
    }
}

/// What [`Meter`] measured.
pub struct Usage {
    pub server: CpuUse,
    pub own: CpuUse,
    /// Every other process on the machine (a build next door skews the figures).
    pub others: Option<Duration>,
}

impl Usage {
    /// The window's length.
    pub fn elapsed(&self) -> Duration {
        self.server.elapsed
    }

    /// `server_*`, `loadgen_*` and `others_cpu_pct`.
    pub fn put(&self, figures: &mut Figures) {
        self.server.put(figures, "server");
        self.own.put(figures, "loadgen");
        figures.put("others_cpu_pct", self.server.pct(self.others));
    }
}

/// CPU time used over a wall-clock window.
pub struct CpuUse {
    pub used: Option<Cpu>,
    pub elapsed: Duration,
}

impl CpuUse {
    /// User + system time.
    pub fn total(&self) -> Option<Duration> {
        self.used.map(|c| c.user + c.sys)
    }

    fn pct(&self, time: Option<Duration>) -> String {
        match time {
            Some(t) if !self.elapsed.is_zero() => {
                format!(
                    "{:.1}",
                    100.0 * t.as_secs_f64() / self.elapsed.as_secs_f64()
                )
            }
            _ => "?".to_owned(),
        }
    }

    /// `<prefix>_cpu_pct`, `<prefix>_user_pct`, `<prefix>_sys_pct` (100 = one core).
    pub fn put(&self, figures: &mut Figures, prefix: &str) {
        figures.put(format!("{prefix}_cpu_pct"), self.pct(self.total()));
        figures.put(
            format!("{prefix}_user_pct"),
            self.pct(self.used.map(|c| c.user)),
        );
        figures.put(
            format!("{prefix}_sys_pct"),
            self.pct(self.used.map(|c| c.sys)),
        );
    }
}

/// A `Key:   1234 kB` line of a /proc file, in KiB.
fn proc_kib(path: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// Resident set size (VmRSS) of a process, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    proc_kib(&format!("/proc/{pid}/status"), "VmRSS:")
}

/// Proportional set size of a process (shared pages split among their users), in KiB.
pub fn pss_kib(pid: u32) -> Option<u64> {
    proc_kib(&format!("/proc/{pid}/smaps_rollup"), "Pss:")
}

/// The `p` quantile (0 to 1) of sorted nanoseconds, in milliseconds.
pub fn percentile_ms(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank] as f64 / 1e6
}

/// Latency p50/p99/max of sorted nanoseconds: `p50_ms`, `p99_ms`, `max_ms`.
pub fn put_latencies(figures: &mut Figures, sorted: &[u64]) {
    figures.put("p50_ms", format!("{:.2}", percentile_ms(sorted, 0.5)));
    figures.put("p99_ms", format!("{:.2}", percentile_ms(sorted, 0.99)));
    figures.put("max_ms", format!("{:.2}", percentile_ms(sorted, 1.0)));
}

/// The one output line: `key=value` pairs in the order they were put.
#[derive(Default)]
pub struct Figures(Vec<(String, String)>);

impl Figures {
    pub fn new(scenario: &str) -> Self {
        let mut figures = Self::default();
        figures.put("scenario", scenario);
        figures
    }

    pub fn put(&mut self, key: impl Into<String>, value: impl fmt::Display) -> &mut Self {
        self.0.push((key.into(), value.to_string()));
        self
    }
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (key, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{key}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let sorted: Vec<u64> = (1..=100).map(|ms| ms * 1_000_000).collect();
        assert_eq!(percentile_ms(&sorted, 0.5), 51.0);
        assert_eq!(percentile_ms(&sorted, 1.0), 100.0);
        assert!(percentile_ms(&[], 0.5).is_nan());
    }

    #[test]
    fn own_process_is_readable() {
        assert!(cpu_of("self").is_some());
        assert!(rss_kib(std::process::id()).is_some_and(|kib| kib > 0));
        let mut figures = Figures::new("x");
        figures.put("a", 1);
        assert_eq!(figures.to_string(), "scenario=x a=1");
    }
}
