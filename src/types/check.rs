//! Checking an event against its type: one pass over the parsed JSON that
//! stops at the first problem and says where it is (a JSON pointer) and what
//! was expected. The path is only built when something is wrong, so a valid
//! event costs a walk of its values and nothing else.

use std::fmt;

use serde_json::Value;

use super::{EventType, Type, Types};

/// Where an event first differs from its type, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// A JSON pointer (`/toppings/2`); empty for the event itself.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

struct Checker<'t, 'v> {
    types: &'t Types,
    path: Vec<Seg<'v>>,
}

pub(super) fn check_event(types: &Types, ty: &EventType, event: &Value) -> Result<(), Mismatch> {
    let mut c = Checker {
        types,
        path: Vec::new(),
    };
    c.event(ty, event)
}

impl<'t, 'v> Checker<'t, 'v> {
    fn fail(&self, message: String) -> Mismatch {
        let mut path = String::new();
        for seg in &self.path {
            path.push('/');
            match seg {
                Seg::Key(k) => path.push_str(&k.replace('~', "~0").replace('/', "~1")),
                Seg::Index(i) => path.push_str(&i.to_string()),
            }
        }
        Mismatch { path, message }
    }

    fn missing(&self, field: &str) -> Mismatch {
        let mut m = self.fail("missing".into());
        m.path.push('/');
        m.path
            .push_str(&field.replace('~', "~0").replace('/', "~1"));
        m
    }

    fn expected(&self, what: impl fmt::Display, got: &Value) -> Mismatch {
        self.fail(format!("expected {what}, got {}", describe(got)))
    }

    fn event(&mut self, ty: &EventType, v: &'v Value) -> Result<(), Mismatch> {
        match ty {
            EventType::Any => Ok(()),
            EventType::Data(i) => self.value(&Type::Data(*i), v),
            EventType::Failed(inner) => {
                let Value::Object(map) = v else {
                    return Err(self.expected("a FailedEvent object {event, error}", v));
                };
                for (k, field) in map {
                    self.path.push(Seg::Key(k));
                    match k.as_str() {
                        "event" => self.event(inner, field)?,
                        "error" => self.value(&Type::String, field)?,
                        _ => {
                            return Err(self.fail(
                                "unknown field of builtin.FailedEvent (its fields: event, error)"
                                    .into(),
                            ))
                        }
                    }
                    self.path.pop();
                }
                for name in ["event", "error"] {
                    if !map.contains_key(name) {
                        return Err(self.missing(name));
                    }
                }
                Ok(())
            }
        }
    }

    fn value(&mut self, ty: &Type, v: &'v Value) -> Result<(), Mismatch> {
        let types = self.types;
        match ty {
            Type::Any => Ok(()),
            Type::Optional(inner) => match v {
                Value::Null => Ok(()),
                v => self.value(inner, v),
            },
            Type::Int => match v {
                Value::Number(n) if n.is_i64() => Ok(()),
                Value::Number(n) if n.is_u64() => {
                    Err(self.fail(format!("{n} does not fit in an Int (64 bits)")))
                }
                v => Err(self.expected("Int", v)),
            },
            Type::Float => match v {
                Value::Number(_) => Ok(()),
                v => Err(self.expected("Float", v)),
            },
            Type::Bool => match v {
                Value::Bool(_) => Ok(()),
                v => Err(self.expected("Bool", v)),
            },
            Type::String => match v {
                Value::String(_) => Ok(()),
                v => Err(self.expected("String", v)),
            },
            Type::Time => match v {
                Value::String(s) if is_rfc3339(s) => Ok(()),
                Value::String(s) => Err(self.fail(format!(
                    "{} is not a Time (RFC 3339, like \"2026-12-05T17:30:00Z\")",
                    describe(&Value::String(s.clone()))
                ))),
                v => Err(self.expected("Time (RFC 3339 text)", v)),
            },
            Type::Bytes => {
                match v {
                    Value::String(s) if is_base64(s) => Ok(()),
                    Value::String(_) => Err(self
                        .fail("expected Bytes (base64 text), got text that is not base64".into())),
                    v => Err(self.expected("Bytes (base64 text)", v)),
                }
            }
            Type::Unit => match v {
                Value::Null => Ok(()),
                Value::Object(m) if m.is_empty() => Ok(()),
                v => Err(self.expected("Unit (null or {})", v)),
            },
            Type::Enum(i) => {
                let e = &types.enums[*i];
                match v {
                    Value::String(s) if e.values.iter().any(|x| x == s) => Ok(()),
                    Value::String(_) => Err(self.fail(format!(
                        "{} is not one of {}",
                        describe(v),
                        e.values.join(", ")
                    ))),
                    v => Err(self.expected(
                        format_args!("{}.{} (one of {})", e.module, e.name, e.values.join(", ")),
                        v,
                    )),
                }
            }
            Type::Array(inner) => {
                let Value::Array(items) = v else {
                    return Err(self.expected(types.display(ty), v));
                };
                for (i, item) in items.iter().enumerate() {
                    self.path.push(Seg::Index(i));
                    self.value(inner, item)?;
                    self.path.pop();
                }
                Ok(())
            }
            Type::Map(key, inner) => {
                let Value::Object(map) = v else {
                    return Err(self.expected(types.display(ty), v));
                };
                for (k, item) in map {
                    self.path.push(Seg::Key(k));
                    self.map_key(key, k)?;
                    self.value(inner, item)?;
                    self.path.pop();
                }
                Ok(())
            }
            Type::Data(i) => {
                let d = &types.data[*i];
                let Value::Object(map) = v else {
                    return Err(
                        self.expected(format_args!("{}.{} (an object)", d.module, d.name), v)
                    );
                };
                // Fields are few: a linear search beats hashing them.
                for (k, item) in map {
                    self.path.push(Seg::Key(k));
                    match d.fields.iter().find(|f| f.name == *k) {
                        Some(f) => self.value(&f.ty, item)?,
                        None => {
                            let names = d.fields.iter().map(|f| f.name.as_str());
                            let hint = match crate::diag::suggest(k, names.clone()) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None if d.fields.is_empty() => "it has no fields".into(),
                                None => {
                                    format!("its fields: {}", names.collect::<Vec<_>>().join(", "))
                                }
                            };
                            return Err(self.fail(format!(
                                "unknown field of {}.{} ({hint})",
                                d.module, d.name
                            )));
                        }
                    }
                    self.path.pop();
                }
                for f in &d.fields {
                    if !matches!(f.ty, Type::Optional(_)) && !map.contains_key(&f.name) {
                        return Err(self.missing(&f.name));
                    }
                }
                Ok(())
            }
        }
    }

    fn map_key(&self, key: &Type, k: &str) -> Result<(), Mismatch> {
        match key {
            Type::Int if k.parse::<i64>().is_err() => Err(self.fail(format!(
                "the key {} is not an Int",
                describe(&Value::String(k.into()))
            ))),
            Type::Enum(i) => {
                let e = &self.types.enums[*i];
                if e.values.iter().any(|x| x == k) {
                    Ok(())
                } else {
                    Err(self.fail(format!(
                        "the key {} is not one of {}",
                        describe(&Value::String(k.into())),
                        e.values.join(", ")
                    )))
                }
            }
            _ => Ok(()),
        }
    }
}

/// A value as an error message shows it: scalars as JSON (long text cut),
/// lists and objects by kind.
fn describe(v: &Value) -> String {
    match v {
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
        Value::String(s) if s.chars().count() > 40 => {
            let cut: String = s.chars().take(37).collect();
            format!("{}...", Value::String(cut))
        }
        v => v.to_string(),
    }
}

/// RFC 3339 date-time: `2026-12-05T17:30:00Z`, with optional fractions of
/// a second and a `Z` or `+hh:mm` offset (what JSON Schema's `date-time`
/// accepts).
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| -> Option<u32> {
        let part = b.get(from..from + n)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    let (Some(year), Some(month), Some(day)) = (digits(0, 4), digits(5, 2), digits(8, 2)) else {
        return false;
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !matches!(b.get(10), Some(b'T' | b't'))
    {
        return false;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days {
        return false;
    }
    let (Some(h), Some(m), Some(sec)) = (digits(11, 2), digits(14, 2), digits(17, 2)) else {
        return false;
    };
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') || h > 23 || m > 59 || sec > 60 {
        return false;
    }
    let mut at = 19;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        if at == start {
            return false;
        }
    }
    match b.get(at) {
        Some(b'Z' | b'z') => at + 1 == b.len(),
        Some(b'+' | b'-') => {
            at + 6 == b.len()
                && b[at + 3] == b':'
                && digits(at + 1, 2).is_some_and(|h| h <= 23)
                && digits(at + 4, 2).is_some_and(|m| m <= 59)
        }
        _ => false,
    }
}

/// Standard base64 with padding (how JSON carries FTL's `Bytes`).
pub fn is_base64(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() % 4 != 0 {
        return false;
    }
    let pad = b.iter().rev().take_while(|c| **c == b'=').count();
    pad <= 2
        && b[..b.len() - pad]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Data, Enum, Field};
    use serde_json::json;

    fn order_types() -> Types {
        let field = |name: &str, ty| Field {
            name: name.into(),
            ty,
        };
        Types {
            data: vec![
                Data {
                    module: "pizza".into(),
                    name: "Order".into(),
                    export: false,
                    fields: vec![
                        field("userId", Type::String),
                        field("pizza", Type::Enum(0)),
                        field("toppings", Type::Array(Box::new(Type::String))),
                        field(
                            "extras",
                            Type::Map(Box::new(Type::String), Box::new(Type::Int)),
                        ),
                        field("note", Type::Optional(Box::new(Type::String))),
                        field("placedAt", Type::Time),
                        field("table", Type::Data(1)),
                    ],
                },
                Data {
                    module: "kitchen".into(),
                    name: "Table".into(),
                    export: true,
                    fields: vec![field("number", Type::Int)],
                },
            ],
            enums: vec![Enum {
                module: "pizza".into(),
                name: "Size".into(),
                export: false,
                values: vec!["small".into(), "medium".into(), "large".into()],
            }],
        }
    }

    fn valid() -> Value {
        json!({"userId": "u1", "pizza": "small", "toppings": ["ham", "olive"],
               "extras": {"cheese": 2}, "placedAt": "2026-12-05T17:30:00.5+01:00",
               "table": {"number": 4}})
    }

    fn problem(edit: impl FnOnce(&mut Value)) -> String {
        let mut v = valid();
        edit(&mut v);
        check_event(&order_types(), &EventType::Data(0), &v)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_valid_event_passes_and_each_mistake_is_named_with_its_path() {
        check_event(&order_types(), &EventType::Data(0), &valid()).unwrap();
        assert_eq!(
            problem(|v| v["toppings"][1] = json!(3)),
            "/toppings/1: expected String, got 3"
        );
        assert_eq!(
            problem(|v| v["pizza"] = json!("huge")),
            "/pizza: \"huge\" is not one of small, medium, large"
        );
        assert_eq!(
            problem(|v| {
                v.as_object_mut().unwrap().remove("userId");
            }),
            "/userId: missing"
        );
        assert_eq!(
            problem(|v| v["usrId"] = json!("x")),
            "/usrId: unknown field of pizza.Order (did you mean `userId`?)"
        );
        assert!(problem(|v| v["placedAt"] = json!("yesterday"))
            .starts_with("/placedAt: \"yesterday\" is not a Time"));
        assert_eq!(
            problem(|v| v["table"]["number"] = json!(1.5)),
            "/table/number: expected Int, got 1.5"
        );
        assert_eq!(
            problem(|v| v["extras"]["a/b"] = json!("x")),
            "/extras/a~1b: expected Int, got \"x\""
        );
        assert_eq!(
            check_event(&order_types(), &EventType::Data(0), &json!([1]))
                .unwrap_err()
                .to_string(),
            "expected pizza.Order (an object), got a list"
        );
        // Optional fields may be null or absent.
        let mut v = valid();
        v["note"] = Value::Null;
        check_event(&order_types(), &EventType::Data(0), &v).unwrap();
    }

    #[test]
    fn failed_events_carry_the_source_type() {
        let ty = EventType::Failed(Box::new(EventType::Data(0)));
        let types = order_types();
        check_event(&types, &ty, &json!({"event": valid(), "error": "boom"})).unwrap();
        let mut bad = valid();
        bad["pizza"] = json!(1);
        assert_eq!(
            check_event(&types, &ty, &json!({"event": bad, "error": "boom"}))
                .unwrap_err()
                .to_string(),
            "/event/pizza: expected pizza.Size (one of small, medium, large), got 1"
        );
        assert_eq!(
            check_event(&types, &ty, &json!({"event": valid()}))
                .unwrap_err()
                .to_string(),
            "/error: missing"
        );
    }

    #[test]
    fn rfc3339_and_base64_are_recognised() {
        for ok in [
            "2026-12-05T17:30:00Z",
            "2024-02-29T00:00:00.123456789-08:00",
            "2026-12-31t23:59:60z",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "2026-12-05",
            "2026-13-05T17:30:00Z",
            "2025-02-29T00:00:00Z",
            "2026-12-05 17:30:00Z",
            "2026-12-05T17:30:00",
            "2026-12-05T17:30:00.Z",
            "2026-12-05T17:30:00+0100",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
        assert!(is_base64("aGVsbG8="));
        assert!(is_base64(""));
        assert!(!is_base64("aGVsbG8"));
        assert!(!is_base64("a=GV"));
        assert!(!is_base64("aGV$bG8="));
    }
}
