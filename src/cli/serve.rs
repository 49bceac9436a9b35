//! `serve` and `worker`: start everything, run until SIGTERM/SIGINT, then stop in order.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::app::AppState;
use crate::config::Config;
use crate::db::{embedded, migrations};
use crate::jobs::{Runner, Scheduler};
use crate::users::service::FirstAdmin;

/// How long in-flight jobs get to finish after a shutdown signal.
const JOB_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn run(config: Config, with_http: bool) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));

    let keys = super::load_keys(&config)?;
    let mut db = embedded::resolve(&config).await?;
    let applied = migrations::run(db.url.expose()).await?;
    if !applied.is_empty() {
        tracing::info!(count = applied.len(), "applied migrations");
    }

    let listener = if with_http {
        Some(tokio::net::TcpListener::bind((config.bind_host.as_str(), config.port)).await?)
    } else {
        None
    };
    let port = match &listener {
        Some(l) => l.local_addr()?.port(),
        None => config.port,
    };
    let public_url = config.public_url_for_port(port);
    let mut config = config;
    // Kept alive for the life of the process: stands in for every unconfigured gateway.
    let _payments = crate::emulator::payments::PaymentSimulator::attach(
        &mut config.payments,
        &keys,
        &public_url,
        shutdown.clone(),
    )
    .await?;
    let app = AppState::build(
        config,
        db.url.expose(),
        keys,
        public_url.clone(),
        shutdown.clone(),
    )
    .await?;

    if let FirstAdmin::Created {
        email,
        generated_password,
    } = crate::users::service::ensure_first_admin(&app)
        .await
        .map_err(|e| e.into_anyhow())?
    {
        println!("Created the first admin account: {email}");
        match generated_password {
            Some(password) => {
                println!("  password: {password}   (shown once; change it with changePassword)")
            }
            None => println!("  password: from ADMIN_PASSWORD"),
        }
    }

    // Kept alive for the life of the process when it runs.
    let _emulator = super::simulated::start(&app).await?;

    let runner = Runner::new(
        app.db.clone(),
        super::jobs::registry(&app),
        app.config.jobs.clone(),
    );
    let jobs_task = tokio::spawn(runner.run(db.url.expose().to_owned(), shutdown.clone()));
    let dispatcher =
        tokio::spawn(crate::dispatcher::Dispatcher::new(app.clone()).run(shutdown.clone()));
    let scheduler = Scheduler::new(app.db.clone(), super::jobs::periodic());
    let scheduler_task = tokio::spawn(scheduler.run(Duration::from_secs(30), shutdown.clone()));

    if let Some(listener) = listener {
        let local = listener.local_addr()?;
        println!("Ringcast is listening on http://{local}");
        println!("  GraphQL:  {public_url}/graphql");
        println!("  GraphiQL: {public_url}/graphiql");
        tracing::info!(addr = %local, "HTTP server started");
        let open_files = crate::connections::raise_open_files_limit();
        let limits = crate::connections::Limits::new(
            app.config.http.header_read_timeout,
            app.config.http.max_connections,
        );
        tracing::info!(
            open_files,
            max_connections = limits.max_connections,
            header_read_timeout_secs = limits.header_read_timeout.as_secs(),
            "connection limits"
        );
        let metrics_server = match &app.config.metrics.bind {
            Some(addr) => {
                let metrics_listener = tokio::net::TcpListener::bind(addr.as_str()).await?;
                println!(
                    "  Metrics:  http://{}/metrics",
                    metrics_listener.local_addr()?
                );
                Some(tokio::spawn(crate::connections::serve(
                    metrics_listener,
                    crate::server::metrics_router(app.clone()),
                    crate::connections::Limits::new(limits.header_read_timeout, Some(64)),
                    shutdown.clone(),
                )))
            }
            None => None,
        };
        crate::connections::serve(
            listener,
            crate::server::router(app.clone()),
            limits,
            shutdown.clone(),
        )
        .await;
        if let Some(metrics_server) = metrics_server {
            let _ = metrics_server.await;
        }
        app.websockets.close();
        if tokio::time::timeout(Duration::from_secs(5), app.websockets.wait())
            .await
            .is_err()
        {
            tracing::warn!("some websockets did not close in time");
        }
    } else {
        println!("Ringcast worker running (jobs only)");
        shutdown.cancelled().await;
    }

    tracing::info!("shutting down: waiting for running jobs");
    if tokio::time::timeout(JOB_DRAIN_TIMEOUT, jobs_task)
        .await
        .is_err()
    {
        tracing::warn!("jobs did not finish in time; they will run again elsewhere");
    }
    scheduler_task.abort();
    let _ = dispatcher.await;
    app.db.close();
    if let Some(cluster) = db.cluster.as_mut() {
        cluster.stop();
    }
    tracing::info!("stopped");
    Ok(())
}

pub(super) async fn cancel_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        () = terminate => {}
    }
    // Cancelled before it is logged: whatever starts after the logged instant sees the signal.
    shutdown.cancel();
    tracing::info!("shutdown signal received");
}
