//! Token buckets: how often someone (a user, an address) may do something. Each
//! [`Allowance`] refills at `per_second` up to `burst`; an action takes one token, or is
//! refused with how long until one is back. Time is passed in, so every rule is tested
//! without waiting.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// A rate and the burst above it: `per_second` on average, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Allowance {
    pub per_second: f64,
    pub burst: u32,
}

impl Allowance {
    /// `None` (no limit) for a rate of 0 (or one that is not a number); a burst below 1
    /// is 1.
    pub fn new(per_second: f64, burst: u32) -> Option<Self> {
        (per_second.is_finite() && per_second > 0.0).then_some(Self {
            per_second,
            burst: burst.max(1),
        })
    }

    /// How long an empty bucket takes to fill up: after that, it is as good as new.
    fn refill_time(&self) -> Duration {
        seconds(f64::from(self.burst) / self.per_second)
    }
}

/// The longest wait said: a rate so small that a token takes longer is as good as never.
const LONGEST: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// `secs` as a duration, at most [`LONGEST`].
fn seconds(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs).map_or(LONGEST, |d| d.min(LONGEST))
}

/// One bucket: tokens left at `at`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(allowance: Allowance, now: Instant) -> Self {
        Self {
            tokens: f64::from(allowance.burst),
            at: now,
        }
    }

    fn refill(&mut self, allowance: Allowance, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens =
            (self.tokens + elapsed * allowance.per_second).min(f64::from(allowance.burst));
        self.at = now;
    }
}

/// Refused: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole milliseconds, rounded up (never 0: a client told 0 would ask at once).
    pub fn ms(self) -> u64 {
        let ms = self.0.as_micros().div_ceil(1000);
        u64::try_from(ms).unwrap_or(u64::MAX).max(1)
    }
}

/// The buckets of everyone who did this lately, keyed by who did it. Someone whose bucket
/// would be full again is forgotten (it is as good as new), so the map holds only those
/// active within one refill time.
#[derive(Debug)]
pub struct RateLimiter<K> {
    allowance: Option<Allowance>,
    buckets: HashMap<K, Bucket>,
    /// When the map is next swept of full buckets.
    sweep_at: Instant,
}

impl<K: Eq + Hash> RateLimiter<K> {
    /// `None`: no limit.
    pub fn new(allowance: Option<Allowance>, now: Instant) -> Self {
        Self {
            allowance,
            buckets: HashMap::new(),
            sweep_at: now,
        }
    }

    /// Takes one token of `who`'s, or says how long until one is back.
    pub fn take(&mut self, who: K, now: Instant) -> Result<(), RetryAfter> {
        let Some(allowance) = self.allowance else {
            return Ok(());
        };
        self.sweep(allowance, now);
        let bucket = self
            .buckets
            .entry(who)
            .or_insert_with(|| Bucket::full(allowance, now));
        bucket.refill(allowance, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - bucket.tokens;
            Err(RetryAfter(seconds(missing / allowance.per_second)))
        }
    }

    /// How many are tracked (those who acted within one refill time, at most).
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }

    /// At most once per refill time: forgets those whose bucket is full by now.
    fn sweep(&mut self, allowance: Allowance, now: Instant) {
        if now < self.sweep_at {
            return;
        }
        let refill = allowance.refill_time();
        self.buckets
            .retain(|_, bucket| now.saturating_duration_since(bucket.at) < refill);
        self.sweep_at = now.checked_add(refill).unwrap_or(now + LONGEST);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn five_a_second_bursts_of_ten() -> Allowance {
        Allowance::new(5.0, 10).expect("valid")
    }

    #[test]
    fn a_burst_then_the_rate() {
        let start = Instant::now();
        let mut limits = RateLimiter::new(Some(five_a_second_bursts_of_ten()), start);
        for n in 0..10 {
            assert_eq!(
                limits.take("ann", start),
                Ok(()),
                "message {n} of the burst"
            );
        }
        let refused = limits.take("ann", start).expect_err("the 11th at once");
        assert_eq!(refused.ms(), 200, "one token takes 1/5 s");
        // 100 ms later, half a token: still refused, for the other half.
        let later = start + Duration::from_millis(100);
        assert_eq!(limits.take("ann", later).map_err(RetryAfter::ms), Err(100));
        // Once the token is back, one message, and no more.
        let token_back = start + Duration::from_millis(200);
        assert_eq!(limits.take("ann", token_back), Ok(()));
        assert!(limits.take("ann", token_back).is_err());
    }

    #[test]
    fn each_has_their_own_bucket() {
        let start = Instant::now();
        let mut limits = RateLimiter::new(Some(five_a_second_bursts_of_ten()), start);
        for _ in 0..10 {
            limits.take("ann", start).expect("ann's burst");
        }
        assert!(limits.take("ann", start).is_err());
        assert_eq!(limits.take("bob", start), Ok(()), "Bob is not Ann");
    }

    #[test]
    fn a_steady_rate_under_the_limit_is_never_refused() {
        let start = Instant::now();
        let mut limits = RateLimiter::new(Some(five_a_second_bursts_of_ten()), start);
        // 4.9 a second for a minute.
        for n in 0..294u32 {
            let at = start + Duration::from_secs_f64(f64::from(n) / 4.9);
            assert_eq!(limits.take("ann", at), Ok(()), "message {n}");
        }
    }

    #[test]
    fn no_allowance_means_no_limit() {
        let start = Instant::now();
        let mut limits = RateLimiter::new(None, start);
        for _ in 0..10_000 {
            assert_eq!(limits.take("ann", start), Ok(()));
        }
        assert_eq!(limits.tracked(), 0);
    }

    #[test]
    fn a_rate_of_zero_is_no_limit_and_a_burst_is_at_least_one() {
        assert_eq!(Allowance::new(0.0, 10), None);
        assert_eq!(Allowance::new(-1.0, 10), None);
        assert_eq!(Allowance::new(f64::NAN, 10), None);
        assert_eq!(Allowance::new(f64::INFINITY, 10), None);
        assert_eq!(Allowance::new(5.0, 0), Allowance::new(5.0, 1));
    }

    #[test]
    fn a_vanishing_rate_waits_a_century_and_never_panics() {
        let start = Instant::now();
        let allowance = Allowance::new(1e-300, 1).expect("a rate");
        let mut limits = RateLimiter::new(Some(allowance), start);
        assert_eq!(limits.take("ann", start), Ok(()));
        let refused = limits.take("ann", start).expect_err("the next one");
        assert_eq!(refused.0, LONGEST);
    }

    #[test]
    fn the_idle_are_forgotten() {
        let start = Instant::now();
        let mut limits = RateLimiter::new(Some(five_a_second_bursts_of_ten()), start);
        for who in 0..1000 {
            limits.take(who, start).expect("first of each");
        }
        assert_eq!(limits.tracked(), 1000);
        // Two seconds (one refill time) later, everyone's bucket is full again.
        let later = start + Duration::from_secs(2);
        limits.take(5000, later).expect("a newcomer");
        assert_eq!(limits.tracked(), 1, "only the newcomer is left");
        // Forgetting lost nothing: a forgotten bucket starts full, as it would be.
        for _ in 0..10 {
            limits.take(7, later).expect("a full burst");
        }
        assert!(limits.take(7, later).is_err());
    }

    #[test]
    fn retry_after_is_never_zero() {
        assert_eq!(RetryAfter(Duration::ZERO).ms(), 1);
        assert_eq!(RetryAfter(Duration::from_micros(1)).ms(), 1);
        assert_eq!(RetryAfter(Duration::from_micros(1001)).ms(), 2);
    }
}
