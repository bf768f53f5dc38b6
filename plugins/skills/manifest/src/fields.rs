//! Reading the frontmatter YAML into a [`Frontmatter`], one problem per broken rule.
//!
//! The YAML is loaded with spans and *without* scalar resolution (`early_parse(false)`), so
//! every value is the text as written: `version: 1.0` stays `"1.0"` instead of becoming a
//! float, and `description: yes` stays `"yes"`. Only the explicit nulls (`~`, `null`, an
//! empty value) are treated as "no value".

use std::borrow::Cow;
use std::collections::BTreeMap;

use saphyr::{MarkedYaml, Scalar, ScalarStyle, YamlData, YamlLoader};
use saphyr_parser::Parser;

use crate::{
    Frontmatter, KNOWN_KEYS, MAX_COMPATIBILITY_CHARS, MAX_DESCRIPTION_CHARS, MAX_FRONTMATTER_BYTES,
    Problem, validate_skill_name,
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
            let null = *style == ScalarStyle::Plain
                && matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL");
            if null {
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

    /// Text that must be 1..=`max` characters once trimmed.
    fn bounded(&mut self, key: &str, node: &MarkedYaml<'_>, max: usize) -> Option<String> {
        let text = self.string(key, node, false)?;
        let text = text.trim().to_string();
        let chars = text.chars().count();
        if chars == 0 {
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
            _ if matches!(text_of(node), Text::Null) => return out,
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
                description = reader.bounded("description", value, MAX_DESCRIPTION_CHARS)
            }
            "license" => frontmatter.license = reader.string("license", value, true),
            "compatibility" => {
                if !matches!(text_of(value), Text::Null) {
                    frontmatter.compatibility =
                        reader.bounded("compatibility", value, MAX_COMPATIBILITY_CHARS);
                }
            }
            "metadata" => frontmatter.metadata = reader.metadata(value),
            "allowed-tools" => frontmatter.allowed_tools = reader.allowed_tools(value),
            other => {
                let line = reader.line(key);
                reader.problems.push(Problem::warning(
                    line,
                    format!(
                        "unknown key `{other}` (ignored; the known keys are {})",
                        KNOWN_KEYS.join(", ")
                    ),
                ));
            }
        }
    }

    if let Some((name, node)) = &name {
        if let Err(why) = validate_skill_name(name) {
            reader.error(node, format!("invalid name `{name}`: {why}"));
        }
        if name != folder_name {
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
