use serde_json::{Value, json};

use super::{FakeHost, Fixture, failure};
use crate::catalog::{MAX_LISTED_FILES, NO_SKILLS_FOLDER};
use crate::error::Failure;
use crate::tools::{GET_SKILL, LIST_SKILLS, READ_FILE_IN_SKILL};

#[test]
fn no_skills_folder_is_denied() {
    let f = Fixture::new();
    let missing = f.root().join("nope");
    for (tool, arguments) in [
        (LIST_SKILLS, "{}"),
        (GET_SKILL, r#"{"name": "a"}"#),
        (READ_FILE_IN_SKILL, r#"{"name": "a", "path": "SKILL.md"}"#),
    ] {
        let outcome = crate::tools::call(&missing, tool, arguments, &mut FakeHost::default());
        assert_eq!(
            failure(outcome),
            Failure::Denied(NO_SKILLS_FOLDER.to_string()),
            "{tool}"
        );
    }
    assert_eq!(
        NO_SKILLS_FOLDER,
        "no skills folder is granted to this plugin: run with --skills DIR or grant a folder \
         in wasmhost.toml"
    );
}

#[test]
fn empty_folder_lists_nothing() {
    let f = Fixture::new();
    assert_eq!(
        f.json(LIST_SKILLS, "{}"),
        json!({"skills": [], "total": 0, "offset": 0, "problems": []})
    );
}

#[test]
fn every_skill_is_listed_in_order_a_page_at_a_time() {
    let f = Fixture::new();
    // More than a page, created out of order.
    for i in (0..1_203).rev() {
        f.skill(&format!("skill-{i:04}"), &format!("Does job {i}."));
    }
    let first = f.json(LIST_SKILLS, "{}");
    assert_eq!(first["total"], 1_203);
    let names: Vec<&str> = first["skills"]
        .as_array()
        .expect("skills")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names.len(), crate::catalog::DEFAULT_PAGE);
    assert_eq!(names[0], "skill-0000");
    assert_eq!(names[499], "skill-0499");
    assert_eq!(first["next_offset"], 500);
    let note = first["note"]
        .as_str()
        .expect("a note says what was left out");
    assert!(note.contains("skills 1 to 500 of 1203"), "{note}");
    assert!(note.contains("offset 500"), "{note}");
    // The last page has no next_offset and no note.
    let last = f.json(LIST_SKILLS, r#"{"offset": 1000, "limit": 500}"#);
    assert_eq!(last["skills"].as_array().map(Vec::len), Some(203));
    assert_eq!(last["skills"][0]["name"], "skill-1000");
    assert!(
        last.get("next_offset").is_none() && last.get("note").is_none(),
        "{last}"
    );
    // A query searches names and descriptions over the whole catalog.
    let found = f.json(LIST_SKILLS, r#"{"query": "JOB 1202"}"#);
    assert_eq!(found["total"], 1);
    assert_eq!(found["skills"][0]["name"], "skill-1202");
    // Out-of-range limits are refused with the range.
    let bad = crate::tools::call(
        f.root(),
        LIST_SKILLS,
        r#"{"limit": 0}"#,
        &mut FakeHost::default(),
    );
    assert!(failure(bad).message().contains("from 1 to"));
}

#[test]
fn a_description_over_the_limit_is_served_with_a_warning() {
    // The official example skills include one of 1,068 characters: agents load it.
    let f = Fixture::new();
    let long = "Long. ".repeat(180);
    f.skill("verbose", long.trim());
    let listing = f.json(LIST_SKILLS, "{}");
    assert_eq!(listing["skills"][0]["name"], "verbose");
    let problem = listing["problems"][0]["message"].as_str().expect("warned");
    assert!(
        problem.contains("`description` is 1079 characters long; the limit is 1024"),
        "{problem}"
    );
    let doc = f.json(GET_SKILL, r#"{"name": "verbose"}"#);
    assert_eq!(doc["description"], long.trim());
}

#[test]
fn listing_sorts_skips_and_reports() {
    let f = Fixture::new();
    f.skill("zeta", "Last one.");
    f.skill("alpha", "First one.");
    f.write("legacy-tool/SKILL.md", "# Legacy\nNo frontmatter here.\n");
    f.write(
        "broken/SKILL.md",
        "---\nname: broken\ndescription: [oops\n---\nbody\n",
    );
    f.write(
        "mismatch/SKILL.md",
        "---\nname: other\ndescription: d\n---\nbody\n",
    );
    f.write("not-a-skill/readme.txt", "hello");
    f.write(
        ".hidden/SKILL.md",
        "---\nname: .hidden\ndescription: d\n---\nb\n",
    );
    f.write("loose-file.md", "not a folder");
    f.write(
        "warned/SKILL.md",
        "---\nname: warned\ndescription: d\nextra: 1\n---\nb\n",
    );

    let mut host = FakeHost::default();
    let text = crate::tools::call(f.root(), LIST_SKILLS, "{}", &mut host).expect("list");
    let warnings = host.warnings;
    let listing: Value = serde_json::from_str(&text).expect("json");
    let root = f.root().display();
    assert_eq!(
        listing["skills"],
        json!([
            {"name": "alpha", "description": "First one.", "path": format!("{root}/alpha")},
            {"name": "legacy-tool", "description": "", "path": format!("{root}/legacy-tool")},
            {"name": "warned", "description": "d", "path": format!("{root}/warned")},
            {"name": "zeta", "description": "Last one.", "path": format!("{root}/zeta")},
        ])
    );
    let problems = listing["problems"].as_array().expect("problems");
    let skills: Vec<&str> = problems
        .iter()
        .map(|p| p["skill"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        skills,
        ["broken", "legacy-tool", "mismatch", "not-a-skill", "warned"]
    );
    let message = |i: usize| problems[i]["message"].as_str().unwrap_or("").to_string();
    assert!(
        message(0).starts_with("SKILL.md:4: error: invalid YAML"),
        "{}",
        message(0)
    );
    assert!(
        message(1).starts_with("SKILL.md:1: warning: no YAML frontmatter"),
        "{}",
        message(1)
    );
    assert!(
        message(2).contains("`other` differs from the folder name `mismatch`"),
        "{}",
        message(2)
    );
    assert_eq!(
        message(3),
        "`not-a-skill` is not a skill: it has no SKILL.md"
    );
    assert!(
        message(4).starts_with("SKILL.md:4: warning: unknown key `extra`"),
        "{}",
        message(4)
    );
    assert_eq!(warnings.len(), 5);
    assert!(
        warnings[0].starts_with("skill `broken`: SKILL.md:4"),
        "{}",
        warnings[0]
    );
}

#[cfg(unix)]
#[test]
fn symlinked_skill_folders_are_reported_not_followed() {
    let f = Fixture::new();
    f.skill("real", "d");
    super::symlink(f.root().join("real"), f.root().join("alias"));
    let listing = f.json(LIST_SKILLS, "{}");
    assert_eq!(listing["skills"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        listing["problems"],
        json!([{"skill": "alias", "message": "symlinks are not followed: alias"}])
    );
    assert_eq!(
        failure(f.call(GET_SKILL, r#"{"name": "alias"}"#)),
        Failure::Denied("symlinks are not followed: alias".to_string())
    );
}

#[test]
fn get_skill_returns_body_metadata_and_files() {
    let f = Fixture::new();
    f.write(
        "unit-converter/SKILL.md",
        "---\nname: unit-converter\ndescription: Convert units.\nlicense: MIT\n---\n# Units\n",
    );
    f.write("unit-converter/scripts/convert.py", "print(1)\n");
    f.write("unit-converter/references/units.md", "# Units\n");
    f.write("unit-converter/README.md", "readme\n");
    f.write("unit-converter/.secret", "hidden\n");
    f.write(
        "unit-converter/scripts/__pycache__/convert.pyc",
        [0u8, 1, 2],
    );
    let doc = f.json(GET_SKILL, r#"{"name": "unit-converter"}"#);
    assert_eq!(
        doc,
        json!({
            "name": "unit-converter",
            "description": "Convert units.",
            "license": "MIT",
            "path": f.root().join("unit-converter").display().to_string(),
            "body": "# Units\n",
            "files": ["README.md", "SKILL.md", "references/units.md", "scripts/convert.py"],
            "files_truncated": false,
        })
    );
}

#[test]
fn get_legacy_skill() {
    let f = Fixture::new();
    f.write("Old Notes/SKILL.md", "# Old\nUse it.\n");
    let doc = f.json(GET_SKILL, r#"{"name": "Old Notes"}"#);
    assert_eq!(doc["name"], "Old Notes");
    assert_eq!(doc["description"], "");
    assert_eq!(doc["body"], "# Old\nUse it.\n");
    assert!(doc.get("license").is_none());
}

#[test]
fn file_list_is_capped() {
    let f = Fixture::new();
    f.skill("many", "d");
    for i in 0..MAX_LISTED_FILES + 5 {
        f.write(&format!("many/data/{i:04}.txt"), "x");
    }
    let doc = f.json(GET_SKILL, r#"{"name": "many"}"#);
    let files = doc["files"].as_array().expect("files");
    assert_eq!(files.len(), MAX_LISTED_FILES);
    assert_eq!(files[0], "SKILL.md");
    assert_eq!(files[1], "data/0000.txt");
    assert_eq!(doc["files_truncated"], true);
}

#[test]
fn get_skill_errors_name_the_skill() {
    let f = Fixture::new();
    f.write("broken/SKILL.md", "---\nname: broken\n---\nbody\n");
    f.write("empty-folder/notes.txt", "x");
    f.write("plain-file", "x");

    let Failure::NotFound(m) = failure(f.call(GET_SKILL, r#"{"name": "nope"}"#)) else {
        panic!("not-found expected");
    };
    assert_eq!(
        m,
        "no skill named `nope` (list_skills shows the available skills)"
    );

    let Failure::NotFound(m) = failure(f.call(GET_SKILL, r#"{"name": "empty-folder"}"#)) else {
        panic!("not-found expected");
    };
    assert_eq!(m, "`empty-folder` is not a skill: it has no SKILL.md");

    let Failure::NotFound(m) = failure(f.call(GET_SKILL, r#"{"name": "plain-file"}"#)) else {
        panic!("not-found expected");
    };
    assert!(m.contains("`plain-file`"), "{m}");

    let Failure::Failed(m) = failure(f.call(GET_SKILL, r#"{"name": "broken"}"#)) else {
        panic!("failed expected");
    };
    assert!(m.contains("skill `broken` cannot be used"), "{m}");
    assert!(
        m.contains("broken/SKILL.md:1: error: the required key `description`"),
        "{m}"
    );
}

#[test]
fn skill_names_are_checked() {
    let f = Fixture::new();
    f.skill("a", "d");
    for (name, why) in [
        ("", "empty"),
        ("../a", "`/`"),
        ("a/b", "`/`"),
        ("a\\\\b", "`\\`"),
        ("..", "`..`"),
        ("x..y", "`..`"),
        (".hidden", "start with `.`"),
        ("nul\\u0000", "NUL"),
    ] {
        let arguments = format!(r#"{{"name": "{name}"}}"#);
        match failure(f.call(GET_SKILL, &arguments)) {
            Failure::InvalidArguments(m) => {
                assert!(m.starts_with("invalid skill name"), "{m}");
                assert!(m.contains(why), "{name}: {m}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn shipped_example_skills() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../skills");
    let call = |tool: &str, arguments: &str| {
        crate::tools::call(&root, tool, arguments, &mut FakeHost::default())
            .expect("example skills work")
    };
    let listing: Value = serde_json::from_str(&call(LIST_SKILLS, "{}")).expect("json");
    assert_eq!(listing["problems"], json!([]));
    let names: Vec<&str> = listing["skills"]
        .as_array()
        .expect("skills")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    for expected in ["csv-stats", "text-stats", "unit-converter"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let doc: Value =
        serde_json::from_str(&call(GET_SKILL, r#"{"name": "unit-converter"}"#)).expect("json");
    assert_eq!(
        doc["files"],
        json!(["SKILL.md", "references/units.md", "scripts/convert.py"])
    );
    let units = call(
        READ_FILE_IN_SKILL,
        r#"{"name": "unit-converter", "path": "references/units.md"}"#,
    );
    assert!(units.contains("1609.344"), "{units}");
}
