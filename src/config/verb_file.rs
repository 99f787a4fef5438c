//! A module's verbs in `ftl.yaml`: how each is called (HTTP, exec, gRPC),
//! its timeout, and what environment an exec verb gets.

use super::*;

impl Loader {
    pub(super) fn verb(
        &mut self,
        src: usize,
        module: &str,
        key: &MarkedScalarNode,
        node: &Node,
    ) -> Option<Verb> {
        let what = format!("verb `{}`", key.as_str());
        let Some(map) = self.mapping(src, node, &what) else {
            self.scalar_error(
                src,
                key,
                format!("{what} has no `http`, `exec` or `grpc`"),
                Some("add `http: http://127.0.0.1:PORT/path`, `exec: [\"cmd\", \"arg\"]` or `grpc: http://127.0.0.1:PORT`".into()),
            );
            return None;
        };
        self.check_keys(src, map, VERB_KEYS, &what);
        let http = map
            .get_node("http")
            .and_then(|n| self.string(src, n, &format!("`http` of {what}")));
        let exec = map.get_node("exec").and_then(|n| match n {
            Node::Sequence(seq) if !seq.is_empty() => {
                let mut argv = Vec::new();
                for item in seq.iter() {
                    match item.as_scalar() {
                        Some(s) => argv.push(s.as_str().to_string()),
                        None => self.error(src, item.span(), format!("each item of `exec` of {what} must be a string"), Some("write the command and its arguments as strings, like `[\"python3\", \"handler.py\"]`".into())),
                    }
                }
                if argv.first().is_some_and(|c| c.trim().is_empty()) {
                    self.error(src, seq.iter().next().map_or(n.span(), |i| i.span()), format!("the command of `exec` of {what} is empty"), Some("name a program first, like `[\"python3\", \"handler.py\"]`".into()));
                    return None;
                }
                (argv.len() == seq.len()).then_some(argv)
            }
            other => {
                self.error(src, other.span(), format!("`exec` of {what} must be a non-empty list, like `[\"python3\", \"handler.py\"]`"), Some("the command runs without a shell; put each argument in its own list item".into()));
                None
            }
        });
        let http = match http.map(|url| HttpUrl::parse(&url).map_err(|e| (url, e))) {
            None => None,
            Some(Ok(u)) => Some(u),
            Some(Err((url, problem))) => {
                if let Some(n) = map.get_node("http") {
                    self.error(
                        src,
                        n.span(),
                        format!("`http` of {what} must be an http:// URL, not `{url}`: {problem}"),
                        Some("write it like `http://127.0.0.1:8081/processOrder`".into()),
                    );
                }
                return None;
            }
        };
        let grpc = map
            .get_node("grpc")
            .and_then(|n| self.string(src, n, &format!("`grpc` of {what}")));
        if let Some(url) = &grpc {
            if let Err(problem) = HttpUrl::parse(url) {
                if let Some(n) = map.get_node("grpc") {
                    self.error(
                        src,
                        n.span(),
                        format!("`grpc` of {what} must be the module server's http:// address, not `{url}`: {problem}"),
                        Some("write it like `http://127.0.0.1:8893`".into()),
                    );
                }
                return None;
            }
        }
        let call = match (http, exec, grpc) {
            (Some(url), None, None) => VerbCall::Http(url),
            (None, Some(argv), None) => VerbCall::Exec(argv),
            (None, None, Some(url)) => VerbCall::Grpc(url),
            (None, None, None) => {
                if ["http", "exec", "grpc"]
                    .iter()
                    .all(|k| map.get_node(k).is_none())
                {
                    self.scalar_error(
                        src,
                        key,
                        format!("{what} has neither `http`, `exec` nor `grpc`"),
                        Some(
                            "add `http: http://127.0.0.1:PORT/path`, `exec: [\"cmd\", \"arg\"]` or `grpc: http://127.0.0.1:PORT`"
                                .into(),
                        ),
                    );
                }
                return None;
            }
            _ => {
                self.scalar_error(
                    src,
                    key,
                    format!("{what} is called more than one way (`http`, `exec`, `grpc`)"),
                    Some("a verb is called one way: keep one of them".into()),
                );
                return None;
            }
        };
        let timeout = match map.get_node("timeout") {
            Some(n) => match self.duration(src, n, &format!("`timeout` of {what}")) {
                Some(d) if d.is_zero() => {
                    self.error(
                        src,
                        n.span(),
                        format!("a `timeout` of 0s would fail every call of {what}"),
                        Some("give the verb time to answer, like `30s`".into()),
                    );
                    return None;
                }
                Some(d) => d,
                None => Duration::from_secs(30),
            },
            None => Duration::from_secs(30),
        };
        let env = self.exec_env(src, map, &what, matches!(call, VerbCall::Exec(_)))?;
        Some(Verb {
            module: module.into(),
            name: key.as_str().into(),
            call,
            timeout,
            env,
        })
    }

    /// `env`, `inherit_env` and `pass_env` of an exec verb.
    fn exec_env(
        &mut self,
        src: usize,
        map: &MarkedMappingNode,
        what: &str,
        exec: bool,
    ) -> Option<ExecEnv> {
        let mut out = ExecEnv::default();
        let mut ok = true;
        if !exec {
            for k in ["env", "inherit_env", "pass_env"] {
                if let Some(n) = map.get_node(k) {
                    self.error(
                        src,
                        n.span(),
                        format!("`{k}` of {what} applies to exec verbs only"),
                        Some("an HTTP or gRPC verb runs on its own; set its environment where it starts".into()),
                    );
                    ok = false;
                }
            }
            return ok.then_some(out);
        }
        if let Some(n) = map.get_node("inherit_env") {
            match self.boolean(src, n, &format!("`inherit_env` of {what}")) {
                Some(b) => out.inherit_env = b,
                None => ok = false,
            }
        }
        if let Some(n) = map.get_node("pass_env") {
            match n {
                Node::Sequence(seq) => {
                    for item in seq.iter() {
                        match item.as_scalar() {
                            Some(s) if env_name_problem(s.as_str()).is_none() => {
                                out.pass_env.push(s.as_str().to_string())
                            }
                            Some(s) => {
                                let why = env_name_problem(s.as_str()).unwrap_or_default();
                                self.scalar_error(
                                    src,
                                    s,
                                    format!("`pass_env` of {what}: {why}"),
                                    None,
                                );
                                ok = false;
                            }
                            None => {
                                self.error(
                                    src,
                                    item.span(),
                                    format!(
                                        "each item of `pass_env` of {what} must be a variable name"
                                    ),
                                    None,
                                );
                                ok = false;
                            }
                        }
                    }
                    if out.inherit_env {
                        self.error(
                            src,
                            n.span(),
                            format!("`pass_env` of {what} needs `inherit_env: false`"),
                            Some("the verb inherits the whole environment unless `inherit_env: false`; `pass_env` then says which variables it keeps".into()),
                        );
                        ok = false;
                    }
                }
                other => {
                    self.error(
                        src,
                        other.span(),
                        format!(
                            "`pass_env` of {what} must be a list of names, like `[PATH, HOME]`"
                        ),
                        None,
                    );
                    ok = false;
                }
            }
        }
        if let Some(n) = map.get_node("env") {
            let m = self.mapping(src, n, &format!("`env` of {what}"))?;
            for (k, v) in m.iter() {
                if let Some(why) = env_name_problem(k.as_str()) {
                    self.scalar_error(src, k, format!("`env` of {what}: {why}"), None);
                    ok = false;
                    continue;
                }
                let Some(value) = self.scalar(
                    src,
                    v,
                    &format!("`env` `{}` of {what}", k.as_str()),
                    "a string",
                ) else {
                    ok = false;
                    continue;
                };
                if value.as_str().contains('\0') {
                    self.scalar_error(src, value, format!("`env` `{}` of {what} holds a NUL character, which no environment value can", k.as_str()), None);
                    ok = false;
                    continue;
                }
                out.env
                    .insert(k.as_str().to_string(), value.as_str().to_string());
            }
        }
        ok.then_some(out)
    }
}

/// Why `name` cannot be an environment variable of a verb, if it cannot.
fn env_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a variable name cannot be empty".into());
    }
    if name.contains(['=', '\0']) || name.chars().any(char::is_control) {
        return Some(format!(
            "`{}` is not a variable name (no `=` or control characters)",
            name.escape_debug()
        ));
    }
    if name.starts_with("FTL_") {
        return Some(format!(
            "`{name}` is set by ftl for each call (the `FTL_` names are its own)"
        ));
    }
    None
}
