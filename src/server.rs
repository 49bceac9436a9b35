//! The HTTP surface: GraphQL (+ websockets), GraphiQL, health, readiness and metrics.

use std::any::Any;

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::app::AppState;
use crate::error::ErrorCode;
use crate::schema::{self, ServerState};
use crate::{jobs, observability};

pub fn router(app: AppState) -> Router {
    let cors = cors(&app.config.cors_allowed_origins);
    let state = ServerState {
        schema: schema::schema(app.clone()),
        metrics: observability::metrics_handle(),
        app,
    };
    let routes = Router::new()
        .route(
            "/graphql",
            get(schema::http::graphql_get).post(schema::http::graphql_post),
        )
        .route("/graphql/ws", get(schema::ws::graphql_ws))
        .route("/graphiql", get(graphiql))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz));
    // With a listener of its own, /metrics is not on the public port at all.
    let routes = match state.app.config.metrics.bind {
        None => routes.route("/metrics", get(metrics)),
        Some(_) => routes,
    };
    routes
        .merge(crate::webhooks::router().with_state(state.app.clone()))
        .merge(crate::calls::export::router().with_state(state.app.clone()))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            CompressionLayer::new()
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(1024))),
        )
        .layer(cors)
        .with_state(state)
}

/// Tokens travel in the Authorization header, never in cookies, so allowing an origin lets
/// its pages call the API without exposing anyone's session to it.
fn cors(origins: &[String]) -> tower::util::Either<CorsLayer, tower::layer::util::Identity> {
    if origins.is_empty() {
        return tower::util::Either::Right(tower::layer::util::Identity::new());
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| o.parse().ok()))
    };
    tower::util::Either::Left(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .max_age(std::time::Duration::from_secs(3600)),
    )
}

async fn graphiql() -> Html<String> {
    Html(
        async_graphql::http::GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("Ringcast GraphiQL")
            .finish(),
    )
}

async fn readyz(axum::extract::State(server): axum::extract::State<ServerState>) -> Response {
    let database = match crate::health::service::database_ping(&server.app).await {
        Ok(()) => "ok".to_owned(),
        Err(e) => e,
    };
    let redis = match server.app.events.ping().await {
        None => "not configured".to_owned(),
        Some(Ok(())) => "ok".to_owned(),
        Some(Err(e)) => e,
    };
    let ready = database == "ok" && (redis == "ok" || redis == "not configured");
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({"ready": ready, "database": database, "redis": redis})),
    )
        .into_response()
}

/// `/metrics` alone, for the `METRICS_BIND` listener.
pub fn metrics_router(app: AppState) -> Router {
    let state = ServerState {
        schema: schema::schema(app.clone()),
        metrics: observability::metrics_handle(),
        app,
    };
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn metrics(
    axum::extract::State(server): axum::extract::State<ServerState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !observability::may_read_metrics(&server.app.config.metrics, peer, &headers) {
        return (
            StatusCode::FORBIDDEN,
            "metrics are for METRICS_ALLOW addresses or a METRICS_TOKEN bearer\n",
        )
            .into_response();
    }
    let pool = server.app.db.status();
    metrics::gauge!("db_pool_connections").set(pool.size as f64);
    metrics::gauge!("db_pool_available").set(pool.available as f64);
    metrics::gauge!("db_pool_max").set(pool.max_size as f64);
    if let Ok(mut conn) = server.app.db.get().await {
        if let Ok(depth) = jobs::queue::depth(&mut conn).await {
            metrics::gauge!("job_queue_depth").set(depth.jobs as f64);
            let age = depth.oldest.map_or(0.0, |t| {
                (chrono::Utc::now() - t).num_milliseconds() as f64 / 1000.0
            });
            metrics::gauge!("job_queue_oldest_age_seconds").set(age);
        }
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        server.metrics.render(),
    )
        .into_response()
}

fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("request handler panicked");
    crate::graphql::response::error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Internal,
        "internal error",
    )
}
