//! `schema.graphql` is the sorted SDL; this test fails when it is stale and rewrites it only when
//! asked (`UPDATE_SCHEMA=1`), so a change to the API is always reviewed in the diff.

#[test]
fn schema_graphql_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let current = ringcast::schema::sdl();
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    if on_disk == current {
        return;
    }
    if std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &current).unwrap();
        return;
    }
    panic!(
        "schema.graphql differs from the exported SDL ({}).\n\
         If the API change is intended, run `UPDATE_SCHEMA=1 cargo test --test integration -- \
         schema::` and review `git diff schema.graphql` before committing.",
        first_difference(&on_disk, &current)
    );
}

/// Where the two texts part, so the failure says what changed without a diff tool.
fn first_difference(on_disk: &str, current: &str) -> String {
    let (mut old, mut new) = (on_disk.lines(), current.lines());
    for line in 1.. {
        match (old.next(), new.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (None, None) => break,
            (a, b) => {
                return format!(
                    "first difference at line {line}: on disk {:?}, exported {:?}",
                    a.unwrap_or("<end of file>"),
                    b.unwrap_or("<end of file>")
                );
            }
        }
    }
    "they differ only in line endings or a trailing newline".to_owned()
}
