//! Campaign changes: create, update, delete, and the start/pause/resume/cancel transitions.

use async_graphql::{Context, Object, Result, ID};

use super::inputs::{CampaignIdInput, CreateCampaignInput, UpdateCampaignInput};
use super::types::{CampaignNode, CampaignPayload, DeleteCampaignPayload};
use crate::campaigns::service::{self, CampaignInput, Transition};
use crate::graphql::context::ContextExt;
use crate::graphql::ids::parse_id;

#[derive(Default)]
pub struct CampaignsMutation;

#[Object]
impl CampaignsMutation {
    async fn create_campaign(
        &self,
        ctx: &Context<'_>,
        input: CreateCampaignInput,
    ) -> Result<CampaignPayload> {
        let input = CampaignInput::try_from(input)?;
        Ok(CampaignPayload {
            campaign: CampaignNode(service::create(ctx.state(), ctx.viewer()?, input).await?),
        })
    }

    /// Only while DRAFT or PAUSED.
    async fn update_campaign(
        &self,
        ctx: &Context<'_>,
        input: UpdateCampaignInput,
    ) -> Result<CampaignPayload> {
        let (id, patch) = input.into_patch()?;
        Ok(CampaignPayload {
            campaign: CampaignNode(service::update(ctx.state(), ctx.viewer()?, id, patch).await?),
        })
    }

    /// Only DRAFT campaigns.
    async fn delete_campaign(
        &self,
        ctx: &Context<'_>,
        input: CampaignIdInput,
    ) -> Result<DeleteCampaignPayload> {
        service::delete(ctx.state(), ctx.viewer()?, parse_id("id", &input.id)?).await?;
        Ok(DeleteCampaignPayload {
            deleted_id: input.id,
        })
    }

    async fn start_campaign(
        &self,
        ctx: &Context<'_>,
        input: CampaignIdInput,
    ) -> Result<CampaignPayload> {
        move_campaign(ctx, &input.id, Transition::Start).await
    }

    async fn pause_campaign(
        &self,
        ctx: &Context<'_>,
        input: CampaignIdInput,
    ) -> Result<CampaignPayload> {
        move_campaign(ctx, &input.id, Transition::Pause).await
    }

    async fn resume_campaign(
        &self,
        ctx: &Context<'_>,
        input: CampaignIdInput,
    ) -> Result<CampaignPayload> {
        move_campaign(ctx, &input.id, Transition::Resume).await
    }

    async fn cancel_campaign(
        &self,
        ctx: &Context<'_>,
        input: CampaignIdInput,
    ) -> Result<CampaignPayload> {
        move_campaign(ctx, &input.id, Transition::Cancel).await
    }
}

async fn move_campaign(
    ctx: &Context<'_>,
    id: &ID,
    transition: Transition,
) -> Result<CampaignPayload> {
    let campaign =
        service::transition(ctx.state(), ctx.viewer()?, parse_id("id", id)?, transition).await?;
    Ok(CampaignPayload {
        campaign: CampaignNode(campaign),
    })
}
