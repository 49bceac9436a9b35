//! What the complexity limit counts: one unit per field, plus the database or carrier work a
//! field causes, multiplied by the page size for every field inside a connection. Without the
//! multiplier, twenty aliases of `campaigns(first: 500) { … stats }` cost a few hundred units
//! and ran ten thousand statistics queries.

use super::pagination::{DEFAULT_PAGE, MAX_PAGE};

/// A field that runs one indexed query of its own: cheap next to an aggregate (the issue's
/// starvation came from aggregates), so a page of 500 calls with their keypresses and
/// timelines still passes.
pub const LOOKUP: usize = 5;
/// A field read through a DataLoader: one statement for the whole page whatever its size, so a
/// row pays only for the field itself, like a plain one.
pub const BATCHED: usize = 1;
/// A field that counts or sums over all of a campaign's rows.
pub const AGGREGATE: usize = 25;
/// Campaign statistics: four aggregates over a campaign's contacts and calls.
pub const STATS: usize = 100;
/// A request to the carrier's API.
pub const REMOTE: usize = 100;

/// A connection field: its own query plus every selected field once per row it may return.
/// `first` above the maximum is refused by the resolver; it is counted as the maximum here.
pub fn page(first: Option<i32>, child_complexity: usize) -> usize {
    let rows = first.map_or(DEFAULT_PAGE, |n| {
        usize::try_from(n).unwrap_or(0).min(MAX_PAGE)
    });
    LOOKUP.saturating_add(rows.saturating_mul(child_complexity))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_multiply_what_they_select() {
        assert_eq!(page(Some(500), 10), LOOKUP + 5_000);
        assert_eq!(page(None, 10), LOOKUP + DEFAULT_PAGE * 10);
        assert_eq!(page(Some(-3), 10), LOOKUP);
        assert_eq!(page(Some(i32::MAX), 10), LOOKUP + MAX_PAGE * 10);
        assert_eq!(page(Some(500), usize::MAX), usize::MAX);
    }
}
