//! The private cluster used when no PostgreSQL answers: initialised, started, reachable, stopped.

use std::os::unix::fs::PermissionsExt;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use ringcast::db::embedded::{find_server_binaries, PrivateCluster};

#[tokio::test]
async fn a_private_cluster_starts_and_stops() {
    let Some(bin_dir) = find_server_binaries() else {
        panic!(
            "PostgreSQL server binaries are required for this test (apt-get install postgresql)"
        );
    };
    // Every parent must be traversable by the `postgres` user when we run as root.
    let root = std::env::temp_dir().join(format!("ringcast-pg-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = root.join("postgres");

    let mut cluster = PrivateCluster::start(&bin_dir, &dir).await.unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", cluster.port);
    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
    diesel::sql_query("SELECT 1")
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);

    // A second start on the same directory adopts the running server.
    let again = PrivateCluster::start(&bin_dir, &dir).await.unwrap();
    assert_eq!(again.port, cluster.port);
    std::mem::forget(again);

    cluster.stop();
    assert!(
        AsyncPgConnection::establish(&url).await.is_err(),
        "the server must be stopped"
    );
    let _ = std::fs::remove_dir_all(&root);
}
