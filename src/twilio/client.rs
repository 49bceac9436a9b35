//! The Twilio REST client: Basic auth, form-encoded PascalCase parameters, JSON answers.
//!
//! The base URL belongs to the account, so real Twilio and the emulator share this code; every
//! request is checked against `endpoint` first, so only Twilio or an allowed emulator sees a token.

use std::time::Duration;

use rand::Rng;
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde::de::DeserializeOwned;

use super::endpoint;
use super::error::{ErrorBody, TwilioError};
use super::types::{
    Account, AvailablePhoneNumber, Balance, Call, CallFilter, CreateCall, IncomingPhoneNumber,
    NumberWebhooks, Page,
};
use crate::config::Secret;

pub const TWILIO_API_BASE: &str = "https://api.twilio.com";
const READ_ATTEMPTS: u32 = 4;
/// Upper bound on pages followed by one list call (50,000 rows at the default page size).
const MAX_PAGES: usize = 1000;

#[derive(Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    base_url: String,
    account_sid: String,
    auth_token: Secret,
}

impl std::fmt::Debug for TwilioClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioClient")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .finish()
    }
}

/// Retry policy: only for requests that are safe to repeat.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Reads and idempotent writes: 429, 5xx and transport errors.
    Transient,
    /// Call creation: only what Twilio documents as never processed (429, connect failure).
    NotProcessedOnly,
}

impl TwilioClient {
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        account_sid: &str,
        auth_token: Secret,
    ) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            account_sid: account_sid.to_owned(),
            auth_token,
        }
    }

    /// A reqwest client with the timeouts every Twilio call should have.
    pub fn http_client() -> reqwest::Client {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .user_agent(concat!("ringcast/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default()
    }

    pub fn account_sid(&self) -> &str {
        &self.account_sid
    }

    fn account_path(&self, tail: &str) -> String {
        format!("/2010-04-01/Accounts/{}{tail}", self.account_sid)
    }

    pub async fn fetch_account(&self) -> Result<Account, TwilioError> {
        self.get(
            &format!("/2010-04-01/Accounts/{}.json", self.account_sid),
            &[],
        )
        .await
    }

    pub async fn balance(&self) -> Result<Balance, TwilioError> {
        self.get(&self.account_path("/Balance.json"), &[]).await
    }

    /// Never retried after it may have reached Twilio: Twilio has no idempotency key for calls,
    /// so a `NoAnswer` error means "find out later", not "try again".
    pub async fn create_call(&self, call: &CreateCall) -> Result<Call, TwilioError> {
        self.send(
            Method::POST,
            &self.account_path("/Calls.json"),
            &[],
            &call.form(),
            Retry::NotProcessedOnly,
        )
        .await
    }

    pub async fn fetch_call(&self, sid: &str) -> Result<Call, TwilioError> {
        self.get(&self.account_path(&format!("/Calls/{sid}.json")), &[])
            .await
    }

    pub async fn list_calls(&self, filter: &CallFilter) -> Result<Vec<Call>, TwilioError> {
        self.list(&self.account_path("/Calls.json"), &filter.query())
            .await
    }

    /// `status` is `canceled` (before answer) or `completed` (hang up).
    pub async fn end_call(&self, sid: &str, status: &str) -> Result<Call, TwilioError> {
        let path = self.account_path(&format!("/Calls/{sid}.json"));
        self.send(
            Method::POST,
            &path,
            &[],
            &[("Status", status.to_owned())],
            Retry::Transient,
        )
        .await
    }

    pub async fn list_numbers(&self) -> Result<Vec<IncomingPhoneNumber>, TwilioError> {
        self.list(
            &self.account_path("/IncomingPhoneNumbers.json"),
            &[("PageSize", "100".into())],
        )
        .await
    }

    /// Buying is not repeated on an unknown outcome: a sync finds a number bought twice.
    pub async fn buy_number(
        &self,
        phone_number: &str,
        webhooks: &NumberWebhooks,
    ) -> Result<IncomingPhoneNumber, TwilioError> {
        let mut form = vec![("PhoneNumber", phone_number.to_owned())];
        form.extend(webhooks.form());
        self.send(
            Method::POST,
            &self.account_path("/IncomingPhoneNumbers.json"),
            &[],
            &form,
            Retry::NotProcessedOnly,
        )
        .await
    }

    pub async fn update_number(
        &self,
        sid: &str,
        webhooks: &NumberWebhooks,
    ) -> Result<IncomingPhoneNumber, TwilioError> {
        let path = self.account_path(&format!("/IncomingPhoneNumbers/{sid}.json"));
        self.send(Method::POST, &path, &[], &webhooks.form(), Retry::Transient)
            .await
    }

    pub async fn release_number(&self, sid: &str) -> Result<(), TwilioError> {
        let path = self.account_path(&format!("/IncomingPhoneNumbers/{sid}.json"));
        match self
            .send::<serde_json::Value>(Method::DELETE, &path, &[], &[], Retry::Transient)
            .await
        {
            Ok(_) => Ok(()),
            // Already gone: releasing twice is fine.
            Err(e) if e.status() == Some(404) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub async fn search_local_numbers(
        &self,
        country: &str,
        area_code: Option<&str>,
        contains: Option<&str>,
    ) -> Result<Vec<AvailablePhoneNumber>, TwilioError> {
        let mut query = vec![("VoiceEnabled", "true".to_owned())];
        if let Some(v) = area_code {
            query.push(("AreaCode", v.to_owned()));
        }
        if let Some(v) = contains {
            query.push(("Contains", v.to_owned()));
        }
        let path = self.account_path(&format!(
            "/AvailablePhoneNumbers/{}/Local.json",
            country.to_ascii_uppercase()
        ));
        let page: Page<AvailablePhoneNumber> = self.get(&path, &query).await?;
        Ok(page.items)
    }

    async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>, TwilioError> {
        let mut page: Page<T> = self.get(path, query).await?;
        let mut items = std::mem::take(&mut page.items);
        let mut pages = 1;
        while let Some(next) = page.next_page_uri.take() {
            if pages >= MAX_PAGES {
                break;
            }
            // `next_page_uri` is relative to the API host and carries its own query.
            page = self.get(&next, &[]).await?;
            items.append(&mut page.items);
            pages += 1;
        }
        Ok(items)
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, TwilioError> {
        self.send(Method::GET, path, query, &[], Retry::Transient)
            .await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        form: &[(&str, String)],
        retry: Retry,
    ) -> Result<T, TwilioError> {
        let url = self.url(path)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .send_once(self.request(method.clone(), url.clone(), query, form))
                .await;
            let err = match result {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            let retryable = match retry {
                Retry::Transient => err.is_transient(),
                Retry::NotProcessedOnly => err.was_not_processed(),
            };
            if !retryable || attempt >= READ_ATTEMPTS {
                return Err(err);
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
    }

    /// The request URL, refused before any credential leaves unless its origin is Twilio's or
    /// explicitly allowed (see `endpoint`): the base URL is data, and data can be wrong.
    fn url(&self, path: &str) -> Result<Url, TwilioError> {
        if !path.starts_with('/') {
            return Err(TwilioError::NotAllowed(
                "a request path must start with /".into(),
            ));
        }
        let url = Url::parse(&format!("{}{path}", self.base_url))
            .map_err(|_| TwilioError::NotAllowed(endpoint::EndpointError::Malformed.to_string()))?;
        if endpoint::permits(&url) {
            Ok(url)
        } else {
            Err(TwilioError::NotAllowed(
                endpoint::EndpointError::NotAllowed.to_string(),
            ))
        }
    }

    fn request(
        &self,
        method: Method,
        url: Url,
        query: &[(&str, String)],
        form: &[(&str, String)],
    ) -> RequestBuilder {
        let mut request = self
            .http
            .request(method.clone(), url)
            .basic_auth(&self.account_sid, Some(self.auth_token.expose()))
            .header("Accept", "application/json");
        if !query.is_empty() {
            request = request.query(query);
        }
        if method != Method::GET && method != Method::DELETE {
            request = request.form(form);
        }
        request
    }

    async fn send_once<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> Result<T, TwilioError> {
        let response = request.send().await.map_err(|e| {
            if e.is_connect() {
                TwilioError::Unreachable(e.without_url().to_string())
            } else {
                TwilioError::NoAnswer(e.without_url().to_string())
            }
        })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| TwilioError::NoAnswer(e.without_url().to_string()))?;
        if status.is_success() {
            let body: &[u8] = if status == StatusCode::NO_CONTENT || bytes.is_empty() {
                b"null"
            } else {
                &bytes
            };
            return serde_json::from_slice(body).map_err(|e| TwilioError::Decode(e.to_string()));
        }
        let parsed: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
        Err(TwilioError::Api {
            status: status.as_u16(),
            code: parsed.as_ref().and_then(|b| b.code),
            message: parsed
                .as_ref()
                .and_then(|b| b.message.clone())
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned()),
            more_info: parsed.and_then(|b| b.more_info),
        })
    }
}

/// 200 ms, 400 ms, 800 ms ... with up to 50% jitter so many clients do not retry in step.
fn backoff(attempt: u32) -> Duration {
    let base = 200u64.saturating_mul(1 << attempt.min(6).saturating_sub(1));
    let jitter = rand::thread_rng().gen_range(0..=base / 2);
    Duration::from_millis(base + jitter)
}
