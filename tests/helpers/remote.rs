//! A GraphQL client for a Ringcast server in another process, doing what an integrator's
//! script would: sign in, give a user a number and money, run a campaign.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};

use super::eventually;

pub struct Remote {
    http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
    /// Every response body, for tests that look for what should never be in one.
    seen: Mutex<Vec<String>>,
}

impl Remote {
    pub fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            token: None,
            seen: Mutex::new(Vec::new()),
        }
    }

    /// Signs in and keeps the access token; returns `login`'s payload.
    pub async fn login(&mut self, email: &str, password: &str) -> Value {
        let data = self
            .ok(
                "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken user { id } } }",
                json!({"i": {"email": email, "password": password}}),
            )
            .await;
        self.token = data["login"]["accessToken"].as_str().map(str::to_owned);
        data["login"].clone()
    }

    /// The response body; a transport error (the server busy reconnecting, say) is `null`.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let Ok(response) = request.send().await else {
            return Value::Null;
        };
        let body = response.text().await.unwrap_or_default();
        let parsed = serde_json::from_str(&body).unwrap_or(Value::Null);
        self.seen.lock().unwrap().push(body);
        parsed
    }

    /// `data`, failing the test on any error.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables).await;
        assert!(
            !body.is_null() && body["errors"].is_null(),
            "{query}: {body}"
        );
        body["data"].clone()
    }

    pub fn responses(&self) -> String {
        self.seen.lock().unwrap().join("\n")
    }

    /// Assigns the number to the user and credits them 10,000,000 VND.
    pub async fn give_number(&self, user_id: &str, did: &str) {
        self.ok(
            "mutation($i: AssignDidInput!) { assignDid(input: $i) { did { id } } }",
            json!({"i": {"didId": did, "userId": user_id}}),
        )
        .await;
        self.ok(
            "mutation($i: AdjustBalanceInput!) { adjustBalance(input: $i) { entry { id } } }",
            json!({"i": {"userId": user_id, "amount": 10_000_000, "reason": "test"}}),
        )
        .await;
    }

    /// A REMINDER campaign from `did` to `numbers`, started; returns its id.
    pub async fn start_campaign(&self, did: &str, numbers: Vec<String>, pacing: Value) -> String {
        let created = self
            .ok(
                "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id } } }",
                json!({"i": {"name": "Remote", "purpose": "REMINDER", "message": {"text": "Xin chào"},
                             "consent": {"basis": "EXISTING_CUSTOMER", "source": "contract", "collectedAt": "2026-01-01T00:00:00Z"},
                             "callerIds": [did], "pacing": pacing}}),
            )
            .await;
        let id = created["createCampaign"]["campaign"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let contacts: Vec<Value> = numbers.into_iter().map(|n| json!({"phone": n})).collect();
        self.ok(
            "mutation($i: AddContactsInput!) { addContacts(input: $i) { added } }",
            json!({"i": {"campaignId": id, "contacts": contacts}}),
        )
        .await;
        self.ok(
            "mutation($i: StartCampaignInput!) { startCampaign(input: $i) { campaign { status } } }",
            json!({"i": {"id": id}}),
        )
        .await;
        id
    }

    /// The campaign (status and contact counts) once `reached` holds for it.
    pub async fn campaign_until(
        &self,
        id: &str,
        what: &str,
        within: Duration,
        reached: impl Fn(&Value) -> bool,
    ) -> Value {
        eventually(within, what, || async {
            let c = self
                .gql(
                    "query($id: ID!) { campaign(id: $id) { status contactCounts { done failed skipped } } }",
                    json!({"id": id}),
                )
                .await;
            let campaign = &c["data"]["campaign"];
            reached(campaign).then(|| campaign.clone())
        })
        .await
    }
}
