//! The YAML cursor: reading marked nodes as the types a file wants, and
//! recording every problem with its file, line and column.

use super::*;

impl Loader {
    pub(super) fn add_source(&mut self, rel: PathBuf, text: String) -> usize {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        self.sources.push(Source {
            rel,
            text,
            line_starts,
        });
        self.sources.len() - 1
    }

    /// Line `line` (1-based) of a source, found through its line index so
    /// that many problems in a large file cost linear time.
    fn source_line(&self, src: usize, line: usize) -> &str {
        let s = &self.sources[src];
        let Some(start) = s.line_starts.get(line.saturating_sub(1)).copied() else {
            return "";
        };
        let end = s.line_starts.get(line).copied().unwrap_or(s.text.len());
        s.text[start..end].trim_end_matches(['\n', '\r'])
    }

    pub(super) fn display_path(&self, src: usize) -> PathBuf {
        let rel = &self.sources[src].rel;
        if self.root == Path::new(".") || self.root.as_os_str().is_empty() {
            rel.clone()
        } else {
            self.root.join(rel)
        }
    }

    pub(super) fn error_at(
        &mut self,
        src: usize,
        line: usize,
        column: usize,
        width: usize,
        message: String,
        hint: Option<String>,
    ) {
        let source_line = self.source_line(src, line).to_string();
        let d = Diagnostic {
            file: self.display_path(src),
            line: line.max(1),
            column: column.max(1),
            width,
            source_line,
            message,
            hint,
        };
        self.diags.push((src, d));
    }

    /// Where a value was written, as a setting's origin.
    pub(super) fn origin(&self, src: usize, span: &Span) -> Origin {
        let (line, column) = span
            .start()
            .map(|s| (s.line(), s.column()))
            .unwrap_or((1, 1));
        Origin::File {
            file: self.display_path(src),
            line,
            column,
        }
    }

    pub(super) fn error(&mut self, src: usize, span: &Span, message: String, hint: Option<String>) {
        let (line, column, width) = match span.start() {
            Some(start) => {
                let width = match span.end() {
                    Some(end) if end.line() == start.line() && end.column() > start.column() => {
                        end.column() - start.column()
                    }
                    _ => 1,
                };
                (start.line(), start.column(), width)
            }
            None => (1, 1, 1),
        };
        self.error_at(src, line, column, width, message, hint);
    }

    pub(super) fn scalar_error(
        &mut self,
        src: usize,
        s: &MarkedScalarNode,
        message: String,
        hint: Option<String>,
    ) {
        let (line, column) = s
            .span()
            .start()
            .map(|m| (m.line(), m.column()))
            .unwrap_or((1, 1));
        self.error_at(
            src,
            line,
            column,
            s.as_str().chars().count().max(1),
            message,
            hint,
        );
    }

    pub(super) fn parse(&mut self, src: usize) -> Option<MarkedMappingNode> {
        let text = self.sources[src].text.clone();
        if text.trim().is_empty() {
            self.error_at(
                src,
                1,
                1,
                1,
                "the file is empty".into(),
                Some("see `ftl init` for a working example".into()),
            );
            return None;
        }
        if let Some(line) = second_document(&text) {
            self.error_at(
                src,
                line,
                1,
                3,
                "a second YAML document: ftl reads one document per file".into(),
                Some(
                    "remove the `---` line and what follows, or merge it into the first document"
                        .into(),
                ),
            );
            return None;
        }
        let options = LoaderOptions::default().error_on_duplicate_keys(true);
        match marked_yaml::parse_yaml_with_options(src, &text, options) {
            Ok(Node::Mapping(m)) => Some(m),
            Ok(other) => {
                self.error(
                    src,
                    other.span(),
                    "the file must be a YAML mapping".into(),
                    None,
                );
                None
            }
            Err(e) => {
                self.load_error(src, e);
                None
            }
        }
    }

    pub(super) fn load_error(&mut self, src: usize, e: marked_yaml::LoadError) {
        use marked_yaml::LoadError as E;
        match e {
            E::DuplicateKey(inner) => {
                let first = inner
                    .prev_key
                    .span()
                    .start()
                    .map(|m| format!("line {}", m.line()))
                    .unwrap_or_default();
                self.scalar_error(
                    src,
                    &inner.key,
                    format!("duplicate name `{}`", inner.key.as_str()),
                    Some(format!(
                        "it is already defined on {first}; rename or remove one"
                    )),
                );
            }
            E::ScanError(m, err) => {
                let text = err.to_string();
                let msg = text.split(" at ").next().unwrap_or(&text).to_string();
                self.error_at(
                    src,
                    m.line(),
                    m.column(),
                    1,
                    format!("invalid YAML: {msg}"),
                    Some("check indentation and quoting on this line or the one before".into()),
                );
            }
            E::TopLevelMustBeMapping(m) | E::TopLevelMustBeSequence(m) => self.error_at(
                src,
                m.line(),
                m.column(),
                1,
                "the file must be a YAML mapping".into(),
                None,
            ),
            E::UnexpectedAnchor(m) => self.error_at(
                src,
                m.line(),
                m.column(),
                1,
                "YAML anchors are not supported".into(),
                Some("write the value out in full".into()),
            ),
            E::MappingKeyMustBeScalar(m) => self.error_at(
                src,
                m.line(),
                m.column(),
                1,
                "mapping keys must be plain names".into(),
                None,
            ),
            E::UnexpectedTag(m) => self.error_at(
                src,
                m.line(),
                m.column(),
                1,
                "YAML tags are not supported".into(),
                Some("remove the `!tag`".into()),
            ),
        }
    }

    /// Reports keys not in `allowed`, with a suggestion.
    pub(super) fn check_keys(
        &mut self,
        src: usize,
        map: &MarkedMappingNode,
        allowed: &[&str],
        what: &str,
    ) {
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                let hint = match suggest(key.as_str(), allowed.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("allowed keys: {}", allowed.join(", ")),
                };
                self.scalar_error(
                    src,
                    key,
                    format!("unknown key `{}` in {what}", key.as_str()),
                    Some(hint),
                );
            }
        }
    }

    pub(super) fn mapping<'n>(
        &mut self,
        src: usize,
        node: &'n Node,
        what: &str,
    ) -> Option<&'n MarkedMappingNode> {
        match node {
            Node::Mapping(m) => Some(m),
            Node::Scalar(s)
                if s.as_str().is_empty() || s.as_str() == "~" || s.as_str() == "null" =>
            {
                None
            }
            other => {
                self.error(
                    src,
                    other.span(),
                    format!("{what} must be a mapping (`key: value` lines)"),
                    None,
                );
                None
            }
        }
    }

    pub(super) fn scalar<'n>(
        &mut self,
        src: usize,
        node: &'n Node,
        what: &str,
        expected: &str,
    ) -> Option<&'n MarkedScalarNode> {
        match node {
            Node::Scalar(s) => Some(s),
            other => {
                self.error(
                    src,
                    other.span(),
                    format!("{what} must be {expected}"),
                    None,
                );
                None
            }
        }
    }

    pub(super) fn string(&mut self, src: usize, node: &Node, what: &str) -> Option<String> {
        let s = self.scalar(src, node, what, "a string")?;
        if s.as_str().is_empty() {
            self.error(src, s.span(), format!("{what} is empty"), None);
            return None;
        }
        Some(s.as_str().to_string())
    }

    pub(super) fn boolean(&mut self, src: usize, node: &Node, what: &str) -> Option<bool> {
        let s = self.scalar(src, node, what, "true or false")?;
        match s.as_bool() {
            Some(b) => Some(b),
            None => {
                self.scalar_error(
                    src,
                    s,
                    format!("{what} must be true or false, not `{}`", s.as_str()),
                    None,
                );
                None
            }
        }
    }

    pub(super) fn duration(&mut self, src: usize, node: &Node, what: &str) -> Option<Duration> {
        let s = self.scalar(src, node, what, "a duration like `250ms` or `1s`")?;
        match parse_duration(s.as_str()) {
            Ok(d) => Some(d),
            Err(e) => {
                self.scalar_error(
                    src,
                    s,
                    format!("bad duration for {what}: {e}"),
                    Some("durations are a number and a unit: `250ms`, `1s`, `2m`".into()),
                );
                None
            }
        }
    }

    pub(super) fn size(&mut self, src: usize, node: &Node, what: &str) -> Option<u64> {
        let s = self.scalar(src, node, what, "a size like `1KB` or `1MB`")?;
        match parse_size(s.as_str()) {
            Ok(d) => Some(d),
            Err(e) => {
                self.scalar_error(
                    src,
                    s,
                    format!("bad size for {what}: {e}"),
                    Some("sizes are a number and a unit: `1B`, `64KB`, `1MB`".into()),
                );
                None
            }
        }
    }

    pub(super) fn integer(&mut self, src: usize, node: &Node, what: &str) -> Option<i64> {
        let s = self.scalar(src, node, what, "a whole number")?;
        match s.as_i64() {
            Some(n) => Some(n),
            None => {
                self.scalar_error(
                    src,
                    s,
                    format!("{what} must be a whole number, not `{}`", s.as_str()),
                    None,
                );
                None
            }
        }
    }

    pub(super) fn string_map(
        &mut self,
        src: usize,
        node: &Node,
        what: &str,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let Some(map) = self.mapping(src, node, what) {
            for (k, v) in map.iter() {
                if let Some(s) =
                    self.scalar(src, v, &format!("{what} `{}`", k.as_str()), "a string")
                {
                    out.insert(k.as_str().to_string(), s.as_str().to_string());
                }
            }
        }
        out
    }

    /// A module, topic, subscription or verb name: it becomes part of a
    /// Kafka name and `.` separates module from name.
    pub(super) fn check_name(&mut self, src: usize, key: &MarkedScalarNode, what: &str) -> bool {
        let name = key.as_str();
        let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            self.scalar_error(
                src,
                key,
                format!("{what} name `{name}` is not a legal name"),
                Some("names start with a letter and use only a-z, A-Z, 0-9, `_` and `-` (they become Kafka names; `.` separates module and name)".into()),
            );
        }
        ok
    }
}

/// The line of a `---` (or `...`) that ends the first YAML document when
/// something follows it: the YAML parser would read the first document only
/// and drop the rest without a word.
fn second_document(text: &str) -> Option<usize> {
    let mut content = false;
    let mut ended: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_end();
        let marker = t == "---" || t.starts_with("--- ") || t == "...";
        let blank = t.trim().is_empty() || t.trim_start().starts_with('#');
        if marker {
            if content && ended.is_none() {
                ended = Some(i + 1);
            }
        } else if !blank {
            if ended.is_some() {
                return ended;
            }
            content = true;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::second_document;

    #[test]
    fn a_second_document_is_found_at_its_marker() {
        assert_eq!(second_document("module: a\n"), None);
        assert_eq!(second_document("---\nmodule: a\n"), None);
        assert_eq!(second_document("module: a\n---\n"), None);
        assert_eq!(second_document("module: a\n...\n# end\n"), None);
        assert_eq!(second_document("module: a\n---\nmodule: b\n"), Some(2));
        assert_eq!(
            second_document("# c\nmodule: a\n\n--- \nverbs: {}\n"),
            Some(4)
        );
    }
}
