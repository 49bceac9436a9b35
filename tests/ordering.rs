//! Sorted lists and backward paging: every `orderBy` field of calls, campaigns and contacts, in
//! both directions, read forward in small pages and backward from the end, must give the whole
//! expected order (ties broken by id, a call without a duration below every ended one) with
//! pageInfo telling the truth; another order's cursor and `first` with `last` are BAD_USER_INPUT.

use std::cmp::Ordering;

use serde_json::{json, Value};

use crate::helpers::carrier::Carrier;
use crate::helpers::{campaign, TestApp};

/// One list as a test reads it: the root field with its fixed arguments and the order's type.
struct List<'a> {
    app: &'a TestApp,
    token: &'a str,
    /// The field and its fixed arguments, e.g. `calls(filter: {campaignId: "…"}`, left open.
    field: &'a str,
    order_type: &'a str,
}

struct Read {
    ids: Vec<String>,
    start: Option<String>,
    end: Option<String>,
    has_previous: bool,
    has_next: bool,
}

impl List<'_> {
    async fn page(&self, order: &Value, paging: &str, vars: Value) -> Value {
        let name = self.field.split('(').next().unwrap_or_default();
        let query = format!(
            "query($order: {ot}{vars}) {{
               {field}, orderBy: $order, {paging}) {{
                 edges {{ cursor node {{ id }} }}
                 pageInfo {{ hasPreviousPage hasNextPage startCursor endCursor }} }} }}",
            ot = self.order_type,
            field = self.field,
            vars = declared(paging),
        );
        let mut vars = vars;
        vars["order"] = order.clone();
        let r = self.app.gql_as(self.token, &query, vars).await;
        r.assert_ok();
        r.data(name).clone()
    }

    fn read(page: &Value) -> Read {
        let ids = page["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .collect();
        let info = &page["pageInfo"];
        Read {
            ids,
            start: info["startCursor"].as_str().map(str::to_owned),
            end: info["endCursor"].as_str().map(str::to_owned),
            has_previous: info["hasPreviousPage"].as_bool().unwrap(),
            has_next: info["hasNextPage"].as_bool().unwrap(),
        }
    }

    /// The whole list, `size` rows at a time from the start; checks each page's flags.
    async fn forward(&self, order: &Value, size: i64) -> Vec<String> {
        let mut ids = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .page(
                    order,
                    "first: $first, after: $after",
                    json!({"first": size, "after": after}),
                )
                .await;
            let read = Self::read(&page);
            assert_eq!(read.has_previous, after.is_some(), "forward {order}");
            ids.extend(read.ids.iter().cloned());
            if !read.has_next {
                return ids;
            }
            assert_eq!(read.ids.len() as i64, size, "a full page before the last");
            after = read.end;
        }
    }

    /// The whole list, `size` rows at a time from the end; checks each page's flags.
    async fn backward(&self, order: &Value, size: i64) -> Vec<String> {
        let mut pages: Vec<Vec<String>> = Vec::new();
        let mut before: Option<String> = None;
        loop {
            let page = self
                .page(
                    order,
                    "last: $last, before: $before",
                    json!({"last": size, "before": before}),
                )
                .await;
            let read = Self::read(&page);
            assert_eq!(read.has_next, before.is_some(), "backward {order}");
            pages.push(read.ids.clone());
            if !read.has_previous {
                return pages.into_iter().rev().flatten().collect();
            }
            assert_eq!(read.ids.len() as i64, size, "a full page after the first");
            before = read.start;
        }
    }

    /// Forward in pages of 2 and 3 and backward in pages of 2 each give `expected`.
    async fn check(&self, order: Value, expected: &[String]) {
        for size in [2, 3] {
            assert_eq!(
                self.forward(&order, size).await,
                expected,
                "{order} by {size}"
            );
        }
        assert_eq!(self.backward(&order, 2).await, expected, "{order} backward");
    }

    async fn refused(&self, order: &Value, paging: &str, vars: Value) -> String {
        let query = format!(
            "query($order: {ot}{vars}) {{
               {field}, orderBy: $order, {paging}) {{ edges {{ node {{ id }} }} }} }}",
            ot = self.order_type,
            field = self.field,
            vars = declared(paging),
        );
        let mut vars = vars;
        vars["order"] = order.clone();
        let r = self.app.gql_as(self.token, &query, vars).await;
        r.code().to_owned()
    }

    /// A cursor of one order is refused by another, and `first` with `last` is refused.
    async fn refuses_foreign_cursors(&self, a: Value, b: Value) {
        let first = Self::read(&self.page(&a, "first: $first", json!({"first": 1})).await);
        let cursor = first.end.expect("a cursor");
        for paging in [
            "first: $first, after: $after",
            "last: $last, before: $before",
        ] {
            let vars = json!({"first": 1, "last": 1, "after": cursor, "before": cursor});
            assert_eq!(
                self.refused(&b, paging, vars).await,
                "BAD_USER_INPUT",
                "{b}"
            );
        }
        assert_eq!(
            self.refused(
                &a,
                "first: $first, last: $last",
                json!({"first": 1, "last": 1})
            )
            .await,
            "BAD_USER_INPUT"
        );
        assert_eq!(
            self.refused(
                &a,
                "first: $first, before: $before",
                json!({"first": 1, "before": cursor})
            )
            .await,
            "BAD_USER_INPUT"
        );
    }
}

/// The variable declarations a paging clause uses (GraphQL refuses unused ones).
fn declared(paging: &str) -> String {
    [
        ("first", "Int"),
        ("after", "String"),
        ("last", "Int"),
        ("before", "String"),
    ]
    .iter()
    .filter(|(name, _)| paging.contains(&format!("${name}")))
    .map(|(name, ty)| format!(", ${name}: {ty}"))
    .collect()
}

/// Ids sorted by `key` in `direction`, ties by id the same way.
fn sorted<K: Ord + Clone>(rows: &[(String, K)], descending: bool) -> Vec<String> {
    let mut rows = rows.to_vec();
    rows.sort_by(|a, b| {
        let o: Ordering = (&a.1, &a.0).cmp(&(&b.1, &b.0));
        if descending {
            o.reverse()
        } else {
            o
        }
    });
    rows.into_iter().map(|(id, _)| id).collect()
}

fn order(field: &str, direction: &str) -> Value {
    json!({"field": field, "direction": direction})
}

#[tokio::test]
async fn calls_sort_by_every_field_both_ways_and_page_backward() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    let (_, _, token, user) = app.user().await;
    let (_, _, _, other) = app.user().await;
    let from = carrier.numbers()[0].clone();
    // (status, cost, duration): ties on every column, and calls that have not ended.
    let seeds: [(&str, i64, Option<i32>); 7] = [
        ("COMPLETED", 500, Some(60)),
        ("QUEUED", 0, None),
        ("COMPLETED", 500, Some(30)),
        ("BUSY", 0, Some(0)),
        ("RINGING", 0, None),
        ("COMPLETED", 1200, Some(60)),
        ("FAILED", 0, Some(0)),
    ];
    let mut rows = Vec::new();
    for (i, (status, cost, duration)) in seeds.iter().enumerate() {
        let id = app
            .call_row(&user, &account, &from, "+84912345670", 10 - i as i64)
            .await;
        let duration = duration.map_or("NULL".to_owned(), |d| d.to_string());
        app.execute_sql(&format!(
            "UPDATE calls SET status = '{status}', cost_vnd = {cost}, duration_secs = {duration} WHERE id = '{id}'"
        ))
        .await;
        rows.push((id.to_string(), *status, *cost, seeds[i].2));
    }
    // Another tenant's call is in no page of this user's list.
    app.call_row(&other, &account, &from, "+84912345671", 0)
        .await;

    let list = List {
        app: &app,
        token: &token,
        field: "calls(filter: {}",
        order_type: "CallOrder",
    };
    let by_id: Vec<(String, ())> = rows.iter().map(|r| (r.0.clone(), ())).collect();
    let by_status: Vec<_> = rows.iter().map(|r| (r.0.clone(), r.1.to_owned())).collect();
    let by_cost: Vec<_> = rows.iter().map(|r| (r.0.clone(), r.2)).collect();
    // Documented placement: a call without a duration sorts as -1.
    let by_duration: Vec<_> = rows
        .iter()
        .map(|r| (r.0.clone(), r.3.map_or(-1, i64::from)))
        .collect();
    for (direction, desc) in [("ASC", false), ("DESC", true)] {
        list.check(order("CREATED_AT", direction), &sorted(&by_id, desc))
            .await;
        list.check(order("STATUS", direction), &sorted(&by_status, desc))
            .await;
        list.check(order("COST", direction), &sorted(&by_cost, desc))
            .await;
        list.check(order("DURATION", direction), &sorted(&by_duration, desc))
            .await;
    }
    // Unfinished calls come last when the longest are first.
    let longest = sorted(&by_duration, true);
    let unfinished: Vec<String> = rows
        .iter()
        .filter(|r| r.3.is_none())
        .map(|r| r.0.clone())
        .collect();
    assert!(unfinished
        .iter()
        .all(|id| longest[longest.len() - 2..].contains(id)));
    // Omitting orderBy is newest first, with the same cursors as CREATED_AT DESC.
    list.check(Value::Null, &sorted(&by_id, true)).await;
    let default = List::read(
        &list
            .page(&Value::Null, "first: $first", json!({"first": 2}))
            .await,
    );
    let explicit = List::read(
        &list
            .page(
                &order("CREATED_AT", "DESC"),
                "first: $first",
                json!({"first": 2}),
            )
            .await,
    );
    assert_eq!(default.end, explicit.end);

    list.refuses_foreign_cursors(order("COST", "DESC"), order("DURATION", "DESC"))
        .await;
    list.refuses_foreign_cursors(order("STATUS", "ASC"), order("STATUS", "DESC"))
        .await;
    list.refuses_foreign_cursors(Value::Null, order("COST", "ASC"))
        .await;
}

#[tokio::test]
async fn campaigns_sort_by_name_and_status_both_ways() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(2).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    let seeds = [
        ("beta", "DRAFT"),
        ("Alpha", "PAUSED"),
        ("beta", "COMPLETED"),
        ("gamma", "DRAFT"),
        ("alpha", "CANCELLED"),
    ];
    let mut rows = Vec::new();
    for (name, status) in seeds {
        let id = campaign::create(&app, &token, &did, vec![], json!({"name": name})).await;
        app.execute_sql(&format!(
            "UPDATE campaigns SET status = '{status}' WHERE id = '{id}'"
        ))
        .await;
        rows.push((id, name, status));
    }
    let list = List {
        app: &app,
        token: &token,
        field: "campaigns(filter: {}",
        order_type: "CampaignOrder",
    };
    let raw: Vec<(String, String, String)> = rows
        .iter()
        .map(|(id, n, s)| (id.clone(), n.to_string(), s.to_string()))
        .collect();
    let keyed = |f: fn(&(String, String, String)) -> String| {
        raw.iter()
            .map(|r| (r.0.clone(), (f(r), r.0.clone())))
            .collect::<Vec<_>>()
    };
    for (direction, desc) in [("ASC", false), ("DESC", true)] {
        for (field, key) in [
            ("NAME", keyed(|r| r.1.clone())),
            ("STATUS", keyed(|r| r.2.clone())),
            ("CREATED_AT", keyed(|_| String::new())),
        ] {
            let expected = by_uuid(&key, desc);
            list.check(order(field, direction), &expected).await;
        }
    }
    list.refuses_foreign_cursors(order("NAME", "ASC"), order("STATUS", "ASC"))
        .await;
}

#[tokio::test]
async fn contacts_sort_by_name_and_state_both_ways() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(2).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    let names = ["Lan", "Minh", "Lan", "An", "", "Minh", "Bao"];
    let contacts: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, name)| json!({"phone": format!("+8491234560{i}"), "name": name}))
        .collect();
    let campaign = campaign::create(&app, &token, &did, contacts, json!({})).await;
    let campaign_uuid = &campaign;
    app.execute_sql(&format!(
        "UPDATE campaign_contacts SET state = (ARRAY['PENDING','DONE','FAILED','DONE'])[1 + id % 4]
         WHERE campaign_id = '{campaign_uuid}'"
    ))
    .await;
    let db: Vec<Value> = app
        .rows_as_json(&format!(
            "SELECT id, name, state FROM campaign_contacts WHERE campaign_id = '{campaign_uuid}'"
        ))
        .await
        .iter()
        .map(|r| serde_json::from_str(r).unwrap())
        .collect();
    let field = format!("contacts(campaignId: \"{campaign}\"");
    let list = List {
        app: &app,
        token: &token,
        field: &field,
        order_type: "ContactOrder",
    };
    // Read the node ids the API gives each contact, in import order, to map rows to them.
    let imported = list.forward(&Value::Null, 500).await;
    assert_eq!(imported.len(), names.len());
    let mut by_row: Vec<(i64, String, String)> = db
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap(),
                r["name"].as_str().unwrap().to_owned(),
                r["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    by_row.sort();
    let node = |i: usize| imported[i].clone();
    for (direction, desc) in [("ASC", false), ("DESC", true)] {
        for (name, key) in [("NAME", 1usize), ("STATE", 2), ("CREATED_AT", 0)] {
            let mut keyed: Vec<(usize, (String, i64))> = by_row
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let k = match key {
                        1 => r.1.clone(),
                        2 => r.2.clone(),
                        _ => String::new(),
                    };
                    (i, (k, r.0))
                })
                .collect();
            keyed.sort_by(|a, b| if desc { b.1.cmp(&a.1) } else { a.1.cmp(&b.1) });
            let expected: Vec<String> = keyed.into_iter().map(|(i, _)| node(i)).collect();
            list.check(order(name, direction), &expected).await;
        }
    }
    // Omitting orderBy keeps import order.
    list.check(Value::Null, &imported).await;
    list.refuses_foreign_cursors(order("NAME", "DESC"), order("STATE", "DESC"))
        .await;
}

/// Node ids ordered by (key, uuid), the way the API breaks ties.
fn by_uuid(rows: &[(String, (String, String))], descending: bool) -> Vec<String> {
    let mut rows = rows.to_vec();
    rows.sort_by(|a, b| {
        let o = (&a.1 .0, &a.0).cmp(&(&b.1 .0, &b.0));
        if descending {
            o.reverse()
        } else {
            o
        }
    });
    rows.into_iter().map(|(_, (_, node))| node).collect()
}

#[tokio::test]
async fn users_sort_by_email_and_name_both_ways() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    for _ in 0..4 {
        app.user().await;
    }
    let rows: Vec<Value> = app
        .rows_as_json("SELECT id::text AS id, email, name FROM users")
        .await
        .iter()
        .map(|r| serde_json::from_str(r).unwrap())
        .collect();
    let keyed = |column: &str| -> Vec<(String, (String, String))> {
        rows.iter()
            .map(|r| {
                let id = r["id"].as_str().unwrap().to_owned();
                (id.clone(), (r[column].as_str().unwrap().to_owned(), id))
            })
            .collect()
    };
    let list = List {
        app: &app,
        token: &admin,
        field: "users(filter: {}",
        order_type: "UserOrder",
    };
    for (direction, desc) in [("ASC", false), ("DESC", true)] {
        list.check(order("EMAIL", direction), &by_uuid(&keyed("email"), desc))
            .await;
        // Every registered user is named alike: ties all the way, broken by id.
        list.check(order("NAME", direction), &by_uuid(&keyed("name"), desc))
            .await;
    }
    list.refuses_foreign_cursors(order("EMAIL", "ASC"), order("NAME", "ASC"))
        .await;
}
