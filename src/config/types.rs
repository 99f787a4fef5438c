//! A module's `data:` and `enums:` sections as written: type names, field
//! names and types, enum values, each problem at its place in the file.
//! `type_resolve` puts every module's together.

use crate::types::expr::{self, TypeExpr};
use crate::types::BUILTINS;

use super::*;

const ENUM_KEYS: &[&str] = &["values", "export"];

#[derive(Default)]
pub(super) struct RawTypes {
    pub(super) data: Vec<RawData>,
    pub(super) enums: Vec<RawEnum>,
}

pub(super) struct RawData {
    pub(super) name: String,
    pub(super) span: Span,
    pub(super) export: bool,
    pub(super) fields: Vec<RawField>,
}

pub(super) struct RawField {
    pub(super) name: String,
    /// The type as written, `None` when it could not be read.
    pub(super) ty: Option<TypeExpr>,
    pub(super) ty_span: Span,
}

pub(super) struct RawEnum {
    pub(super) name: String,
    pub(super) span: Span,
    pub(super) export: bool,
    pub(super) values: Vec<String>,
}

/// A scalar's span with its end set, so a later problem underlines the
/// whole word (the parser gives scalars a start only).
fn word_span(s: &MarkedScalarNode) -> Span {
    let mut span = *s.span();
    if let Some(start) = s.span().start() {
        let mut end = *start;
        end.set_column(start.column() + s.as_str().chars().count());
        span.set_end(Some(end));
    }
    span
}

pub(super) fn node_span(n: &Node) -> Span {
    match n {
        Node::Scalar(s) => word_span(s),
        other => *other.span(),
    }
}

/// A declaration of the table.
#[derive(Clone, Copy)]
pub(super) enum Decl {
    Data(usize),
    Enum(usize),
}

impl Loader {
    pub(super) fn type_sections(&mut self, src: usize, root: &MarkedMappingNode) -> RawTypes {
        let mut out = RawTypes::default();
        if let Some(data) = root
            .get_node("data")
            .and_then(|n| self.mapping(src, n, "`data`"))
        {
            for (key, node) in data.iter() {
                if !self.check_type_name(src, key, "data") {
                    continue;
                }
                if let Some(d) = self.data(src, key, node) {
                    out.data.push(d);
                }
            }
        }
        if let Some(enums) = root
            .get_node("enums")
            .and_then(|n| self.mapping(src, n, "`enums`"))
        {
            for (key, node) in enums.iter() {
                if !self.check_type_name(src, key, "enum") {
                    continue;
                }
                if let Some(e) = self.enumeration(src, key, node) {
                    out.enums.push(e);
                }
            }
        }
        out
    }

    fn check_type_name(&mut self, src: usize, key: &MarkedScalarNode, what: &str) -> bool {
        let name = key.as_str();
        if BUILTINS.contains(&name) {
            self.scalar_error(
                src,
                key,
                format!("`{name}` is one of FTL's built-in types"),
                Some(format!("give the {what} type another name")),
            );
            return false;
        }
        let ok = name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && name.chars().all(|c| c.is_ascii_alphanumeric());
        if !ok {
            self.scalar_error(
                src,
                key,
                format!("{what} name `{name}` is not a type name"),
                Some("type names are UpperCamelCase, as in FTL: a capital letter, then letters and digits (`Order`, `PizzaSize`)".into()),
            );
        }
        ok
    }

    fn data(&mut self, src: usize, key: &MarkedScalarNode, node: &Node) -> Option<RawData> {
        let what = format!("data `{}`", key.as_str());
        let mut d = RawData {
            name: key.as_str().into(),
            span: word_span(key),
            export: false,
            fields: Vec::new(),
        };
        let Some(map) = self.mapping(src, node, &what) else {
            // `Order:` with nothing after it: a type without fields.
            return matches!(node, Node::Scalar(_)).then_some(d);
        };
        for (name, ty) in map.iter() {
            if name.as_str() == "export" {
                if let Some(b) = self.boolean(src, ty, &format!("`export` of {what}")) {
                    d.export = b;
                }
                continue;
            }
            if !self.check_name(src, name, "field") {
                continue;
            }
            d.fields.push(RawField {
                name: name.as_str().into(),
                ty: self.type_expr(src, ty, name.as_str()),
                ty_span: node_span(ty),
            });
        }
        Some(d)
    }

    /// A field's type: text (`String?`, `"[Int]?"`), or the list and map
    /// YAML makes of an unquoted `[T]` and `{K: V}`.
    fn type_expr(&mut self, src: usize, node: &Node, field: &str) -> Option<TypeExpr> {
        match node {
            Node::Scalar(s) => match expr::parse(s.as_str()) {
                Ok(t) => Some(t),
                Err(e) => {
                    self.scalar_error(
                        src,
                        s,
                        format!("the type of field `{field}` cannot be read: {e}"),
                        Some("write a type like `String`, `[String]`, `{String: Int}`, `Size?` or `kitchen.Table`; quote it when it ends in `?` after `]` or `}` (`\"[String]?\"`)".into()),
                    );
                    None
                }
            },
            Node::Sequence(seq) if seq.len() == 1 => {
                let item = seq.iter().next()?;
                Some(TypeExpr::Array(Box::new(self.type_expr(src, item, field)?)))
            }
            Node::Mapping(map) if map.len() == 1 => {
                let (k, v) = map.iter().next()?;
                let key = match expr::parse(k.as_str()) {
                    Ok(t) => t,
                    Err(e) => {
                        self.scalar_error(
                            src,
                            k,
                            format!("the key type of field `{field}` cannot be read: {e}"),
                            None,
                        );
                        return None;
                    }
                };
                Some(TypeExpr::Map(
                    Box::new(key),
                    Box::new(self.type_expr(src, v, field)?),
                ))
            }
            other => {
                self.error(
                    src,
                    other.span(),
                    format!("the type of field `{field}` must be one type"),
                    Some("a list type has one element (`[String]`), a map type one entry (`{String: Int}`)".into()),
                );
                None
            }
        }
    }

    fn enumeration(&mut self, src: usize, key: &MarkedScalarNode, node: &Node) -> Option<RawEnum> {
        let what = format!("enum `{}`", key.as_str());
        let mut e = RawEnum {
            name: key.as_str().into(),
            span: word_span(key),
            export: false,
            values: Vec::new(),
        };
        let values = match node {
            Node::Mapping(map) => {
                self.check_keys(src, map, ENUM_KEYS, &what);
                if let Some(b) = map
                    .get_node("export")
                    .and_then(|n| self.boolean(src, n, &format!("`export` of {what}")))
                {
                    e.export = b;
                }
                map.get_node("values")
            }
            other => Some(other),
        };
        let hint = "list its values: `Size: [small, medium, large]`, or `Size: {values: [small, medium, large], export: true}`";
        match values {
            Some(Node::Sequence(seq)) if !seq.is_empty() => {
                for item in seq.iter() {
                    let Some(s) = item.as_scalar() else {
                        self.error(
                            src,
                            item.span(),
                            format!("each value of {what} must be a name"),
                            Some(hint.into()),
                        );
                        continue;
                    };
                    if !self.check_name(src, s, "enum value") {
                        continue;
                    }
                    if e.values.iter().any(|v| v == s.as_str()) {
                        self.scalar_error(
                            src,
                            s,
                            format!("value `{}` is listed twice in {what}", s.as_str()),
                            Some("remove one".into()),
                        );
                        continue;
                    }
                    e.values.push(s.as_str().into());
                }
            }
            Some(other) => {
                self.error(
                    src,
                    other.span(),
                    format!("{what} must list its values"),
                    Some(hint.into()),
                );
                return None;
            }
            None => {
                self.scalar_error(
                    src,
                    key,
                    format!("{what} has no `values`"),
                    Some(hint.into()),
                );
                return None;
            }
        }
        Some(e)
    }
}
