//! How many Socket.IO connections are let in: per client address, so many new ones a
//! second and so many open at once; and so many open on the whole server. A connection
//! over a limit is refused with a Socket.IO connect error whose message is the reason
//! (`tooManyConnections`, `connectingTooFast`, `serverFull`); the client may try again.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::chat::{Allowance, RateLimiter};

/// The limits; `None`: unlimited.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdmissionSettings {
    /// New connections from one address.
    pub per_address_rate: Option<Allowance>,
    /// Connections open at once from one address.
    pub per_address_open: Option<usize>,
    /// Connections open at once on this server.
    pub max_open: Option<usize>,
}

impl AdmissionSettings {
    pub const NONE: Self = Self {
        per_address_rate: None,
        per_address_open: None,
        max_open: None,
    };
}

/// Why a connection was refused (its text is the connect error's message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("connectingTooFast: too many new connections from your address; retry in {retry_after_ms} ms")]
    ConnectingTooFast { retry_after_ms: u64 },
    #[error("tooManyConnections: too many connections open from your address")]
    TooManyConnections,
    #[error("serverFull: the server has as many connections as it takes")]
    ServerFull,
}

impl Refusal {
    /// The reason alone (`tooManyConnections`).
    pub fn code(self) -> &'static str {
        match self {
            Self::ConnectingTooFast { .. } => "connectingTooFast",
            Self::TooManyConnections => "tooManyConnections",
            Self::ServerFull => "serverFull",
        }
    }
}

/// The connections open, and who opened them lately.
#[derive(Debug)]
pub struct Admission {
    settings: AdmissionSettings,
    counts: Mutex<Counts>,
}

#[derive(Debug)]
struct Counts {
    recent: RateLimiter<IpAddr>,
    open: HashMap<IpAddr, usize>,
    total: usize,
}

/// A connection let in: it counts as open until this is dropped (with the socket).
#[derive(Debug)]
pub struct Admitted {
    admission: Arc<Admission>,
    address: Option<IpAddr>,
}

impl Admission {
    pub fn new(settings: AdmissionSettings) -> Arc<Self> {
        Arc::new(Self {
            settings,
            counts: Mutex::new(Counts {
                recent: RateLimiter::new(settings.per_address_rate, Instant::now()),
                open: HashMap::new(),
                total: 0,
            }),
        })
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        // Counting cannot leave the counts half-changed: a poisoned lock is still right.
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Lets a connection from `address` (unknown: only the server-wide limit) in, or
    /// says why not.
    pub fn admit(self: &Arc<Self>, address: Option<IpAddr>) -> Result<Admitted, Refusal> {
        let mut counts = self.counts();
        if self
            .settings
            .max_open
            .is_some_and(|max| counts.total >= max)
        {
            return Err(Refusal::ServerFull);
        }
        if let Some(address) = address {
            let open = counts.open.get(&address).copied().unwrap_or(0);
            if self
                .settings
                .per_address_open
                .is_some_and(|max| open >= max)
            {
                return Err(Refusal::TooManyConnections);
            }
            counts
                .recent
                .take(address, Instant::now())
                .map_err(|retry| Refusal::ConnectingTooFast {
                    retry_after_ms: retry.ms(),
                })?;
            *counts.open.entry(address).or_insert(0) += 1;
        }
        counts.total += 1;
        Ok(Admitted {
            admission: self.clone(),
            address,
        })
    }

    /// Connections open: on the whole server, and from `address`.
    pub fn open(&self, address: IpAddr) -> (usize, usize) {
        let counts = self.counts();
        (
            counts.total,
            counts.open.get(&address).copied().unwrap_or(0),
        )
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut counts = self.admission.counts();
        counts.total = counts.total.saturating_sub(1);
        if let Some(address) = self.address {
            if let Some(open) = counts.open.get_mut(&address) {
                *open -= 1;
                if *open == 0 {
                    counts.open.remove(&address);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, last]))
    }

    #[test]
    fn open_connections_per_address_and_in_all() {
        let admission = Admission::new(AdmissionSettings {
            per_address_open: Some(2),
            max_open: Some(3),
            ..AdmissionSettings::NONE
        });
        let a1 = admission.admit(ip(1)).expect("first");
        let a2 = admission.admit(ip(1)).expect("second");
        assert_eq!(
            admission.admit(ip(1)).err(),
            Some(Refusal::TooManyConnections)
        );
        let b1 = admission.admit(ip(2)).expect("another address");
        assert_eq!(admission.admit(ip(3)).err(), Some(Refusal::ServerFull));
        drop(a1);
        assert_eq!(admission.open(IpAddr::from([192, 0, 2, 1])), (2, 1));
        let a3 = admission.admit(ip(1)).expect("a slot is free again");
        drop((a2, a3, b1));
        assert_eq!(admission.open(IpAddr::from([192, 0, 2, 1])), (0, 0));
        assert!(
            admission.counts().open.is_empty(),
            "nothing kept for the gone"
        );
    }

    #[test]
    fn new_connections_per_address_per_second() {
        let admission = Admission::new(AdmissionSettings {
            per_address_rate: Allowance::new(0.01, 3),
            ..AdmissionSettings::NONE
        });
        let kept: Vec<Admitted> = (0..3)
            .map(|_| admission.admit(ip(1)).expect("the burst"))
            .collect();
        let refused = admission.admit(ip(1)).expect_err("over the rate");
        assert!(
            matches!(refused, Refusal::ConnectingTooFast { retry_after_ms } if retry_after_ms > 0)
        );
        drop(kept);
        assert!(
            admission.admit(ip(1)).is_err(),
            "closing does not refill the rate"
        );
        assert!(admission.admit(ip(2)).is_ok(), "another address");
        assert!(
            admission.admit(None).is_ok(),
            "an unknown address is not rate-limited"
        );
    }
}
