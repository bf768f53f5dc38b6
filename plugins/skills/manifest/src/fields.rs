//! Reading the frontmatter YAML into a [`Frontmatter`], one problem per broken rule.
//!
//! The YAML is loaded with spans and *without* scalar resolution (`early_parse(false)`), so
//! every value is the text as written: `version: 1.0` stays `"1.0"` instead of becoming a
//! float, `description: yes` stays `"yes"` and `license: ~` stays `"~"`, as the reference
//! validator (strictyaml) reads them. Only an empty value is "no value".

use std::borrow::Cow;
use std::collections::BTreeMap;

use saphyr::{MarkedYaml, Scalar, ScalarStyle, YamlData, YamlLoader};
use saphyr_parser::{Event, Parser, Span, SpannedEventReceiver};

use crate::{
    Frontmatter, KNOWN_KEYS, MAX_COMPATIBILITY_CHARS, MAX_DESCRIPTION_CHARS, MAX_FRONTMATTER_BYTES,
    Problem, name_problems, normalize_folder_name, normalize_name,
};

/// Reads fields while mapping YAML lines (1-based within the block) to `SKILL.md` lines.
struct Reader<'p> {
    /// `SKILL.md` line of the block's first line, minus one.
    offset: usize,
    problems: &'p mut Vec<Problem>,
}

/// A scalar value, or what was found instead.
enum Text<'a> {
    Value(Cow<'a, str>),
    Null,
    Other(&'static str),
}

fn text_of<'a>(node: &'a MarkedYaml<'_>) -> Text<'a> {
    match &node.data {
        YamlData::Representation(text, style, _tag) => {
            if *style == ScalarStyle::Plain && text.is_empty() {
                Text::Null
            } else {
                Text::Value(Cow::Borrowed(text.as_ref()))
            }
        }
        // Not produced with early_parse(false), handled for completeness.
        YamlData::Value(scalar) => match scalar {
            Scalar::Null => Text::Null,
            Scalar::String(text) => Text::Value(Cow::Borrowed(text.as_ref())),
            Scalar::Boolean(b) => Text::Value(Cow::Owned(b.to_string())),
            Scalar::Integer(i) => Text::Value(Cow::Owned(i.to_string())),
            Scalar::FloatingPoint(f) => Text::Value(Cow::Owned(f.to_string())),
        },
        YamlData::Tagged(_, inner) => text_of(inner),
        YamlData::Sequence(_) => Text::Other("a list"),
        YamlData::Mapping(_) => Text::Other("a mapping"),
        YamlData::Alias(_) => Text::Other("an alias"),
        YamlData::BadValue => Text::Other("an unreadable value"),
    }
}

impl Reader<'_> {
    fn line(&self, node: &MarkedYaml<'_>) -> usize {
        node.span.start.line() + self.offset
    }

    fn error(&mut self, node: &MarkedYaml<'_>, message: String) {
        let line = self.line(node);
        self.problems.push(Problem::error(line, message));
    }

    /// A field that must be text; `None` (with a problem unless `optional`) otherwise.
    fn string(&mut self, key: &str, node: &MarkedYaml<'_>, optional: bool) -> Option<String> {
        match text_of(node) {
            Text::Value(text) => Some(text.into_owned()),
            Text::Null if optional => None,
            Text::Null => {
                self.error(node, format!("`{key}` has no value"));
                None
            }
            Text::Other(found) => {
                self.error(node, format!("`{key}` must be a string, not {found}"));
                None
            }
        }
    }

    /// Text of at most `max` characters as written (a `|` block's final newline counts, as
    /// in the reference validator), not blank unless `may_be_empty`; kept trimmed.
    fn bounded(
        &mut self,
        key: &str,
        node: &MarkedYaml<'_>,
        max: usize,
        may_be_empty: bool,
    ) -> Option<String> {
        let written = self.string(key, node, may_be_empty)?;
        let text = written.trim().to_string();
        let chars = written.chars().count();
        if text.is_empty() && !may_be_empty {
            self.error(node, format!("`{key}` is empty"));
        } else if chars > max {
            let line = self.line(node);
            self.problems.push(Problem::tolerable_error(
                line,
                format!("`{key}` is {chars} characters long; the limit is {max}"),
            ));
        }
        Some(text)
    }

    fn metadata(&mut self, node: &MarkedYaml<'_>) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let map = match &node.data {
            YamlData::Mapping(map) => map,
            YamlData::Tagged(_, inner) => return self.metadata(inner),
            _ if is_null(node) => return out,
            _ => {
                self.error(
                    node,
                    "`metadata` must be a mapping of string keys to string values".to_string(),
                );
                return out;
            }
        };
        for (key, value) in map {
            let Text::Value(key_text) = text_of(key) else {
                self.error(key, "`metadata` keys must be strings".to_string());
                continue;
            };
            let field = format!("metadata.{key_text}");
            // A null value is kept as an empty string: the key was clearly meant.
            let value = match text_of(value) {
                Text::Null => Some(String::new()),
                _ => self.string(&field, value, false),
            };
            if let Some(value) = value {
                out.insert(key_text.into_owned(), value);
            }
        }
        out
    }

    /// `allowed-tools`: a space-separated string, or a list of names joined with spaces.
    fn allowed_tools(&mut self, node: &MarkedYaml<'_>) -> Option<String> {
        let YamlData::Sequence(items) = &node.data else {
            return self.string("allowed-tools", node, true);
        };
        let mut names = Vec::new();
        for item in items {
            if let Some(name) = self.string("allowed-tools item", item, false) {
                names.push(name);
            }
        }
        Some(names.join(" "))
    }
}

/// An empty value or YAML's explicit nulls (`~`, `null`): "none", where a mapping or list
/// is expected.
fn is_null(node: &MarkedYaml<'_>) -> bool {
    matches!(
        &node.data,
        YamlData::Representation(text, ScalarStyle::Plain, _)
            if matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL")
    )
}

fn load(yaml: &str) -> Result<Vec<MarkedYaml<'_>>, saphyr::ScanError> {
    let mut loader = YamlLoader::<MarkedYaml>::default();
    loader.early_parse(false);
    let mut parser = Parser::new_from_str(yaml);
    parser.load(&mut loader, true)?;
    if let Some(error) = loader.error() {
        return Err(error.clone());
    }
    Ok(loader.into_documents())
}

/// The YAML the reference validator's parser (strictyaml) refuses: flow collections
/// (`[a, b]`, `{k: v}`), anchors and aliases (`&a`, `*a`) and tags (`!!str`). Each kind is
/// reported once, at its first use, as a tolerable error: YAML parsers in agents read them.
struct StrictYaml<'y> {
    yaml: &'y str,
    found: Vec<(Span, &'static str)>,
}

impl StrictYaml<'_> {
    fn note(&mut self, span: Span, what: &'static str) {
        if !self.found.iter().any(|(_, seen)| *seen == what) {
            self.found.push((span, what));
        }
    }

    fn starts_with(&self, span: Span, opener: char) -> bool {
        self.yaml.chars().nth(span.start.index()) == Some(opener)
    }
}

const FLOW: &str = "flow style (`[...]`, `{...}`) is not allowed in the frontmatter: write a \
                    list as `- item` lines and a mapping as `key: value` lines, or quote the \
                    value if it is text";
const ANCHOR: &str = "anchors and aliases (`&name`, `*name`) are not allowed in the \
                      frontmatter: write the value out, or quote it if it is text";
const TAG: &str = "tags (`!!str`, `!name`) are not allowed in the frontmatter: every value is \
                   text already; quote it if the `!` is part of the text";

impl<'input> SpannedEventReceiver<'input> for StrictYaml<'_> {
    fn on_event(&mut self, event: Event<'input>, span: Span) {
        match event {
            Event::Alias(_) => self.note(span, ANCHOR),
            Event::Scalar(_, _, anchor, tag) => {
                if anchor > 0 {
                    self.note(span, ANCHOR);
                }
                if tag.is_some() {
                    self.note(span, TAG);
                }
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                if self.starts_with(span, '[') || self.starts_with(span, '{') {
                    self.note(span, FLOW);
                }
                if anchor > 0 {
                    self.note(span, ANCHOR);
                }
                if tag.is_some() {
                    self.note(span, TAG);
                }
            }
            _ => {}
        }
    }
}

/// What of `yaml` (valid YAML) strictyaml refuses, as `(line within the block, message)`.
fn strict_yaml_problems(yaml: &str) -> Vec<(usize, &'static str)> {
    // Each of them starts with one of these characters: most frontmatter has none, and
    // needs no second parse.
    if !yaml.contains(['[', '{', '&', '*', '!']) {
        return Vec::new();
    }
    let mut strict = StrictYaml {
        yaml,
        found: Vec::new(),
    };
    let mut parser = Parser::new_from_str(yaml);
    if parser.load(&mut strict, true).is_err() {
        return Vec::new();
    }
    strict
        .found
        .into_iter()
        .map(|(span, what)| (span.start.line(), what))
        .collect()
}

/// Read the frontmatter block `yaml`, whose first line is line `yaml_line` of `SKILL.md`.
pub(crate) fn read(
    yaml: &str,
    yaml_line: usize,
    folder_name: &str,
    problems: &mut Vec<Problem>,
) -> Option<Frontmatter> {
    let opening_line = yaml_line - 1;
    if yaml.len() > MAX_FRONTMATTER_BYTES {
        problems.push(Problem::error(
            opening_line,
            format!(
                "the frontmatter is {} bytes; the limit is {MAX_FRONTMATTER_BYTES}",
                yaml.len()
            ),
        ));
        return None;
    }
    let docs = match load(yaml) {
        Ok(docs) => docs,
        Err(error) => {
            // The most common slip: an unquoted value containing ": ".
            let hint = if error.info().contains("mapping values are not allowed") {
                " (put values that contain `: ` in quotes)"
            } else {
                ""
            };
            problems.push(Problem::error(
                error.marker().line() + opening_line,
                format!("invalid YAML in the frontmatter: {}{hint}", error.info()),
            ));
            return None;
        }
    };
    for (line, message) in strict_yaml_problems(yaml) {
        problems.push(Problem::tolerable_error(line + opening_line, message));
    }
    let mut reader = Reader {
        offset: opening_line,
        problems,
    };
    let Some(doc) = docs.first() else {
        reader.problems.push(Problem::error(
            opening_line,
            "the frontmatter is empty: it needs at least `name:` and `description:`",
        ));
        return None;
    };
    if let Some(extra) = docs.get(1) {
        reader.error(
            extra,
            "the frontmatter holds more than one YAML document".to_string(),
        );
        return None;
    }
    let map = match &doc.data {
        YamlData::Mapping(map) => map,
        YamlData::BadValue => {
            reader.problems.push(Problem::error(
                opening_line,
                "the frontmatter is empty: it needs at least `name:` and `description:`",
            ));
            return None;
        }
        _ => {
            reader.error(
                doc,
                "the frontmatter must be a YAML mapping (`key: value` lines)".to_string(),
            );
            return None;
        }
    };

    let mut name = None;
    let mut description = None;
    let mut frontmatter = Frontmatter::default();
    for (key, value) in map {
        let Text::Value(key_text) = text_of(key) else {
            reader.error(key, "frontmatter keys must be strings".to_string());
            continue;
        };
        match key_text.as_ref() {
            "name" => name = reader.string("name", value, false).map(|n| (n, value)),
            "description" => {
                description = reader.bounded("description", value, MAX_DESCRIPTION_CHARS, false)
            }
            "license" => frontmatter.license = reader.string("license", value, true),
            "compatibility" => {
                frontmatter.compatibility =
                    reader.bounded("compatibility", value, MAX_COMPATIBILITY_CHARS, true);
            }
            "metadata" => frontmatter.metadata = reader.metadata(value),
            "allowed-tools" => frontmatter.allowed_tools = reader.allowed_tools(value),
            other => {
                // An error of the convention (the reference validator fails on it), which
                // the agents that load skills ignore.
                let line = reader.line(key);
                reader.problems.push(Problem::tolerable_error(
                    line,
                    format!(
                        "unknown key `{other}`: the convention allows only {} (put your own \
                         fields under `metadata`)",
                        KNOWN_KEYS.join(", ")
                    ),
                ));
            }
        }
    }

    if let Some((name, node)) = &name {
        let problems = name_problems(name);
        for why in &problems {
            reader.error(node, format!("invalid name `{name}`: {why}"));
        }
        // Compared as the reference validator compares them: the name trimmed, both
        // NFKC-normalized (`café` matches its folder in either Unicode form). An empty name
        // has no folder to match.
        let empty = normalize_name(name).is_empty();
        if !empty && normalize_name(name) != normalize_folder_name(folder_name) {
            reader.error(
                node,
                format!(
                    "the name `{name}` differs from the folder name `{folder_name}`: they must \
                     be equal"
                ),
            );
        }
    } else if !map_has(map, "name") {
        reader.problems.push(Problem::error(
            opening_line,
            "the required key `name` is missing",
        ));
    }
    if description.is_none() && !map_has(map, "description") {
        reader.problems.push(Problem::error(
            opening_line,
            "the required key `description` is missing",
        ));
    }

    let (name, _) = name?;
    frontmatter.name = name;
    frontmatter.description = description?;
    Some(frontmatter)
}

/// Whether `key` is present (possibly with a bad value, already reported).
fn map_has(map: &saphyr::AnnotatedMapping<'_, MarkedYaml<'_>>, key: &str) -> bool {
    map.keys()
        .any(|k| matches!(text_of(k), Text::Value(text) if text == key))
}
