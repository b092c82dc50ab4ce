//! `logins`: `users` sockets connect and log in to the lobby, `in_flight` at a time (each
//! from its connect until its `welcome`; 64 by default, a crowd coming back at once as
//! after a restart: the server always has log-ins waiting, and its throughput is
//! measured rather than one round trip); the last user
//! logs in once all the others are welcomed. Every log-in is broadcast to every socket
//! connected by then, so about n (n + 1) / 2 `userJoined` frames in all (2 million for
//! 2,000). The connections are part of the work timed, as in the issue's "2,000 log-ins,
//! each broadcast to all": opening them first would make every broadcast reach all n
//! sockets (n² frames). Timed from the first connect until every socket has the last
//! user's `userJoined` (so every `userJoined` has arrived everywhere).

use crate::client::{Crowd, Login, Progress};
use crate::measure::{Figures, Meter};
use crate::scenarios::user_name;

pub struct Args {
    pub url: String,
    pub users: usize,
    pub in_flight: usize,
    pub server_pid: Option<u32>,
}

pub async fn run(args: Args) -> Result<Figures, String> {
    if args.users == 0 {
        return Err("need at least one user".into());
    }
    let names: Vec<String> = (0..args.users).map(user_name).collect();
    let mut crowd = Crowd::new(&args.url, &names[args.users - 1]);
    let meter = Meter::start(args.server_pid);
    crowd
        .log_in_all(
            names.iter().map(|n| Login::lobby(n)).collect(),
            args.in_flight,
        )
        .await?;
    let usage = meter.read();
    let seconds = usage.elapsed().as_secs_f64();
    let frames = Progress::count(&crowd.progress.joined);

    let mut figures = Figures::new("logins");
    figures
        .put("users", args.users)
        .put("in_flight", args.in_flight)
        .put("seconds", format!("{seconds:.2}"))
        .put(
            "logins_per_s",
            format!("{:.0}", args.users as f64 / seconds),
        )
        .put("frames", frames)
        .put("frames_per_s", format!("{:.0}", frames as f64 / seconds));
    if let Some(cpu) = usage.server.total() {
        figures.put(
            "server_us_per_login",
            format!("{:.0}", cpu.as_secs_f64() * 1e6 / args.users as f64),
        );
    }
    crowd.progress.put_health(&mut figures);
    usage.put(&mut figures);
    Ok(figures)
}
