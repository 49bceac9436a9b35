//! `TestApp`: the real router and state over a fresh database and a private Redis channel.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode};
use axum::Router;
use diesel_async::RunQueryDsl;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::db::TestDb;
use ringcast::app::AppState;
use ringcast::config::{Config, Secret};
use ringcast::keys::Keys;

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub admin_email: String,
    pub admin_password: String,
    pub jwt_secret: String,
    /// The payment gateway simulator (listening apps only).
    pub payments: Option<ringcast::emulator::payments::PaymentSimulator>,
    shutdown: CancellationToken,
    // Dropped last: the database goes once everything using it is gone.
    pub db: TestDb,
}

pub struct TestAppBuilder {
    config: Config,
    redis: bool,
    listen: bool,
}

/// Money a test user starts with, so campaigns are not stopped for balance unless a test
/// means them to be.
pub const STARTING_BALANCE: i64 = 100_000_000;

impl TestApp {
    pub async fn new() -> Self {
        Self::builder().build().await
    }

    pub fn builder() -> TestAppBuilder {
        let defaults = Config::default();
        let config = Config {
            database_pool_size: 4,
            jobs: ringcast::config::JobSettings {
                retry_base: std::time::Duration::ZERO,
                ..defaults.jobs.clone()
            },
            events_channel: format!("ringcast:test:{}", uuid::Uuid::new_v4().simple()),
            data_dir: std::env::temp_dir()
                .join(format!("ringcast-test-{}", uuid::Uuid::new_v4().simple())),
            ..defaults
        };
        TestAppBuilder {
            config,
            redis: true,
            listen: false,
        }
    }

    pub async fn gql(&self, query: &str, variables: Value) -> Gql {
        self.gql_with(None, query, variables).await
    }

    pub async fn gql_as(&self, token: &str, query: &str, variables: Value) -> Gql {
        self.gql_with(Some(token), query, variables).await
    }

    async fn gql_with(&self, token: Option<&str>, query: &str, variables: Value) -> Gql {
        let mut request = Request::post("/graphql").header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = json!({"query": query, "variables": variables}).to_string();
        let (status, body) = self.send(request.body(Body::from(body)).unwrap()).await;
        Gql {
            status,
            body: serde_json::from_slice(&body)
                .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&body))),
        }
    }

    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Vec<u8>) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (status, body)
    }

    pub async fn login(&self, email: &str, password: &str) -> Gql {
        self.gql(
            "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken expiresIn user { id email role } } }",
            json!({"i": {"email": email, "password": password}}),
        )
        .await
    }

    /// Signs in and returns (access token, refresh token).
    pub async fn tokens(&self, email: &str, password: &str) -> (String, String) {
        let r = self.login(email, password).await;
        (r.str("login.accessToken"), r.str("login.refreshToken"))
    }

    pub async fn admin_token(&self) -> String {
        self.tokens(&self.admin_email.clone(), &self.admin_password.clone())
            .await
            .0
    }

    /// Registers a USER; returns (email, password, access token, user id).
    pub async fn user(&self) -> (String, String, String, String) {
        let email = super::unique_email("user");
        let password = "a good password".to_owned();
        let r = self
            .gql(
                "mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }",
                json!({"i": {"email": email, "password": password, "name": "Test User"}}),
            )
            .await;
        let id = r.str("register.user.id");
        self.credit(&id, STARTING_BALANCE).await;
        (email, password, r.str("register.accessToken"), id)
    }

    /// Credits (or debits) a user through the admin mutation.
    pub async fn credit(&self, user_id: &str, amount: i64) {
        let admin = self.admin_token().await;
        self.gql_as(
            &admin,
            "mutation($i: AdjustBalanceInput!) { adjustBalance(input: $i) { entry { id } } }",
            json!({"i": {"userId": user_id, "amount": amount, "reason": "test balance"}}),
        )
        .await
        .assert_ok();
    }

    /// Serves the router on a real port (for websockets and clients that need one).
    pub async fn serve(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = ringcast::server::router(self.state.clone());
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
            .unwrap();
        });
        addr
    }

    /// POSTs a form to one of our webhook paths, signed as Twilio would sign it.
    pub async fn twilio_post(
        &self,
        path: &str,
        params: &[(&str, &str)],
        auth_token: &str,
    ) -> (StatusCode, String) {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let url = format!("{}{path}", self.state.public_url);
        let signature = ringcast::twilio::signature::sign(auth_token, &url, &params);
        let request = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", signature)
            .body(Body::from(serde_urlencoded::to_string(&params).unwrap()))
            .unwrap();
        let (status, body) = self.send(request).await;
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// Registers the emulator account of `carrier` as a Twilio account; returns its id.
    pub async fn add_carrier_account(
        &self,
        admin: &str,
        carrier: &super::carrier::Carrier,
    ) -> String {
        let r = self
            .gql_as(
                admin,
                "mutation($i: AddTwilioAccountInput!) { addTwilioAccount(input: $i) { twilioAccount { id } } }",
                json!({"i": {"name": "Emulated", "accountSid": carrier.account_sid, "authToken": carrier.auth_token,
                    "apiBaseUrl": carrier.base, "callsPerSecond": 50.0}}),
            )
            .await;
        r.str("addTwilioAccount.twilioAccount.id")
    }

    /// A user who holds one number on an emulated account; returns (token, user id, DID id).
    pub async fn user_with_number(
        &self,
        admin: &str,
        carrier: &super::carrier::Carrier,
    ) -> (String, String, String) {
        if self
            .count(&format!(
                "twilio_accounts WHERE account_sid = '{}'",
                carrier.account_sid
            ))
            .await
            == 0
        {
            self.import_carrier_numbers(admin, carrier).await;
        }
        let did = self
            .gql_as(
                admin,
                "{ dids(filter: {unassigned: true}) { edges { node { id } } } }",
                json!({}),
            )
            .await;
        let did = did.data("dids.edges")[0]["node"]["id"]
            .as_str()
            .expect("an unassigned number left on the carrier")
            .to_owned();
        let (_, _, token, user_id) = self.user().await;
        self.gql_as(
            admin,
            "mutation($i: AssignDidInput!) { assignDid(input: $i) { did { id } } }",
            json!({"i": {"didId": did, "userId": user_id}}),
        )
        .await
        .assert_ok();
        (token, user_id, did)
    }

    /// Adds the carrier's account, checks it and imports its numbers.
    async fn import_carrier_numbers(&self, admin: &str, carrier: &super::carrier::Carrier) {
        let account = self.add_carrier_account(admin, carrier).await;
        self.gql_as(
            admin,
            "mutation($id: ID!) { testTwilioAccount(input: {id: $id}) { twilioAccount { status } } }",
            json!({"id": account}),
        )
        .await
        .assert_ok();
        self.gql_as(
            admin,
            "mutation($id: ID!) { syncTwilioAccount(input: {id: $id}) { imported } }",
            json!({"id": account}),
        )
        .await
        .assert_ok();
    }

    /// An outbound call row as the dispatcher records it, made `age_minutes` ago.
    pub async fn call_row(
        &self,
        owner: &str,
        account: &str,
        from: &str,
        to: &str,
        age_minutes: i64,
    ) -> uuid::Uuid {
        let e164 = |n: &str| {
            ringcast::phone::parse(n, "VN")
                .expect("a valid number")
                .e164
        };
        let (from, to) = (e164(from), e164(to));
        let mut conn = self.state.db.get().await.unwrap();
        let id = uuid::Uuid::now_v7();
        ringcast::calls::model::NewCall {
            id,
            owner_id: owner.parse().unwrap(),
            twilio_account_id: account.parse().unwrap(),
            did_id: None,
            direction: ringcast::calls::CallDirection::Outbound,
            from_number: &from,
            to_number: &to,
            campaign_id: None,
            contact_id: None,
            attempt: None,
        }
        .insert(&mut conn)
        .await
        .unwrap();
        drop(conn);
        self.execute_sql(&format!(
            "UPDATE calls SET created_at = now() - interval '{age_minutes} minutes', updated_at = now() - interval '{age_minutes} minutes' WHERE id = '{id}'"
        ))
        .await;
        id
    }

    pub async fn count(&self, table: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.state.db.get().await.unwrap();
        let n: N = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result(&mut conn)
            .await
            .unwrap();
        n.n
    }

    /// Each row of `query` as JSON text, for an assertion message that shows what went wrong.
    pub async fn rows_as_json(&self, query: &str) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            row: String,
        }
        let mut conn = self.state.db.get().await.unwrap();
        let rows: Vec<Row> = diesel::sql_query(format!(
            "SELECT row_to_json(t)::text AS row FROM ({query}) t"
        ))
        .load(&mut conn)
        .await
        .unwrap();
        rows.into_iter().map(|r| r.row).collect()
    }

    pub async fn job_count(&self) -> i64 {
        let mut conn = self.state.db.get().await.unwrap();
        ringcast::jobs::queue::depth(&mut conn).await.unwrap().jobs
    }

    /// A websocket signed in as `token`, on this app served on a real port.
    pub async fn ws_as(&self, token: &str) -> super::ws::WsClient {
        let addr = self.serve().await;
        match super::ws::WsClient::connect(
            addr,
            json!({"authorization": format!("Bearer {token}")}),
        )
        .await
        {
            super::ws::Init::Ack(socket) => *socket,
            _ => panic!("websocket refused"),
        }
    }

    /// One subscription as `token`, registered by the time this returns.
    pub async fn subscribe_as(&self, token: &str, query: &str) -> super::ws::WsClient {
        let mut socket = self.ws_as(token).await;
        socket.subscribe("1", query).await;
        // Subscriptions register asynchronously; a round trip on the server gives it time.
        self.gql_as(token, "{ me { id } }", json!({}))
            .await
            .assert_ok();
        socket
    }

    /// A job runner on this app's pool, for tests that drive the queue themselves.
    pub fn runner(&self) -> ringcast::jobs::Runner {
        ringcast::jobs::Runner::new(
            self.state.db.clone(),
            ringcast::cli::jobs::registry(&self.state),
            self.state.config.jobs.clone(),
        )
    }

    /// Runs every job that is due.
    pub async fn drain_jobs(&self) {
        self.runner().drain().await.unwrap();
    }

    pub async fn execute_sql(&self, sql: &str) {
        let mut conn = self.state.db.get().await.unwrap();
        diesel::sql_query(sql).execute(&mut conn).await.unwrap();
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.state.db.close();
    }
}

impl TestAppBuilder {
    pub fn config(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(&mut self.config);
        self
    }

    pub fn without_redis(mut self) -> Self {
        self.redis = false;
        self
    }

    /// Serves on a real port from the start, with `PUBLIC_URL` pointing at it, so the
    /// emulator can call our webhooks.
    pub fn listening(mut self) -> Self {
        self.listen = true;
        self
    }

    pub async fn build(mut self) -> TestApp {
        // `RUST_LOG=ringcast=debug cargo test <name> -- --nocapture` shows the in-process server's log.
        if std::env::var_os("RUST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        }
        let db = TestDb::new().await;
        if self.redis {
            self.config.redis_url = Some(Secret::new(super::redis_url()));
        }
        self.config.admin_email = Some(super::unique_email("admin"));
        self.config.admin_password = Some(Secret::new("admin password 1"));
        let jwt_secret = format!("test-secret-{}", uuid::Uuid::new_v4());
        let keys = Keys {
            jwt_secret: Secret::new(jwt_secret.clone()),
            encryption_key: Secret::new("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="),
        };
        let shutdown = CancellationToken::new();
        let admin_email = self.config.admin_email.clone().unwrap();
        let listener = match self.listen {
            true => Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()),
            false => None,
        };
        let public_url = match &listener {
            Some(l) => format!("http://{}", l.local_addr().unwrap()),
            None => "http://127.0.0.1:9".into(),
        };
        let payments = match self.listen {
            true => ringcast::emulator::payments::PaymentSimulator::attach(
                &mut self.config.payments,
                &keys,
                &public_url,
                shutdown.clone(),
            )
            .await
            .unwrap(),
            false => None,
        };
        let state = AppState::build(self.config, &db.url, keys, public_url, shutdown.clone())
            .await
            .unwrap();
        // Forwarded and transferred legs are judged by the callee's calling hours at the
        // state's clock: 10:00 in Vietnam, so the suite passes at any hour. A test about the
        // hours fixes its own.
        state.clock.fix(super::calling_hours::vn_morning());
        if let Some(listener) = listener {
            let router = ringcast::server::router(state.clone());
            let stop = shutdown.clone();
            tokio::spawn(async move {
                axum::serve(
                    listener,
                    router.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
                .unwrap();
            });
        }
        ringcast::users::service::ensure_first_admin(&state)
            .await
            .ok()
            .unwrap();
        let router = ringcast::server::router(state.clone())
            .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        TestApp {
            state,
            router,
            admin_email,
            admin_password: "admin password 1".into(),
            jwt_secret,
            payments,
            shutdown,
            db,
        }
    }
}

/// A GraphQL response with small accessors for tests.
pub struct Gql {
    pub status: StatusCode,
    pub body: Value,
}

impl Gql {
    /// The value at a dotted path under `data`.
    pub fn data(&self, path: &str) -> &Value {
        let mut value = &self.body["data"];
        for key in path.split('.') {
            value = &value[key];
        }
        value
    }

    pub fn str(&self, path: &str) -> String {
        self.data(path)
            .as_str()
            .unwrap_or_else(|| panic!("no string at data.{path}: {}", self.body))
            .to_owned()
    }

    /// The first error's `extensions.code`, or "" when there is none.
    pub fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("")
    }

    pub fn field(&self) -> &str {
        self.body["errors"][0]["extensions"]["field"]
            .as_str()
            .unwrap_or("")
    }

    pub fn message(&self) -> &str {
        self.body["errors"][0]["message"].as_str().unwrap_or("")
    }

    pub fn assert_ok(&self) -> &Self {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {}",
            self.body
        );
        assert_eq!(self.status, StatusCode::OK);
        self
    }
}
