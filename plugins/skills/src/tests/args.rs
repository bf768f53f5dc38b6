use serde_json::Value;

use super::{Fixture, failure};
use crate::error::Failure;
use crate::python::RUN_PYTHON_SCRIPT;
use crate::tools::{GET_SKILL, LIST_SKILLS, READ_FILE_IN_SKILL, specs};

#[test]
fn exactly_four_tools_with_object_schemas() {
    let specs = specs();
    let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            LIST_SKILLS,
            GET_SKILL,
            READ_FILE_IN_SKILL,
            RUN_PYTHON_SCRIPT
        ]
    );
    for spec in &specs {
        assert_eq!(spec.schema["type"], "object", "{}", spec.name);
        assert_eq!(spec.schema["additionalProperties"], false, "{}", spec.name);
        assert!(
            spec.description.len() > 100,
            "{} needs a real description",
            spec.name
        );
        // Providers refuse combinators at the top of a tool schema (Anthropic: "does not
        // support oneOf, allOf, or anyOf at the top level").
        for combinator in ["oneOf", "anyOf", "allOf"] {
            assert!(spec.schema.get(combinator).is_none(), "{}", spec.name);
        }
        // Every required field is a declared property.
        let required = spec.schema["required"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for field in required {
            let field = field.as_str().expect("string");
            assert!(
                spec.schema["properties"][field].is_object(),
                "{}.{field}",
                spec.name
            );
        }
    }
    assert_eq!(
        specs[2].schema["required"],
        serde_json::json!(["name", "path"])
    );
    assert_eq!(specs[3].schema["required"], serde_json::json!(["name"]));
}

#[test]
fn unknown_tool() {
    let f = Fixture::new();
    let Failure::UnknownTool(message) = failure(f.call("run_shell", "{}")) else {
        panic!("expected unknown-tool");
    };
    assert!(message.contains("`run_shell`"), "{message}");
    assert!(message.contains("list_skills"), "{message}");
    assert!(message.contains(RUN_PYTHON_SCRIPT), "{message}");
}

fn invalid(f: &Fixture, tool: &str, arguments: &str) -> String {
    match failure(f.call(tool, arguments)) {
        Failure::InvalidArguments(message) => message,
        other => panic!("expected invalid-arguments for {arguments:?}, got {other:?}"),
    }
}

#[test]
fn argument_errors_are_clear() {
    let f = Fixture::new();
    f.skill("a", "d");
    let m = invalid(&f, GET_SKILL, "{}");
    assert_eq!(m, "get_skill: missing field `name`");
    let m = invalid(&f, GET_SKILL, "[\"a\"]");
    assert!(m.contains("expected a JSON object"), "{m}");
    let m = invalid(&f, GET_SKILL, "\"a\"");
    assert!(m.contains("expected a JSON object"), "{m}");
    let m = invalid(&f, GET_SKILL, "{name: a}");
    assert!(m.contains("not valid JSON"), "{m}");
    let m = invalid(&f, GET_SKILL, "{\"name\": 3}");
    assert!(
        m.contains("invalid type: integer `3`, expected a string"),
        "{m}"
    );
    let m = invalid(&f, GET_SKILL, "{\"name\": \"a\", \"verbose\": true}");
    assert!(m.contains("unknown field `verbose`"), "{m}");
    let m = invalid(&f, READ_FILE_IN_SKILL, "{\"name\": \"a\"}");
    assert_eq!(m, "read_file_in_skill: missing field `path`");
    let m = invalid(&f, LIST_SKILLS, "{\"x\": 1}");
    assert!(m.contains("unknown field `x`"), "{m}");
}

#[test]
fn empty_arguments_mean_no_arguments() {
    let f = Fixture::new();
    f.skill("a", "d");
    for arguments in ["", "  ", "{}"] {
        let listing: Value = f.json(LIST_SKILLS, arguments);
        assert_eq!(listing["skills"][0]["name"], "a");
    }
}
