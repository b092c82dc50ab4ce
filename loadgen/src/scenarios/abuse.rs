//! `abuse`: does one abusive client hurt everyone else? Normal users chat in the lobby
//! (`receivers` who only listen and `senders` who also `chat`, at a steady total `rate`
//! for `seconds`, each sender well under the server's default of 5 messages a second);
//! every one of them must get every message, once. The same window runs twice: alone
//! (`phase=baseline`), then with the [flooder](flood) at work from the first instant
//! (`phase=flood`): from 127.0.0.1, as one user, 10,000 `chat` written as fast as its
//! socket takes them, 1,000 typing events, 1,000 `history` requests, 1,000 new
//! connections with random session cookies and 1,000 page loads, all at once. The server
//! runs with its default limits; the figures say what they let through, what they
//! refused, and what the normal users' latency and deliveries were meanwhile.
//!
//! Each normal user connects from a loopback address of its own (127.0.0.2, 127.0.0.3,
//! ...: Linux routes all of 127.0.0.0/8 to lo, and the server counts per peer address
//! unless told to trust a proxy), so the per-address limits (log-ins, new and open
//! connections) that stop the flooder are not shared with them; all of them are
//! connected and logged in, and the flooder with its sockets, before the first window.
//! The baseline's markers come from senders `0..senders`, the flood phase's from
//! `senders..2 senders`, so each phase's latencies are told apart.
//!
//! One line per phase; the run fails (exit status 1) if any normal user's message was
//! lost or came twice in either phase, or (with `--p99-bound-ms`) if the flood phase's
//! p99 latency was above the bound.

pub mod flood;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::client::{send_paced, settle, Crowd, Login, Progress};
use crate::measure::{percentile_ms, put_latencies, Figures, Meter, Usage};
use crate::scenarios::{receiver_name, sender_name, Outcome};
use crate::wire;

use flood::{FloodReport, Plan, Remote};

/// The server's default message rate per user (`--message-rate`); every sender stays
/// under it.
const DEFAULT_MESSAGE_RATE: f64 = 5.0;

/// The most normal users (each needs an address of its own).
const MAX_USERS: usize = 1000;

pub struct Args {
    pub url: String,
    pub receivers: usize,
    pub senders: usize,
    pub rate: u64,
    pub seconds: u64,
    pub plan: Plan,
    pub p99_bound_ms: Option<f64>,
    pub server_pid: Option<u32>,
}

/// The loopback address of normal user `i`: 127.0.0.2, 127.0.0.3, ... (250 to each
/// 127.0.x.0/24).
fn normal_address(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, (i / 250) as u8, (2 + i % 250) as u8))
}

/// The counters a phase is measured by, at one moment.
#[derive(Clone, Copy)]
struct Counts {
    delivered: u64,
    duplicated: u64,
    refusals: u64,
}

impl Counts {
    fn of(progress: &Progress) -> Self {
        Self {
            delivered: Progress::count(&progress.delivered),
            duplicated: Progress::count(&progress.duplicated),
            refusals: Progress::count(&progress.refusals),
        }
    }
}

/// What one phase measured (its latencies come from the crowd at the end).
struct Phase {
    name: &'static str,
    messages: u64,
    expected: u64,
    delivered: u64,
    duplicated: u64,
    refusals: u64,
    usage: Usage,
    flood: Option<FloodReport>,
}

impl Phase {
    fn lost(&self) -> u64 {
        self.expected.saturating_sub(self.delivered)
    }
}

pub async fn run(args: Args) -> Result<Outcome, String> {
    check(&args)?;
    let total = args.receivers + args.senders;
    let names: Vec<String> = (0..total)
        .map(|i| match i.checked_sub(args.receivers) {
            None => receiver_name(i),
            Some(sender) => sender_name(sender),
        })
        .collect();
    let logins = names
        .iter()
        .enumerate()
        .map(|(i, name)| Login::lobby(name).from(normal_address(i)))
        .collect();
    let mut crowd = Crowd::grouped(&args.url, &names[total - 1], args.senders);
    crowd.log_in_all(logins, 1).await?;
    let flooder = Remote::start(&args.url, args.plan).await?;
    eprintln!(
        "  {total} normal users logged in from {} to {}, the flooder from {}",
        normal_address(0),
        normal_address(total - 1),
        flood::ADDRESS
    );

    let baseline = phase(&crowd, &args, 0, None).await?;
    let flooded = phase(&crowd, &args, 1, Some(flooder)).await?;
    let seen = crowd.finish().await?;
    let latencies = |group: usize| seen.groups.get(group).map_or(&[][..], Vec::as_slice);
    let baseline_p99 = percentile_ms(latencies(0), 0.99);

    let mut outcome = Outcome::default();
    for (group, phase) in [baseline, flooded].iter().enumerate() {
        let mut figures = Figures::new("abuse");
        figures
            .put("phase", phase.name)
            .put("sockets", total)
            .put("receivers", args.receivers)
            .put("senders", args.senders)
            .put(
                "addresses",
                format!("{}-{}", normal_address(0), normal_address(total - 1)),
            )
            .put("rate", args.rate)
            .put("messages", phase.messages)
            .put("expected", phase.expected)
            .put("deliveries", phase.delivered)
            .put("lost", phase.lost())
            .put("duplicated", phase.duplicated)
            .put("refused", phase.refusals);
        put_latencies(&mut figures, latencies(group));
        let p99 = percentile_ms(latencies(group), 0.99);
        if group > 0 {
            figures.put("p99_x_baseline", format!("{:.2}", p99 / baseline_p99));
            if let Some(bound) = args.p99_bound_ms {
                figures.put("p99_bound_ms", bound);
                if p99.is_nan() || p99 > bound {
                    outcome.failures.push(format!(
                        "{}: the normal users' p99 latency {p99:.2} ms is over the bound of {bound} ms",
                        phase.name
                    ));
                }
            }
        }
        phase.usage.put(&mut figures);
        if let Some(flood) = &phase.flood {
            flood.put(&mut figures);
        }
        if phase.lost() > 0 || phase.duplicated > 0 {
            outcome.failures.push(format!(
                "{}: {} of the normal users' deliveries lost, {} duplicated",
                phase.name,
                phase.lost(),
                phase.duplicated
            ));
        }
        outcome.lines.push(figures);
    }
    Ok(outcome)
}

fn check(args: &Args) -> Result<(), String> {
    if args.senders == 0 || args.rate == 0 || args.seconds == 0 {
        return Err("need at least one sender, a rate and seconds above 0".into());
    }
    let total = args.receivers + args.senders;
    if total > MAX_USERS {
        return Err(format!("at most {MAX_USERS} normal users"));
    }
    let per_sender = args.rate as f64 / args.senders as f64;
    if per_sender >= DEFAULT_MESSAGE_RATE {
        return Err(format!(
            "{per_sender:.1} messages/s per sender: the normal users must stay under the \
             server's default of {DEFAULT_MESSAGE_RATE}/s (more --senders or a lower --rate)"
        ));
    }
    Ok(())
}

/// One window: the senders chat at the steady rate while the flooder (if any) floods;
/// ends once every message has reached every normal socket (or nothing has arrived for
/// 3 s) and the flooder is done.
async fn phase(
    crowd: &Crowd,
    args: &Args,
    index: usize,
    mut flooder: Option<Remote>,
) -> Result<Phase, String> {
    let progress = &*crowd.progress;
    let before = Counts::of(progress);
    let messages = args.rate * args.seconds;
    let expected = messages * crowd.clients.len() as u64;
    let target = before.delivered + expected;
    let senders: Vec<_> = crowd.clients[args.receivers..].iter().collect();
    let first = index * args.senders;
    let name = if flooder.is_some() {
        "flood"
    } else {
        "baseline"
    };
    eprintln!("  {name}: {messages} messages at {}/s ...", args.rate);

    let meter = Meter::start(args.server_pid);
    let normal = async {
        send_paced(&senders, args.rate, messages, |sender, seq, now| {
            wire::chat(&wire::marker(first + sender, seq, now))
        })
        .await?;
        Ok::<_, String>(settle(&progress.delivered, target, Duration::from_secs(3)).await)
    };
    let flooding = async {
        match flooder.as_mut() {
            Some(flooder) => flooder.run().await.map(Some),
            None => Ok(None),
        }
    };
    let (sent, flood) = tokio::join!(normal, flooding);
    sent?;
    let flood = flood?;
    // What was still on its way when the flood ended.
    let delivered = settle(&progress.delivered, target, Duration::from_secs(3)).await;
    let usage = meter.read();
    // The connections let in, and the flooder's sockets, close now.
    if let Some(flooder) = flooder {
        flooder.finish();
    }
    let after = Counts::of(progress);
    Ok(Phase {
        name,
        messages,
        expected,
        delivered: delivered - before.delivered,
        duplicated: after.duplicated - before.duplicated,
        refusals: after.refusals - before.refusals,
        usage,
        flood,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_users_have_addresses_of_their_own() {
        assert_eq!(normal_address(0).to_string(), "127.0.0.2");
        assert_eq!(normal_address(249).to_string(), "127.0.0.251");
        assert_eq!(normal_address(250).to_string(), "127.0.1.2");
        assert_ne!(normal_address(0), flood::ADDRESS);
    }
}
