//! `idle`: `users` logged-in lobby sockets (or, with `--connect-only`, sockets connected
//! but not logged in) that then do nothing but answer pings. Connects
//! and logs them in with `in_flight` at once, waits until every socket has every
//! `userJoined` (the last user's log-in has reached everyone), then until the server's
//! resident memory stops changing. Reports its RSS (`/proc/PID/status` VmRSS) before the
//! first connect and then, the difference per connection, Pss (`smaps_rollup`) likewise,
//! and the server's CPU over `idle_seconds` of idleness (pings only), with its RSS at the
//! end of that (`rss_end_kib`, `per_conn_end_kib`).

use std::time::{Duration, Instant};

use crate::client::{Crowd, Login, Progress};
use crate::measure::{pss_kib, rss_kib, Figures, Meter};
use crate::scenarios::user_name;

pub struct Args {
    pub url: String,
    pub users: usize,
    pub in_flight: usize,
    pub idle_seconds: u64,
    pub server_pid: u32,
    /// Connected (Socket.IO) but not logged in: 10,000 log-ins would broadcast 50 million
    /// `userJoined` first (twenty minutes for Node).
    pub connect_only: bool,
}

/// Waits until the RSS of `pid` has moved by at most 0.5 % over the last 10 s (90 s at
/// most); returns it, and whether it settled. Ten seconds, because Node's garbage
/// collector gives memory back some seconds after a burst ends.
async fn settled_rss(pid: u32) -> (Option<u64>, bool, Duration) {
    const WINDOW: usize = 40; // samples, 250 ms apart
    let started = Instant::now();
    let mut samples: Vec<u64> = Vec::new();
    loop {
        let Some(rss) = rss_kib(pid) else {
            return (None, false, started.elapsed());
        };
        samples.push(rss);
        if samples.len() > WINDOW {
            let recent = &samples[samples.len() - WINDOW..];
            let (low, high) = recent
                .iter()
                .fold((u64::MAX, 0), |(l, h), &s| (l.min(s), h.max(s)));
            if high - low <= high / 200 {
                return (Some(rss), true, started.elapsed());
            }
        }
        if started.elapsed() >= Duration::from_secs(90) {
            return (Some(rss), false, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn kib(value: Option<u64>) -> String {
    value.map_or_else(|| "?".to_owned(), |v| v.to_string())
}

pub async fn run(args: Args) -> Result<Figures, String> {
    if args.users == 0 {
        return Err("need at least one user".into());
    }
    let pid = args.server_pid;
    let rss_before = rss_kib(pid);
    let pss_before = pss_kib(pid);
    let names: Vec<String> = (0..args.users).map(user_name).collect();
    let mut crowd = Crowd::new(&args.url, &names[args.users - 1]);
    let started = Instant::now();
    crowd
        .log_in_all(
            names
                .iter()
                .map(|n| {
                    if args.connect_only {
                        Login::connect_only()
                    } else {
                        Login::lobby(n)
                    }
                })
                .collect(),
            args.in_flight,
        )
        .await?;
    let login_seconds = started.elapsed().as_secs_f64();
    let (rss_after, settled, settle_time) = settled_rss(pid).await;
    let pss_after = pss_kib(pid);

    let progress = crowd.progress.clone();
    let pings_before = Progress::count(&progress.pings);
    let frames_before = Progress::count(&progress.frames);
    let meter = Meter::start(Some(pid));
    tokio::time::sleep(Duration::from_secs(args.idle_seconds)).await;
    let usage = meter.read();
    let pings = Progress::count(&progress.pings) - pings_before;
    let other_frames = Progress::count(&progress.frames) - frames_before;
    let rss_end = rss_kib(pid);
    crowd.finish().await?;

    let per_conn = |before: Option<u64>, after: Option<u64>| match (before, after) {
        (Some(b), Some(a)) => format!("{:.1}", (a as f64 - b as f64) / args.users as f64),
        _ => "?".to_owned(),
    };
    let mut figures = Figures::new("idle");
    figures
        .put("users", args.users)
        .put("logged_in", if args.connect_only { "no" } else { "yes" })
        .put("login_s", format!("{login_seconds:.1}"))
        .put("joined", Progress::count(&progress.joined))
        .put("rss_before_kib", kib(rss_before))
        .put("rss_after_kib", kib(rss_after))
        .put("per_conn_kib", per_conn(rss_before, rss_after))
        .put("pss_before_kib", kib(pss_before))
        .put("pss_after_kib", kib(pss_after))
        .put("pss_per_conn_kib", per_conn(pss_before, pss_after))
        .put("rss_settled", if settled { "yes" } else { "no" })
        .put("rss_settle_s", format!("{:.1}", settle_time.as_secs_f64()))
        .put("rss_end_kib", kib(rss_end))
        .put("per_conn_end_kib", per_conn(rss_before, rss_end))
        .put("idle_s", format!("{:.1}", usage.elapsed().as_secs_f64()))
        .put("pings", pings)
        .put("idle_other_frames", other_frames);
    let idle_pct = match usage.server.total() {
        Some(cpu) => format!(
            "{:.2}",
            100.0 * cpu.as_secs_f64() / usage.elapsed().as_secs_f64()
        ),
        None => "?".to_owned(),
    };
    figures.put("idle_cpu_pct", idle_pct);
    let per_ping = match usage.server.total() {
        Some(cpu) if pings > 0 => format!("{:.1}", 1e6 * cpu.as_secs_f64() / pings as f64),
        _ => "?".to_owned(),
    };
    figures.put("us_per_ping", per_ping);
    progress.put_health(&mut figures);
    usage.put(&mut figures);
    Ok(figures)
}
