//! Batched reads for lists: a page of calls or users costs one statement per field group, not
//! one per row. Keys are ids of rows the resolver already authorised.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::model::{Balance, Entry};
use super::rates::Rate;
use crate::app::AppState;
use crate::error::AppError;

/// What a call has cost, holds and was priced at, read from its ledger entries.
#[derive(Clone, Debug, Default)]
pub struct CallMoney {
    /// VND charged (0 until it ends).
    pub charged: i64,
    /// VND still held for it.
    pub held: i64,
    /// The rate its hold was priced at.
    pub rate: Option<Rate>,
}

/// `cost`, `held` and `pricePerMinute` of calls; a call without entries has none of them.
pub struct CallMoneyLoader(pub AppState);

impl Loader<Uuid> for CallMoneyLoader {
    type Value = CallMoney;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, CallMoney>, Self::Error> {
        let rows = Entry::money_of_calls(&mut *self.0.conn().await?, ids)
            .await
            .map_err(AppError::from)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let money = CallMoney {
                    charged: r.charged,
                    held: r.held,
                    rate: r.rate.and_then(|v| serde_json::from_value(v).ok()),
                };
                (r.call_id, money)
            })
            .collect())
    }
}

/// Users' balances as of now, without locking; a user who never had money has none.
pub struct Balances(pub AppState);

impl Loader<Uuid> for Balances {
    type Value = Balance;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Balance>, Self::Error> {
        Ok(Balance::of_users(&mut *self.0.conn().await?, ids)
            .await
            .map_err(AppError::from)?)
    }
}
