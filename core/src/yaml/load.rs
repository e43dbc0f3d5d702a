//! Builds the positioned tree from saphyr-parser's events.

use super::node::{Doc, Node, NodeKind};
use super::scalar::{resolve_plain, resolve_tagged};
use crate::source::{Pos, SourceError};
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Reads and parses `path`. An empty file is `Null`.
pub fn load_file(path: &Path) -> Result<Node, SourceError> {
    // A whole file encrypted with ansible-vault is decrypted with the run's passwords.
    let (text, secret) = crate::vault::read_text_marked(path)
        .map_err(|e| SourceError::new(path, None, format!("cannot read the file: {e}")))?;
    parse_doc(path, text, secret)
}

/// Parses `text` (read from `path`) into one document.
pub fn parse_str(path: &Path, text: String) -> Result<Node, SourceError> {
    parse_doc(path, text, false)
}

fn parse_doc(path: &Path, text: String, secret: bool) -> Result<Node, SourceError> {
    let doc = Arc::new(Doc {
        path: path.to_path_buf(),
        text,
        secret,
    });
    let mut builder = Builder {
        doc: doc.clone(),
        anchors: HashMap::new(),
    };
    let mut parser = Parser::new_from_str(&doc.text);
    let mut root = None;
    loop {
        let (event, span) = builder.next(&mut parser)?;
        match event {
            Event::StreamEnd => break,
            Event::StreamStart | Event::DocumentStart(_) | Event::DocumentEnd => continue,
            _ if root.is_some() => {
                return Err(doc.error(
                    pos(&span),
                    "expected a single YAML document, found another one",
                ));
            }
            event => root = Some(builder.node(&mut parser, event, span)?),
        }
    }
    Ok(root.unwrap_or(Node {
        pos: Pos { line: 1, column: 1 },
        kind: NodeKind::Null,
        doc,
    }))
}

fn pos(span: &Span) -> Pos {
    Pos {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

struct Builder {
    doc: Arc<Doc>,
    anchors: HashMap<usize, Node>,
}

impl Builder {
    fn next<'a>(
        &self,
        parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
    ) -> Result<(Event<'a>, Span), SourceError> {
        match parser.next_event() {
            Some(Ok(e)) => Ok(e),
            Some(Err(e)) => Err(self.doc.error(
                Pos {
                    line: e.marker().line(),
                    column: e.marker().col() + 1,
                },
                format!("invalid YAML: {}", e.info()),
            )),
            None => Ok((Event::StreamEnd, Span::default())),
        }
    }

    fn node<'a>(
        &mut self,
        parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
        event: Event<'a>,
        span: Span,
    ) -> Result<Node, SourceError> {
        let at = pos(&span);
        let (kind, anchor) = match event {
            Event::Alias(id) => {
                return self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| self.doc.error(at, "alias to an unknown anchor"));
            }
            Event::Scalar(value, style, anchor, tag) => {
                (self.scalar(at, &value, style, tag.as_deref())?, anchor)
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next(parser)?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(parser, event, span)?);
                }
                (NodeKind::Seq(items), anchor)
            }
            Event::MappingStart(anchor, _) => (self.mapping(parser, at)?, anchor),
            other => {
                return Err(self
                    .doc
                    .error(at, format!("unexpected YAML event {other:?}")));
            }
        };
        let node = Node {
            pos: at,
            kind,
            doc: self.doc.clone(),
        };
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn mapping<'a>(
        &mut self,
        parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
        at: Pos,
    ) -> Result<NodeKind, SourceError> {
        let mut entries: Vec<(String, Node, Node)> = Vec::new();
        let mut merged: Vec<(String, Node, Node)> = Vec::new();
        loop {
            let (event, span) = self.next(parser)?;
            if matches!(event, Event::MappingEnd) {
                break;
            }
            let key = self.node(parser, event, span)?;
            let (event, span) = self.next(parser)?;
            let value = self.node(parser, event, span)?;
            let name = match &key.kind {
                NodeKind::Str(s) => s.clone(),
                NodeKind::Int(i) => i.to_string(),
                NodeKind::Float(f) => f.to_string(),
                NodeKind::Bool(b) => b.to_string(),
                NodeKind::Null => "null".to_string(),
                _ => {
                    return Err(key.error(format!(
                        "a mapping key must be a scalar, found {}",
                        key.type_name()
                    )));
                }
            };
            if name == "<<" {
                self.merge(&value, &mut merged)?;
                continue;
            }
            if entries.iter().any(|(k, _, _)| *k == name) {
                return Err(key
                    .error(format!("duplicate key `{name}` in this mapping"))
                    .with_help("each key may appear once; remove or rename one of them"));
            }
            entries.push((name, key, value));
        }
        // Explicit keys win over merged ones, wherever the `<<` was written.
        for (k, kn, v) in merged {
            if !entries.iter().any(|(e, _, _)| *e == k) {
                entries.push((k, kn, v));
            }
        }
        let _ = at;
        Ok(NodeKind::Map(entries))
    }

    fn merge(&self, value: &Node, into: &mut Vec<(String, Node, Node)>) -> Result<(), SourceError> {
        match &value.kind {
            NodeKind::Map(m) => {
                for (k, kn, v) in m {
                    if !into.iter().any(|(e, _, _)| e == k) {
                        into.push((k.clone(), kn.clone(), v.clone()));
                    }
                }
                Ok(())
            }
            NodeKind::Seq(items) => items.iter().try_for_each(|i| self.merge(i, into)),
            _ => Err(value.error("a `<<` merge key needs a mapping or a list of mappings")),
        }
    }

    fn scalar(
        &self,
        at: Pos,
        value: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
    ) -> Result<NodeKind, SourceError> {
        if let Some(tag) = tag {
            if tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:" {
                return resolve_tagged(&tag.suffix, value).ok_or_else(|| {
                    self.doc
                        .error(at, format!("`{value}` is not a valid !!{}", tag.suffix))
                });
            }
            return match (tag.handle.as_str(), tag.suffix.as_str()) {
                // Ansible's `!unsafe`: the text is never templated.
                ("!", "unsafe") => Ok(NodeKind::Unsafe(value.to_string())),
                ("!", "vault") if crate::vault::is_vaulted(value) => {
                    Ok(NodeKind::Vault(value.to_string()))
                }
                ("!", "vault") => Err(self.doc.error(
                    at,
                    "a !vault value must be an ansible-vault text ($ANSIBLE_VAULT;...)",
                )),
                (h, s) => Err(self.doc.error(at, format!("unknown YAML tag `{h}{s}`"))),
            };
        }
        Ok(match style {
            ScalarStyle::Plain => resolve_plain(value),
            _ => NodeKind::Str(value.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Node, SourceError> {
        parse_str(Path::new("play.yml"), text.to_string())
    }

    #[test]
    fn positions_and_values() {
        let n =
            parse("- hosts: web\n  tasks:\n    - name: x\n      copy: {dest: /a, mode: 0644}\n")
                .unwrap();
        let play = &n.as_seq().unwrap()[0];
        let task = &play.get("tasks").unwrap().as_seq().unwrap()[0];
        let copy = task.get("copy").unwrap();
        assert_eq!((copy.pos.line, copy.pos.column), (4, 13));
        assert_eq!(copy.get("mode").unwrap().to_value(), serde_json::json!(420));
        assert_eq!(copy.get("dest").unwrap().pos.column, 20);
    }

    #[test]
    fn anchors_merges_and_quoting() {
        let n = parse("base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\ny: 'yes'\nz: yes\n").unwrap();
        assert_eq!(
            n.to_value(),
            serde_json::json!({"base": {"a": 1, "b": 2}, "x": {"b": 3, "a": 1}, "y": "yes", "z": true})
        );
    }

    #[test]
    fn errors_name_the_place() {
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.location(), "play.yml:3:1");
        assert!(e.message.contains("duplicate key `a`"));
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.message.starts_with("invalid YAML"), "{e}");
        let e = parse("a: !vault |\n  xyz\n").unwrap_err();
        assert!(
            e.to_string().contains("must be an ansible-vault text"),
            "{e}"
        );
        let v = parse("a: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3031\n").unwrap();
        assert!(v.to_value()["a"]["__ansible_vault"].is_string());
    }

    #[test]
    fn unsafe_is_never_templated() {
        let n = parse("a: !unsafe '{{ x }}{% endraw %}{{ y }}'\n").unwrap();
        assert_eq!(
            n.get("a").unwrap().to_value(),
            serde_json::json!({"__ansible_unsafe": "{{ x }}{% endraw %}{{ y }}"})
        );
    }
}
