//! Checking untrusted JSON: each accessor either returns the field with the wanted type or
//! records, by its path in the body (`messages[2].tool_calls[0].id`), why it cannot.

use serde_json::{Map, Value};

/// `a string`, `an object`, …: what a value is, for messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `parent.key`, or `key` at the top level.
pub(crate) fn path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// The problems found in one body, in the order found.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub(crate) Vec<String>);

impl Problems {
    pub(crate) fn add(&mut self, problem: impl Into<String>) {
        self.0.push(problem.into());
    }

    fn wrong(&mut self, at: &str, value: Option<&Value>, wanted: &str) {
        match value {
            None => self.add(format!("`{at}` is missing")),
            Some(v) => self.add(format!("`{at}` is {}, not {wanted}", type_name(v))),
        }
    }

    /// A required string field.
    pub(crate) fn string<'a>(&mut self, parent: &'a Value, at: &str, key: &str) -> Option<&'a str> {
        let value = parent.get(key);
        let found = value.and_then(Value::as_str);
        if found.is_none() {
            self.wrong(&path(at, key), value, "a string");
        }
        found
    }

    /// A required, non-empty string field.
    pub(crate) fn nonempty_string<'a>(
        &mut self,
        parent: &'a Value,
        at: &str,
        key: &str,
    ) -> Option<&'a str> {
        let found = self.string(parent, at, key)?;
        if found.is_empty() {
            self.add(format!("`{}` is empty", path(at, key)));
            return None;
        }
        Some(found)
    }

    /// A required object field.
    pub(crate) fn object<'a>(
        &mut self,
        parent: &'a Value,
        at: &str,
        key: &str,
    ) -> Option<&'a Map<String, Value>> {
        let value = parent.get(key);
        let found = value.and_then(Value::as_object);
        if found.is_none() {
            self.wrong(&path(at, key), value, "an object");
        }
        found
    }

    /// A required array field.
    pub(crate) fn array<'a>(
        &mut self,
        parent: &'a Value,
        at: &str,
        key: &str,
    ) -> Option<&'a [Value]> {
        let value = parent.get(key);
        let found = value.and_then(Value::as_array).map(Vec::as_slice);
        if found.is_none() {
            self.wrong(&path(at, key), value, "an array");
        }
        found
    }

    /// An optional boolean field.
    pub(crate) fn optional_bool(&mut self, parent: &Value, at: &str, key: &str) {
        if let Some(value) = parent.get(key).filter(|v| !v.is_boolean()) {
            self.wrong(&path(at, key), Some(value), "a boolean");
        }
    }

    /// An optional object field.
    pub(crate) fn optional_object(&mut self, parent: &Value, at: &str, key: &str) {
        if let Some(value) = parent.get(key).filter(|v| !v.is_object()) {
            self.wrong(&path(at, key), Some(value), "an object");
        }
    }

    /// The fields both APIs require alike: the body is an object with a `model` string, a
    /// non-empty `messages` array and, if present, a boolean `stream`. Returns the messages.
    pub(crate) fn common<'a>(&mut self, body: &'a Value) -> Option<&'a [Value]> {
        if !body.is_object() {
            self.add(format!("the body is {}, not an object", type_name(body)));
            return None;
        }
        self.nonempty_string(body, "", "model");
        self.optional_bool(body, "", "stream");
        let messages = self.array(body, "", "messages")?;
        if messages.is_empty() {
            self.add("`messages` is empty");
        }
        Some(messages)
    }

    /// A tool name as both APIs document it: `^[a-zA-Z0-9_-]{1,64}$`.
    pub(crate) fn tool_name(&mut self, name: &str, at: &str) {
        let valid = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            self.add(format!(
                "`{at}` `{name}` does not match ^[a-zA-Z0-9_-]{{1,64}}$"
            ));
        }
    }
}
