//! Request statistics for `--stats`: requests by kind, retries, throttles, wall time.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Live counters shared by a client and its credential.
#[derive(Debug)]
pub(crate) struct Stats {
    started: Instant,
    by_kind: Mutex<BTreeMap<String, u64>>,
    retries: AtomicU64,
    throttled: AtomicU64,
    batch_items: AtomicU64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            started: Instant::now(),
            by_kind: Mutex::new(BTreeMap::new()),
            retries: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            batch_items: AtomicU64::new(0),
        }
    }
}

impl Stats {
    /// Counts one HTTP request sent (every attempt counts).
    pub(crate) fn request(&self, kind: String) {
        if let Ok(mut m) = self.by_kind.lock() {
            *m.entry(kind).or_insert(0) += 1;
        }
    }
    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn throttle(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn batch_items(&self, n: usize) {
        self.batch_items.fetch_add(n as u64, Ordering::Relaxed);
    }
    pub(crate) fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            requests_by_kind: self.by_kind.lock().map(|m| m.clone()).unwrap_or_default(),
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            batch_items: self.batch_items.load(Ordering::Relaxed),
            wall_time: self.started.elapsed(),
        }
    }
}

/// A point-in-time copy of the statistics; `Display` prints the `--stats` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// HTTP requests sent, keyed by "METHOD path-family" (retries included).
    pub requests_by_kind: BTreeMap<String, u64>,
    /// Requests repeated after a throttle, server error or dropped connection.
    pub retries: u64,
    /// Answers with status 429 (outer or inside a `$batch`).
    pub throttled: u64,
    /// Requests carried inside `$batch` calls.
    pub batch_items: u64,
    /// Time since the client was created.
    pub wall_time: Duration,
}

impl StatsSnapshot {
    /// Total HTTP requests sent (sign-in included).
    pub fn total_requests(&self) -> u64 {
        self.requests_by_kind.values().sum()
    }
}

impl fmt::Display for StatsSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Graph: {} requests in {:.2}s, {} retries, {} throttled",
            self.total_requests(),
            self.wall_time.as_secs_f64(),
            self.retries,
            self.throttled
        )?;
        for (kind, n) in &self.requests_by_kind {
            if kind.ends_with("$batch") {
                writeln!(f, "  {n:>6}  {kind} ({} requests inside)", self.batch_items)?;
            } else {
                writeln!(f, "  {n:>6}  {kind}")?;
            }
        }
        Ok(())
    }
}

/// The statistics key of a request: method plus the path up to its first id-like segment
/// (shown as `{id}`, so `PATCH identity/conditionalAccess/policies/{id}` is not counted as a
/// list), at most five segments, query dropped.
pub(crate) fn kind_of(method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or("");
    let path = path.trim_start_matches('/');
    let path = path.strip_prefix("v1.0/").unwrap_or(path);
    let mut parts = Vec::new();
    for seg in path.split('/').filter(|s| !s.is_empty()).take(5) {
        let id_like = seg.contains('(')
            || seg.contains('@')
            || seg.chars().all(|c| c.is_ascii_digit())
            || (seg.len() >= 16 && seg.chars().all(|c| c.is_ascii_hexdigit() || c == '-'));
        if id_like {
            parts.push("{id}");
            break;
        }
        parts.push(seg);
    }
    format!("{method} {}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::kind_of;

    #[test]
    fn ids_past_the_third_segment_show_as_id_placeholders() {
        assert_eq!(
            kind_of(
                "PATCH",
                "/v1.0/identity/conditionalAccess/policies/7a1c3e5f-0b2d-4c6e-8f10-a2b4c6d8e0f1"
            ),
            "PATCH identity/conditionalAccess/policies/{id}"
        );
        assert_eq!(
            kind_of(
                "DELETE",
                "/v1.0/identity/conditionalAccess/namedLocations/7a1c3e5f-0b2d-4c6e-8f10-a2b4c6d8e0f1?x=1"
            ),
            "DELETE identity/conditionalAccess/namedLocations/{id}"
        );
        assert_eq!(
            kind_of("GET", "/v1.0/identity/conditionalAccess/policies"),
            "GET identity/conditionalAccess/policies"
        );
        assert_eq!(
            kind_of(
                "GET",
                "/v1.0/groups/0b1c2d3e-0000-0000-0000-000000000001/members"
            ),
            "GET groups/{id}"
        );
    }
}
