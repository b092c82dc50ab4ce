//! `fanout`: receivers and senders in the lobby; the senders chat at a steady total rate
//! (open loop) and every socket (senders included: `chat` goes to everyone) gets every
//! message.

use std::time::Duration;

use crate::client::{send_paced, settle, Crowd, Login, Progress};
use crate::measure::{put_latencies, Figures, Meter};
use crate::scenarios::{receiver_name, sender_name};
use crate::wire;

pub struct Args {
    pub url: String,
    /// Receivers on another server of a cluster (senders on `url`).
    pub receivers_url: Option<String>,
    pub receivers: usize,
    pub senders: usize,
    pub rate: u64,
    pub seconds: u64,
    pub server_pid: Option<u32>,
}

pub async fn run(args: Args) -> Result<Figures, String> {
    if args.senders == 0 || args.rate == 0 {
        return Err("need at least one sender and a rate above 0".into());
    }
    let total = args.receivers + args.senders;
    // Names of 3 to 10 characters: r0000.., s000..; logged in one after another, so
    // socket i sees the userJoined of every user from i on: n (n + 1) / 2 in all.
    let names: Vec<String> = (0..total)
        .map(|i| {
            if i < args.receivers {
                receiver_name(i)
            } else {
                sender_name(i - args.receivers)
            }
        })
        .collect();
    let mut crowd = Crowd::new(&args.url, &names[total - 1]);
    if let Some(elsewhere) = &args.receivers_url {
        crowd = crowd.first_at(elsewhere, args.receivers);
    }
    crowd
        .log_in_all(names.iter().map(|n| Login::lobby(n)).collect(), 1)
        .await?;
    let joined = Progress::count(&crowd.progress.joined);

    let meter = Meter::start(args.server_pid);
    let messages = args.rate * args.seconds;
    let senders: Vec<_> = crowd.clients[args.receivers..].iter().collect();
    send_paced(&senders, args.rate, messages, |sender, seq, now| {
        wire::chat(&wire::marker(sender, seq, now))
    })
    .await?;
    let expected = messages * total as u64;
    let progress = crowd.progress.clone();
    let delivered = settle(&progress.delivered, expected, Duration::from_secs(3)).await;
    let usage = meter.read();
    let seen = crowd.finish().await?;

    let mut figures = Figures::new("fanout");
    figures
        .put("sockets", total)
        .put("joined", joined)
        .put("messages", messages);
    progress.put_deliveries(&mut figures, expected, delivered, usage.elapsed());
    progress.put_health(&mut figures);
    put_latencies(&mut figures, &seen.latencies_ns);
    usage.put(&mut figures);
    Ok(figures)
}
