//! The schema is the front end's contract: these tests fail when a change breaks one of its
//! rules (money as `Vnd`, counted lists, one naming scheme for mutations and filters, a
//! description on everything), whatever the change was.

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{
    BaseType, FieldDefinition, InputValueDefinition, Type, TypeDefinition, TypeKind,
    TypeSystemDefinition,
};

fn types() -> Vec<TypeDefinition> {
    let sdl = ringcast::schema::sdl();
    let doc = parse_schema(&sdl).expect("the exported SDL parses");
    doc.definitions
        .into_iter()
        .filter_map(|d| match d {
            TypeSystemDefinition::Type(t) => Some(t.node),
            _ => None,
        })
        .collect()
}

fn base_name(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => base_name(inner),
    }
}

fn fields(t: &TypeDefinition) -> &[async_graphql::Positioned<FieldDefinition>] {
    match &t.kind {
        TypeKind::Object(o) => &o.fields,
        TypeKind::Interface(i) => &i.fields,
        _ => &[],
    }
}

fn input_fields(t: &TypeDefinition) -> &[async_graphql::Positioned<InputValueDefinition>] {
    match &t.kind {
        TypeKind::InputObject(i) => &i.fields,
        _ => &[],
    }
}

fn upper_first(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// A name that holds an amount of money by what it says.
fn is_money(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        "amount",
        "cost",
        "price",
        "balance",
        "fee",
        "posted",
        "held",
        "hold",
        "credit",
        "debit",
        "charge",
        "perminute",
        "firstminute",
        "spend",
    ]
    .iter()
    .any(|word| lower.contains(word))
}

#[test]
fn every_money_field_and_argument_is_vnd() {
    let mut wrong = Vec::new();
    for t in types() {
        let owner = t.name.node.as_str();
        for f in fields(&t) {
            let f = &f.node;
            if is_money(&f.name.node) && matches!(base_name(&f.ty.node), "Int" | "Float") {
                wrong.push(format!("{owner}.{}", f.name.node));
            }
            for a in &f.arguments {
                let a = &a.node;
                if is_money(&a.name.node) && matches!(base_name(&a.ty.node), "Int" | "Float") {
                    wrong.push(format!("{owner}.{}({})", f.name.node, a.name.node));
                }
            }
        }
        for f in input_fields(&t) {
            let f = &f.node;
            if is_money(&f.name.node) && matches!(base_name(&f.ty.node), "Int" | "Float") {
                wrong.push(format!("{owner}.{}", f.name.node));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "money must be Vnd, not Int or Float: {wrong:?}"
    );
}

#[test]
fn every_connection_has_a_total_count() {
    let types = types();
    let connections: Vec<_> = types
        .iter()
        .filter(|t| t.name.node.ends_with("Connection"))
        .collect();
    assert!(connections.len() >= 10, "the lists were found");
    let missing: Vec<_> = connections
        .iter()
        .filter(|t| !fields(t).iter().any(|f| f.node.name.node == "totalCount"))
        .map(|t| t.name.node.to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "connections without totalCount: {missing:?}"
    );
}

/// Every field that answers a connection pages both ways (Relay's four arguments), and an
/// `orderBy` is always an `XOrder` input of a field enum and the shared `OrderDirection`.
#[test]
fn every_connection_field_pages_both_ways_and_orders_alike() {
    let types = types();
    let mut wrong = Vec::new();
    let mut seen = 0;
    for t in &types {
        for f in fields(t) {
            let f = &f.node;
            if !base_name(&f.ty.node).ends_with("Connection") {
                continue;
            }
            seen += 1;
            let arg = |name: &str| {
                f.arguments
                    .iter()
                    .find(|a| a.node.name.node == name)
                    .map(|a| a.node.ty.node.to_string())
            };
            for (name, ty) in [
                ("first", "Int"),
                ("after", "String"),
                ("last", "Int"),
                ("before", "String"),
            ] {
                if arg(name).as_deref() != Some(ty) {
                    wrong.push(format!(
                        "{}.{} lacks {name}: {ty}",
                        t.name.node, f.name.node
                    ));
                }
            }
            if let Some(order) = arg("orderBy") {
                let order = order.trim_end_matches('!');
                let input = types.iter().find(|i| i.name.node == order);
                let mut fields: Vec<_> = input
                    .map(|i| {
                        input_fields(i)
                            .iter()
                            .map(|f| (f.node.name.node.to_string(), f.node.ty.node.to_string()))
                            .collect()
                    })
                    .unwrap_or_default();
                fields.sort();
                let expected = vec![
                    ("direction".to_owned(), "OrderDirection!".to_owned()),
                    ("field".to_owned(), format!("{order}Field!")),
                ];
                if !order.ends_with("Order") || fields != expected {
                    wrong.push(format!(
                        "{}.{}(orderBy: {order}) has {fields:?}",
                        t.name.node, f.name.node
                    ));
                }
            }
        }
    }
    assert!(seen >= 13, "the lists were found ({seen})");
    assert!(
        wrong.is_empty(),
        "connections off the contract:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_mutation_is_verb_noun_with_its_own_input_and_payload() {
    let types = types();
    let mutation = types
        .iter()
        .find(|t| t.name.node == "Mutation")
        .expect("a Mutation type");
    let mut wrong = Vec::new();
    for f in fields(mutation) {
        let f = &f.node;
        let name = f.name.node.as_str();
        let upper = upper_first(name);
        let args: Vec<_> = f
            .arguments
            .iter()
            .map(|a| (a.node.name.node.to_string(), a.node.ty.node.to_string()))
            .collect();
        if args != [("input".to_owned(), format!("{upper}Input!"))] {
            wrong.push(format!("{name} takes {args:?}, not (input: {upper}Input!)"));
        }
        if f.ty.node.to_string() != format!("{upper}Payload!") {
            wrong.push(format!("{name} answers {}, not {upper}Payload!", f.ty.node));
        }
        if name.starts_with("remove") {
            wrong.push(format!("{name}: deleting mutations are named delete*"));
        }
    }
    assert!(
        wrong.is_empty(),
        "mutations off the naming scheme:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_filter_argument_is_an_x_filter() {
    let mut wrong = Vec::new();
    for t in types() {
        for f in fields(&t) {
            for a in &f.node.arguments {
                let ty = base_name(&a.node.ty.node);
                if a.node.name.node == "filter" && !ty.ends_with("Filter") {
                    wrong.push(format!(
                        "{}.{}(filter: {ty})",
                        t.name.node, f.node.name.node
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "filters must be named XFilter: {wrong:?}");
}

/// GraphiQL's docs pane is how integrators learn the API: an undescribed type, field,
/// argument or enum value is a question they cannot answer without reading our code.
#[test]
fn everything_in_the_schema_is_described() {
    let mut missing = Vec::new();
    for t in types() {
        let owner = t.name.node.to_string();
        if t.description.is_none() {
            missing.push(owner.clone());
        }
        for f in fields(&t) {
            let f = &f.node;
            if f.description.is_none() {
                missing.push(format!("{owner}.{}", f.name.node));
            }
            for a in &f.arguments {
                if a.node.description.is_none() {
                    missing.push(format!("{owner}.{}({})", f.name.node, a.node.name.node));
                }
            }
        }
        for f in input_fields(&t) {
            if f.node.description.is_none() {
                missing.push(format!("{owner}.{}", f.node.name.node));
            }
        }
        if let TypeKind::Enum(e) = &t.kind {
            for v in &e.values {
                if v.node.description.is_none() {
                    missing.push(format!("{owner}.{}", v.node.value.node));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} without a description: {missing:?}",
        missing.len()
    );
}
