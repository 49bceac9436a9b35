//! The tenant-isolation matrix, generated from the schema by introspection: every root field is
//! called with generated arguments. Anonymous callers get UNAUTHENTICATED except on the public
//! fields; a user gets FORBIDDEN on every field not listed as self-service; and on self-service
//! fields each ID position, filled with another tenant's object, gets NOT_FOUND or FORBIDDEN
//! (list queries may instead answer without any of that tenant's data). Every root list a user
//! may call is read by both tenants and must hold none of the other's objects (`lists`), and
//! `callUpdated` without a campaign delivers no other tenant's calls (`call_events`). A new
//! field, admin-only ones included, fails this test until it is classified.

mod call_events;
mod lists;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use ringcast::dispatcher::Dispatcher;
use serde_json::{json, Map, Value};

use crate::helpers::carrier::Carrier;
use crate::helpers::{campaign, eventually, TestApp};

/// Fields anyone may call.
const PUBLIC: &[&str] = &[
    "login",
    "register",
    "refreshToken",
    "logout",
    "resetPassword",
];

/// Fields a signed-in user may call.
const SELF_SERVICE: &[&str] = &[
    // queries
    "me",
    "apiKeys",
    "node",
    "voices",
    "campaign",
    "campaigns",
    "campaignPreflight",
    "contacts",
    "import",
    "imports",
    "call",
    "calls",
    "myDids",
    "doNotCallEntries",
    "platformCallingCaps",
    "userCallingCaps",
    "numberCheck",
    "rates",
    "quoteCall",
    "ledger",
    "statement",
    "topUp",
    "topUps",
    // mutations
    "changePassword",
    "createApiKey",
    "revokeApiKey",
    "updateMe",
    "cloneCampaign",
    "createCampaign",
    "updateCampaign",
    "deleteCampaign",
    "startCampaign",
    "pauseCampaign",
    "resumeCampaign",
    "cancelCampaign",
    "addContacts",
    "importContacts",
    "cancelImport",
    "exportCalls",
    "addDoNotCall",
    "importDoNotCall",
    "deleteDoNotCall",
    "setUserCallingCaps",
    "setDidForwarding",
    "createTopUp",
    // subscriptions
    "userUpdated",
    "callUpdated",
    "campaignProgress",
    "campaignStateChanged",
    "balanceChanged",
    "topUpUpdated",
    "importProgress",
];

/// Fields only administrators may call: a user gets FORBIDDEN. Named rather than inferred from
/// being in no other list, so a new field is a decision, not a default.
const ADMIN_ONLY: &[&str] = &[
    // queries
    "allTopUps",
    "auditLog",
    "availableNumbers",
    "dids",
    "numberAllowances",
    "systemHealth",
    "twilioAccount",
    "twilioAccounts",
    "unmatchedPayments",
    "user",
    "users",
    // mutations
    "addTwilioAccount",
    "adjustBalance",
    "allowNumberPrefix",
    "allowNumberType",
    "assignDid",
    "configureWebhooks",
    "confirmTopUp",
    "createUser",
    "deleteRate",
    "purchaseDid",
    "rejectTopUp",
    "releaseDid",
    "deleteTwilioAccount",
    "issuePasswordReset",
    "resolveUnmatchedPayment",
    "revokeNumberAllowance",
    "setPlatformCallingCaps",
    "setRate",
    "syncTwilioAccount",
    "testTwilioAccount",
    "unassignDid",
    "updateTwilioAccount",
    "updateUser",
];

/// The one class `name` is listed in, or why it is not.
fn class_of(name: &str) -> Result<&'static str, String> {
    let classes = [
        ("public", PUBLIC),
        ("self-service", SELF_SERVICE),
        ("admin-only", ADMIN_ONLY),
    ];
    let found: Vec<_> = classes
        .iter()
        .filter(|(_, fields)| fields.contains(&name))
        .map(|(class, _)| *class)
        .collect();
    match found.as_slice() {
        [class] => Ok(class),
        [] => Err(format!(
            "{name} is unclassified: add it to PUBLIC, SELF_SERVICE or ADMIN_ONLY"
        )),
        _ => Err(format!("{name} is in more than one class: {found:?}")),
    }
}

const INTROSPECTION: &str = r#"{ __schema {
  queryType { name } mutationType { name } subscriptionType { name }
  types { name kind
    fields { name args { name type { ...T } } type { ...T } }
    inputFields { name type { ...T } }
    enumValues { name } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"#;

/// What an ID position refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    User,
    Campaign,
    Call,
    Did,
    DoNotCall,
    TopUp,
    TwilioAccount,
    Import,
    ApiKey,
}

/// The objects one tenant owns.
struct Tenant {
    token: String,
    email: String,
    ids: HashMap<Kind, String>,
}

struct Schema {
    types: HashMap<String, Value>,
    roots: Vec<(&'static str, String)>,
}

impl Schema {
    async fn load(app: &TestApp, admin: &str) -> Self {
        let r = app.gql_as(admin, INTROSPECTION, json!({})).await;
        r.assert_ok();
        let s = r.data("__schema");
        let types = s["types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["name"].as_str().unwrap().to_owned(), t.clone()))
            .collect();
        let roots = [
            ("query", "queryType"),
            ("mutation", "mutationType"),
            ("subscription", "subscriptionType"),
        ]
        .into_iter()
        .map(|(op, key)| (op, s[key]["name"].as_str().unwrap().to_owned()))
        .collect();
        Self { types, roots }
    }

    fn fields(&self, type_name: &str) -> &[Value] {
        self.types[type_name]["fields"]
            .as_array()
            .map_or(&[], Vec::as_slice)
    }

    /// Every ID position reachable in a field's arguments, as paths of names.
    fn id_paths(&self, field: &Value) -> Vec<(Vec<String>, Kind)> {
        let mut out = Vec::new();
        for arg in field["args"].as_array().unwrap() {
            let name = arg["name"].as_str().unwrap();
            self.collect_ids(
                &arg["type"],
                vec![name.to_owned()],
                field["name"].as_str().unwrap(),
                &mut out,
                0,
            );
        }
        out
    }

    fn collect_ids(
        &self,
        ty: &Value,
        path: Vec<String>,
        context: &str,
        out: &mut Vec<(Vec<String>, Kind)>,
        depth: usize,
    ) {
        let named = named(ty);
        if named == "ID" {
            let kind = kind_of(path.last().unwrap(), context);
            out.push((path, kind));
        } else if self.types[named]["kind"] == "INPUT_OBJECT" && depth < 3 {
            for f in self.types[named]["inputFields"].as_array().unwrap() {
                let mut p = path.clone();
                p.push(f["name"].as_str().unwrap().to_owned());
                self.collect_ids(&f["type"], p, named, out, depth + 1);
            }
        }
    }

    /// A type-valid value; ID positions take `pick(kind)`, optional positions are left out
    /// unless they lead to `target`.
    fn value(
        &self,
        ty: &Value,
        path: &[String],
        target: Option<&[String]>,
        context: &str,
        pick: &dyn Fn(Kind) -> String,
    ) -> Option<Value> {
        let required = ty["kind"] == "NON_NULL";
        let on_target = target.is_some_and(|t| t.starts_with(path));
        if !required && !on_target {
            return None;
        }
        let inner = if required { &ty["ofType"] } else { ty };
        if inner["kind"] == "LIST" {
            return self
                .value(&inner["ofType"], path, target, context, pick)
                .map(|v| json!([v]));
        }
        let name = named(inner);
        let leaf = path.last().unwrap().as_str();
        Some(match name {
            "ID" => json!(pick(kind_of(leaf, context))),
            "String" => json!(string_for(leaf)),
            "Int" | "Vnd" => json!(1),
            "Float" => json!(1.0),
            "Boolean" => json!(false),
            "DateTime" => json!("2026-01-01T00:00:00Z"),
            "JSON" => json!({}),
            "Upload" => Value::Null,
            _ if self.types[name]["kind"] == "ENUM" => {
                self.types[name]["enumValues"][0]["name"].clone()
            }
            _ => {
                let mut obj = Map::new();
                for f in self.types[name]["inputFields"].as_array().unwrap() {
                    let fname = f["name"].as_str().unwrap();
                    let mut p = path.to_vec();
                    p.push(fname.to_owned());
                    if let Some(v) = self.value(&f["type"], &p, target, name, pick) {
                        obj.insert(fname.to_owned(), v);
                    }
                }
                for (k, v) in preset(name) {
                    obj.entry(k).or_insert(v);
                }
                Value::Object(obj)
            }
        })
    }

    /// The path to a field's `Upload` argument, if it takes a file.
    fn upload_path(&self, ty: &Value, path: String, depth: usize) -> Option<String> {
        let name = named(ty);
        if name == "Upload" {
            return Some(path);
        }
        if self.types[name]["kind"] != "INPUT_OBJECT" || depth > 2 {
            return None;
        }
        self.types[name]["inputFields"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|f| {
                let p = format!("{path}.{}", f["name"].as_str().unwrap());
                self.upload_path(&f["type"], p, depth + 1)
            })
    }

    /// A selection of the type's leaves (and `edges { node { ... } }` for connections), so a
    /// leak would show in the response.
    fn selection(&self, ty: &Value, depth: usize) -> String {
        let name = named(ty);
        let t = &self.types[name];
        match t["kind"].as_str() {
            Some("OBJECT") => {
                let mut parts = vec!["__typename".to_owned()];
                for f in t["fields"].as_array().unwrap() {
                    let takes_required = f["args"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|a| a["type"]["kind"] == "NON_NULL");
                    let fname = f["name"].as_str().unwrap();
                    let leaf = matches!(
                        self.types[named(&f["type"])]["kind"].as_str(),
                        Some("SCALAR" | "ENUM")
                    );
                    if takes_required || (fname.ends_with("Csv") && leaf) {
                        continue;
                    }
                    if leaf {
                        parts.push(fname.to_owned());
                    } else if depth < 3 {
                        // A page inside a page (an import's errors in a list of imports) is
                        // asked small, as a client would, to stay within the cost limit.
                        let nested_page = depth > 0
                            && f["args"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .any(|a| a["name"] == "first");
                        let args = if nested_page { "(first: 2)" } else { "" };
                        parts.push(format!(
                            "{fname}{args} {}",
                            self.selection(&f["type"], depth + 1)
                        ));
                    }
                }
                format!("{{ {} }}", parts.join(" "))
            }
            // An interface (`node`): what every implementation shares, which is its id.
            Some("INTERFACE") => "{ __typename id }".to_owned(),
            _ => String::new(),
        }
    }
}

fn named(ty: &Value) -> &str {
    let mut t = ty;
    while t["name"].is_null() {
        t = &t["ofType"];
    }
    t["name"].as_str().unwrap()
}

/// The kind an ID position refers to, from its name or the field/input it sits in. Unknown
/// positions fail the test: a new one must be classified here.
fn kind_of(name: &str, context: &str) -> Kind {
    let by_name = match name {
        "campaignId" => Some(Kind::Campaign),
        "callId" => Some(Kind::Call),
        "userId" => Some(Kind::User),
        "didId" | "callerIds" => Some(Kind::Did),
        "accountId" | "twilioAccountId" => Some(Kind::TwilioAccount),
        "topUpId" => Some(Kind::TopUp),
        "importId" => Some(Kind::Import),
        _ => None,
    };
    if let Some(kind) = by_name {
        return kind;
    }
    assert!(
        name == "id" || name == "ids",
        "classify the ID position {name} in {context}"
    );
    let c = context.to_ascii_lowercase();
    [
        ("import", Kind::Import),
        ("twilioaccount", Kind::TwilioAccount),
        ("topup", Kind::TopUp),
        ("apikey", Kind::ApiKey),
        // Any object's id; filled with another tenant's campaign (the contract tests try the
        // other kinds).
        ("node", Kind::Campaign),
        // Admin-only; money records, filled with another tenant's top-up.
        ("unmatchedpayment", Kind::TopUp),
        // Admin-only; platform rules, filled with another tenant's do-not-call entry.
        ("numberallowance", Kind::DoNotCall),
        ("donotcall", Kind::DoNotCall),
        ("campaign", Kind::Campaign),
        ("did", Kind::Did),
        ("user", Kind::User),
        ("call", Kind::Call),
    ]
    .into_iter()
    .find(|(word, _)| c.contains(word))
    .map(|(_, kind)| kind)
    .unwrap_or_else(|| panic!("classify the ID position {name} in {context}"))
}

/// Values that make an input valid where the generated minimum is not, so the request gets
/// as far as the ownership check.
fn preset(input_type: &str) -> Map<String, Value> {
    let v = match input_type {
        "MessageInput" => json!({"text": "Xin chào"}),
        "CreateCampaignInput" => json!({"purpose": "REMINDER", "consent": {
            "basis": "EXISTING_CUSTOMER", "source": "contract", "collectedAt": "2026-01-01T00:00:00Z"}}),
        _ => json!({}),
    };
    v.as_object().cloned().unwrap_or_default()
}

fn string_for(name: &str) -> String {
    match name {
        "month" => "2026-11".into(),
        "email" => crate::helpers::unique_email("iso"),
        "password" | "currentPassword" | "newPassword" => "a good password".into(),
        "to" | "from" | "phone" | "phoneNumber" | "number" => "+84912000001".into(),
        "prefix" => "849".into(),
        "voice" => "Google.vi-VN-Wavenet-A".into(),
        "language" => "vi-VN".into(),
        _ => "x".into(),
    }
}

/// One generated request: the document and its variables.
fn request(
    schema: &Schema,
    op: &str,
    field: &Value,
    target: Option<&[String]>,
    pick: &dyn Fn(Kind) -> String,
) -> (String, Value) {
    let fname = field["name"].as_str().unwrap();
    let mut decls = Vec::new();
    let mut args = Vec::new();
    let mut vars = Map::new();
    for arg in field["args"].as_array().unwrap() {
        let name = arg["name"].as_str().unwrap();
        let path = vec![name.to_owned()];
        if let Some(v) = schema.value(&arg["type"], &path, target, fname, pick) {
            decls.push(format!("${name}: {}", type_ref(&arg["type"])));
            args.push(format!("{name}: ${name}"));
            vars.insert(name.to_owned(), v);
        }
    }
    let decls = if decls.is_empty() {
        String::new()
    } else {
        format!("({})", decls.join(", "))
    };
    let args = if args.is_empty() {
        String::new()
    } else {
        format!("({})", args.join(", "))
    };
    let sel = schema.selection(&field["type"], 0);
    (
        format!("{op} Probe{decls} {{ {fname}{args} {sel} }}"),
        Value::Object(vars),
    )
}

fn type_ref(ty: &Value) -> String {
    match ty["kind"].as_str().unwrap() {
        "NON_NULL" => format!("{}!", type_ref(&ty["ofType"])),
        "LIST" => format!("[{}]", type_ref(&ty["ofType"])),
        _ => ty["name"].as_str().unwrap().to_owned(),
    }
}

/// Sends a generated request as `token` (or nobody), over websockets for subscriptions; returns
/// the response body (`{data, errors}`).
async fn send(
    app: &TestApp,
    addr: std::net::SocketAddr,
    op: &str,
    token: Option<&str>,
    doc: &str,
    vars: Value,
    upload: Option<&str>,
) -> Value {
    if op == "subscription" {
        let mut ws = match crate::helpers::ws::WsClient::connect(
            addr,
            json!({"authorization": format!("Bearer {}", token.unwrap_or(""))}),
        )
        .await
        {
            crate::helpers::ws::Init::Ack(ws) => ws,
            crate::helpers::ws::Init::Closed { .. } => {
                return json!({"errors": [{"extensions": {"code": "UNAUTHENTICATED"}}]})
            }
        };
        ws.subscribe_with("1", doc, vars).await;
        let msg = ws.next_message(Duration::from_secs(5)).await;
        return match msg["type"].as_str() {
            Some("error") => json!({"errors": msg["payload"]}),
            _ => msg["payload"].clone(),
        };
    }
    if let Some(file_path) = upload {
        let request = crate::helpers::upload(
            doc,
            vars,
            &format!("variables.{file_path}"),
            b"phone\n+84912000001\n",
            token.unwrap_or(""),
        );
        let (_, body) = app.send(request).await;
        return serde_json::from_slice(&body).unwrap();
    }
    match token {
        Some(t) => app.gql_as(t, doc, vars).await.body,
        None => app.gql(doc, vars).await.body,
    }
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

/// A user with a number, a finished one-call campaign, a do-not-call entry, a top-up and an
/// API key.
async fn tenant(app: &TestApp, admin: &str, carrier: &Carrier, phone: &str) -> Tenant {
    let (token, user_id, did) = app.user_with_number(admin, carrier).await;
    let me = app.gql_as(&token, "{ me { email } }", json!({})).await;
    let id = campaign::create(
        app,
        &token,
        &did,
        vec![json!({"phone": phone, "name": "A", "vars": {"time": "9:00"}})],
        json!({}),
    )
    .await;
    // An import into the campaign (its one row refused), finished before the campaign starts.
    let import = crate::helpers::imports::run(app, &token, &id, b"phone\nnot a number\n").await
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    campaign::start(app, &token, &id).await;
    let morning = crate::helpers::calling_hours::vn_morning;
    let dispatcher = Dispatcher::with_clock(app.state.clone(), Arc::new(morning));
    let runner = app.runner();
    let call = eventually(Duration::from_secs(60), "the tenant's call", || async {
        dispatcher.tick().await.unwrap();
        runner.drain().await.unwrap();
        let r = app
            .gql_as(&token, "query($id: ID!) { calls(filter: {campaignId: $id}) { edges { node { id status } } } }", json!({"id": id}))
            .await;
        let node = r.data("calls.edges")[0]["node"].clone();
        (node["status"] == "COMPLETED").then(|| node["id"].as_str().unwrap().to_owned())
    })
    .await;
    let dnc = app
        .gql_as(
            &token,
            "mutation($i: AddDoNotCallInput!) { addDoNotCall(input: $i) { entry { id } } }",
            json!({"i": {"phone": format!("{}9", &phone[..phone.len() - 1]), "reason": "asked"}}),
        )
        .await
        .str("addDoNotCall.entry.id");
    let top_up = app
        .gql_as(
            &token,
            "mutation($i: CreateTopUpInput!) { createTopUp(input: $i) { topUp { id } } }",
            json!({"i": {"method": "BANK_TRANSFER", "amount": 100000}}),
        )
        .await
        .str("createTopUp.topUp.id");
    let api_key = app
        .gql_as(
            &token,
            "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } } }",
            json!({"i": {"name": "integration", "scopes": ["READ"]}}),
        )
        .await
        .str("createApiKey.apiKey.id");
    let account = app
        .gql_as(
            admin,
            "{ twilioAccounts { edges { node { id } } } }",
            json!({}),
        )
        .await
        .data("twilioAccounts.edges")[0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ids = HashMap::from([
        (Kind::User, user_id),
        (Kind::Campaign, id),
        (Kind::Call, call),
        (Kind::Did, did),
        (Kind::DoNotCall, dnc),
        (Kind::TopUp, top_up),
        (Kind::TwilioAccount, account),
        (Kind::Import, import),
        (Kind::ApiKey, api_key),
    ]);
    Tenant {
        token,
        email: me.str("me.email"),
        ids,
    }
}

#[tokio::test]
async fn every_field_is_guarded_and_no_tenant_reaches_anothers_objects() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(2).await;
    let alice = tenant(&app, &admin, &carrier, "0912000011").await;
    let bob = tenant(&app, &admin, &carrier, "0912000021").await;
    let schema = Schema::load(&app, &admin).await;
    let addr = app.serve().await;
    let alices = |kind: Kind| alice.ids[&kind].clone();
    // Bob's own campaign in other positions is a draft, which every mutation may change.
    let bob_draft =
        campaign::create(&app, &bob.token, &bob.ids[&Kind::Did], vec![], json!({})).await;
    let bobs = |kind: Kind| match kind {
        Kind::Campaign => bob_draft.clone(),
        _ => bob.ids[&kind].clone(),
    };
    let leaks = |body: &Value| {
        let text = body.to_string();
        alice
            .ids
            .iter()
            .filter(|(k, _)| **k != Kind::TwilioAccount)
            .map(|(_, id)| id.as_str())
            .chain([alice.email.as_str()])
            .find(|secret| text.contains(secret))
            .map(str::to_owned)
    };

    let mut failures = Vec::new();
    let mut checked: BTreeMap<&str, usize> = BTreeMap::new();
    let mut seen = Vec::new();
    for (op, root) in &schema.roots {
        for field in schema.fields(root) {
            let name = field["name"].as_str().unwrap();
            if name.starts_with("__") {
                continue;
            }
            let (doc, vars) = request(&schema, op, field, None, &bobs);
            let upload = field["args"].as_array().unwrap().iter().find_map(|a| {
                schema.upload_path(&a["type"], a["name"].as_str().unwrap().to_owned(), 0)
            });
            let upload = upload.as_deref();
            seen.push(name);
            let class = match class_of(name) {
                Ok(class) => class,
                Err(why) => {
                    failures.push(why);
                    continue;
                }
            };
            if class == "public" {
                continue;
            }
            let body = send(&app, addr, op, None, &doc, vars.clone(), upload).await;
            if code(&body) != "UNAUTHENTICATED" {
                failures.push(format!("{name} anonymous: {body}"));
            }
            *checked.entry("anonymous").or_default() += 1;
            if class == "admin-only" {
                let body = send(&app, addr, op, Some(&bob.token), &doc, vars, upload).await;
                if code(&body) != "FORBIDDEN" {
                    failures.push(format!("{name} as a user (admin field): {body}"));
                }
                *checked.entry("admin-only").or_default() += 1;
                continue;
            }
            for (path, _) in schema.id_paths(field) {
                let pick = |kind: Kind| {
                    if schema_path_kind(&schema, field, &path) == Some(kind) {
                        alices(kind)
                    } else {
                        bobs(kind)
                    }
                };
                let (doc, vars) = request(&schema, op, field, Some(&path), &pick);
                let body = send(&app, addr, op, Some(&bob.token), &doc, vars, upload).await;
                let refused = matches!(code(&body), "NOT_FOUND" | "FORBIDDEN");
                let quiet_list =
                    *op == "query" && body["errors"].is_null() && leaks(&body).is_none();
                if !(refused || quiet_list) {
                    failures.push(format!(
                        "{name} with another tenant's {}: {body}",
                        path.join(".")
                    ));
                }
                *checked.entry("cross-tenant").or_default() += 1;
            }
        }
    }
    for stale in PUBLIC.iter().chain(SELF_SERVICE).chain(ADMIN_ONLY) {
        if !seen.contains(stale) {
            failures.push(format!("{stale} is classified but is no root field"));
        }
    }
    failures.extend(lists::leaks_between(&app, &schema, &alice, &bob).await);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked["cross-tenant"] >= 25, "{checked:?}");
    assert!(checked["admin-only"] >= 25, "{checked:?}");

    // Nothing of Alice's changed under Bob's attempts.
    let c = app
        .gql_as(
            &alice.token,
            "query($id: ID!) { campaign(id: $id) { status } }",
            json!({"id": alices(Kind::Campaign)}),
        )
        .await;
    assert_eq!(c.str("campaign.status"), "COMPLETED", "{}", c.body);
    let t = app
        .gql_as(
            &alice.token,
            "query($id: ID!) { topUp(id: $id) { status } }",
            json!({"id": alices(Kind::TopUp)}),
        )
        .await;
    assert_eq!(t.str("topUp.status"), "PENDING", "{}", t.body);
    let d = app
        .gql_as(
            &alice.token,
            "{ doNotCallEntries { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert!(
        d.body.to_string().contains(&alices(Kind::DoNotCall)),
        "{}",
        d.body
    );
    let mine = app
        .gql_as(
            &alice.token,
            "{ myDids { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert!(
        mine.body.to_string().contains(&alices(Kind::Did)),
        "{}",
        mine.body
    );
    settle(&app).await;
}

/// Runs the jobs the tenants' calls left behind (a late carrier callback may enqueue one after
/// the call read COMPLETED), so the test ends with an empty queue.
async fn settle(app: &TestApp) {
    eventually(Duration::from_secs(30), "an empty job queue", || async {
        app.drain_jobs().await;
        (app.job_count().await == 0).then_some(())
    })
    .await;
}

fn schema_path_kind(schema: &Schema, field: &Value, path: &[String]) -> Option<Kind> {
    schema
        .id_paths(field)
        .into_iter()
        .find(|(p, _)| p == path)
        .map(|(_, k)| k)
}
