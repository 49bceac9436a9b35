//! The one scalar every amount of money travels in. GraphQL's `Int` is 32 bits, and a platform
//! statement passes 2,147,483,647 đồng quickly; a JSON number is exact in JavaScript up to 2^53.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// The largest amount a JavaScript client reads exactly (2^53 - 1).
pub const MAX_SAFE: i64 = 9_007_199_254_740_991;

/// An amount in đồng; models keep plain `i64` and meet this type at the schema's edge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vnd(pub i64);

/// Money: a whole number of Vietnamese đồng (VND), as a JSON number between -(2^53-1) and 2^53-1,
/// so that JavaScript clients read it exactly. Never a fraction and never a string.
#[Scalar(name = "Vnd")]
impl ScalarType for Vnd {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::Number(n) = &value else {
            return Err(InputValueError::expected_type(value));
        };
        match n.as_i64() {
            Some(v) if (-MAX_SAFE..=MAX_SAFE).contains(&v) => Ok(Vnd(v)),
            _ => Err(InputValueError::custom(
                "Vnd is a whole number of đồng between -(2^53-1) and 2^53-1",
            )),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::Number(n) if n.as_i64().is_some_and(|v| (-MAX_SAFE..=MAX_SAFE).contains(&v)))
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.into())
    }
}

impl From<i64> for Vnd {
    fn from(v: i64) -> Self {
        Vnd(v)
    }
}

/// For `#[graphql(default = 0)]` on an input's amount.
impl From<i32> for Vnd {
    fn from(v: i32) -> Self {
        Vnd(v.into())
    }
}

impl From<Vnd> for i64 {
    fn from(v: Vnd) -> Self {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_safe_numbers_parse() {
        let parse = |v: serde_json::Value| Vnd::parse(Value::from_json(v).expect("value"));
        assert_eq!(parse(serde_json::json!(150_000)).ok(), Some(Vnd(150_000)));
        assert_eq!(parse(serde_json::json!(-5)).ok(), Some(Vnd(-5)));
        assert!(parse(serde_json::json!(MAX_SAFE)).is_ok());
        assert!(parse(serde_json::json!(MAX_SAFE + 1)).is_err());
        assert!(parse(serde_json::json!(1.5)).is_err());
        assert!(parse(serde_json::json!("150000")).is_err());
    }
}
