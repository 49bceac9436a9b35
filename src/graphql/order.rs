//! A list's order as its cursors name it. Every order a list offers is (sort value, id) read from
//! one index, so a cursor carries both, prefixed with the order's name: a cursor from another
//! order is refused instead of being read as a position it never named. A list's default order
//! keeps the bare-id cursors it had before orders existed.

use async_graphql::Enum;

use crate::db::keyset::{Key, Sort, SortKind, SortValue};

/// Which way a list is sorted.
#[derive(Enum, Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum OrderDirection {
    /// Smallest first (A to Z, oldest first).
    Asc,
    /// Largest first (Z to A, newest first).
    #[default]
    Desc,
}

impl OrderDirection {
    pub fn descending(self) -> bool {
        self == Self::Desc
    }
}

/// One list order: what its cursors hold and which way it runs.
#[derive(Debug, Clone)]
pub struct Ordering {
    /// `None` for the list's default order, whose cursors are bare ids.
    tag: Option<String>,
    value: Option<SortKind>,
    id: SortKind,
    pub descending: bool,
}

impl Ordering {
    /// A list's default order: by id (creation order), cursors are the bare id.
    pub fn by_id(id: SortKind, descending: bool) -> Self {
        Self {
            tag: None,
            value: None,
            id,
            descending,
        }
    }

    /// The order a client asked for (or the list's `default`), and what its cursors hold.
    pub fn of<S: Sort>(
        chosen: Option<(S, OrderDirection)>,
        default: (S, OrderDirection),
        id: SortKind,
    ) -> (S, Self) {
        let (field, direction) = chosen.unwrap_or(default);
        let ordering = Self::chosen(
            &format!("{field:?}"),
            field.column().map(|(_, kind)| kind),
            id,
            direction,
            (field, direction) == default,
        );
        (field, ordering)
    }

    /// An order a client asked for: `name` (the GraphQL enum value) in `direction`, sorting by
    /// a value of `value`'s kind (or by id alone). When it is the list's default order it uses
    /// the default's cursors, so both spellings page the same list.
    pub fn chosen(
        name: &str,
        value: Option<SortKind>,
        id: SortKind,
        direction: OrderDirection,
        default: bool,
    ) -> Self {
        Self {
            tag: (!default).then(|| format!("{name}_{direction:?}").to_uppercase()),
            value,
            id,
            descending: direction.descending(),
        }
    }

    /// The cursor of a row with this sort value and id (before base64).
    pub fn cursor(&self, value: Option<SortValue>, id: impl std::fmt::Display) -> String {
        match (&self.tag, value) {
            (None, _) => id.to_string(),
            (Some(tag), Some(value)) if self.value.is_some() => format!("{tag}:{value}:{id}"),
            (Some(tag), _) => format!("{tag}:{id}"),
        }
    }

    /// The key a decoded cursor names in this order, or `None` if it is not one of its cursors.
    pub fn key(&self, raw: &str) -> Option<Key> {
        let rest = match &self.tag {
            None => raw,
            Some(tag) => raw.strip_prefix(tag.as_str())?.strip_prefix(':')?,
        };
        match self.value {
            None => Some(Key {
                value: None,
                id: self.id.parse(rest)?,
            }),
            Some(kind) => {
                let (value, id) = rest.rsplit_once(':')?;
                Some(Key {
                    value: Some(kind.parse(value)?),
                    id: self.id.parse(id)?,
                })
            }
        }
    }
}

/// Declares a list's `XOrder` input: a field of the list's `XOrderField` enum and a direction.
macro_rules! list_order {
    ($name:ident, $field:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(async_graphql::InputObject, Clone, Copy, Debug)]
        pub struct $name {
            /// The column to sort by; rows with equal values are ordered by id, the same way.
            pub field: $field,
            /// Which way to sort; DESC (largest, latest or Z first) when omitted.
            #[graphql(default)]
            pub direction: $crate::graphql::order::OrderDirection,
        }

        impl $name {
            pub fn pair(
                order: Option<Self>,
            ) -> Option<($field, $crate::graphql::order::OrderDirection)> {
                order.map(|o| (o.field, o.direction))
            }
        }
    };
}
pub(crate) use list_order;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_stay_in_their_order() {
        let by_name = Ordering::chosen(
            "Name",
            Some(SortKind::Text),
            SortKind::Int,
            OrderDirection::Asc,
            false,
        );
        let cursor = by_name.cursor(Some(SortValue::Text("a:b".into())), 42);
        assert_eq!(cursor, "NAME_ASC:a:b:42");
        assert_eq!(
            by_name.key(&cursor),
            Some(Key {
                value: Some(SortValue::Text("a:b".into())),
                id: SortValue::Int(42)
            })
        );
        let by_name_desc = Ordering::chosen(
            "Name",
            Some(SortKind::Text),
            SortKind::Int,
            OrderDirection::Desc,
            false,
        );
        assert_eq!(by_name_desc.key(&cursor), None);
        let default = Ordering::by_id(SortKind::Int, true);
        assert_eq!(default.cursor(None, 42), "42");
        assert_eq!(default.key(&cursor), None);
        assert_eq!(by_name.key("42"), None);
    }
}
