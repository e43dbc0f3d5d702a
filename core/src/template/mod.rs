//! Templating with minijinja in Jinja2/Ansible compatibility: one shared environment with
//! Ansible's filters ([`filters`]), tests ([`predicates`]) and lookups ([`lookups`]), and lazily
//! templated variable scopes ([`scope`]). A string that is exactly one `{{ expression }}` keeps
//! its native type (a list stays a list), as Ansible does.

pub mod blocking;
mod chained;
pub mod config_lookup;
mod convert;
pub mod external;
mod file_lookups;
pub(crate) mod filters;
pub mod list_lookups;
mod lists;
mod lookups;
mod math;
mod net;
mod password;
mod paths;
mod predicates;
mod pyformat;
mod pyjson;
pub(crate) mod pyre;
mod pyyaml;
mod scope;
mod secret_fn;
mod sequence;
mod time;
pub mod unsafe_text;
mod urls;
pub mod var_name;
pub mod vaulted;
mod version_test;

pub use convert::{from_jinja, to_jinja};
pub use filters::{merge_hash, python_replacement};
pub use lookups::NAMES as LOOKUP_NAMES;
pub use scope::{HostVarsSource, Layer, Scope, Trust, deep_merge, hash_merge};

use minijinja::{Environment, UndefinedBehavior, Value};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The `template` module's syntax options (ansible-core's defaults from `Default`).
#[derive(Debug, Clone)]
pub struct FileSyntax {
    pub trim_blocks: bool,
    pub lstrip_blocks: bool,
    pub block: (String, String),
    pub variable: (String, String),
    pub comment: (String, String),
}

impl Default for FileSyntax {
    fn default() -> Self {
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        FileSyntax {
            trim_blocks: true,
            lstrip_blocks: false,
            block: pair("{%", "%}"),
            variable: pair("{{", "}}"),
            comment: pair("{#", "#}"),
        }
    }
}

/// The placeholder `omit` renders to; a module argument equal to it is dropped.
pub const OMIT: &str = "__omit_place_holder__hoist";

/// A template or expression that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    pub message: String,
    /// The line inside a template file, when the error came from one.
    pub line: Option<usize>,
    pub template: Option<String>,
    /// The failure is an undefined value (a missing variable or attribute), which ansible-core
    /// treats apart from other errors (debug shows it, `with_first_found` leaves it out).
    pub undefined: bool,
}

impl From<minijinja::Error> for TemplateError {
    fn from(e: minijinja::Error) -> Self {
        let mut message = e
            .detail()
            .map(str::to_string)
            .unwrap_or_else(|| e.kind().to_string());
        if message.is_empty() {
            message = e.to_string();
        }
        // Python's words for what cannot be iterated (playbooks test for them).
        for (kind, py) in [("bool", "bool"), ("number", "int"), ("none", "NoneType")] {
            message = message.replace(
                &format!("{kind} is not iterable"),
                &format!("'{py}' object is not iterable"),
            );
        }
        // Python says "division by zero" (and playbooks test for it).
        if message.starts_with("unable to calculate")
            && ["/ 0", "% 0", "// 0"]
                .iter()
                .any(|z| message.trim_end().ends_with(z))
        {
            message = format!("division by zero ({message})");
        }
        // Undefined values are the common case: say it the way Ansible users know.
        if e.kind() == minijinja::ErrorKind::UndefinedError && !message.contains("undefined") {
            message = format!("undefined value: {message}");
        }
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(&format!(": {s}"));
            source = s.source();
        }
        TemplateError {
            message,
            line: e.line(),
            template: e
                .name()
                .filter(|n| *n != "<string>" && *n != "<expression>")
                .map(str::to_string),
            undefined: e.kind() == minijinja::ErrorKind::UndefinedError,
        }
    }
}

impl TemplateError {
    pub fn new(message: impl Into<String>) -> Self {
        TemplateError {
            message: message.into(),
            line: None,
            template: None,
            undefined: false,
        }
    }

    /// An error that is an undefined value.
    pub fn undefined(message: impl Into<String>) -> Self {
        TemplateError {
            undefined: true,
            ..TemplateError::new(message)
        }
    }
}

/// The shared template environment.
pub struct Templar {
    env: Environment<'static>,
    /// The environment whose undefined values chain ([`chained`]), made when first needed.
    chained: std::sync::OnceLock<Environment<'static>>,
}

impl Default for Templar {
    fn default() -> Self {
        Self::new()
    }
}

impl Templar {
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Ansible's environment: trim_blocks on, trailing newlines kept.
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .keep_trailing_newline(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        env.set_recursion_limit(200);
        // Undefined values remember the expression that made them, so errors name it.
        env.set_debug(true);
        // Python's str/dict/list methods (`.split()`, `.startswith()`, `.items()`, `.get()`...),
        // which Ansible playbooks use all the time.
        env.set_unknown_method_callback(python_methods);
        // Template files include others relative to themselves (or by absolute path).
        env.set_path_join_callback(|name, parent| {
            if name.starts_with('/') {
                return name.to_string().into();
            }
            match Path::new(parent).parent() {
                Some(dir) if parent.starts_with('/') => dir.join(name).display().to_string().into(),
                _ => name.to_string().into(),
            }
        });
        env.set_loader(|name| match std::fs::read_to_string(name) {
            Ok(s) => Ok(Some(pyformat::rewrite_template(&s).into_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("cannot read template {name}: {e}"),
            )),
        });
        filters::register(&mut env);
        predicates::register(&mut env);
        lookups::register(&mut env);
        time::register(&mut env);
        lists::register(&mut env);
        vaulted::register(&mut env);
        pyformat::register(&mut env);
        paths::register(&mut env);
        urls::register(&mut env);
        math::register(&mut env);
        // `undef(hint)`: a value that is undefined on purpose (an error only where it is used).
        env.add_function("undef", |_hint: Option<String>| minijinja::Value::UNDEFINED);
        // Jinja's own globals that minijinja leaves to its contrib crate.
        env.add_function("joiner", minijinja_contrib::globals::joiner);
        env.add_function("cycler", minijinja_contrib::globals::cycler);
        secret_fn::register(&mut env);
        external::install(&mut env);
        env.add_global("omit", OMIT);
        Templar {
            env,
            chained: std::sync::OnceLock::new(),
        }
    }

    /// Runs `eval` with Ansible's chaining undefined values ([`chained::evaluate`]); an
    /// undefined value that stops it is named as ansible-core names it.
    fn evaluate<T>(
        &self,
        ctx: &Value,
        eval: impl Fn(&Environment<'static>) -> Result<T, minijinja::Error>,
    ) -> Result<T, TemplateError> {
        chained::evaluate(
            &self.env,
            || self.chained.get_or_init(|| chained::chained(&self.env)),
            eval,
        )
        .map_err(|e| {
            let undefined = e.kind() == minijinja::ErrorKind::UndefinedError;
            let mut err = TemplateError::from(e);
            if undefined
                && let Some(expr) = err
                    .message
                    .strip_prefix('`')
                    .and_then(|m| m.split_once("` is undefined"))
                    .map(|(expr, _)| expr.to_string())
            {
                err.message = self.undefined_message(&expr, ctx);
            }
            err
        })
    }

    /// ansible-core's words for the undefined value `expr`: `'name' is undefined`, or
    /// `object of type 'dict' has no attribute 'x'` for `parent.x`.
    fn undefined_message(&self, expr: &str, ctx: &Value) -> String {
        let attr = expr.rsplit_once('.').filter(|(parent, attr)| {
            !attr.is_empty()
                && attr.chars().all(|c| c.is_alphanumeric() || c == '_')
                && parent.matches('[').count() == parent.matches(']').count()
                && parent.matches('(').count() == parent.matches(')').count()
        });
        if let Some((parent, attr)) = attr
            && let Ok(Ok(v)) = self
                .env
                .compile_expression(parent)
                .map(|c| c.eval(ctx.clone()))
            && !v.is_undefined()
        {
            return format!(
                "object of type '{}' has no attribute '{attr}'",
                lookups::python_type(&v)
            );
        }
        format!("'{expr}' is undefined")
    }

    /// True when `s` contains template syntax.
    pub fn is_template(s: &str) -> bool {
        s.contains("{{") || s.contains("{%") || s.contains("{#")
    }

    /// Renders a template file with the `template` module's options, the way ansible-core does:
    /// the source's trailing newlines are dropped by the renderer and the output gets as many
    /// back as the source ended with (so a last line that renders empty adds none), and an
    /// included template keeps no trailing newline of its own.
    pub fn render_file_with(
        &self,
        path: &Path,
        ctx: &Value,
        opts: &FileSyntax,
    ) -> Result<String, TemplateError> {
        // A vaulted template is decrypted with the run's passwords, as ansible-core does.
        let source = crate::vault::read_text(path).map_err(|e| {
            TemplateError::new(format!("cannot read template {}: {e}", path.display()))
        })?;
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .block_delimiters(opts.block.0.clone(), opts.block.1.clone())
            .variable_delimiters(opts.variable.0.clone(), opts.variable.1.clone())
            .comment_delimiters(opts.comment.0.clone(), opts.comment.1.clone())
            .trim_blocks(opts.trim_blocks)
            .lstrip_blocks(opts.lstrip_blocks)
            .keep_trailing_newline(false)
            .build()
            .map_err(|e| TemplateError::new(format!("template delimiters: {e}")))?;
        let name = absolute(path).display().to_string();
        let source = pyformat::rewrite_template(&source);
        let mut out = self.evaluate(ctx, |env| {
            let mut env = env.clone();
            env.set_syntax(syntax.clone());
            env.render_named_str(&name, &source, ctx.clone())
        })?;
        let trailing = |s: &str| s.len() - s.trim_end_matches('\n').len();
        let missing = trailing(&source).saturating_sub(trailing(&out));
        out.push_str(&"\n".repeat(missing));
        Ok(out)
    }

    /// Renders a template string (from a playbook or vars file) to text.
    pub fn render_str(&self, s: &str, ctx: &Value) -> Result<String, TemplateError> {
        if !Self::is_template(s) {
            return Ok(s.to_string());
        }
        let s = escape_backslashes(s);
        let s = pyformat::rewrite_template(&s);
        self.evaluate(ctx, |env| env.render_str(&s, ctx.clone()))
    }

    /// Renders a template file (includes resolve relative to it).
    pub fn render_file(&self, path: &Path, ctx: &Value) -> Result<String, TemplateError> {
        // A vaulted template is decrypted with the run's passwords, as ansible-core does.
        let source = crate::vault::read_text(path).map_err(|e| {
            TemplateError::new(format!("cannot read template {}: {e}", path.display()))
        })?;
        let name = absolute(path).display().to_string();
        let source = pyformat::rewrite_template(&source);
        self.evaluate(ctx, |env| env.render_named_str(&name, &source, ctx.clone()))
    }

    /// Renders every string inside `v` (operator-written text), keeping native types for
    /// single-expression strings; unsafe-marked strings come out as plain text, unrendered.
    pub fn render_value(&self, v: &Json, ctx: &Value) -> Result<Json, TemplateError> {
        match v {
            Json::String(s) => self.render_string_value(s, ctx),
            Json::Array(items) => items
                .iter()
                .map(|i| self.render_value(i, ctx))
                .collect::<Result<_, _>>()
                .map(Json::Array),
            Json::Object(map) if unsafe_text::is_marker(map) => Ok(unsafe_text::strip(v)),
            Json::Object(map) if vaulted::envelope(map).is_some() => vaulted::open(map),
            Json::Object(map) => {
                let mut out = serde_json::Map::new();
                for (k, v) in map {
                    let k = self.render_str(k, ctx)?;
                    out.insert(k, self.render_value(v, ctx)?);
                }
                Ok(Json::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    /// Renders a string; `"{{ expr }}"` alone evaluates to the expression's native value.
    pub fn render_string_value(&self, s: &str, ctx: &Value) -> Result<Json, TemplateError> {
        if !Self::is_template(s) {
            return Ok(Json::String(s.to_string()));
        }
        let escaped = escape_backslashes(s);
        if let Some(expr) = single_expression(&escaped) {
            let v = from_jinja(&self.eval_raw(expr, ctx)?)?;
            // The newline Jinja dropped comes back on a string result (ansible-core's
            // preserve_trailing_newlines); other types keep their type.
            return Ok(match v {
                Json::String(text) if escaped.ends_with('\n') => Json::String(text + "\n"),
                other => other,
            });
        }
        // `{{ {'a': {'b': 1}} }}`: braces of dict literals look like delimiters; it is still one
        // expression when the inside compiles as one (and keeps its type, as in Ansible).
        if let Some(expr) = braced_expression(&escaped)
            && self.env.compile_expression(expr).is_ok()
        {
            let v = self.eval_raw(expr, ctx)?;
            return from_jinja(&v);
        }
        let rendered = self.render_str(s, ctx)?;
        Ok(Json::String(rendered))
    }

    /// Evaluates a bare Jinja expression (as in `when:`) to a minijinja value.
    pub fn eval_raw(&self, expr: &str, ctx: &Value) -> Result<Value, TemplateError> {
        let code = pyformat::rewrite_expr(expr);
        let v = self.evaluate(ctx, |env| env.compile_expression(&code)?.eval(ctx.clone()))?;
        if v.is_undefined() {
            return Err(TemplateError::undefined(
                self.undefined_message(expr.trim(), ctx),
            ));
        }
        Ok(v)
    }

    /// Evaluates a bare expression to a plain value.
    pub fn eval(&self, expr: &str, ctx: &Value) -> Result<Json, TemplateError> {
        from_jinja(&self.eval_raw(expr, ctx)?)
    }

    /// Checks that a template string compiles (no rendering).
    pub fn check_template(&self, s: &str) -> Result<(), TemplateError> {
        self.env
            .template_from_str(s)
            .map(|_| ())
            .map_err(TemplateError::from)
    }

    /// Checks a template file's text; on error, the message and the byte offset of the fault.
    pub fn check_template_source(&self, text: &str) -> Result<(), (String, Option<usize>)> {
        match self.env.template_from_str(text) {
            Ok(_) => Ok(()),
            Err(e) => {
                let offset = e.range().map(|r| r.start).or_else(|| {
                    e.line().map(|l| {
                        text.split_inclusive('\n')
                            .take(l.saturating_sub(1))
                            .map(str::len)
                            .sum()
                    })
                });
                Err((e.detail().unwrap_or("syntax error").to_string(), offset))
            }
        }
    }

    /// The variables a template (or a bare expression) reads without defining them.
    pub fn undeclared(&self, s: &str, expression: bool) -> std::collections::HashSet<String> {
        if expression {
            let trimmed = s.trim();
            let inner = single_expression(trimmed)
                .or_else(|| template_around_literals(trimmed))
                .unwrap_or(trimmed);
            return self
                .env
                .compile_expression(inner)
                .map(|e| e.undeclared_variables(false))
                .unwrap_or_default();
        }
        self.env
            .template_from_str(s)
            .map(|t| t.undeclared_variables(false))
            .unwrap_or_default()
    }

    /// Whether `s` is wholly one `{{ expr }}` (a conditional given as a template).
    pub fn is_all_template(s: &str) -> bool {
        single_expression(s.trim()).is_some()
    }

    /// Whether every template embedded in `s` is a constant (reads no variable): what
    /// ansible-core renders inside a conditional expression.
    pub fn only_constant_templates(&self, s: &str) -> bool {
        self.env
            .template_from_str(s)
            .is_ok_and(|t| t.undeclared_variables(false).is_empty())
    }

    /// A conditional expression with its string literals' templates rendered (each result
    /// quoted back as a literal, so it stays a value); a template outside a literal would make
    /// code of its text and is refused, as ansible-core refuses it.
    ///
    /// Inside a conditional written wholly as one template (`lookup_args_only`), ansible-core
    /// renders only the literals given to `lookup`/`query`; others stay text.
    fn literal_templates<'a>(
        &self,
        expr: &'a str,
        ctx: &Value,
        lookup_args_only: bool,
    ) -> Result<Cow<'a, str>, TemplateError> {
        if !Self::is_template(expr) {
            return Ok(Cow::Borrowed(expr));
        }
        let c: Vec<char> = expr.chars().collect();
        let mut out = String::with_capacity(expr.len());
        // For each open parenthesis: whether it opens a call of `lookup`/`query`/`q`.
        let mut calls: Vec<bool> = Vec::new();
        let mut i = 0;
        while i < c.len() {
            match c[i] {
                '(' => {
                    let before = out.trim_end();
                    let name: String = before
                        .chars()
                        .rev()
                        .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    calls.push(matches!(name.as_str(), "lookup" | "query" | "q"));
                    out.push('(');
                    i += 1;
                }
                ')' => {
                    calls.pop();
                    out.push(')');
                    i += 1;
                }
                q @ ('\'' | '"') => {
                    let mut j = i + 1;
                    let mut text = String::new();
                    while j < c.len() && c[j] != q {
                        if c[j] == '\\' && j + 1 < c.len() {
                            text.push(match c[j + 1] {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                other => other,
                            });
                            j += 2;
                        } else {
                            text.push(c[j]);
                            j += 1;
                        }
                    }
                    let literal: String = c[i..(j + 1).min(c.len())].iter().collect();
                    let rendered = !lookup_args_only || calls.last() == Some(&true);
                    if rendered && Self::is_template(&text) {
                        let value = self.render_str(&text, ctx)?;
                        out.push('\'');
                        for ch in value.chars() {
                            match ch {
                                '\\' => out.push_str("\\\\"),
                                '\'' => out.push_str("\\'"),
                                '\n' => out.push_str("\\n"),
                                '\r' => out.push_str("\\r"),
                                other => out.push(other),
                            }
                        }
                        out.push('\'');
                    } else {
                        out.push_str(&literal);
                    }
                    i = j + 1;
                }
                '{' if matches!(c.get(i + 1), Some('{') | Some('%')) => {
                    return Err(TemplateError::new(format!(
                        "conditional `{expr}` is an untrusted template or expression: a template outside a string literal would make code of its result (write the expression without {{{{ }}}})"
                    )));
                }
                other => {
                    out.push(other);
                    i += 1;
                }
            }
        }
        Ok(Cow::Owned(out))
    }

    /// Checks that a conditional compiles.
    pub fn check_condition(&self, expr: &str) -> Result<(), TemplateError> {
        if expr.starts_with(UNTRUSTED_CONDITION) {
            return Ok(());
        }
        let trimmed = expr.trim();
        let inner = single_expression(trimmed)
            .or_else(|| template_around_literals(trimmed))
            .unwrap_or(trimmed);
        self.env
            .compile_expression(inner)
            .map(|_| ())
            .map_err(TemplateError::from)
    }

    /// Evaluates a conditional (`when`, `changed_when`, `failed_when`, `until`): the result must
    /// be a boolean, as ansible-core 2.19 requires. `{{ }}` around it is tolerated.
    pub fn condition(&self, expr: &str, ctx: &Value) -> Result<bool, TemplateError> {
        // An `!unsafe` conditional loads (as in ansible-core) and fails where it is evaluated.
        if let Some(text) = expr.strip_prefix(UNTRUSTED_CONDITION) {
            return Err(TemplateError::new(format!(
                "conditional `{text}` is an untrusted template or expression: it is !unsafe, which is never evaluated"
            )));
        }
        let trimmed = expr.trim();
        let inner = match single_expression(trimmed) {
            Some(inner) => Cow::Borrowed(inner),
            None => match template_around_literals(trimmed) {
                Some(inner) => self.literal_templates(inner, ctx, true)?,
                None => self.literal_templates(trimmed, ctx, false)?,
            },
        };
        let v = self.eval_raw(&inner, ctx)?;
        match v.kind() {
            minijinja::value::ValueKind::Bool => Ok(v.is_true()),
            // ansible-core's ALLOW_BROKEN_CONDITIONALS: a non-boolean counts by its truth.
            _ if config_lookup::setting("ALLOW_BROKEN_CONDITIONALS")
                .is_some_and(|s| s.is_true()) =>
            {
                Ok(v.is_true())
            }
            kind => Err(TemplateError::new(format!(
                "conditional `{}` gave {v} ({kind}), not a boolean",
                inner.trim()
            ))
            .with_hint(
                "compare explicitly (`x | length > 0`, `x == 'yes'`) or use the `bool` filter",
            )),
        }
    }
}

/// Marks a conditional written `!unsafe`: the loader keeps it, evaluating it fails.
pub const UNTRUSTED_CONDITION: &str = "\u{1}untrusted\u{1}";

impl TemplateError {
    fn with_hint(mut self, hint: &str) -> Self {
        self.message.push_str(&format!("; {hint}"));
        self
    }
}

/// A template error's message split into the error itself and where it was met: the
/// variables it came through (`in variable `x`: `) and the template it was in
/// (` (in `...`)`), as (error, [variables]).
pub fn innermost(message: &str) -> (&str, Vec<&str>) {
    let mut m = message;
    let mut via = Vec::new();
    while let Some((name, rest)) = m
        .strip_prefix("in variable `")
        .and_then(|r| r.split_once("`: "))
    {
        via.push(name);
        m = rest;
    }
    let m = match m.rfind(" (in `") {
        Some(i) if m.ends_with("`)") => &m[..i],
        _ => m,
    };
    (m, via)
}

/// Doubles backslashes inside string literals within `{{ }}`, as Ansible does for strings from
/// YAML, so `regex_replace('(a)', '\\1')` written once in YAML reaches the filter as `\1` rather
/// than being unescaped a second time by Jinja.
pub fn escape_backslashes(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('\\') || !s.contains("{{") {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut in_var = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (in_var, quote, c) {
            (false, _, '{') if chars.peek() == Some(&'{') => {
                chars.next();
                out.push_str("{{");
                in_var = true;
            }
            (true, None, '}') if chars.peek() == Some(&'}') => {
                chars.next();
                out.push_str("}}");
                in_var = false;
            }
            (true, None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (true, Some(q), '\\') => {
                out.push_str("\\\\");
                if chars.peek() == Some(&q) {
                    out.extend(chars.next());
                }
            }
            (true, Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `"{{ expr }}"` (and nothing else) → `expr`.
fn single_expression(s: &str) -> Option<&str> {
    // Jinja drops one trailing newline of a template (`key: >` blocks end with one), so
    // `"{{ x }}\n"` is still one expression and keeps its type, as in ansible-core.
    let s = s.strip_suffix('\n').unwrap_or(s);
    let inner = s.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") {
        return None;
    }
    Some(inner)
}

/// `"{{ ... }}"` whose braces inside are all within string literals (`{{ x == "{{ y }}" }}`)
/// → the inside: one expression, as ansible-core's conditional templates.
fn template_around_literals(s: &str) -> Option<&str> {
    let s = s.strip_suffix('\n').unwrap_or(s);
    let inner = braced_expression(s)?;
    let mut outside = String::with_capacity(inner.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for ch in inner.chars() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if ch == '\\' => escaped = true,
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if ch == '\'' || ch == '"' => {
                quote = Some(ch);
                outside.push(' ');
            }
            None => outside.push(ch),
        }
    }
    let one = quote.is_none()
        && !outside.contains("{{")
        && !outside.contains("}}")
        && !outside.contains("{%");
    one.then_some(inner)
}

/// `"{{ ... }}"` → the inside, whatever it holds (the caller checks it is one expression).
fn braced_expression(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    Some(inner.strip_suffix('-').unwrap_or(inner))
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// A templar shared across a run.
pub type SharedTemplar = Arc<Templar>;

#[cfg(test)]
mod tests;

/// Python's methods on values (minijinja-contrib's pycompat), plus `list.index(x)`.
fn python_methods(
    state: &mut minijinja::State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, minijinja::Error> {
    if value.kind() == minijinja::value::ValueKind::Seq && method == "index" {
        let (what,): (&Value,) = minijinja::value::from_args(args)?;
        for (i, item) in value.try_iter()?.enumerate() {
            if item == *what {
                return Ok(Value::from(i));
            }
        }
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("{what} is not in list"),
        ));
    }
    minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
}
