//! Reconnection delays: exponential, capped, with full jitter so that many clients
//! dropped at once do not all come back at the same instant.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_millis(500), Duration::from_secs(10))
    }
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self {
            base,
            cap,
            attempt: 0,
        }
    }

    /// Failed attempts since the last success.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The delay before the next attempt. `unit` is a random number in `[0, 1)`; the delay
    /// is spread over `[ceiling / 2, ceiling)`, where the ceiling doubles per attempt.
    pub fn next_delay(&mut self, unit: f64) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1 << self.attempt.min(16))
            .min(self.cap);
        self.attempt = self.attempt.saturating_add(1);
        ceiling.mul_f64(0.5 + unit.clamp(0.0, 1.0) / 2.0)
    }

    /// Call after a successful connection.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let ceilings: Vec<u128> = (0..6)
            .map(|_| backoff.next_delay(1.0).as_millis())
            .collect();
        assert_eq!(ceilings, vec![100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn jitter_spreads_over_the_upper_half() {
        let mut low = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let mut high = low.clone();
        assert_eq!(low.next_delay(0.0), Duration::from_millis(50));
        assert_eq!(high.next_delay(0.999_999).as_millis(), 99);
    }

    #[test]
    fn reset_starts_over() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        backoff.next_delay(1.0);
        backoff.next_delay(1.0);
        assert_eq!(backoff.attempt(), 2);
        backoff.reset();
        assert_eq!(backoff.next_delay(1.0), Duration::from_millis(100));
    }
}
