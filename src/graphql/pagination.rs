//! Relay connections with keyset cursors: default page 50, max 500, forward only, and an exact
//! `totalCount` that is counted only when a client selects it.

use std::future::Future;
use std::sync::Mutex;

use async_graphql::connection::{Connection, Edge};
use std::borrow::Cow;

use async_graphql::parser::types::Field;
use async_graphql::registry::{MetaType, Registry};
use async_graphql::{
    ContextSelectionSet, Object, OutputType, Positioned, Result, ServerResult, Value,
};
use base64::Engine;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use tokio::sync::OnceCell;

use crate::error::{AppError, AppResult};

/// A page of a list: its edges, `pageInfo`, and the lazily counted `totalCount`. A newtype over
/// async-graphql's connection only to give each `XConnection` type a description, which the
/// library leaves empty and the schema's contract requires.
pub struct List<Node: OutputType>(Connection<String, Node, ListTotals>);

impl<Node: OutputType> OutputType for List<Node> {
    fn type_name() -> Cow<'static, str> {
        Connection::<String, Node, ListTotals>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        let qualified = Connection::<String, Node, ListTotals>::create_type_info(registry);
        if let Some(MetaType::Object { description, .. }) =
            registry.types.get_mut(Self::type_name().as_ref())
        {
            description.get_or_insert_with(|| {
                format!(
                    "A page of {}: edges with cursors, pageInfo, and the list's totalCount.",
                    Node::type_name()
                )
            });
        }
        qualified
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        self.0.resolve(ctx, field).await
    }
}

/// The fields every list adds to Relay's: how many items the whole list holds under its filter.
/// The count is a future that runs on first selection; aliases of `totalCount` share it.
pub struct ListTotals {
    count: Mutex<Option<BoxFuture<'static, AppResult<i64>>>>,
    counted: OnceCell<i64>,
}

impl ListTotals {
    pub fn new(count: impl Future<Output = AppResult<i64>> + Send + 'static) -> Self {
        Self {
            count: Mutex::new(Some(count.boxed())),
            counted: OnceCell::new(),
        }
    }
}

#[Object]
impl ListTotals {
    /// Exact number of items the list's filter matches across all pages. Counted only when
    /// selected, with one COUNT over the same index the page is read from; leave it out of
    /// requests that do not show it.
    async fn total_count(&self) -> Result<i64> {
        let counted = self
            .counted
            .get_or_try_init(|| async {
                let count = self.count.lock().ok().and_then(|mut c| c.take());
                match count {
                    Some(count) => count.await,
                    None => Err(AppError::internal(anyhow::anyhow!(
                        "totalCount was already tried and failed"
                    ))),
                }
            })
            .await?;
        Ok(*counted)
    }
}

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

    /// Builds the page from `limit + 1` rows; `count` runs only if `totalCount` is selected.
    pub fn connection<Row, Node: OutputType>(
        &self,
        mut rows: Vec<Row>,
        key: impl Fn(&Row) -> String,
        node: impl Fn(Row) -> Node,
        count: impl Future<Output = AppResult<i64>> + Send + 'static,
    ) -> List<Node> {
        let has_next = rows.len() > self.limit;
        rows.truncate(self.limit);
        let mut connection = Connection::with_additional_fields(
            self.after.is_some(),
            has_next,
            ListTotals::new(count),
        );
        connection.edges.extend(
            rows.into_iter()
                .map(|row| Edge::new(encode_cursor(&key(&row)), node(row))),
        );
        List(connection)
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
        let conn = page
            .connection(vec![1, 2, 3], |n| n.to_string(), |n| n, async { Ok(3) })
            .0;
        assert!(conn.has_next_page);
        assert_eq!(conn.edges.len(), 2);
        assert_eq!(
            decode_cursor(&conn.edges[1].cursor).ok().as_deref(),
            Some("2")
        );
    }
}
