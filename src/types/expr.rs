//! Type expressions as written in a module file, before their names are
//! resolved: `String`, `Size`, `kitchen.Table`, `[T]`, `{K: V}`, `T?`.
//! YAML itself reads an unquoted `[String]` as a list and `{String: Int}`
//! as a mapping; the loader turns those nodes into the same expressions.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeExpr {
    /// A built-in, a type of this module, or `module.Name`.
    Named {
        module: Option<String>,
        name: String,
    },
    Array(Box<TypeExpr>),
    Map(Box<TypeExpr>, Box<TypeExpr>),
    Optional(Box<TypeExpr>),
}

impl fmt::Display for TypeExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeExpr::Named {
                module: Some(m),
                name,
            } => write!(f, "{m}.{name}"),
            TypeExpr::Named { module: None, name } => f.write_str(name),
            TypeExpr::Array(t) => write!(f, "[{t}]"),
            TypeExpr::Map(k, v) => write!(f, "{{{k}: {v}}}"),
            TypeExpr::Optional(t) => write!(f, "{t}?"),
        }
    }
}

/// Parses a type written as text, e.g. `"[String]?"`.
pub fn parse(text: &str) -> Result<TypeExpr, String> {
    let mut p = Parser {
        chars: text.chars().collect(),
        at: 0,
    };
    let ty = p.ty()?;
    p.skip_spaces();
    if p.at < p.chars.len() {
        let rest: String = p.chars[p.at..].iter().collect();
        return Err(format!("unexpected `{rest}` after the type `{ty}`"));
    }
    Ok(ty)
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn skip_spaces(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_spaces();
        if self.chars.get(self.at) == Some(&c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn ty(&mut self) -> Result<TypeExpr, String> {
        self.skip_spaces();
        let base = if self.eat('[') {
            let inner = self.ty()?;
            if !self.eat(']') {
                return Err(format!("`[{inner}` is missing its `]`"));
            }
            TypeExpr::Array(Box::new(inner))
        } else if self.eat('{') {
            let key = self.ty()?;
            if !self.eat(':') {
                return Err(format!(
                    "a map is written `{{{key}: Value}}`: the `:` is missing"
                ));
            }
            let value = self.ty()?;
            if !self.eat('}') {
                return Err(format!("`{{{key}: {value}` is missing its `}}`"));
            }
            TypeExpr::Map(Box::new(key), Box::new(value))
        } else {
            self.named()?
        };
        if self.eat('?') {
            if self.eat('?') {
                return Err(format!("`{base}??`: a type is optional once"));
            }
            return Ok(TypeExpr::Optional(Box::new(base)));
        }
        Ok(base)
    }

    fn named(&mut self) -> Result<TypeExpr, String> {
        let word = |p: &mut Parser| {
            let start = p.at;
            while p
                .chars
                .get(p.at)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            {
                p.at += 1;
            }
            p.chars[start..p.at].iter().collect::<String>()
        };
        let first = word(self);
        if first.is_empty() {
            return Err(match self.chars.get(self.at) {
                Some(c) => format!("expected a type name, found `{c}`"),
                None => "expected a type name".into(),
            });
        }
        if self.chars.get(self.at) == Some(&'.') {
            self.at += 1;
            let second = word(self);
            if second.is_empty() {
                return Err(format!("`{first}.` names no type: write `{first}.Type`"));
            }
            return Ok(TypeExpr::Named {
                module: Some(first),
                name: second,
            });
        }
        Ok(TypeExpr::Named {
            module: None,
            name: first,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_expressions_parse_and_print_back() {
        for text in [
            "String",
            "kitchen.Table",
            "[String]",
            "{String: Int}",
            "Time?",
            "[pizza.Size]?",
            "{String: [Int?]}",
        ] {
            assert_eq!(parse(text).unwrap().to_string(), text);
        }
        assert_eq!(parse(" [ String ] ").unwrap().to_string(), "[String]");
    }

    #[test]
    fn malformed_type_expressions_say_what_is_missing() {
        assert!(parse("[String").unwrap_err().contains("missing its `]`"));
        assert!(parse("{String Int}")
            .unwrap_err()
            .contains("`:` is missing"));
        assert!(parse("String??").unwrap_err().contains("optional once"));
        assert!(parse("kitchen.").unwrap_err().contains("names no type"));
        assert!(parse("String x").unwrap_err().contains("unexpected `x`"));
        assert!(parse("").unwrap_err().contains("expected a type name"));
    }
}
