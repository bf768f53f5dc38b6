//! [`parse_args`]: a tool's JSON arguments into a Rust type, with errors meant for the model.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::tool::ToolError;

/// Parses `arguments` (a JSON object as text) into `T`. A mismatch is
/// [`ToolError::InvalidArguments`] with serde's message minus the position, which means
/// nothing to a model: ``missing field `name` ``, ``invalid type: integer `3`, expected a
/// string``. Add `#[serde(deny_unknown_fields)]` to `T` to refuse unknown fields too.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Args {
///     name: String,
/// }
///
/// let args: Args = wasmhost_plugin::parse_args(r#"{"name": "Ada"}"#).unwrap();
/// assert_eq!(args.name, "Ada");
/// let error = wasmhost_plugin::parse_args::<Args>("{}").err().unwrap();
/// assert!(matches!(error, wasmhost_plugin::tool::ToolError::InvalidArguments(m) if m == "missing field `name`"));
/// ```
pub fn parse_args<T: DeserializeOwned>(arguments: &str) -> Result<T, ToolError> {
    let invalid = ToolError::InvalidArguments;
    let value: Value = serde_json::from_str(arguments)
        .map_err(|e| invalid(format!("the arguments are not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(invalid(format!(
            "the arguments must be a JSON object, not {}",
            kind(&value)
        )));
    }
    // From a `Value`, serde's messages carry no position (which would mean nothing here).
    T::deserialize(value).map_err(|e| invalid(e.to_string()))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Args {
        name: String,
        count: Option<u32>,
    }

    fn message(arguments: &str) -> String {
        match parse_args::<Args>(arguments) {
            Err(ToolError::InvalidArguments(m)) => m,
            other => panic!("expected invalid-arguments, got {other:?}"),
        }
    }

    #[test]
    fn good_arguments_parse() {
        let args: Args = parse_args(r#"{"name": "x", "count": 2}"#).expect("parses");
        assert_eq!((args.name.as_str(), args.count), ("x", Some(2)));
    }

    #[test]
    fn mistakes_read_well() {
        assert_eq!(message("{}"), "missing field `name`");
        assert_eq!(
            message(r#"{"name": 3}"#),
            "invalid type: integer `3`, expected a string"
        );
        assert!(message(r#"{"name": "x", "nmae": 1}"#).starts_with("unknown field `nmae`"));
        assert_eq!(
            message("[1]"),
            "the arguments must be a JSON object, not an array"
        );
        assert!(message("{").starts_with("the arguments are not valid JSON: EOF"));
        assert!(message("nope").starts_with("the arguments are not valid JSON"));
    }
}
