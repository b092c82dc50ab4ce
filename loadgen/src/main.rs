//! A load generator for Socket.IO chat servers: ours, and the original Node.js lobby chat
//! (`bench/node-chat`), over real WebSockets (Engine.IO 4 text frames, written here: no
//! Socket.IO client library in the measurement path). Every message carries its send time
//! on the generator's one monotonic clock; every socket records the latency of each
//! message it gets, once, and counts what never came and what came twice. Set-ups end on
//! barriers and settled counts, never on fixed sleeps. Each scenario prints one line of
//! `key=value` figures (always `scenario=`), with the CPU of the server (`--server-pid`:
//! `server_cpu_pct`, `server_user_pct`, `server_sys_pct`; 100 = one core) and its own
//! (`loadgen_*`) over the measured window.
//!
//! Scenarios (subcommands):
//! - `fanout`: 500 receivers + 5 senders in the lobby; the senders `chat` at a steady total
//!   rate (200/s) for 10 s, every socket gets every message. Latency p50/p99/max, lost,
//!   duplicated, deliveries/s.
//! - `saturation`: the same population, closed loop: each sender keeps 4 messages in
//!   flight (a new one each time one of its own comes back), for 10 s. Deliveries/s over
//!   all sockets, lost, duplicated, latency.
//! - `logins`: 2,000 users connect and log in, 8 in flight; each log-in is broadcast to
//!   every socket connected so far (~2 million `userJoined`). Log-ins/s and frames/s from
//!   the first connect until the last `userJoined` has arrived everywhere.
//! - `idle`: 2,000 (or 10,000) logged-in sockets doing nothing but answering pings: the
//!   server's RSS and Pss per connection once its memory has settled, and its CPU over 30 s
//!   of idleness.
//! - `rooms`: the guide's rooms protocol (`join_room`, `send_message`, `receive_message`):
//!   2,000 users in 100 rooms (or 200 in 10), one sender in each of 10 rooms, 500
//!   messages/s in all. Deliveries/s, server CPU µs per delivery, latency, lost.
//! - `abuse`: 50 receivers + 25 senders chat in the lobby (50 messages/s in all) for 10 s,
//!   twice: alone, then while one client floods from 127.0.0.1 (10,000 `chat`, 1,000
//!   typing events, 1,000 `history`, 1,000 connections with random session cookies,
//!   1,000 page loads, all at once) against the server's default limits. One line per
//!   phase: the normal users' latency, lost, duplicated; what the flooder got through and
//!   what was refused. Exit status 1 if a normal user's message was lost or doubled.
//!
//! Modules: [`wire`] (connecting, the frames), [`client`] (logged-in sockets, barriers,
//! pacing), [`http`] (plain HTTP/1.1 requests), [`measure`] (clock, CPU, memory,
//! percentiles, the output line), and one module per scenario in [`scenarios`].

mod client;
mod http;
mod measure;
mod scenarios;
mod wire;

use clap::{Args as ClapArgs, Parser, Subcommand};

use scenarios::{abuse, fanout, idle, logins, rooms, saturation, Outcome};

#[derive(Parser)]
#[command(about = "Load generator for Socket.IO chat servers (lobby and rooms protocols)")]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

/// Options every scenario takes.
#[derive(ClapArgs)]
struct Target {
    /// The server, e.g. http://127.0.0.1:3000.
    #[arg(long)]
    url: String,
    /// The server's process id, to report its CPU (and memory) over the measurement.
    #[arg(long)]
    server_pid: Option<u32>,
}

#[derive(Subcommand)]
enum Scenario {
    /// Receivers and senders in the lobby; senders chat at a steady total rate.
    Fanout {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 500)]
        receivers: usize,
        #[arg(long, default_value_t = 5)]
        senders: usize,
        /// Messages per second, all senders together.
        #[arg(long, default_value_t = 200)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Connect the receivers to this server instead (another server of a cluster):
        /// latency across servers.
        #[arg(long)]
        receivers_url: Option<String>,
    },
    /// The fanout population, closed loop: each sender keeps `window` messages in flight.
    Saturation {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 500)]
        receivers: usize,
        #[arg(long, default_value_t = 5)]
        senders: usize,
        /// Messages each sender keeps in flight.
        #[arg(long, default_value_t = 4)]
        window: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Users connect and log in, each log-in broadcast to every socket connected so far.
    Logins {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 2000)]
        users: usize,
        /// Log-ins in flight at once (each from its connect until its welcome).
        #[arg(long, default_value_t = 64)]
        in_flight: usize,
    },
    /// Logged-in idle sockets: the server's memory per connection and idle CPU.
    Idle {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 2000)]
        users: usize,
        /// Connections being opened and logged in at once.
        #[arg(long, default_value_t = 64)]
        in_flight: usize,
        /// How long to stay idle (answering pings) while measuring the server's CPU.
        #[arg(long, default_value_t = 30)]
        idle_seconds: u64,
        /// Connect the sockets (Socket.IO) without logging them in.
        #[arg(long)]
        connect_only: bool,
    },
    /// The rooms protocol: users in rooms, one sender in each of some rooms.
    Rooms {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 2000)]
        users: usize,
        #[arg(long, default_value_t = 100)]
        rooms: usize,
        /// Rooms that get messages, one sender (a member) in each.
        #[arg(long, default_value_t = 10)]
        senders: usize,
        /// Messages per second, all senders together.
        #[arg(long, default_value_t = 500)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Joins in flight at once during the set-up.
        #[arg(long, default_value_t = 16)]
        in_flight: usize,
    },
    /// Normal users chat in the lobby, alone and then while one client floods.
    Abuse {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 50)]
        receivers: usize,
        #[arg(long, default_value_t = 25)]
        senders: usize,
        /// The normal users' messages per second, all senders together (each sender
        /// must stay under the server's default of 5/s).
        #[arg(long, default_value_t = 50)]
        rate: u64,
        /// Each phase's window.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// The flooder's `chat` messages (0: none; likewise below).
        #[arg(long, default_value_t = 10_000)]
        chats: u64,
        /// Its typing events (`typing` and `stopTyping` in turn).
        #[arg(long, default_value_t = 1000)]
        typing: u64,
        /// Its `history` requests.
        #[arg(long, default_value_t = 1000)]
        history: u64,
        /// Its new Socket.IO connections, each with a random session cookie.
        #[arg(long, default_value_t = 1000)]
        connections: u64,
        /// Its page loads (`GET /` with a random session cookie).
        #[arg(long, default_value_t = 1000)]
        pages: u64,
        /// Its connections being opened, and pages being loaded, at once.
        #[arg(long, default_value_t = 32)]
        flood_in_flight: usize,
        /// Fail if the normal users' p99 latency in the flood phase is above this.
        #[arg(long)]
        p99_bound_ms: Option<f64>,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let (name, result): (&str, Result<Outcome, String>) = match cli.scenario {
        Scenario::Fanout {
            target,
            receivers,
            senders,
            rate,
            seconds,
            receivers_url,
        } => (
            "fanout",
            fanout::run(fanout::Args {
                url: target.url,
                receivers_url,
                receivers,
                senders,
                rate,
                seconds,
                server_pid: target.server_pid,
            })
            .await
            .map(Outcome::from),
        ),
        Scenario::Saturation {
            target,
            receivers,
            senders,
            window,
            seconds,
        } => (
            "saturation",
            saturation::run(saturation::Args {
                url: target.url,
                receivers,
                senders,
                window,
                seconds,
                server_pid: target.server_pid,
            })
            .await
            .map(Outcome::from),
        ),
        Scenario::Logins {
            target,
            users,
            in_flight,
        } => (
            "logins",
            logins::run(logins::Args {
                url: target.url,
                users,
                in_flight,
                server_pid: target.server_pid,
            })
            .await
            .map(Outcome::from),
        ),
        Scenario::Idle {
            target,
            users,
            in_flight,
            idle_seconds,
            connect_only,
        } => (
            "idle",
            match target.server_pid {
                Some(server_pid) => idle::run(idle::Args {
                    url: target.url,
                    users,
                    in_flight,
                    idle_seconds,
                    server_pid,
                    connect_only,
                })
                .await
                .map(Outcome::from),
                None => Err("idle measures the server's memory: --server-pid is required".into()),
            },
        ),
        Scenario::Rooms {
            target,
            users,
            rooms,
            senders,
            rate,
            seconds,
            in_flight,
        } => (
            "rooms",
            rooms::run(rooms::Args {
                url: target.url,
                users,
                rooms,
                senders,
                rate,
                seconds,
                in_flight,
                server_pid: target.server_pid,
            })
            .await
            .map(Outcome::from),
        ),
        Scenario::Abuse {
            target,
            receivers,
            senders,
            rate,
            seconds,
            chats,
            typing,
            history,
            connections,
            pages,
            flood_in_flight,
            p99_bound_ms,
        } => (
            "abuse",
            abuse::run(abuse::Args {
                url: target.url,
                receivers,
                senders,
                rate,
                seconds,
                plan: abuse::flood::Plan {
                    chats,
                    typing,
                    history,
                    connections,
                    pages,
                    in_flight: flood_in_flight,
                },
                p99_bound_ms,
                server_pid: target.server_pid,
            })
            .await,
        ),
    };
    match result {
        Ok(outcome) => {
            for figures in &outcome.lines {
                println!("{figures}");
            }
            for failure in &outcome.failures {
                eprintln!("{name}: check failed: {failure}");
            }
            // Exit at once: closing thousands of sockets one by one would only make the
            // server broadcast their departures to a run that is over.
            std::process::exit(if outcome.failures.is_empty() { 0 } else { 1 });
        }
        Err(error) => {
            eprintln!("{name} failed: {error}");
            std::process::exit(1);
        }
    }
}
