use crate::split::{Split, split};
use crate::*;

/// The one problem of a parse, for tests that expect exactly one.
fn only_problem(skill: &ParsedSkill<'_>) -> Problem {
    assert_eq!(skill.problems.len(), 1, "problems: {:#?}", skill.problems);
    skill.problems[0].clone()
}

fn frontmatter<'a>(skill: &'a ParsedSkill<'_>) -> &'a Frontmatter {
    skill
        .frontmatter
        .as_ref()
        .unwrap_or_else(|| panic!("no frontmatter; problems: {:#?}", skill.problems))
}

const VALID: &str = "\
---
name: csv-stats
description: >
  Summarise CSV files: per-column count, mean, median
  and spread.
license: Apache-2.0
compatibility: Needs python3 (stdlib only).
metadata:
  author: wasmhost
  version: 1.0
allowed-tools: read_file_in_skill run_python_script
---
# CSV stats

Run `scripts/stats.py`.
";

#[test]
fn valid_skill_with_every_field() {
    let skill = parse_skill_md("csv-stats", VALID);
    assert!(skill.problems.is_empty(), "{:#?}", skill.problems);
    assert!(!skill.has_errors());
    assert!(!skill.is_legacy());
    let fm = frontmatter(&skill);
    assert_eq!(fm.name, "csv-stats");
    assert_eq!(
        fm.description,
        "Summarise CSV files: per-column count, mean, median and spread."
    );
    assert_eq!(fm.license.as_deref(), Some("Apache-2.0"));
    assert_eq!(
        fm.compatibility.as_deref(),
        Some("Needs python3 (stdlib only).")
    );
    assert_eq!(
        fm.metadata.get("author").map(String::as_str),
        Some("wasmhost")
    );
    // Kept as written, not turned into the float 1.
    assert_eq!(fm.metadata.get("version").map(String::as_str), Some("1.0"));
    assert_eq!(
        fm.allowed_tools.as_deref(),
        Some("read_file_in_skill run_python_script")
    );
    assert_eq!(skill.body, "# CSV stats\n\nRun `scripts/stats.py`.\n");
    assert_eq!(skill.body_line, 13);
}

#[test]
fn minimal_skill() {
    let skill = parse_skill_md("a", "---\nname: a\ndescription: d\n---\nbody\n");
    assert!(skill.problems.is_empty(), "{:#?}", skill.problems);
    let fm = frontmatter(&skill);
    assert_eq!(fm.license, None);
    assert!(fm.metadata.is_empty());
    assert_eq!(skill.body, "body\n");
}

#[test]
fn legacy_file_without_frontmatter() {
    let text = "# Old skill\n\nDo things.\n";
    let skill = parse_skill_md("old-skill", text);
    assert!(skill.frontmatter.is_none());
    assert!(skill.is_legacy());
    // An error of the convention that loaders tolerate.
    assert!(skill.has_errors() && !skill.blocks_loading());
    let problem = only_problem(&skill);
    assert_eq!(problem.severity, Severity::Error);
    assert!(problem.tolerable);
    assert_eq!(problem.line, 1);
    assert!(problem.message.contains("legacy"), "{problem}");
    assert_eq!(skill.body, text);
    assert_eq!(skill.body_line, 1);
}

#[test]
fn frontmatter_after_a_blank_line_is_legacy() {
    // The delimiter must be the very first line; anything else is Markdown.
    let skill = parse_skill_md("x", "\n---\nname: x\ndescription: d\n---\n");
    assert!(skill.is_legacy());
}

#[test]
fn empty_file_is_legacy() {
    let skill = parse_skill_md("x", "");
    assert!(skill.is_legacy());
    assert_eq!(skill.body, "");
}

#[test]
fn malformed_yaml_reports_its_line() {
    // Line 4 has an unclosed flow sequence; the parser notices on the next line.
    let text = "---\nname: x\ndescription: d\nlicense: [MIT\nfoo: bar\n---\nbody\n";
    let skill = parse_skill_md("x", text);
    assert!(skill.frontmatter.is_none());
    assert!(skill.has_errors());
    assert!(!skill.is_legacy());
    let problem = only_problem(&skill);
    assert!(problem.message.starts_with("invalid YAML"), "{problem}");
    assert!((4..=6).contains(&problem.line), "line {}", problem.line);
}

#[test]
fn bad_indentation_reports_the_right_line() {
    let text = "---\nname: x\ndescription: d\n  bad: indent: here\n---\nbody\n";
    let problem = only_problem(&parse_skill_md("x", text));
    assert_eq!(problem.severity, Severity::Error);
    assert_eq!(problem.line, 4, "{problem}");
}

#[test]
fn duplicate_key_is_an_error_on_its_line() {
    let text = "---\nname: x\ndescription: d\nname: y\n---\nbody\n";
    let problem = only_problem(&parse_skill_md("x", text));
    assert!(problem.message.contains("duplicated key"), "{problem}");
    assert_eq!(problem.line, 4);
}

#[test]
fn unclosed_frontmatter() {
    let skill = parse_skill_md("x", "---\nname: x\ndescription: d\n");
    let problem = only_problem(&skill);
    assert_eq!(problem.severity, Severity::Error);
    assert!(problem.message.contains("never closed"), "{problem}");
}

#[test]
fn name_must_match_folder() {
    let text = "---\ndescription: d\nname: other-name\n---\nbody\n";
    let skill = parse_skill_md("my-skill", text);
    let problem = only_problem(&skill);
    assert_eq!(problem.line, 3);
    assert!(problem.message.contains("`other-name`"), "{problem}");
    assert!(problem.message.contains("`my-skill`"), "{problem}");
    // The fields are still readable, for a checker to show.
    assert_eq!(frontmatter(&skill).name, "other-name");
    assert!(skill.has_errors());
}

#[test]
fn bad_characters_in_name() {
    let skill = parse_skill_md("My_Skill", "---\nname: My_Skill\ndescription: d\n---\nb\n");
    // Every rule the name breaks is said, as the reference validator says them all.
    let messages: Vec<&str> = skill.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(skill.problems.iter().all(|p| p.line == 2));
    assert!(messages[0].contains("invalid name `My_Skill`: the name must be lowercase"));
    assert!(messages[1].contains("'_'"), "{messages:?}");
}

#[test]
fn name_rules() {
    for good in [
        "a",
        "pdf",
        "csv-stats",
        "a1-b2-c3",
        "0",
        &"a".repeat(64),
        // Lowercase letters of any script, as the reference validator allows them.
        "навык",
        "мой-навык",
        "技能",
        "caf\u{e9}",
        "cafe\u{301}",
        &"я".repeat(64),
        // NFKC makes the ligature two letters and the superscript a digit.
        "\u{fb01}le",
        "a\u{b2}",
        // Trimmed before it is checked.
        " padded ",
    ] {
        assert_eq!(validate_skill_name(good), Ok(()), "{good}");
    }
    let bad = [
        ("", "empty"),
        ("   ", "empty"),
        (&"a".repeat(65), "65 characters"),
        ("Upper", "lowercase"),
        ("Caf\u{e9}", "lowercase"),
        ("\u{1c5}-title", "lowercase"),
        ("under_score", "'_'"),
        ("with space", "' '"),
        ("dot.ted", "'.'"),
        ("slash/y", "'/'"),
        ("..", "'.'"),
        ("half-\u{bd}", "'⁄'"),
        // A combining mark is not a letter.
        (
            "\u{939}\u{93f}\u{902}\u{926}\u{940}",
            "only letters, digits and hyphens",
        ),
        ("-lead", "hyphen"),
        ("trail-", "hyphen"),
        ("dou--ble", "`--`"),
    ];
    for (name, why) in bad {
        let err = validate_skill_name(name).expect_err(name);
        assert!(err.contains(why), "{name:?}: {err}");
    }
    assert_eq!(
        name_problems("Bad--Name-").len(),
        3,
        "lowercase, hyphens at an end, `--`"
    );
}

#[test]
fn a_name_matches_its_folder_in_any_unicode_form() {
    let nfc = "caf\u{e9}";
    let nfd = "cafe\u{301}";
    for (folder, name) in [(nfc, nfd), (nfd, nfc), ("a2", "a\u{b2}")] {
        let text = format!("---\nname: {name}\ndescription: d\n---\nb\n");
        let skill = parse_skill_md(folder, &text);
        assert!(
            skill.problems.is_empty(),
            "{folder} {name}: {:#?}",
            skill.problems
        );
    }
    let skill = parse_skill_md("other", "---\nname: \"\"\ndescription: d\n---\nb\n");
    // An empty name is one problem, not also a mismatch.
    assert_eq!(
        only_problem(&skill).message,
        "invalid name ``: the name is empty"
    );
}

#[test]
fn description_length_limit() {
    let at_limit = "d".repeat(MAX_DESCRIPTION_CHARS);
    let text = format!("---\nname: x\ndescription: {at_limit}\n---\nbody\n");
    assert!(parse_skill_md("x", &text).problems.is_empty());

    // Characters, not bytes: 1024 two-byte characters are fine.
    let wide = "\u{e9}".repeat(MAX_DESCRIPTION_CHARS);
    let text = format!("---\nname: x\ndescription: {wide}\n---\nbody\n");
    assert!(parse_skill_md("x", &text).problems.is_empty());

    let over = "d".repeat(MAX_DESCRIPTION_CHARS + 1);
    let text = format!("---\nname: x\ndescription: {over}\n---\nbody\n");
    let problem = only_problem(&parse_skill_md("x", &text));
    assert_eq!(problem.line, 3);
    assert!(problem.message.contains("1025 characters"), "{problem}");
    assert!(problem.message.contains("1024"), "{problem}");
}

#[test]
fn empty_or_missing_description() {
    let problem = only_problem(&parse_skill_md(
        "x",
        "---\nname: x\ndescription: \"  \"\n---\nb\n",
    ));
    assert!(
        problem.message.contains("`description` is empty"),
        "{problem}"
    );

    let problem = only_problem(&parse_skill_md("x", "---\nname: x\ndescription:\n---\nb\n"));
    assert!(
        problem.message.contains("`description` has no value"),
        "{problem}"
    );

    let skill = parse_skill_md("x", "---\nname: x\n---\nb\n");
    let problem = only_problem(&skill);
    assert_eq!(problem.line, 1);
    assert!(
        problem.message.contains("`description` is missing"),
        "{problem}"
    );
    assert!(skill.frontmatter.is_none());
}

#[test]
fn missing_name() {
    let problem = only_problem(&parse_skill_md("x", "---\ndescription: d\n---\nb\n"));
    assert!(problem.message.contains("`name` is missing"), "{problem}");
}

#[test]
fn compatibility_limit() {
    let over = "c".repeat(MAX_COMPATIBILITY_CHARS + 1);
    let text = format!("---\nname: x\ndescription: d\ncompatibility: {over}\n---\nb\n");
    let problem = only_problem(&parse_skill_md("x", &text));
    assert_eq!(problem.line, 4);
    assert!(problem.message.contains("501 characters"), "{problem}");
}

#[test]
fn unknown_key_is_a_tolerable_error_with_its_line() {
    let text = "---\nname: x\ndescription: d\nversion: 2\n---\nbody\n";
    let skill = parse_skill_md("x", text);
    let problem = only_problem(&skill);
    assert_eq!(problem.severity, Severity::Error);
    assert!(problem.tolerable, "agents ignore it: served with a warning");
    assert_eq!(problem.line, 4);
    assert!(
        problem.message.contains("unknown key `version`"),
        "{problem}"
    );
    assert!(skill.has_errors() && !skill.blocks_loading());
    assert_eq!(frontmatter(&skill).name, "x");
}

#[test]
fn wrong_value_types() {
    let text = "---\nname:\n  - x\ndescription: d\nmetadata: just text\nlicense:\n  a: b\n---\nb\n";
    let skill = parse_skill_md("x", text);
    let lines: Vec<usize> = skill.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [3, 5, 7], "{:#?}", skill.problems);
    assert!(
        skill.problems[0]
            .message
            .contains("`name` must be a string, not a list")
    );
    assert!(
        skill.problems[1]
            .message
            .contains("`metadata` must be a mapping")
    );
    assert!(
        skill.problems[2]
            .message
            .contains("`license` must be a string")
    );
    // Without a readable name there is no frontmatter to hand out.
    assert!(skill.frontmatter.is_none());
}

#[test]
fn metadata_values_must_be_scalars() {
    let text = "---\nname: x\ndescription: d\nmetadata:\n  ok: yes\n  nested:\n    a: b\n---\nb\n";
    let skill = parse_skill_md("x", text);
    let problem = only_problem(&skill);
    assert_eq!(problem.line, 7);
    assert!(problem.message.contains("`metadata.nested`"), "{problem}");
    assert_eq!(
        frontmatter(&skill).metadata.get("ok").map(String::as_str),
        Some("yes")
    );
}

#[test]
fn allowed_tools_as_a_list() {
    let text =
        "---\nname: x\ndescription: d\nallowed-tools:\n  - Read\n  - Bash(python3:*)\n---\nb\n";
    let skill = parse_skill_md("x", text);
    assert!(skill.problems.is_empty(), "{:#?}", skill.problems);
    assert_eq!(
        frontmatter(&skill).allowed_tools.as_deref(),
        Some("Read Bash(python3:*)")
    );
}

#[test]
fn frontmatter_must_be_a_mapping() {
    let problem = only_problem(&parse_skill_md("x", "---\n- a\n- b\n---\nb\n"));
    assert_eq!(problem.line, 2);
    assert!(
        problem.message.contains("must be a YAML mapping"),
        "{problem}"
    );
}

#[test]
fn empty_frontmatter() {
    for text in ["---\n---\nbody\n", "---\n# only a comment\n---\nbody\n"] {
        let problem = only_problem(&parse_skill_md("x", text));
        assert_eq!(problem.line, 1);
        assert!(
            problem.message.contains("frontmatter is empty"),
            "{problem}"
        );
    }
}

#[test]
fn crlf_line_endings() {
    let text = "---\r\nname: x\r\ndescription: two\r\n  lines\r\nbogus: 1\r\n---\r\n# Body\r\n";
    let skill = parse_skill_md("x", text);
    let problem = only_problem(&skill);
    assert_eq!(problem.line, 5, "{problem}");
    let fm = frontmatter(&skill);
    assert_eq!(fm.name, "x");
    assert_eq!(fm.description, "two lines");
    assert_eq!(skill.body, "# Body\r\n");
    assert_eq!(skill.body_line, 7);
}

#[test]
fn byte_order_mark() {
    let text = "\u{feff}---\nname: x\ndescription: d\n---\nbody\n";
    let skill = parse_skill_md("x", text);
    // Read as if it were not there, and reported as the reference validator fails on it.
    let problem = only_problem(&skill);
    assert!(problem.tolerable && problem.message.contains("byte-order mark"));
    assert!(!skill.blocks_loading());
    assert_eq!(frontmatter(&skill).name, "x");
    assert_eq!(skill.body, "body\n");

    let legacy = parse_skill_md("x", "\u{feff}# Title\n");
    assert!(legacy.is_legacy());
    assert_eq!(legacy.body, "# Title\n");
}

#[test]
fn delimiters_with_trailing_whitespace() {
    let skill = parse_skill_md("x", "--- \nname: x\ndescription: d\n---\t\nbody");
    assert!(skill.problems.is_empty(), "{:#?}", skill.problems);
    assert_eq!(skill.body, "body");
}

#[test]
fn empty_body_is_a_warning() {
    for text in [
        "---\nname: x\ndescription: d\n---\n",
        "---\nname: x\ndescription: d\n---",
        "---\nname: x\ndescription: d\n---\n\n  \n",
    ] {
        let skill = parse_skill_md("x", text);
        let problem = only_problem(&skill);
        assert_eq!(problem.severity, Severity::Warning);
        assert_eq!(problem.line, 4, "{text:?}");
        assert!(problem.message.contains("body of SKILL.md is empty"));
        assert!(!skill.has_errors());
        assert!(skill.body.trim().is_empty());
    }
}

#[test]
fn problems_come_in_line_order() {
    let text = "---\nzzz: 1\nname: Bad\naaa: 2\n---\n";
    let skill = parse_skill_md("x", text);
    let lines: Vec<usize> = skill.problems.iter().map(|p| p.line).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
    assert!(skill.problems.len() >= 5, "{:#?}", skill.problems);
}

#[test]
fn oversized_frontmatter_is_refused_before_parsing() {
    let filler = "# padding\n".repeat(MAX_FRONTMATTER_BYTES / 10 + 1);
    let text = format!("---\nname: x\ndescription: d\n{filler}---\nbody\n");
    let problem = only_problem(&parse_skill_md("x", &text));
    assert_eq!(problem.line, 1);
    assert!(problem.message.contains("the limit is 65536"), "{problem}");
}

#[test]
fn deep_nesting_does_not_crash() {
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let text = format!("---\nname: x\ndescription: d\nmetadata: {deep}\n---\nbody\n");
    let skill = parse_skill_md("x", &text);
    assert!(skill.has_errors());
}

#[test]
fn alias_bombs_are_contained() {
    let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = i - 1;
        yaml.push_str(&format!(
            "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, \
             *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    let text = format!("---\nname: x\ndescription: d\n{yaml}---\nbody\n");
    let skill = parse_skill_md("x", &text);
    assert!(skill.has_errors());
}

#[test]
fn render_is_file_line_message() {
    let problem = only_problem(&parse_skill_md(
        "x",
        "---\nname: x\ndescription: d\nfoo: 1\n---\nb\n",
    ));
    assert_eq!(
        problem.render("skills/x/SKILL.md"),
        format!("skills/x/SKILL.md:4: error: {}", problem.message)
    );
}

#[test]
fn quoted_values_and_nulls() {
    let text =
        "---\nname: 'x'\ndescription: \"Says \\\"hi\\\"\"\nlicense: ~\ncompatibility:\n---\nb\n";
    let skill = parse_skill_md("x", text);
    assert!(skill.problems.is_empty(), "{:#?}", skill.problems);
    let fm = frontmatter(&skill);
    assert_eq!(fm.description, "Says \"hi\"");
    // Text as written, as strictyaml (the reference validator's parser) reads it.
    assert_eq!(fm.license.as_deref(), Some("~"));
    assert_eq!(fm.compatibility, None);
    // `metadata: null` is no metadata.
    let text = "---\nname: x\ndescription: null\nmetadata: null\n---\nb\n";
    let skill = parse_skill_md("x", text);
    assert!(skill.problems.is_empty(), "{:#?}", skill.problems);
    assert_eq!(frontmatter(&skill).description, "null");
}

#[test]
fn lengths_count_what_is_written_and_compatibility_may_be_empty() {
    // A `|` block keeps its final newline: 1,024 characters and a newline are 1,025.
    let text = format!(
        "---\nname: x\ndescription: |\n  {}\n---\nb\n",
        "d".repeat(MAX_DESCRIPTION_CHARS)
    );
    let skill = parse_skill_md("x", &text);
    assert!(
        only_problem(&skill).message.contains("1025 characters"),
        "{:#?}",
        skill.problems
    );
    let text = "---\nname: x\ndescription: d\ncompatibility: \"\"\n---\nb\n";
    assert!(parse_skill_md("x", text).problems.is_empty());
}

#[test]
fn split_positions() {
    assert_eq!(
        split("---\na: 1\n---\nbody"),
        Split::Block {
            yaml: "a: 1\n",
            yaml_line: 2,
            body: "body",
            body_line: 4
        }
    );
    assert_eq!(split("no"), Split::NoFrontmatter { body: "no" });
    assert_eq!(split("---"), Split::Unclosed { body: "---" });
    assert_eq!(split("----\n"), Split::NoFrontmatter { body: "----\n" });
}

#[test]
fn yaml_that_strictyaml_refuses_is_a_tolerable_error() {
    let cases = [
        ("allowed-tools: [a, b]", 4, "flow style"),
        ("metadata: {k: v}", 4, "flow style"),
        ("license: &l MIT", 4, "anchors"),
        ("license: !!str MIT", 4, "tags"),
    ];
    for (line, at, what) in cases {
        let text = format!("---\nname: x\ndescription: d\n{line}\n---\nb\n");
        let skill = parse_skill_md("x", &text);
        let problem = only_problem(&skill);
        assert!(problem.message.contains(what), "{line}: {problem}");
        assert_eq!(problem.line, at, "{line}");
        assert!(problem.tolerable && !skill.blocks_loading(), "{line}");
    }
    // An alias is reported once with its anchor; a `[` inside text is text.
    let text = "---\nname: x\ndescription: &d d\nlicense: *d\ncompatibility: see [docs]\n---\nb\n";
    let skill = parse_skill_md("x", text);
    assert_eq!(only_problem(&skill).line, 3);
}
