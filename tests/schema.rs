//! `schema.graphql` is the sorted SDL; this test rewrites it and fails when it was stale.

#[test]
fn schema_graphql_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let current = ringcast::graphql::sdl();
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    if on_disk != current {
        std::fs::write(&path, &current).unwrap();
        panic!("schema.graphql was stale and has been rewritten; review and commit it");
    }
}
