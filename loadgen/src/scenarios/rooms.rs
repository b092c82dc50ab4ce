//! `rooms`: the rooms protocol of the "full-featured chat" guide. `users` sockets each
//! `join_room` (which logs them in) one of `rooms` rooms, user i the room i mod rooms
//! (`r000`, `r001`, ...), `in_flight` at once; the set-up has settled when every join is
//! answered, every socket has seen the last user come online (`presence_changed` from
//! ours, `userJoined` from Node) and no frame but pings has arrived for 2 s (room lists are
//! coalesced up to a second). Then one member of each of the first `senders` rooms sends
//! `send_message` to its room at a steady total `rate` for `seconds`; every member's
//! socket (the sender's included) must get each one as `receive_message`, once. Run with
//! 2,000 users in 100 rooms and with 200 in 10: the same messages to the same 10 rooms of
//! 20, with ten times the people connected, so per-delivery cost should not change.

use std::time::Duration;

use crate::client::{send_paced, settle, Crowd, Login};
use crate::measure::{put_latencies, Figures, Meter};
use crate::scenarios::user_name;
use crate::wire;

pub struct Args {
    pub url: String,
    pub users: usize,
    pub rooms: usize,
    pub senders: usize,
    pub rate: u64,
    pub seconds: u64,
    pub in_flight: usize,
    pub server_pid: Option<u32>,
}

fn room_name(i: usize) -> String {
    format!("r{i:03}")
}

pub async fn run(args: Args) -> Result<Figures, String> {
    if args.senders == 0 || args.rate == 0 || args.senders > args.rooms || args.rooms > args.users {
        return Err("need 0 < senders <= rooms <= users and a rate above 0".into());
    }
    let names: Vec<String> = (0..args.users).map(user_name).collect();
    let logins = names
        .iter()
        .enumerate()
        .map(|(i, name)| Login::room(name, &room_name(i % args.rooms)))
        .collect();
    let mut crowd = Crowd::new(&args.url, &names[args.users - 1]);
    crowd.log_in_all(logins, args.in_flight).await?;
    let progress = crowd.progress.clone();
    // Room lists and presence may still be on their way: until nothing (pings aside)
    // arrives for 2 s.
    settle(&progress.frames, u64::MAX, Duration::from_secs(2)).await;

    let meter = Meter::start(args.server_pid);
    let messages = args.rate * args.seconds;
    // User k (k < rooms) is the first member of room k.
    let senders: Vec<_> = crowd.clients[..args.senders].iter().collect();
    let rooms: Vec<String> = (0..args.senders).map(room_name).collect();
    send_paced(&senders, args.rate, messages, |sender, seq, now| {
        wire::send_message(&rooms[sender], &wire::marker(sender, seq, now))
    })
    .await?;
    let members = |room: usize| (0..args.users).filter(|i| i % args.rooms == room).count() as u64;
    let expected: u64 = (0..args.senders)
        .map(|room| {
            // Messages are dealt to the senders in turn.
            let sent = messages / args.senders as u64
                + u64::from((room as u64) < messages % args.senders as u64);
            sent * members(room)
        })
        .sum();
    let delivered = settle(&progress.delivered, expected, Duration::from_secs(3)).await;
    let usage = meter.read();
    let seen = crowd.finish().await?;

    let mut figures = Figures::new("rooms");
    figures
        .put("users", args.users)
        .put("rooms", args.rooms)
        .put("senders", args.senders)
        .put("messages", messages);
    progress.put_deliveries(&mut figures, expected, delivered, usage.elapsed());
    progress.put_health(&mut figures);
    let per_delivery = match usage.server.total() {
        Some(cpu) if delivered > 0 => format!("{:.2}", cpu.as_secs_f64() * 1e6 / delivered as f64),
        _ => "?".to_owned(),
    };
    figures.put("cpu_us_per_delivery", per_delivery);
    put_latencies(&mut figures, &seen.latencies_ns);
    usage.put(&mut figures);
    Ok(figures)
}
