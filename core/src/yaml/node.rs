//! The positioned YAML tree and its conversion to plain values.

use crate::source::{Pos, SourceError};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A source file's path and text, shared by every node parsed from it (for error snippets).
#[derive(Debug)]
pub struct Doc {
    pub path: PathBuf,
    pub text: String,
    /// The text was decrypted from a vault: errors name the place but never quote it.
    pub secret: bool,
}

impl Doc {
    /// An error at `pos` in this document.
    pub fn error(&self, pos: Pos, message: impl Into<String>) -> SourceError {
        let e = SourceError::new(&self.path, Some(pos), message);
        match self.secret {
            true => e,
            false => e.with_text(&self.text),
        }
    }

    /// The directory holding this document (for relative paths inside it).
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }
}

/// One YAML node and where it starts.
#[derive(Debug, Clone)]
pub struct Node {
    pub pos: Pos,
    pub kind: NodeKind,
    pub doc: Arc<Doc>,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// `!unsafe` text: never rendered (plain JSON: the unsafe marker object).
    Unsafe(String),
    /// `!vault` text: an ansible-vault envelope, decrypted when used (plain JSON: the vault
    /// marker object).
    Vault(String),
    Seq(Vec<Node>),
    /// Keys are scalars rendered as strings (Ansible's keys are strings in practice).
    Map(Vec<(String, Node, Node)>),
}

impl Node {
    /// An error pointing at this node.
    pub fn error(&self, message: impl Into<String>) -> SourceError {
        self.doc.error(self.pos, message)
    }

    /// What kind of value this is, for "expected X, found Y" messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Int(_) => "an integer",
            NodeKind::Float(_) => "a float",
            NodeKind::Str(_) => "a string",
            NodeKind::Unsafe(_) => "an !unsafe string",
            NodeKind::Vault(_) => "a !vault value",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The entries of a mapping (key, key node, value node).
    pub fn as_map(&self) -> Option<&[(String, Node, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Null)
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, _, v)| v)
    }

    /// A mapping's entries, or an error naming what was expected.
    pub fn expect_map(&self, what: &str) -> Result<&[(String, Node, Node)], SourceError> {
        self.as_map().ok_or_else(|| {
            self.error(format!(
                "{what} must be a mapping, found {}",
                self.type_name()
            ))
        })
    }

    /// A sequence's items, or an error naming what was expected.
    pub fn expect_seq(&self, what: &str) -> Result<&[Node], SourceError> {
        self.as_seq()
            .ok_or_else(|| self.error(format!("{what} must be a list, found {}", self.type_name())))
    }

    /// A scalar as a string (numbers and booleans are written as YAML would), or an error.
    pub fn expect_scalar_string(&self, what: &str) -> Result<String, SourceError> {
        match &self.kind {
            NodeKind::Str(s) => Ok(s.clone()),
            NodeKind::Int(i) => Ok(i.to_string()),
            NodeKind::Float(f) => Ok(f.to_string()),
            NodeKind::Bool(b) => Ok(b.to_string()),
            _ => Err(self.error(format!(
                "{what} must be a string, found {}",
                self.type_name()
            ))),
        }
    }

    /// A one-item-or-list of strings (`tags: web` or `tags: [web, db]`).
    pub fn string_list(&self, what: &str) -> Result<Vec<String>, SourceError> {
        match &self.kind {
            NodeKind::Seq(items) => items.iter().map(|i| i.expect_scalar_string(what)).collect(),
            NodeKind::Null => Ok(Vec::new()),
            _ => {
                let s = self.expect_scalar_string(what)?;
                // Ansible accepts comma-separated tags in one string.
                Ok(s.split(',')
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect())
            }
        }
    }

    /// The plain value (positions dropped).
    pub fn to_value(&self) -> Value {
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::from(*i),
            NodeKind::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            NodeKind::Str(s) => Value::String(s.clone()),
            NodeKind::Unsafe(s) => crate::template::unsafe_text::mark(s.clone()),
            NodeKind::Vault(s) => crate::template::vaulted::mark(s.clone()),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, _, v)| (k.clone(), v.to_value()))
                    .collect(),
            ),
        }
    }
}
