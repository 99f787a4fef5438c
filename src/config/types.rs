//! A module's `data:` and `enums:` sections, and their resolution across
//! modules into one [`Types`] table: names, references (`kitchen.Table`
//! must be exported), cycles that no value could end, map key types, each
//! topic's `event` and its `key` pointer. Every problem is reported at its
//! place in the file.

use std::sync::Arc;

use crate::types::expr::{self, TypeExpr};
use crate::types::{Data, Enum, EventType, Field, TopicType, Type, Types, BUILTINS};

use super::*;

const ENUM_KEYS: &[&str] = &["values", "export"];

#[derive(Default)]
pub(super) struct RawTypes {
    data: Vec<RawData>,
    enums: Vec<RawEnum>,
}

struct RawData {
    name: String,
    span: Span,
    export: bool,
    fields: Vec<RawField>,
}

struct RawField {
    name: String,
    /// The type as written, `None` when it could not be read.
    ty: Option<TypeExpr>,
    ty_span: Span,
}

struct RawEnum {
    name: String,
    span: Span,
    export: bool,
    values: Vec<String>,
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
enum Decl {
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
                Some(TypeExpr::Array(Box::new(
                    self.type_expr(src, item, field)?,
                )))
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

    /// Builds the project's type table and gives every declared topic its
    /// type; problems are reported where they are written.
    pub(super) fn resolve_types(&mut self, modules: &mut [RawModule]) -> Arc<Types> {
        let mut types = Types::default();
        let mut decls: HashMap<(String, String), Decl> = HashMap::new();
        let mut spans: Vec<(usize, Span)> = Vec::new();
        for m in modules.iter() {
            for (is_data, name, span, export) in m
                .types
                .data
                .iter()
                .map(|d| (true, &d.name, d.span, d.export))
                .chain(m.types.enums.iter().map(|e| (false, &e.name, e.span, e.export)))
            {
                let id = (m.name.clone(), name.clone());
                if decls.contains_key(&id) {
                    self.error(
                        m.src,
                        &span,
                        format!("type `{name}` is declared twice in module `{}`", m.name),
                        Some("`data` and `enums` share one set of names: rename one".into()),
                    );
                    continue;
                }
                let decl = if is_data {
                    types.data.push(Data {
                        module: m.name.clone(),
                        name: name.clone(),
                        export,
                        fields: Vec::new(),
                    });
                    spans.push((m.src, span));
                    Decl::Data(types.data.len() - 1)
                } else {
                    let values = m
                        .types
                        .enums
                        .iter()
                        .find(|e| e.name == *name)
                        .map(|e| e.values.clone())
                        .unwrap_or_default();
                    types.enums.push(Enum {
                        module: m.name.clone(),
                        name: name.clone(),
                        export,
                        values,
                    });
                    Decl::Enum(types.enums.len() - 1)
                };
                decls.insert(id, decl);
            }
        }
        // Fields, now that every name is known.
        for m in modules.iter() {
            for d in &m.types.data {
                let Some(Decl::Data(i)) = decls.get(&(m.name.clone(), d.name.clone())).copied()
                else {
                    continue;
                };
                if !types.data[i].fields.is_empty() {
                    continue; // a second declaration of the name
                }
                let mut fields = Vec::new();
                for f in &d.fields {
                    let ty = match &f.ty {
                        Some(e) => self
                            .resolve_type(m.src, &m.name, e, &f.ty_span, &decls, &types)
                            .unwrap_or(Type::Any),
                        None => Type::Any,
                    };
                    fields.push(Field {
                        name: f.name.clone(),
                        ty,
                    });
                }
                types.data[i].fields = fields;
            }
        }
        self.report_cycles(&types, &spans);
        let types = Arc::new(types);
        for m in modules.iter_mut() {
            for (t, span) in &mut m.topics {
                let Some(raw) = m.events.get(&t.name) else {
                    continue;
                };
                let Some((text, event_span)) = &raw.event else {
                    continue;
                };
                let event = self.topic_event(m.src, &m.name, text, event_span, &decls, &types);
                t.ty = TopicType {
                    types: types.clone(),
                    event,
                };
                t.event = t.ty.name();
                if let (Some(pointer), Some(key_span)) = (&t.key, raw.key) {
                    self.check_key(m.src, t, pointer, &key_span);
                }
                let _ = span;
            }
        }
        types
    }

    #[allow(clippy::too_many_arguments)]
    fn resolve_type(
        &mut self,
        src: usize,
        module: &str,
        e: &TypeExpr,
        span: &Span,
        decls: &HashMap<(String, String), Decl>,
        types: &Types,
    ) -> Option<Type> {
        Some(match e {
            TypeExpr::Array(t) => Type::Array(Box::new(
                self.resolve_type(src, module, t, span, decls, types)?,
            )),
            TypeExpr::Optional(t) => Type::Optional(Box::new(
                self.resolve_type(src, module, t, span, decls, types)?,
            )),
            TypeExpr::Map(k, v) => {
                let key = self.resolve_type(src, module, k, span, decls, types)?;
                if !matches!(key, Type::String | Type::Int | Type::Enum(_)) {
                    self.error(
                        src,
                        span,
                        format!("a map's keys cannot be `{k}`"),
                        Some("JSON object keys are text: use String, Int or an enum as the key type".into()),
                    );
                    return None;
                }
                let value = self.resolve_type(src, module, v, span, decls, types)?;
                Type::Map(Box::new(key), Box::new(value))
            }
            TypeExpr::Named { module: None, name } if BUILTINS.contains(&name.as_str()) => {
                match name.as_str() {
                    "Int" => Type::Int,
                    "Float" => Type::Float,
                    "String" => Type::String,
                    "Bytes" => Type::Bytes,
                    "Bool" => Type::Bool,
                    "Time" => Type::Time,
                    "Unit" => Type::Unit,
                    _ => Type::Any,
                }
            }
            TypeExpr::Named { module: m, name } => {
                let owner = m.as_deref().unwrap_or(module);
                let decl = self.find_decl(src, module, owner, name, span, decls, types)?;
                match decl {
                    Decl::Data(i) => Type::Data(i),
                    Decl::Enum(i) => Type::Enum(i),
                }
            }
        })
    }

    /// A declared type by module and name, exported if it is another
    /// module's; otherwise a problem with a suggestion.
    #[allow(clippy::too_many_arguments)]
    fn find_decl(
        &mut self,
        src: usize,
        module: &str,
        owner: &str,
        name: &str,
        span: &Span,
        decls: &HashMap<(String, String), Decl>,
        types: &Types,
    ) -> Option<Decl> {
        match decls.get(&(owner.to_string(), name.to_string())) {
            Some(d) => {
                let export = match d {
                    Decl::Data(i) => types.data[*i].export,
                    Decl::Enum(i) => types.enums[*i].export,
                };
                if owner != module && !export {
                    let kind = if matches!(d, Decl::Data(_)) { "data" } else { "enum" };
                    self.error(
                        src,
                        span,
                        format!("type `{owner}.{name}` is not exported by module `{owner}`"),
                        Some(format!(
                            "add `export: true` to {kind} `{name}` in module `{owner}`"
                        )),
                    );
                    return None;
                }
                Some(*d)
            }
            None => {
                let written = if owner == module {
                    name.to_string()
                } else {
                    format!("{owner}.{name}")
                };
                let candidates: Vec<String> = decls
                    .keys()
                    .map(|(m, n)| if m == module { n.clone() } else { format!("{m}.{n}") })
                    .chain(BUILTINS.iter().map(|b| b.to_string()))
                    .collect();
                let hint = match suggest(&written, candidates.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("declare it under `data:` or `enums:` of module `{owner}`, or use one of FTL's types: {}", BUILTINS.join(", ")),
                };
                self.error(src, span, format!("unknown type `{written}`"), Some(hint));
                None
            }
        }
    }

    fn topic_event(
        &mut self,
        src: usize,
        module: &str,
        text: &str,
        span: &Span,
        decls: &HashMap<(String, String), Decl>,
        types: &Types,
    ) -> EventType {
        if text == "Any" || text == "builtin.Any" {
            return EventType::Any;
        }
        let (owner, name) = text.split_once('.').unwrap_or((module, text));
        let what = "the `event` of a topic";
        match self.find_decl(src, module, owner, name, span, decls, types) {
            Some(Decl::Data(i)) => EventType::Data(i),
            Some(Decl::Enum(_)) => {
                self.error(
                    src,
                    span,
                    format!("{what} must be a data type, and `{text}` is an enum"),
                    Some("declare a data type with a field of this enum, or write `event: Any`".into()),
                );
                EventType::Any
            }
            None => EventType::Any,
        }
    }

    /// A typed topic's `key` must point at a String or Int field.
    fn check_key(&mut self, src: usize, topic: &Topic, pointer: &str, span: &Span) {
        let types = topic.ty.types.clone();
        let EventType::Data(root) = topic.ty.event else {
            return;
        };
        let mut ty = Type::Data(root);
        for seg in pointer.split('/').skip(1) {
            let seg = seg.replace("~1", "/").replace("~0", "~");
            let inner = match &ty {
                Type::Optional(t) => (**t).clone(),
                t => t.clone(),
            };
            let Type::Data(i) = inner else {
                self.error(
                    src,
                    span,
                    format!(
                        "`key` {pointer} goes into a {} of {}",
                        types.display(&inner),
                        topic.ty.name()
                    ),
                    Some("a key points through data fields to a String or Int field".into()),
                );
                return;
            };
            let d = &types.data[i];
            match d.fields.iter().find(|f| f.name == seg) {
                Some(f) => ty = f.ty.clone(),
                None => {
                    let hint = match suggest(&seg, d.fields.iter().map(|f| f.name.as_str())) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!(
                            "fields of {}.{}: {}",
                            d.module,
                            d.name,
                            d.fields
                                .iter()
                                .map(|f| f.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    self.error(
                        src,
                        span,
                        format!(
                            "`key` {pointer} names no field: {}.{} has no `{seg}`",
                            d.module, d.name
                        ),
                        Some(hint),
                    );
                    return;
                }
            }
        }
        if !matches!(ty, Type::String | Type::Int) {
            self.error(
                src,
                span,
                format!(
                    "`key` {pointer} is a {} field; a partition key must be a String or Int that every event has",
                    types.display(&ty)
                ),
                Some("point `key` at a required String or Int field".into()),
            );
        }
    }

    /// A data type that holds itself through required fields only has no
    /// finite value: reported once per cycle, at its first type.
    fn report_cycles(&mut self, types: &Types, spans: &[(usize, Span)]) {
        // Edges: data -> data through a field that must be present and is
        // not a list or map (those may be empty).
        let edges: Vec<Vec<(usize, &str)>> = types
            .data
            .iter()
            .map(|d| {
                d.fields
                    .iter()
                    .filter_map(|f| match f.ty {
                        Type::Data(j) => Some((j, f.name.as_str())),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        let mut reported: HashSet<usize> = HashSet::new();
        for start in 0..types.data.len() {
            if reported.contains(&start) {
                continue;
            }
            // Depth-first search for a path back to `start`.
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            let mut on_path: Vec<(usize, &str)> = Vec::new();
            let mut seen: HashSet<usize> = HashSet::new();
            let mut found: Option<Vec<(usize, &str)>> = None;
            while let Some((node, next)) = stack.pop() {
                if let Some(&(to, field)) = edges[node].get(next) {
                    stack.push((node, next + 1));
                    if to == start {
                        let mut path = on_path.clone();
                        path.push((node, field));
                        found = Some(path);
                        break;
                    }
                    if seen.insert(to) {
                        on_path.push((node, field));
                        stack.push((to, 0));
                    }
                } else {
                    on_path.pop();
                }
            }
            let Some(path) = found else { continue };
            let route = path
                .iter()
                .map(|(d, f)| format!("{}.{}", types.data[*d].name, f))
                .collect::<Vec<_>>()
                .join(" -> ");
            let d = &types.data[start];
            let (src, span) = spans[start];
            self.error(
                src,
                &span,
                format!(
                    "data `{}` contains itself through required fields ({route} -> {}): no event could be written",
                    d.name, d.name
                ),
                Some("make one of these fields optional (`Type?`) or a list (`[Type]`)".into()),
            );
            for (node, _) in path {
                reported.insert(node);
            }
        }
    }
}
