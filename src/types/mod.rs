//! Event types, as in FTL's schema: `data` and `enum` declarations of the
//! modules, the field types that refer to them, and the type each topic
//! carries. The configuration loader builds a [`Types`] table from the
//! module files (`config::types`); every publish path checks an event
//! against its topic's [`TopicType`] (`check`); `ftl schema` prints them in
//! FTL syntax and as JSON Schema (`json_schema`). It imports nothing above
//! `diag`: `schema` holds these types.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

mod check;
pub mod expr;
mod json_schema;

pub use check::{is_base64, is_rfc3339, Mismatch};

/// FTL's built-in type names.
pub const BUILTINS: [&str; 8] = [
    "Int", "Float", "String", "Bytes", "Bool", "Time", "Any", "Unit",
];

/// A resolved field type. Declarations are referred to by their index in
/// the [`Types`] table, so recursive types need no reference counting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Type {
    Int,
    Float,
    String,
    Bytes,
    Bool,
    Time,
    Any,
    Unit,
    Array(Box<Type>),
    Map(Box<Type>, Box<Type>),
    Optional(Box<Type>),
    Data(usize),
    Enum(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub ty: Type,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Data {
    pub module: String,
    pub name: String,
    pub export: bool,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enum {
    pub module: String,
    pub name: String,
    pub export: bool,
    pub values: Vec<String>,
}

/// Every data and enum declaration of a project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Types {
    pub data: Vec<Data>,
    pub enums: Vec<Enum>,
}

impl Types {
    pub fn find_data(&self, module: &str, name: &str) -> Option<usize> {
        self.data
            .iter()
            .position(|d| d.module == module && d.name == name)
    }

    pub fn find_enum(&self, module: &str, name: &str) -> Option<usize> {
        self.enums
            .iter()
            .position(|e| e.module == module && e.name == name)
    }

    /// A type written in FTL syntax (`[String]`, `{String: Int}`,
    /// `pizza.Size?`).
    pub fn display<'a>(&'a self, ty: &'a Type) -> impl fmt::Display + 'a {
        TypeDisplay { types: self, ty }
    }

    /// Data and enum declarations of `module` in FTL syntax, each block
    /// indented by two spaces.
    pub fn ftl_blocks(&self, module: &str) -> Vec<String> {
        let mut blocks = Vec::new();
        for e in self.enums.iter().filter(|e| e.module == module) {
            let export = if e.export { "export " } else { "" };
            let mut b = format!("  {export}enum {}: String {{\n", e.name);
            for v in &e.values {
                b.push_str(&format!(
                    "    {v} = {}\n",
                    serde_json::Value::from(v.as_str())
                ));
            }
            b.push_str("  }\n");
            blocks.push(b);
        }
        for d in self.data.iter().filter(|d| d.module == module) {
            let export = if d.export { "export " } else { "" };
            let mut b = format!("  {export}data {} {{\n", d.name);
            for f in &d.fields {
                b.push_str(&format!("    {} {}\n", f.name, self.display(&f.ty)));
            }
            b.push_str("  }\n");
            blocks.push(b);
        }
        blocks
    }
}

struct TypeDisplay<'a> {
    types: &'a Types,
    ty: &'a Type,
}

impl fmt::Display for TypeDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sub = |ty| TypeDisplay {
            types: self.types,
            ty,
        };
        match self.ty {
            Type::Int => f.write_str("Int"),
            Type::Float => f.write_str("Float"),
            Type::String => f.write_str("String"),
            Type::Bytes => f.write_str("Bytes"),
            Type::Bool => f.write_str("Bool"),
            Type::Time => f.write_str("Time"),
            Type::Any => f.write_str("Any"),
            Type::Unit => f.write_str("Unit"),
            Type::Array(t) => write!(f, "[{}]", sub(t)),
            Type::Map(k, v) => write!(f, "{{{}: {}}}", sub(k), sub(v)),
            Type::Optional(t) => write!(f, "{}?", sub(t)),
            Type::Data(i) => {
                let d = &self.types.data[*i];
                write!(f, "{}.{}", d.module, d.name)
            }
            Type::Enum(i) => {
                let e = &self.types.enums[*i];
                write!(f, "{}.{}", e.module, e.name)
            }
        }
    }
}

/// What a topic's events must be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    /// `event: Any`: any JSON document.
    Any,
    /// A data type of the table.
    Data(usize),
    /// `builtin.FailedEvent<E>`: `{"event": E, "error": String}`.
    Failed(Box<EventType>),
}

/// A topic's event type with the table it refers to. It travels with its
/// table (the admin API hands a running `ftl dev`'s modules to commands).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicType {
    pub types: Arc<Types>,
    pub event: EventType,
}

impl Default for TopicType {
    fn default() -> Self {
        TopicType {
            types: Arc::new(Types::default()),
            event: EventType::Any,
        }
    }
}

impl TopicType {
    /// True when every JSON document is accepted.
    pub fn is_any(&self) -> bool {
        self.event == EventType::Any
    }

    /// The type's name as the schema writes it (`pizza.Order`, `Any`,
    /// `builtin.FailedEvent<pizza.Order>`).
    pub fn name(&self) -> String {
        fn name(types: &Types, e: &EventType) -> String {
            match e {
                EventType::Any => "Any".into(),
                EventType::Data(i) => format!("{}.{}", types.data[*i].module, types.data[*i].name),
                EventType::Failed(inner) => {
                    format!("builtin.FailedEvent<{}>", name(types, inner))
                }
            }
        }
        name(&self.types, &self.event)
    }

    /// The first place where `event` does not match the type.
    pub fn check(&self, event: &serde_json::Value) -> Result<(), Mismatch> {
        check::check_event(&self.types, &self.event, event)
    }

    /// The type as a JSON Schema (2020-12) document.
    pub fn json_schema(&self) -> serde_json::Value {
        json_schema::topic_schema(&self.types, &self.event)
    }
}

/// Every data type of the project as a JSON Schema (2020-12) document,
/// keyed by `module.Name`.
pub fn data_schemas(types: &Types) -> serde_json::Map<String, serde_json::Value> {
    types
        .data
        .iter()
        .enumerate()
        .map(|(i, d)| {
            (
                format!("{}.{}", d.module, d.name),
                json_schema::topic_schema(types, &EventType::Data(i)),
            )
        })
        .collect()
}
