//! Record identifiers.
//!
//! Every stored record is keyed by a positive 63-bit integer that sorts by creation time
//! (milliseconds since 2024-01-01 in the high bits, a per-process sequence mixed with
//! randomness in the low 22 bits). The published SDKs parse ids as integers carried in
//! JSON strings, so [`Id`] serializes as a decimal string and accepts a string or a number.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Milliseconds of 2024-01-01T00:00:00Z since the Unix epoch.
const EPOCH_MS: u64 = 1_704_067_200_000;
const LOW_BITS: u32 = 22;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(i64);

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

impl Id {
    /// A fresh, time-ordered identifier.
    pub fn generate() -> Self {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(EPOCH_MS);
        let since = now_ms.saturating_sub(EPOCH_MS);
        // The sequence starts at a random point so that two processes starting in the same
        // millisecond do not walk the same values.
        let mut seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        if seq == 0 {
            let mut seed = [0u8; 8];
            crate::crypto::fill_random(&mut seed);
            let start = u64::from_le_bytes(seed) | 1;
            let _ = SEQUENCE.compare_exchange(1, start, Ordering::Relaxed, Ordering::Relaxed);
            seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        }
        let low = seq & ((1 << LOW_BITS) - 1);
        let value = ((since << LOW_BITS) | low) & (i64::MAX as u64);
        Id(value.max(1) as i64)
    }

    pub const fn from_i64(value: i64) -> Self {
        Id(value)
    }

    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id: expected a positive decimal integer")]
pub struct ParseIdError;

impl FromStr for Id {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseIdError);
        }
        match s.parse::<i64>() {
            Ok(v) if v > 0 => Ok(Id(v)),
            _ => Err(ParseIdError),
        }
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Str(String),
            Num(i64),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Str(s) => s.parse().map_err(serde::de::Error::custom),
            Raw::Num(n) if n > 0 => Ok(Id(n)),
            Raw::Num(_) => Err(serde::de::Error::custom(ParseIdError)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_positive_unique_and_ordered_by_time() {
        let mut last = Id::generate();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let id = Id::generate();
            assert!(id.get() > 0);
            assert!(seen.insert(id), "duplicate id {id}");
            // Within one millisecond the low bits may wrap, but the time part never goes back.
            assert!(id.get() >> LOW_BITS >= last.get() >> LOW_BITS);
            last = id;
        }
    }

    #[test]
    fn parses_only_positive_decimal_strings() {
        for (input, ok) in [
            ("1", true),
            ("9223372036854775807", true),
            ("0", false),
            ("-5", false),
            ("", false),
            ("12a", false),
            ("+3", false),
            ("99999999999999999999", false),
            (" 1", false),
        ] {
            assert_eq!(input.parse::<Id>().is_ok(), ok, "{input:?}");
        }
    }

    #[test]
    fn serializes_as_string_and_reads_string_or_number() {
        let id = Id::from_i64(42);
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"42\"");
        assert_eq!(serde_json::from_str::<Id>("\"42\"").unwrap(), id);
        assert_eq!(serde_json::from_str::<Id>("42").unwrap(), id);
        assert!(serde_json::from_str::<Id>("\"x\"").is_err());
    }
}
