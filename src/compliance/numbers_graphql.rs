//! Number-type fields: anyone may ask what kind a number is and whether it may be called;
//! administrators allow further types or ranges (audited).

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::numbers::{self, Allowance, AllowanceKind};
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::phone::NumberType;

/// A type or range an administrator made callable.
#[derive(SimpleObject)]
pub struct NumberAllowance {
    pub id: ID,
    pub kind: AllowanceKind,
    /// The type's name, or the digits of the prefix.
    pub value: String,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

impl From<Allowance> for NumberAllowance {
    fn from(a: Allowance) -> Self {
        Self {
            id: ID(a.id.to_string()),
            kind: a.kind,
            value: a.value,
            note: a.note,
            created_at: a.created_at,
        }
    }
}

/// What the numbering plan says about a number, and whether the platform would dial it.
#[derive(SimpleObject)]
pub struct NumberCheck {
    pub e164: String,
    pub country: Option<String>,
    pub number_type: NumberType,
    pub callable: bool,
}

#[derive(InputObject)]
pub struct AllowNumberTypeInput {
    pub number_type: NumberType,
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct AllowNumberPrefixInput {
    /// Digits of the international number, `+` optional: `870`, `+447624`.
    pub prefix: String,
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct RevokeNumberAllowanceInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct NumberAllowancePayload {
    pub allowance: NumberAllowance,
}

#[derive(Default)]
pub struct NumbersQuery;

#[Object]
impl NumbersQuery {
    /// The kind of a number (premium rate, satellite, mobile, ...) and whether it may be called.
    async fn number_check(
        &self,
        ctx: &Context<'_>,
        phone: String,
        #[graphql(default_with = "String::from(\"VN\")")] default_country: String,
    ) -> Result<NumberCheck> {
        ctx.viewer()?;
        let parsed = crate::phone::parse(&phone, &default_country)
            .map_err(|e| crate::error::AppError::bad_input("phone", format!("{phone:?} is {e}")))?;
        let mut conn = ctx.state().conn().await?;
        let fact = numbers::load(&mut conn)
            .await?
            .permit(parsed.e164.as_str(), parsed.number_type);
        Ok(NumberCheck {
            e164: parsed.e164.to_string(),
            country: parsed.country,
            number_type: parsed.number_type,
            callable: fact.allowed,
        })
    }

    /// Types and ranges callable beyond mobile and fixed lines.
    #[graphql(guard = "AdminGuard")]
    async fn number_allowances(&self, ctx: &Context<'_>) -> Result<Vec<NumberAllowance>> {
        let mut conn = ctx.state().conn().await?;
        Ok(numbers::list(&mut conn)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

#[derive(Default)]
pub struct NumbersMutation;

#[Object]
impl NumbersMutation {
    /// Makes every number of a type callable (premium rate, satellite, ...).
    #[graphql(guard = "AdminGuard")]
    async fn allow_number_type(
        &self,
        ctx: &Context<'_>,
        input: AllowNumberTypeInput,
    ) -> Result<NumberAllowancePayload> {
        let allowance = numbers::allow(
            ctx.state(),
            ctx.viewer()?,
            AllowanceKind::Type,
            input.number_type.as_str(),
            input.note.as_deref(),
        )
        .await?;
        Ok(NumberAllowancePayload {
            allowance: allowance.into(),
        })
    }

    /// Makes every number starting with a prefix callable, whatever its type.
    #[graphql(guard = "AdminGuard")]
    async fn allow_number_prefix(
        &self,
        ctx: &Context<'_>,
        input: AllowNumberPrefixInput,
    ) -> Result<NumberAllowancePayload> {
        let allowance = numbers::allow(
            ctx.state(),
            ctx.viewer()?,
            AllowanceKind::Prefix,
            &input.prefix,
            input.note.as_deref(),
        )
        .await?;
        Ok(NumberAllowancePayload {
            allowance: allowance.into(),
        })
    }

    #[graphql(guard = "AdminGuard")]
    async fn revoke_number_allowance(
        &self,
        ctx: &Context<'_>,
        input: RevokeNumberAllowanceInput,
    ) -> Result<NumberAllowancePayload> {
        let id = parse_id("id", &input.id)?;
        let allowance = numbers::revoke(ctx.state(), ctx.viewer()?, id).await?;
        Ok(NumberAllowancePayload {
            allowance: allowance.into(),
        })
    }
}
