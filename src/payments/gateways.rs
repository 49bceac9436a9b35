//! Our clients for MoMo and ZaloPay: the same code talks to the sandbox, production, or the
//! built-in simulator; only the endpoint and keys differ.

use chrono::Utc;
use serde::de::DeserializeOwned;

use super::protocol::{momo, zalopay};
use crate::config::payments::{MomoSettings, ZaloPaySettings};

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The request may or may not have reached the gateway; ask again later.
    #[error("gateway unreachable: {0}")]
    Unreachable(String),
    #[error("gateway answered HTTP {0}")]
    Status(u16),
    #[error("gateway answered something unreadable: {0}")]
    Unreadable(String),
}

async fn post_json<Req: serde::Serialize, Res: DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    body: &Req,
) -> Result<Res, GatewayError> {
    let response = http
        .post(url)
        .json(body)
        // MoMo asks merchants to wait at least 30 s.
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| GatewayError::Unreachable(e.without_url().to_string()))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| GatewayError::Unreachable(e.without_url().to_string()))?;
    match serde_json::from_slice(&bytes) {
        Ok(parsed) => Ok(parsed),
        Err(_) if !status.is_success() => Err(GatewayError::Status(status.as_u16())),
        Err(e) => Err(GatewayError::Unreadable(e.to_string())),
    }
}

pub struct Momo<'a> {
    pub settings: &'a MomoSettings,
    pub http: &'a reqwest::Client,
}

impl Momo<'_> {
    pub async fn create(
        &self,
        order_id: &str,
        amount: i64,
        order_info: &str,
        redirect_url: &str,
        ipn_url: &str,
    ) -> Result<momo::CreateResponse, GatewayError> {
        let s = self.settings;
        let mut request = momo::CreateRequest {
            partner_code: s.partner_code.clone(),
            access_key: None,
            request_id: order_id.to_owned(),
            amount,
            order_id: order_id.to_owned(),
            order_info: order_info.to_owned(),
            redirect_url: redirect_url.to_owned(),
            ipn_url: ipn_url.to_owned(),
            request_type: "captureWallet".into(),
            extra_data: String::new(),
            lang: "vi".into(),
            signature: String::new(),
        };
        request.signature = momo::create_signature(&s.access_key, s.secret_key.expose(), &request);
        post_json(
            self.http,
            &format!("{}/v2/gateway/api/create", s.endpoint),
            &request,
        )
        .await
    }

    pub async fn query(&self, order_id: &str) -> Result<momo::QueryResponse, GatewayError> {
        let s = self.settings;
        let mut request = momo::QueryRequest {
            partner_code: s.partner_code.clone(),
            request_id: format!("{order_id}-q{}", Utc::now().timestamp_millis()),
            order_id: order_id.to_owned(),
            lang: "vi".into(),
            signature: String::new(),
        };
        request.signature = momo::query_signature(&s.access_key, s.secret_key.expose(), &request);
        post_json(
            self.http,
            &format!("{}/v2/gateway/api/query", s.endpoint),
            &request,
        )
        .await
    }
}

pub struct ZaloPay<'a> {
    pub settings: &'a ZaloPaySettings,
    pub http: &'a reqwest::Client,
}

impl ZaloPay<'_> {
    pub async fn create(
        &self,
        app_trans_id: &str,
        app_user: &str,
        amount: i64,
        description: &str,
        callback_url: &str,
        expire_secs: i64,
    ) -> Result<zalopay::CreateResponse, GatewayError> {
        let s = self.settings;
        let mut order = zalopay::CreateOrder {
            app_id: s.app_id,
            app_user: app_user.to_owned(),
            app_trans_id: app_trans_id.to_owned(),
            app_time: Utc::now().timestamp_millis(),
            amount,
            item: "[]".into(),
            embed_data: "{}".into(),
            description: description.to_owned(),
            bank_code: String::new(),
            callback_url: Some(callback_url.to_owned()),
            expire_duration_seconds: Some(expire_secs),
            mac: String::new(),
        };
        order.mac = zalopay::create_mac(s.key1.expose(), &order);
        post_json(self.http, &format!("{}/v2/create", s.endpoint), &order).await
    }

    pub async fn query(&self, app_trans_id: &str) -> Result<zalopay::QueryResponse, GatewayError> {
        let s = self.settings;
        let request = zalopay::QueryRequest {
            app_id: s.app_id,
            app_trans_id: app_trans_id.to_owned(),
            mac: zalopay::query_mac(s.key1.expose(), s.app_id, app_trans_id),
        };
        post_json(self.http, &format!("{}/v2/query", s.endpoint), &request).await
    }
}
