//! Campaign changes: create, update, delete, and the start/pause/resume/cancel transitions.

use async_graphql::{Context, Object, Result, ID};

use super::inputs::{
    CancelCampaignInput, CloneCampaignInput, CreateCampaignInput, DeleteCampaignInput,
    PauseCampaignInput, ResumeCampaignInput, StartCampaignInput, UpdateCampaignInput,
};
use super::types::{
    CampaignNode, CancelCampaignPayload, CloneCampaignPayload, CreateCampaignPayload,
    DeleteCampaignPayload, PauseCampaignPayload, ResumeCampaignPayload, StartCampaignPayload,
    UpdateCampaignPayload,
};
use crate::campaigns::cloning;
use crate::campaigns::service::{self, CampaignInput, Transition};
use crate::graphql::context::ContextExt;
use crate::graphql::ids::parse_id;

#[derive(Default)]
pub struct CampaignsMutation;

#[Object]
impl CampaignsMutation {
    /// Creates a DRAFT campaign owned by you (any signed-in user); nothing is dialed or charged until it starts.
    async fn create_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `CreateCampaignInput`.")] input: CreateCampaignInput,
    ) -> Result<CreateCampaignPayload> {
        let input = CampaignInput::try_from(input)?;
        Ok(CreateCampaignPayload {
            campaign: CampaignNode(service::create(ctx.state(), ctx.viewer()?, input).await?),
        })
    }

    /// Changes your own campaign while it is DRAFT or PAUSED (owner only); omitted fields keep their values.
    async fn update_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `UpdateCampaignInput`.")] input: UpdateCampaignInput,
    ) -> Result<UpdateCampaignPayload> {
        let (id, patch) = input.into_patch()?;
        Ok(UpdateCampaignPayload {
            campaign: CampaignNode(service::update(ctx.state(), ctx.viewer()?, id, patch).await?),
        })
    }

    /// Copies your campaign's settings (message, menu, caller IDs, schedule, pacing, retries) into a new DRAFT with no contacts; owner only, free.
    async fn clone_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `CloneCampaignInput`.")] input: CloneCampaignInput,
    ) -> Result<CloneCampaignPayload> {
        let id = parse_id("id", &input.id)?;
        let campaign = cloning::clone(ctx.state(), ctx.viewer()?, id, input.name).await?;
        Ok(CloneCampaignPayload {
            campaign: CampaignNode(campaign),
        })
    }

    /// Deletes your own DRAFT campaign (owner only); cancel a campaign in any other status instead.
    async fn delete_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `DeleteCampaignInput`.")] input: DeleteCampaignInput,
    ) -> Result<DeleteCampaignPayload> {
        service::delete(ctx.state(), ctx.viewer()?, parse_id("id", &input.id)?).await?;
        Ok(DeleteCampaignPayload {
            deleted_id: input.id,
        })
    }

    /// Starts a DRAFT campaign once preflight finds no blocker: RUNNING, or SCHEDULED if schedule.startAt is ahead (owner or ADMIN); each call is charged to the owner at the rate table's prices.
    async fn start_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `StartCampaignInput`.")] input: StartCampaignInput,
    ) -> Result<StartCampaignPayload> {
        Ok(StartCampaignPayload {
            campaign: move_campaign(ctx, &input.id, Transition::Start).await?,
        })
    }

    /// Pauses a RUNNING or SCHEDULED campaign with pauseReason MANUAL; no new calls are dialed (owner or ADMIN).
    async fn pause_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `PauseCampaignInput`.")] input: PauseCampaignInput,
    ) -> Result<PauseCampaignPayload> {
        Ok(PauseCampaignPayload {
            campaign: move_campaign(ctx, &input.id, Transition::Pause).await?,
        })
    }

    /// Resumes a PAUSED campaign once preflight finds no blocker: RUNNING, or SCHEDULED if schedule.startAt is ahead (owner or ADMIN).
    async fn resume_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `ResumeCampaignInput`.")] input: ResumeCampaignInput,
    ) -> Result<ResumeCampaignPayload> {
        Ok(ResumeCampaignPayload {
            campaign: move_campaign(ctx, &input.id, Transition::Resume).await?,
        })
    }

    /// Cancels a DRAFT, SCHEDULED, RUNNING or PAUSED campaign for good; it cannot be started again (owner or ADMIN).
    async fn cancel_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `CancelCampaignInput`.")] input: CancelCampaignInput,
    ) -> Result<CancelCampaignPayload> {
        Ok(CancelCampaignPayload {
            campaign: move_campaign(ctx, &input.id, Transition::Cancel).await?,
        })
    }
}

async fn move_campaign(ctx: &Context<'_>, id: &ID, transition: Transition) -> Result<CampaignNode> {
    let campaign =
        service::transition(ctx.state(), ctx.viewer()?, parse_id("id", id)?, transition).await?;
    Ok(CampaignNode(campaign))
}
