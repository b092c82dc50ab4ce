//! `saturation`: the fanout population, closed loop. Each sender keeps `window` messages
//! in flight: it sends a new one each time one of its own comes back to it (`chat` goes
//! to everyone, the sender included), so the server runs as fast as it can deliver.
//! Deliveries/s are counted over all sockets during the `seconds` of sending; after the
//! stop the counts settle, and every message sent must have reached every socket.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::client::{settle, ClosedLoop, Crowd, Login, Progress};
use crate::measure::{now_ns, put_latencies, Figures, Meter};
use crate::scenarios::{receiver_name, sender_name};
use crate::wire;

pub struct Args {
    pub url: String,
    pub receivers: usize,
    pub senders: usize,
    pub window: u64,
    pub seconds: u64,
    pub server_pid: Option<u32>,
}

pub async fn run(args: Args) -> Result<Figures, String> {
    if args.senders == 0 || args.window == 0 {
        return Err("need at least one sender and a window above 0".into());
    }
    let total = args.receivers + args.senders;
    let logins: Vec<Login> = (0..total)
        .map(|i| {
            if i < args.receivers {
                Login::lobby(&receiver_name(i))
            } else {
                let sender = i - args.receivers;
                Login {
                    closed_loop: Some(ClosedLoop {
                        sender,
                        next_seq: args.window,
                    }),
                    ..Login::lobby(&sender_name(sender))
                }
            }
        })
        .collect();
    let last = sender_name(args.senders - 1);
    let mut crowd = Crowd::new(&args.url, &last);
    crowd.log_in_all(logins, 1).await?;
    let progress = crowd.progress.clone();

    let meter = Meter::start(args.server_pid);
    progress.running.store(true, Ordering::Relaxed);
    for (sender, client) in crowd.clients[args.receivers..].iter().enumerate() {
        for seq in 0..args.window {
            client.send(wire::chat(&wire::marker(sender, seq, now_ns())))?;
        }
    }
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    progress.running.store(false, Ordering::Relaxed);
    let in_window = Progress::count(&progress.delivered);
    let usage = meter.read();

    // A sender that saw `running` just before the stop may still send one: settle until
    // what was sent and what arrived both stop changing.
    let opened = args.window * args.senders as u64;
    let (sent, delivered) = loop {
        let sent = opened + Progress::count(&progress.sent);
        let expected = sent * total as u64;
        let delivered = settle(&progress.delivered, expected, Duration::from_secs(3)).await;
        if opened + Progress::count(&progress.sent) == sent {
            break (sent, delivered);
        }
    };
    let expected = sent * total as u64;
    let seen = crowd.finish().await?;

    let seconds = usage.elapsed().as_secs_f64();
    let mut figures = Figures::new("saturation");
    figures
        .put("sockets", total)
        .put("window", args.window)
        .put("messages", sent)
        .put("msgs_per_s", format!("{:.0}", sent as f64 / seconds))
        .put("deliveries", delivered)
        .put("per_s", format!("{:.0}", in_window as f64 / seconds));
    progress.put_losses(&mut figures, expected, delivered);
    progress.put_health(&mut figures);
    put_latencies(&mut figures, &seen.latencies_ns);
    usage.put(&mut figures);
    Ok(figures)
}
