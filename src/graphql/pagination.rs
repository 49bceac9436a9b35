//! Relay connections with keyset cursors: default page 50, max 500, forward only.

use async_graphql::connection::{Connection, Edge};
use async_graphql::OutputType;
use base64::Engine;

use crate::error::{AppError, AppResult};

pub const DEFAULT_PAGE: usize = 50;
pub const MAX_PAGE: usize = 500;

#[derive(Debug, Clone)]
pub struct Page {
    pub limit: usize,
    /// The decoded `after` cursor: the sort key of the last row already seen.
    pub after: Option<String>,
}

impl Page {
    pub fn parse(first: Option<i32>, after: Option<String>) -> AppResult<Self> {
        let limit = match first {
            None => DEFAULT_PAGE,
            Some(n) if n < 0 => {
                return Err(AppError::bad_input("first", "first must not be negative"))
            }
            Some(n) if n as usize > MAX_PAGE => {
                return Err(AppError::bad_input(
                    "first",
                    format!("first must be at most {MAX_PAGE}"),
                ))
            }
            Some(n) => n as usize,
        };
        let after = after.map(|c| decode_cursor(&c)).transpose()?;
        Ok(Self { limit, after })
    }

    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.limit as i64 + 1
    }

    pub fn after_parsed<T: std::str::FromStr>(&self) -> AppResult<Option<T>> {
        self.after
            .as_deref()
            .map(|raw| {
                raw.parse()
                    .map_err(|_| AppError::bad_input("after", "not a cursor from this list"))
            })
            .transpose()
    }

    /// Builds the connection from `limit + 1` rows.
    pub fn connection<Row, Node: OutputType>(
        &self,
        mut rows: Vec<Row>,
        key: impl Fn(&Row) -> String,
        node: impl Fn(Row) -> Node,
    ) -> Connection<String, Node> {
        let has_next = rows.len() > self.limit;
        rows.truncate(self.limit);
        let mut connection = Connection::new(self.after.is_some(), has_next);
        connection.edges.extend(
            rows.into_iter()
                .map(|row| Edge::new(encode_cursor(&key(&row)), node(row))),
        );
        connection
    }
}

pub fn encode_cursor(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

pub fn decode_cursor(cursor: &str) -> AppResult<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| AppError::bad_input("after", "not a cursor from this list"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_enforced() {
        assert_eq!(
            Page::parse(None, None).map(|p| p.limit).ok(),
            Some(DEFAULT_PAGE)
        );
        assert!(Page::parse(Some(501), None).is_err());
        assert!(Page::parse(Some(-1), None).is_err());
        assert!(Page::parse(Some(10), Some("%%%".into())).is_err());
    }

    #[test]
    fn over_fetch_sets_has_next_page() {
        let page = Page::parse(Some(2), None).expect("page");
        let conn = page.connection(vec![1, 2, 3], |n| n.to_string(), |n| n);
        assert!(conn.has_next_page);
        assert_eq!(conn.edges.len(), 2);
        assert_eq!(
            decode_cursor(&conn.edges[1].cursor).ok().as_deref(),
            Some("2")
        );
    }
}
