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
    /// The allowance's ID.
    pub id: ID,
    /// TYPE or PREFIX.
    pub kind: AllowanceKind,
    /// The type's name, or the digits of the prefix.
    pub value: String,
    /// The admin's note, at most 200 characters; may be empty.
    pub note: String,
    /// When it was granted (RFC 3339, UTC).
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
    /// The number in E.164, e.g. +84901234567.
    pub e164: String,
    /// ISO 3166 two-letter country of the number; empty when the plan does not say.
    pub country: Option<String>,
    /// The kind of line.
    pub number_type: NumberType,
    /// Whether its type or range may be dialled (do-not-call lists and caps are not checked here).
    pub callable: bool,
}

/// A number type to make callable.
#[derive(InputObject)]
pub struct AllowNumberTypeInput {
    /// The type to allow.
    pub number_type: NumberType,
    /// Why, at most 200 characters, no control characters.
    pub note: Option<String>,
}

/// A number range to make callable.
#[derive(InputObject)]
pub struct AllowNumberPrefixInput {
    /// Digits of the international number, `+` optional: `870`, `+447624`.
    pub prefix: String,
    /// Why, at most 200 characters, no control characters.
    pub note: Option<String>,
}

/// The allowance to withdraw.
#[derive(InputObject)]
pub struct RevokeNumberAllowanceInput {
    /// The allowance's ID.
    pub id: ID,
}

crate::one_field_types!(SimpleObject "answers", allowance: NumberAllowance,
    "The allowance granted, or the one just revoked." =>
    AllowNumberTypePayload "allowNumberType",
    AllowNumberPrefixPayload "allowNumberPrefix",
    RevokeNumberAllowancePayload "revokeNumberAllowance",
);

#[derive(Default)]
pub struct NumbersQuery;

#[Object]
impl NumbersQuery {
    /// The kind of a number (premium rate, satellite, mobile, ...) and whether it may be called; any signed-in user.
    async fn number_check(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The number, E.164 or national in `defaultCountry`.")] phone: String,
        #[graphql(
            desc = "ISO country code for national numbers such as 0912345678; VN when omitted.",
            default_with = "String::from(\"VN\")"
        )]
        default_country: String,
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

    /// Types and ranges made callable beyond mobile and fixed lines, oldest first; ADMIN only.
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
    /// Makes every number of a type callable (premium rate, satellite, ...); audited; ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn allow_number_type(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `AllowNumberTypeInput`.")] input: AllowNumberTypeInput,
    ) -> Result<AllowNumberTypePayload> {
        let allowance = numbers::allow(
            ctx.state(),
            ctx.viewer()?,
            AllowanceKind::Type,
            input.number_type.as_str(),
            input.note.as_deref(),
        )
        .await?;
        Ok(AllowNumberTypePayload {
            allowance: allowance.into(),
        })
    }

    /// Makes every number starting with a prefix callable, whatever its type; audited; ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn allow_number_prefix(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `AllowNumberPrefixInput`.")]
        input: AllowNumberPrefixInput,
    ) -> Result<AllowNumberPrefixPayload> {
        let allowance = numbers::allow(
            ctx.state(),
            ctx.viewer()?,
            AllowanceKind::Prefix,
            &input.prefix,
            input.note.as_deref(),
        )
        .await?;
        Ok(AllowNumberPrefixPayload {
            allowance: allowance.into(),
        })
    }

    /// Withdraws an allowance: its numbers are refused from the next dial on; audited; ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn revoke_number_allowance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `RevokeNumberAllowanceInput`.")]
        input: RevokeNumberAllowanceInput,
    ) -> Result<RevokeNumberAllowancePayload> {
        let id = parse_id("id", &input.id)?;
        let allowance = numbers::revoke(ctx.state(), ctx.viewer()?, id).await?;
        Ok(RevokeNumberAllowancePayload {
            allowance: allowance.into(),
        })
    }
}
