//! Relay connections with keyset cursors: default page 50, max 500, forward (`first`/`after`) or
//! backward (`last`/`before`), in the list's order or one a client chose (see `order`), and an
//! exact `totalCount` that is counted only when a client selects it.

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

use super::order::Ordering;
use crate::db::keyset::Seek;
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

/// One request's page of a list: forward (`first`/`after`) or backward (`last`/`before`).
#[derive(Debug, Clone)]
pub struct Page {
    pub limit: usize,
    /// The decoded `after` or `before` cursor: the sort key of the row the page starts past.
    cursor: Option<String>,
    /// Read from the end towards the start (`last`/`before`); rows are still returned in the
    /// list's order.
    pub backward: bool,
}

impl Page {
    /// Relay's arguments, one direction at a time: `first`/`after` or `last`/`before`.
    pub fn parse(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> AppResult<Self> {
        let backward = last.is_some() || before.is_some();
        if backward && (first.is_some() || after.is_some()) {
            return Err(AppError::bad_input(
                if first.is_some() && last.is_some() {
                    "last"
                } else {
                    "before"
                },
                "page forward with first/after or backward with last/before, not both",
            ));
        }
        let (name, size, cursor) = if backward {
            ("last", last, before)
        } else {
            ("first", first, after)
        };
        let limit = match size {
            None => DEFAULT_PAGE,
            Some(n) if n < 0 => {
                return Err(AppError::bad_input(
                    name,
                    format!("{name} must not be negative"),
                ))
            }
            Some(n) if n as usize > MAX_PAGE => {
                return Err(AppError::bad_input(
                    name,
                    format!("{name} must be at most {MAX_PAGE}"),
                ))
            }
            Some(n) => n as usize,
        };
        let cursor = cursor
            .map(|c| decode_cursor(&c, cursor_arg(backward)))
            .transpose()?;
        Ok(Self {
            limit,
            cursor,
            backward,
        })
    }

    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.limit as i64 + 1
    }

    /// The read this page makes of a list in `order`: a cursor of another order (or another
    /// list) is refused rather than read as a position it never named.
    pub fn seek(&self, order: &Ordering) -> AppResult<Seek> {
        let from = self
            .cursor
            .as_deref()
            .map(|raw| {
                order
                    .key(raw)
                    .ok_or_else(|| AppError::bad_input(cursor_arg(self.backward), NOT_OURS))
            })
            .transpose()?;
        Ok(Seek {
            from,
            descending: order.descending != self.backward,
            limit: self.fetch_limit(),
        })
    }

    /// Builds the page from the `limit + 1` rows `seek` read; `count` runs only if `totalCount`
    /// is selected. A backward page was read in reverse and is turned back into list order.
    pub fn connection<Row, Node: OutputType>(
        &self,
        mut rows: Vec<Row>,
        key: impl Fn(&Row) -> String,
        node: impl Fn(Row) -> Node,
        count: impl Future<Output = AppResult<i64>> + Send + 'static,
    ) -> List<Node> {
        let more = rows.len() > self.limit;
        rows.truncate(self.limit);
        let started_inside = self.cursor.is_some();
        let (has_previous, has_next) = if self.backward {
            rows.reverse();
            (more, started_inside)
        } else {
            (started_inside, more)
        };
        let mut connection =
            Connection::with_additional_fields(has_previous, has_next, ListTotals::new(count));
        connection.edges.extend(
            rows.into_iter()
                .map(|row| Edge::new(encode_cursor(&key(&row)), node(row))),
        );
        List(connection)
    }
}

const NOT_OURS: &str = "not a cursor from this list in this order";

fn cursor_arg(backward: bool) -> &'static str {
    if backward {
        "before"
    } else {
        "after"
    }
}

pub fn encode_cursor(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

pub fn decode_cursor(cursor: &str, argument: &'static str) -> AppResult<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| AppError::bad_input(argument, NOT_OURS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::keyset::SortKind;

    fn parse(first: Option<i32>, last: Option<i32>, cursor: Option<&str>) -> AppResult<Page> {
        let cursor = cursor.map(encode_cursor);
        if last.is_some() {
            Page::parse(first, None, last, cursor)
        } else {
            Page::parse(first, cursor, None, None)
        }
    }

    #[test]
    fn limits_are_enforced() {
        assert_eq!(
            Page::parse(None, None, None, None).map(|p| p.limit).ok(),
            Some(DEFAULT_PAGE)
        );
        assert!(parse(Some(501), None, None).is_err());
        assert!(parse(Some(-1), None, None).is_err());
        assert!(parse(None, Some(501), None).is_err());
        assert!(parse(None, Some(-1), None).is_err());
        assert!(Page::parse(Some(10), Some("%%%".into()), None, None).is_err());
        assert!(parse(Some(1), Some(1), None).is_err());
        assert!(Page::parse(Some(1), None, None, Some(encode_cursor("1"))).is_err());
        assert!(Page::parse(None, Some(encode_cursor("1")), Some(1), None).is_err());
    }

    #[test]
    fn over_fetch_sets_has_next_page() {
        let page = parse(Some(2), None, None).expect("page");
        let conn = page
            .connection(vec![1, 2, 3], |n| n.to_string(), |n| n, async { Ok(3) })
            .0;
        assert!(conn.has_next_page);
        assert!(!conn.has_previous_page);
        assert_eq!(conn.edges.len(), 2);
        assert_eq!(
            decode_cursor(&conn.edges[1].cursor, "after")
                .ok()
                .as_deref(),
            Some("2")
        );
    }

    #[test]
    fn a_backward_page_reads_reversed_and_returns_list_order() {
        let order = Ordering::by_id(SortKind::Int, true);
        let page = parse(None, Some(2), Some("9")).expect("page");
        let seek = page.seek(&order).expect("seek");
        assert!(
            !seek.descending,
            "a descending list is read ascending backward"
        );
        assert_eq!(seek.limit, 3);
        // Read past 9 going up: 10, 11, 12 (the extra row says more come before).
        let conn = page
            .connection(vec![10, 11, 12], |n| n.to_string(), |n| n, async { Ok(3) })
            .0;
        let nodes: Vec<i32> = conn.edges.iter().map(|e| e.node).collect();
        assert_eq!(nodes, vec![11, 10]);
        assert!(conn.has_previous_page);
        assert!(conn.has_next_page, "before was given");
        assert!(parse(None, Some(2), Some("x"))
            .and_then(|p| p.seek(&order))
            .is_err());
    }
}
