//! The types as JSON Schema (2020-12), for editors and for anyone who wants
//! to check events with the same rules outside `ftl`. Each document is
//! self-contained: the declarations it reaches are under `$defs`, keyed by
//! `module.Name`.

use serde_json::{json, Map, Value};

use super::{EventType, Type, Types};

const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

pub(super) fn topic_schema(types: &Types, ty: &EventType) -> Value {
    let mut defs = Map::new();
    let mut w = Writer {
        types,
        defs: &mut defs,
    };
    let (title, mut root) = match ty {
        EventType::Any => ("Any".to_string(), json!({})),
        EventType::Data(i) => {
            let d = &types.data[*i];
            (
                format!("{}.{}", d.module, d.name),
                w.schema(&Type::Data(*i)),
            )
        }
        EventType::Failed(_) => ("builtin.FailedEvent".to_string(), w.event(ty)),
    };
    let obj = match root.as_object_mut() {
        Some(o) => o,
        None => return root,
    };
    let mut out = Map::new();
    out.insert("$schema".into(), DIALECT.into());
    out.insert("title".into(), title.into());
    out.append(obj);
    if !defs.is_empty() {
        out.insert("$defs".into(), Value::Object(defs));
    }
    Value::Object(out)
}

struct Writer<'a> {
    types: &'a Types,
    defs: &'a mut Map<String, Value>,
}

impl Writer<'_> {
    fn event(&mut self, ty: &EventType) -> Value {
        match ty {
            EventType::Any => json!({}),
            EventType::Data(i) => self.schema(&Type::Data(*i)),
            EventType::Failed(inner) => json!({
                "type": "object",
                "properties": {"event": self.event(inner), "error": {"type": "string"}},
                "required": ["event", "error"],
                "additionalProperties": false,
            }),
        }
    }

    fn schema(&mut self, ty: &Type) -> Value {
        match ty {
            Type::Int => json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX}),
            Type::Float => json!({"type": "number"}),
            Type::String => json!({"type": "string"}),
            Type::Bytes => json!({"type": "string", "contentEncoding": "base64"}),
            Type::Bool => json!({"type": "boolean"}),
            Type::Time => json!({"type": "string", "format": "date-time"}),
            Type::Any => json!({}),
            Type::Unit => {
                json!({"anyOf": [{"type": "null"}, {"type": "object", "maxProperties": 0}]})
            }
            Type::Array(t) => json!({"type": "array", "items": self.schema(t)}),
            Type::Map(k, v) => {
                let mut m = json!({"type": "object", "additionalProperties": self.schema(v)});
                match &**k {
                    Type::Int => m["propertyNames"] = json!({"pattern": "^-?[0-9]+$"}),
                    Type::Enum(_) => m["propertyNames"] = self.schema(k),
                    _ => {}
                }
                m
            }
            Type::Optional(t) => json!({"anyOf": [{"type": "null"}, self.schema(t)]}),
            Type::Enum(i) => {
                let e = &self.types.enums[*i];
                let name = format!("{}.{}", e.module, e.name);
                if !self.defs.contains_key(&name) {
                    self.defs
                        .insert(name.clone(), json!({"type": "string", "enum": e.values}));
                }
                json!({"$ref": format!("#/$defs/{name}")})
            }
            Type::Data(i) => {
                let d = &self.types.data[*i];
                let name = format!("{}.{}", d.module, d.name);
                if !self.defs.contains_key(&name) {
                    // Reserved first so a recursive type refers to itself.
                    self.defs.insert(name.clone(), Value::Null);
                    let mut properties = Map::new();
                    let mut required = Vec::new();
                    for f in &d.fields {
                        properties.insert(f.name.clone(), self.schema(&f.ty));
                        if !matches!(f.ty, Type::Optional(_)) {
                            required.push(Value::from(f.name.as_str()));
                        }
                    }
                    self.defs.insert(
                        name.clone(),
                        json!({
                            "type": "object",
                            "properties": properties,
                            "required": required,
                            "additionalProperties": false,
                        }),
                    );
                }
                json!({"$ref": format!("#/$defs/{name}")})
            }
        }
    }
}
