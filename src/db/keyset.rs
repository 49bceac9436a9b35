//! Keyset pages over (sort value, id): the order and the "rows past this one" condition as one
//! row-value comparison, `(sort, id) < ($1, $2)`, which PostgreSQL turns into an index bound on a
//! `(scope…, sort, id)` btree — so a page costs the same at row 10 and at row 10 million. An OR of
//! column comparisons would read the index from its start and filter.

use diesel::expression::{is_aggregate, AppearsOnTable, Expression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, BoxedSqlQuery, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::QueryResult;
use uuid::Uuid;

/// One sort key's value, as cursors carry it and as it is bound into the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Text(String),
    Int(i64),
    Uuid(Uuid),
}

/// Which type a cursor's value must parse as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKind {
    Text,
    Int,
    Uuid,
}

impl SortKind {
    pub fn parse(self, raw: &str) -> Option<SortValue> {
        match self {
            Self::Text => Some(SortValue::Text(raw.to_owned())),
            Self::Int => raw.parse().ok().map(SortValue::Int),
            Self::Uuid => raw.parse().ok().map(SortValue::Uuid),
        }
    }
}

impl std::fmt::Display for SortValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(s) => f.write_str(s),
            Self::Int(n) => write!(f, "{n}"),
            Self::Uuid(u) => write!(f, "{u}"),
        }
    }
}

/// A column a list can be sorted by. Every one is served by an index that ends in (sort, id)
/// under the list's usual scope; see the migrations that name the order.
pub trait Sort: Copy + PartialEq + std::fmt::Debug {
    /// The sorted SQL (columns of the list's table, never user text) and its kind; `None` for
    /// creation order, which is the id alone (UUIDv7 or a sequence).
    fn column(self) -> Option<(&'static str, SortKind)>;
}

/// The last row a client saw: its sort value (none when the list is ordered by id alone) and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub value: Option<SortValue>,
    pub id: SortValue,
}

/// One page's read: rows strictly past `from` in the direction the index is walked, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seek {
    pub from: Option<Key>,
    /// The direction the index is walked: the list's own order, reversed for a backward page.
    pub descending: bool,
    pub limit: i64,
}

impl Seek {
    /// `ORDER BY` for a list sorted by `sort` (SQL over the table's columns, never user text;
    /// `None` for id alone), ties broken by `id`.
    pub fn order(&self, sort: Option<&'static str>, id: &'static str) -> OrderBy {
        OrderBy {
            sort,
            id,
            descending: self.descending,
        }
    }

    /// The condition that skips to the rows after the cursor, if there is one.
    pub fn past(&self, sort: Option<&'static str>, id: &'static str) -> Option<Past> {
        self.from.clone().map(|key| Past {
            sort,
            id,
            descending: self.descending,
            key,
        })
    }
}

#[derive(Debug, Clone)]
pub struct OrderBy {
    sort: Option<&'static str>,
    id: &'static str,
    descending: bool,
}

#[derive(Debug, Clone)]
pub struct Past {
    sort: Option<&'static str>,
    id: &'static str,
    descending: bool,
    key: Key,
}

fn bind<'b>(out: &mut AstPass<'_, 'b, Pg>, value: &'b SortValue) -> QueryResult<()> {
    match value {
        SortValue::Text(s) => out.push_bind_param::<Text, _>(s),
        SortValue::Int(n) => out.push_bind_param::<BigInt, _>(n),
        SortValue::Uuid(u) => out.push_bind_param::<diesel::sql_types::Uuid, _>(u),
    }
}

/// Binds a cursor's value to a hand-written query's next placeholder.
pub fn bind_raw<'f, Q>(
    query: BoxedSqlQuery<'f, Pg, Q>,
    value: &SortValue,
) -> BoxedSqlQuery<'f, Pg, Q> {
    match value.clone() {
        SortValue::Text(s) => query.bind::<Text, _>(s),
        SortValue::Int(n) => query.bind::<BigInt, _>(n),
        SortValue::Uuid(u) => query.bind::<diesel::sql_types::Uuid, _>(u),
    }
}

impl Seek {
    /// `ORDER BY`, the cursor condition and the next free placeholder for a hand-written query
    /// whose cursor placeholders start at `$first`; bind the cursor there with `bind_cursor`.
    pub fn raw_sql(
        &self,
        sort: Option<&'static str>,
        id: &'static str,
        first: usize,
    ) -> (String, String, usize) {
        let way = if self.descending { "DESC" } else { "ASC" };
        let op = if self.descending { "<" } else { ">" };
        let order = match sort {
            Some(sort) => format!("{sort} {way}, {id} {way}"),
            None => format!("{id} {way}"),
        };
        let (past, next) = match (&self.from, sort) {
            (None, _) => (String::new(), first),
            (Some(_), Some(sort)) => (
                format!("AND ({sort}, {id}) {op} (${first}, ${})", first + 1),
                first + 2,
            ),
            (Some(_), None) => (format!("AND {id} {op} ${first}"), first + 1),
        };
        (order, past, next)
    }

    /// Binds the cursor (if any) where `raw_sql` put its placeholders.
    pub fn bind_cursor<'f, Q>(
        &self,
        sorted: bool,
        mut query: BoxedSqlQuery<'f, Pg, Q>,
    ) -> BoxedSqlQuery<'f, Pg, Q> {
        let Some(key) = &self.from else {
            return query;
        };
        if let (true, Some(value)) = (sorted, &key.value) {
            query = bind_raw(query, value);
        }
        bind_raw(query, &key.id)
    }
}

impl QueryFragment<Pg> for Past {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("(");
        if let Some(sort) = self.sort {
            out.push_sql(sort);
            out.push_sql(", ");
        }
        out.push_sql(self.id);
        out.push_sql(if self.descending { ") < (" } else { ") > (" });
        if let (Some(_), Some(value)) = (self.sort, &self.key.value) {
            bind(&mut out, value)?;
            out.push_sql(", ");
        }
        bind(&mut out, &self.key.id)?;
        out.push_sql(")");
        Ok(())
    }
}

impl QueryFragment<Pg> for OrderBy {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let way = if self.descending { " DESC" } else { " ASC" };
        if let Some(sort) = self.sort {
            out.push_sql(sort);
            out.push_sql(way);
            out.push_sql(", ");
        }
        out.push_sql(self.id);
        out.push_sql(way);
        Ok(())
    }
}

macro_rules! sql_expression {
    ($ty:ty, $sql_type:ty) => {
        impl Expression for $ty {
            type SqlType = $sql_type;
        }
        impl<QS> AppearsOnTable<QS> for $ty {}
        impl<GB> ValidGrouping<GB> for $ty {
            type IsAggregate = is_aggregate::Never;
        }
        impl QueryId for $ty {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }
    };
}

sql_expression!(Past, Bool);
sql_expression!(OrderBy, Text);

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(fragment: &impl QueryFragment<Pg>) -> String {
        diesel::debug_query::<Pg, _>(fragment).to_string()
    }

    #[test]
    fn a_sorted_page_compares_the_row_value() {
        let seek = Seek {
            from: Some(Key {
                value: Some(SortValue::Text("RINGING".into())),
                id: SortValue::Int(7),
            }),
            descending: true,
            limit: 3,
        };
        let past = seek.past(Some("t.status"), "t.id").expect("a cursor");
        assert!(sql(&past).starts_with("(t.status, t.id) < ($1, $2)"));
        assert_eq!(
            sql(&seek.order(Some("t.status"), "t.id")),
            "t.status DESC, t.id DESC -- binds: []"
        );
        let by_id = Seek {
            descending: false,
            ..seek
        };
        assert!(sql(&by_id.past(None, "t.id").expect("a cursor")).starts_with("(t.id) > ($1)"));
    }

    #[test]
    fn cursor_values_parse_by_kind() {
        assert_eq!(SortKind::Int.parse("-1"), Some(SortValue::Int(-1)));
        assert_eq!(SortKind::Int.parse("x"), None);
        assert_eq!(SortKind::Uuid.parse("7"), None);
    }
}
