//! [`Spec`]: a tool's name, description and JSON Schema, built without hand-written JSON.

use serde_json::{Map, Value, json};

use crate::tool::ToolSpec;

/// A tool as the model sees it. Parameters are required unless added with
/// [`Spec::optional`]; the schema forbids unknown fields.
///
/// ```
/// use wasmhost_plugin::Spec;
///
/// let spec = Spec::new("convert", "Convert a length.")
///     .number("value", "The length.")
///     .string("unit", "`km` or `mi`.")
///     .optional("digits", "integer", "Decimals; default 2.");
/// assert_eq!(spec.schema()["required"], serde_json::json!(["value", "unit"]));
/// assert_eq!(spec.build().name, "convert");
/// ```
#[derive(Debug, Clone)]
pub struct Spec {
    name: String,
    description: String,
    properties: Map<String, Value>,
    required: Vec<String>,
}

impl Spec {
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            properties: Map::new(),
            required: Vec::new(),
        }
    }

    /// A required string parameter.
    pub fn string(self, name: &str, description: &str) -> Self {
        self.required(
            name,
            json!({ "type": "string", "description": description }),
        )
    }

    /// A required number parameter.
    pub fn number(self, name: &str, description: &str) -> Self {
        self.required(
            name,
            json!({ "type": "number", "description": description }),
        )
    }

    /// A required boolean parameter.
    pub fn boolean(self, name: &str, description: &str) -> Self {
        self.required(
            name,
            json!({ "type": "boolean", "description": description }),
        )
    }

    /// An optional parameter of a JSON Schema type (`"string"`, `"integer"`, …).
    pub fn optional(mut self, name: &str, json_type: &str, description: &str) -> Self {
        let schema = json!({ "type": json_type, "description": description });
        self.properties.insert(name.to_string(), schema);
        self
    }

    /// A required parameter with any JSON Schema (an enum, an array, an object).
    pub fn required(mut self, name: &str, schema: Value) -> Self {
        self.properties.insert(name.to_string(), schema);
        self.required.push(name.to_string());
        self
    }

    /// The arguments object's JSON Schema.
    pub fn schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": self.properties,
            "required": self.required,
            "additionalProperties": false,
        })
    }

    pub fn build(self) -> ToolSpec {
        ToolSpec {
            parameters_schema: self.schema().to_string(),
            name: self.name,
            description: self.description,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_strict_object_schema() {
        let spec = Spec::new("t", "A tool.")
            .string("s", "S.")
            .boolean("b", "B.")
            .optional("n", "integer", "N.")
            .required("e", json!({ "enum": ["x", "y"] }))
            .build();
        assert_eq!(
            (spec.name.as_str(), spec.description.as_str()),
            ("t", "A tool.")
        );
        let schema: Value = serde_json::from_str(&spec.parameters_schema).expect("JSON");
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["required"], json!(["s", "b", "e"]));
        assert_eq!(schema["properties"]["n"]["type"], "integer");
        assert_eq!(schema["properties"]["e"]["enum"], json!(["x", "y"]));
    }
}
