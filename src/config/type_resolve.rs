//! Resolving every module's `data:` and `enums:` into one [`Types`] table:
//! references (`kitchen.Table` must be exported), map key types, cycles
//! that no value could end, each topic's `event` and its `key` pointer.

use std::sync::Arc;

use crate::types::expr::TypeExpr;
use crate::types::{Data, Enum, EventType, Field, TopicType, Type, Types, BUILTINS};

use super::types::Decl;
use super::*;

impl Loader {
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
                .chain(
                    m.types
                        .enums
                        .iter()
                        .map(|e| (false, &e.name, e.span, e.export)),
                )
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
                        Some(
                            "JSON object keys are text: use String, Int or an enum as the key type"
                                .into(),
                        ),
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
                    let kind = if matches!(d, Decl::Data(_)) {
                        "data"
                    } else {
                        "enum"
                    };
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
                    .map(|(m, n)| {
                        if m == module {
                            n.clone()
                        } else {
                            format!("{m}.{n}")
                        }
                    })
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
                    Some(
                        "declare a data type with a field of this enum, or write `event: Any`"
                            .into(),
                    ),
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
        for (start, &(src, span)) in spans.iter().enumerate() {
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
