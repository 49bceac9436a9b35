//! Every root list a user may call, read by two tenants who each own one object of every kind:
//! the second tenant's list holds none of the first's items, nor any id or the email of the
//! first. The lists are found in the schema, so a new one is checked, or fails until it is
//! classified below.

use serde_json::Value;

use super::{class_of, request, Kind, Schema, Tenant};
use crate::helpers::TestApp;

/// What a root list holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Listing {
    /// The caller's own objects: the owner's list must not be empty, so its absence from the
    /// other tenant's list means something.
    Own,
    /// The same for every caller (platform settings); still holds no tenant's ids.
    Platform,
}

const LISTS: &[(&str, Listing)] = &[
    ("apiKeys", Listing::Own),
    ("calls", Listing::Own),
    ("campaigns", Listing::Own),
    ("contacts", Listing::Own),
    ("doNotCallEntries", Listing::Own),
    ("imports", Listing::Own),
    ("ledger", Listing::Own),
    ("myDids", Listing::Own),
    ("topUps", Listing::Own),
    ("rates", Listing::Platform),
    ("voices", Listing::Platform),
];

/// A list (`[T]`) or a Relay connection (`TConnection`), under any `NON_NULL`.
fn is_list(schema: &Schema, ty: &Value) -> bool {
    let unwrapped = if ty["kind"] == "NON_NULL" {
        &ty["ofType"]
    } else {
        ty
    };
    unwrapped["kind"] == "LIST"
        || schema.types[super::named(ty)]["fields"]
            .as_array()
            .is_some_and(|fs| fs.iter().any(|f| f["name"] == "edges"))
}

/// The ids of a list's items: `[{id}]` or `{edges: [{node: {id}}]}`.
fn item_ids(value: &Value) -> Vec<String> {
    let items = match value {
        Value::Array(items) => items.clone(),
        _ => value["edges"]
            .as_array()
            .map(|edges| edges.iter().map(|e| e["node"].clone()).collect())
            .unwrap_or_default(),
    };
    items
        .iter()
        .filter_map(|item| item["id"].as_str().map(str::to_owned))
        .collect()
}

/// Every string under an `id` or `...Id` key, at any depth.
fn ids_in(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match value {
        Value::Object(fields) => {
            for (key, v) in fields {
                match v {
                    Value::String(s) if key == "id" || key.ends_with("Id") => out.push(s.clone()),
                    _ => out.extend(ids_in(v)),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| out.extend(ids_in(v))),
        _ => {}
    }
    out
}

/// The list as `who` reads it, with `who`'s own objects in any required ID position.
async fn read(app: &TestApp, schema: &Schema, field: &Value, who: &Tenant) -> Value {
    let pick = |kind: Kind| who.ids[&kind].clone();
    let (doc, vars) = request(schema, "query", field, None, &pick);
    app.gql_as(&who.token, &doc, vars).await.body
}

/// Failures: a list the user may call that is unclassified, or that shows `bob` anything of
/// `alice`'s. Required arguments take each caller's own objects (`contacts` of their own
/// campaign); optional ones are left out, so each list is read whole.
pub(super) async fn leaks_between(
    app: &TestApp,
    schema: &Schema,
    alice: &Tenant,
    bob: &Tenant,
) -> Vec<String> {
    let query_root = &schema
        .roots
        .iter()
        .find(|(op, _)| *op == "query")
        .unwrap()
        .1;
    let alices_marks: Vec<String> = alice
        .ids
        .iter()
        .filter(|(kind, _)| **kind != Kind::TwilioAccount)
        .map(|(_, id)| id.clone())
        .chain([alice.email.clone()])
        .collect();
    let mut failures = Vec::new();
    let mut own_lists = 0;
    for field in schema.fields(query_root) {
        let name = field["name"].as_str().unwrap();
        if !is_list(schema, &field["type"]) || class_of(name) != Ok("self-service") {
            continue;
        }
        let Some(&(_, listing)) = LISTS.iter().find(|(n, _)| *n == name) else {
            failures.push(format!("classify the list {name} in isolation/lists.rs"));
            continue;
        };
        let alices = read(app, schema, field, alice).await;
        let bobs = read(app, schema, field, bob).await;
        for (who, body) in [("alice", &alices), ("bob", &bobs)] {
            if !body["errors"].is_null() {
                failures.push(format!("{name} as {who}: {body}"));
            }
        }
        let mut marks = alices_marks.clone();
        if listing == Listing::Own {
            let items = item_ids(&alices["data"][name]);
            if items.is_empty() {
                failures.push(format!(
                    "{name}: alice's own list is empty, so bob's proves nothing: {alices}"
                ));
            }
            marks.extend(items);
            own_lists += 1;
        }
        let text = bobs.to_string();
        let shown = ids_in(&bobs);
        let leak = marks
            .iter()
            .find(|m| shown.contains(m) || (m.len() >= 16 && text.contains(m.as_str())));
        if let Some(mark) = leak {
            failures.push(format!("{name}: bob's list shows alice's {mark}: {bobs}"));
        }
    }
    for (name, listing) in LISTS {
        let listed = schema
            .fields(query_root)
            .iter()
            .any(|f| f["name"] == *name && is_list(schema, &f["type"]));
        if !listed {
            failures.push(format!(
                "{name} is classified as a list but is no root list"
            ));
        }
        if *listing == Listing::Own && class_of(name) != Ok("self-service") {
            failures.push(format!("{name} is an own list but not self-service"));
        }
    }
    if own_lists < 8 {
        failures.push(format!("only {own_lists} own lists were read"));
    }
    failures
}
