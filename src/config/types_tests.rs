//! Resolving `data:` and `enums:` across modules.

use super::*;
use crate::types::{EventType, Type};

fn load_files(files: &[(&str, &str)]) -> Result<Project, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    load(dir.path(), &Overrides::none())
}

#[test]
fn types_resolve_across_modules_and_dead_letters_carry_the_source_type() {
    let p = load_files(&[
        ("ftl-project.yaml", "name: shop\n"),
        (
            "pizza/ftl.yaml",
            "module: pizza\ndata:\n  Order:\n    table: kitchen.Table\n    size: kitchen.Size?\n    next: Order?\n    all: [Order]\n    by: {kitchen.Size: Int}\nverbs:\n  v: {exec: [\"true\"]}\ntopics:\n  orders: {event: Order, partitions: 2, key: /table/number}\nsubscriptions:\n  s: {topic: orders, verb: v, deadletter: true}\n",
        ),
        (
            "kitchen/ftl.yaml",
            "module: kitchen\ndata:\n  Table: {number: Int, export: true}\nenums:\n  Size: {values: [s, m], export: true}\n",
        ),
    ])
    .unwrap();
    let order = p.types.find_data("pizza", "Order").unwrap();
    let fields: Vec<String> = p.types.data[order]
        .fields
        .iter()
        .map(|f| format!("{} {}", f.name, p.types.display(&f.ty)))
        .collect();
    assert_eq!(
        fields,
        [
            "table kitchen.Table",
            "size kitchen.Size?",
            "next pizza.Order?",
            "all [pizza.Order]",
            "by {kitchen.Size: Int}"
        ]
    );
    let orders = p.topic("pizza", "orders").unwrap();
    assert_eq!(orders.ty.event, EventType::Data(order));
    let failed = p.topic("pizza", "sFailed").unwrap();
    assert_eq!(failed.event, "builtin.FailedEvent<pizza.Order>");
    assert_eq!(
        failed.ty.event,
        EventType::Failed(Box::new(EventType::Data(order)))
    );
    assert!(matches!(
        p.types.data[order].fields[1].ty,
        Type::Optional(_)
    ));
}

#[test]
fn any_opts_out_and_a_typed_key_may_go_through_nested_data() {
    let p = load_files(&[
        ("ftl-project.yaml", "name: shop\n"),
        (
            "a/ftl.yaml",
            "module: a\ndata:\n  E: {user: U}\n  U: {id: String}\ntopics:\n  raw: {event: Any, partitions: 4, key: /whatever}\n  typed: {event: E, partitions: 4, key: /user/id}\n",
        ),
    ])
    .unwrap();
    assert!(p.topic("a", "raw").unwrap().ty.is_any());
    assert_eq!(p.topic("a", "raw").unwrap().event, "Any");
    assert_eq!(p.topic("a", "typed").unwrap().event, "a.E");
}
