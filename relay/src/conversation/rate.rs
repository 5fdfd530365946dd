//! A token bucket: `capacity` messages at once, refilled at a steady rate.

#[derive(Debug, Clone)]
pub struct Bucket {
    capacity: f64,
    per_ms: f64,
    tokens: f64,
    at_ms: f64,
}

impl Bucket {
    pub fn per_minute(rate: f64, burst: f64) -> Self {
        Self { capacity: burst.max(1.0), per_ms: rate.max(0.001) / 60_000.0, tokens: burst.max(1.0), at_ms: f64::NAN }
    }

    /// Takes one token, or says how many milliseconds until one is available.
    pub fn take(&mut self, now_ms: f64) -> Result<(), f64> {
        if !self.at_ms.is_nan() {
            self.tokens = (self.tokens + (now_ms - self.at_ms).max(0.0) * self.per_ms).min(self.capacity);
        }
        self.at_ms = now_ms;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - self.tokens) / self.per_ms)
        }
    }

    /// Gives back a token taken for a message that turned out to be stored already.
    pub fn give_back(&mut self) {
        self.tokens = (self.tokens + 1.0).min(self.capacity);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_steady_rate() {
        let mut b = Bucket::per_minute(30.0, 3.0); // one every 2 s, burst of 3
        assert!(b.take(0.0).is_ok() && b.take(0.0).is_ok() && b.take(0.0).is_ok());
        let wait = b.take(0.0).unwrap_err();
        assert!((wait - 2000.0).abs() < 1.0, "{wait}");
        assert!(b.take(1000.0).is_err());
        assert!(b.take(2000.0).is_ok());
    }

    #[test]
    fn a_token_given_back_can_be_taken_again_but_never_above_the_burst() {
        let mut b = Bucket::per_minute(30.0, 2.0);
        assert!(b.take(0.0).is_ok() && b.take(0.0).is_ok() && b.take(0.0).is_err());
        b.give_back();
        assert!(b.take(0.0).is_ok() && b.take(0.0).is_err());
        let mut full = Bucket::per_minute(30.0, 2.0);
        full.give_back();
        assert!(full.take(0.0).is_ok() && full.take(0.0).is_ok() && full.take(0.0).is_err());
    }
}
