//! Users who went offline here without anyone being told, because another server of the
//! cluster still listed them (they had a tab there too, or were moving there). Plain
//! state with no I/O, like [`super::remote`].
//!
//! If the other servers then stop listing them as well, someone must announce them gone.
//! Each server says in its presence snapshots whom it dropped quietly lately. A server holding
//! a quiet departure waits until nobody lists the user: if every server that dropped them
//! meanwhile did so quietly too, they all went at the same moment, and the one of them
//! with the lowest node id announces it, to everyone; if one did not, that one announced.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use super::{ConversationId, RoomName, UserId};

/// A user gone quietly from this server, waiting for the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietDeparture {
    pub name: String,
    /// Their rooms here (`general` first), for the `user_left` of each.
    pub rooms: Vec<(ConversationId, RoomName)>,
    /// The servers that stopped listing them quietly since.
    droppers: BTreeSet<String>,
    /// Whether one of them stopped listing them and told everyone.
    announced: bool,
    since: Instant,
}

#[derive(Debug, Default)]
pub struct QuietDepartures {
    /// This server's node id on the hubs' bus.
    node: String,
    pending: HashMap<UserId, QuietDeparture>,
    /// Dropped quietly, and when: said in every presence snapshot for a lease, so that a
    /// snapshot lost on the way does not lose it.
    recent: Vec<(UserId, Instant)>,
}

impl QuietDepartures {
    /// This server is `node` in a cluster.
    pub fn set_node(&mut self, node: &str) {
        node.clone_into(&mut self.node);
    }

    /// `user` went offline here without anyone being told.
    pub fn record(
        &mut self,
        user: UserId,
        name: &str,
        rooms: Vec<(ConversationId, RoomName)>,
        now: Instant,
    ) {
        self.pending.insert(
            user,
            QuietDeparture {
                name: name.to_owned(),
                rooms,
                droppers: BTreeSet::new(),
                announced: false,
                since: now,
            },
        );
        self.recent.retain(|(recent, _)| *recent != user);
        self.recent.push((user, now));
    }

    /// The users dropped quietly within `lease` of `now`, for the next snapshot.
    pub fn recent(&mut self, now: Instant, lease: Duration) -> Vec<UserId> {
        self.recent
            .retain(|(_, at)| now.saturating_duration_since(*at) < lease);
        self.recent.iter().map(|(user, _)| *user).collect()
    }

    /// `server` stopped listing `user`, `quietly` or not.
    pub fn dropped_by(&mut self, server: &str, user: UserId, quietly: bool) {
        if let Some(departure) = self.pending.get_mut(&user) {
            if quietly {
                departure.droppers.insert(server.to_owned());
            } else {
                departure.announced = true;
            }
        }
    }

    /// `user` is listed by nobody any more: their departure, if this server is the one to
    /// announce it. Forgotten either way.
    pub fn settle(&mut self, user: UserId) -> Option<QuietDeparture> {
        let departure = self.pending.remove(&user)?;
        let lowest = departure
            .droppers
            .first()
            .is_some_and(|first| self.node < *first);
        (!departure.announced && lowest).then_some(departure)
    }

    /// The users waiting for other servers.
    pub fn users(&self) -> Vec<UserId> {
        self.pending.keys().copied().collect()
    }

    /// `user` is back here, or was announced gone by other means: nothing to wait for, and
    /// nothing to say (a later departure is said afresh).
    pub fn forget(&mut self, user: UserId) {
        self.pending.remove(&user);
        self.recent.retain(|(recent, _)| *recent != user);
    }

    /// Forgets departures older than `lease`: a server that still lists them after that
    /// holds them for real (they moved there), or is dead and expired with its users.
    pub fn expire(&mut self, now: Instant, lease: Duration) {
        self.pending
            .retain(|_, departure| now.saturating_duration_since(departure.since) < lease);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANN: UserId = UserId(1);

    fn departures(node: &str) -> QuietDepartures {
        let mut departures = QuietDepartures::default();
        departures.set_node(node);
        departures.record(ANN, "Ann", Vec::new(), Instant::now());
        departures
    }

    #[test]
    fn of_servers_dropping_a_user_at_once_the_lowest_announces() {
        let start = Instant::now();
        let lease = Duration::from_secs(15);
        let mut a = departures("a");
        let mut b = departures("b");
        assert_eq!(a.recent(start, lease), vec![ANN]);
        assert_eq!(
            a.recent(start, lease),
            vec![ANN],
            "said again in the next list"
        );
        assert!(a.recent(start + 2 * lease, lease).is_empty(), "for a lease");
        a.dropped_by("b", ANN, true);
        b.dropped_by("a", ANN, true);
        assert_eq!(a.settle(ANN).map(|d| d.name), Some("Ann".to_owned()));
        assert_eq!(b.settle(ANN), None, "a announces");
        assert_eq!(a.settle(ANN), None, "once");
    }

    #[test]
    fn a_server_that_announced_leaves_nothing_to_announce() {
        let mut a = departures("a");
        a.dropped_by("b", ANN, false);
        assert_eq!(a.settle(ANN), None, "b told everyone");
        let mut a = departures("a");
        assert_eq!(
            a.settle(ANN),
            None,
            "nobody dropped them quietly: not a race"
        );
    }

    #[test]
    fn departures_are_forgotten_when_the_user_is_back_or_after_the_lease() {
        let start = Instant::now();
        let mut a = departures("a");
        a.forget(ANN);
        assert!(a.users().is_empty());
        assert!(
            a.recent(start, Duration::from_secs(15)).is_empty(),
            "back: nothing to say"
        );
        let mut a = departures("a");
        a.expire(start, Duration::from_secs(15));
        assert_eq!(a.users(), vec![ANN]);
        a.expire(start + Duration::from_secs(16), Duration::from_secs(15));
        assert!(a.users().is_empty());
    }
}
