//! Skills over MCP, read by the SDK: files as resources, skills as prompts; what the catalog
//! leaves out of a hostile folder (symlinks, hidden files, a mismatched name).

use serde_json::{Value, json};
use wasmhost_e2e::guests;

use super::{HttpServer, session, skills_dir};
use crate::support::repo_root;

fn on_disk(path: &str) -> String {
    std::fs::read_to_string(repo_root().join("skills").join(path)).expect("skill file")
}

#[test]
fn skill_files_are_resources_and_skills_are_prompts_over_stdio() {
    let dir = tempfile::tempdir().expect("tempdir");
    let steps = json!([
        {"op": "list_resources"},
        {"op": "read_resource", "uri": "skill://unit-converter/SKILL.md"},
        {"op": "read_resource", "uri": "skill://unit-converter/references/units.md"},
        {"op": "read_resource", "uri": "skill://unit-converter/../csv-stats/SKILL.md"},
        {"op": "read_resource", "uri": "skill://unit-converter/nope.md"},
        {"op": "list_prompts"},
        {"op": "get_prompt", "name": "unit-converter",
         "args": {"task": "How many miles is 42 km?"}},
        {"op": "get_prompt", "name": "text-stats"},
        {"op": "get_prompt", "name": "nope"},
    ]);
    let (report, stderr) = session(dir.path(), &["--skills", &skills_dir()], steps);
    assert_eq!(report["server"]["resources_capability"], true, "{report}");
    assert_eq!(report["server"]["prompts_capability"], true, "{report}");
    assert!(
        stderr.contains("serving 4 tools and 3 skills (as resources and prompts)"),
        "{stderr}"
    );
    let calls = report["calls"].as_array().expect("calls");

    let listed = calls[0]["resources"].as_array().expect("resources");
    let uris: Vec<&str> = listed.iter().filter_map(|r| r["uri"].as_str()).collect();
    assert_eq!(
        uris,
        [
            "skill://csv-stats/SKILL.md",
            "skill://text-stats/SKILL.md",
            "skill://unit-converter/SKILL.md"
        ]
    );
    let converter = &listed[2];
    assert_eq!(converter["name"], "unit-converter");
    assert_eq!(converter["mime_type"], "text/markdown");
    assert!(
        converter["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );

    // The bytes on disk, exactly.
    assert_eq!(
        calls[1]["contents"][0]["text"],
        on_disk("unit-converter/SKILL.md")
    );
    assert_eq!(
        calls[2]["contents"][0]["text"],
        on_disk("unit-converter/references/units.md")
    );
    // No way out of a skill's folder, and no guessing.
    for refused in [&calls[3], &calls[4]] {
        assert_eq!(refused["error"]["code"], -32002, "{refused}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("skill://NAME/PATH")),
            "{refused}"
        );
    }

    let prompts = calls[5]["prompts"].as_array().expect("prompts");
    let names: Vec<&str> = prompts.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["csv-stats", "text-stats", "unit-converter"]);
    assert_eq!(prompts[2]["arguments"], json!(["task"]));
    assert_eq!(prompts[2]["description"], converter["description"]);

    let prompt = &calls[6];
    assert_eq!(prompt["messages"].as_array().map(Vec::len), Some(1));
    assert_eq!(prompt["messages"][0]["role"], "user");
    let text = prompt["messages"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains(&on_disk("unit-converter/SKILL.md")), "{text}");
    assert!(text.ends_with("Task: How many miles is 42 km?"), "{text}");
    let text = calls[7]["messages"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains(&on_disk("text-stats/SKILL.md")), "{text}");
    assert!(!text.contains("Task:"), "no task given, none added: {text}");
    assert_eq!(calls[8]["error"]["code"], -32602, "{}", calls[8]);
    assert!(
        calls[8]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("available: csv-stats, text-stats, unit-converter")),
        "{}",
        calls[8]
    );
}

#[test]
fn without_a_skills_folder_there_are_no_resources_or_prompts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (report, _) = session(
        dir.path(),
        &["--tool", guests::HOSTILE],
        json!([{"op": "read_resource", "uri": "skill://unit-converter/SKILL.md"}]),
    );
    assert_eq!(report["server"]["resources_capability"], false, "{report}");
    assert_eq!(report["server"]["prompts_capability"], false, "{report}");
    assert_eq!(report["calls"][0]["error"]["code"], -32002, "{report}");
}

/// A skill folder with a good skill and the things a hostile or careless one holds.
fn hostile_skills(root: &std::path::Path, outside: &std::path::Path) {
    let skill = |name: &str, frontmatter_name: &str| {
        let folder = root.join(name);
        std::fs::create_dir_all(&folder).expect("mkdir");
        std::fs::write(
            folder.join("SKILL.md"),
            format!(
                "---\nname: {frontmatter_name}\ndescription: The {name} skill.\n---\n\n# {name}\n"
            ),
        )
        .expect("write");
        folder
    };
    let good = skill("good", "good");
    std::fs::write(good.join(".env"), "API_KEY=sk-hidden").expect("write");
    std::fs::create_dir_all(good.join(".git")).expect("mkdir");
    std::fs::write(good.join(".git/config"), "secret").expect("write");
    std::fs::write(good.join("logo.bin"), [0u8, 159, 146, 150, 255]).expect("write");
    std::fs::write(outside.join("secret.txt"), "outside the skills folder").expect("write");
    let linked = skill("linked", "linked");
    std::os::unix::fs::symlink(outside.join("secret.txt"), linked.join("notes.md"))
        .expect("symlink");
    let escaping = skill("escaping", "escaping");
    std::os::unix::fs::symlink(outside, escaping.join("refs")).expect("symlink");
    skill("renamed", "not-the-folder-name");
    // A folder name that would clear the user's terminal if printed raw.
    skill("evil\u{1b}[2J\u{1b}]0;owned\u{7}", "evil");
}

#[test]
fn a_hostile_skills_folder_serves_only_what_is_inside_and_plain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("skills");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    hostile_skills(&root, &outside);
    let root = root.to_string_lossy().into_owned();
    let steps = json!([
        {"op": "list_resources"},
        {"op": "read_resource", "uri": "skill://good/logo.bin"},
        {"op": "read_resource", "uri": "skill://good/.env"},
        {"op": "read_resource", "uri": "skill://good/.git/config"},
        {"op": "read_resource", "uri": "skill://linked/notes.md"},
        {"op": "read_resource", "uri": "skill://escaping/refs/secret.txt"},
        {"op": "list_prompts"},
    ]);
    let (report, stderr) = session(dir.path(), &["--skills", &root], steps);
    let calls = report["calls"].as_array().expect("calls");
    let uris: Vec<&str> = calls[0]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["uri"].as_str())
        .collect();
    assert_eq!(uris, ["skill://good/SKILL.md"], "{report}");
    // A binary file is served as base64, never as text.
    let logo = &calls[1]["contents"][0];
    assert_eq!(logo["text"], Value::Null, "{logo}");
    assert_eq!(logo["blob"], "AJ+Slv8=", "{logo}");
    for refused in &calls[2..6] {
        assert_eq!(refused["error"]["code"], -32002, "{refused}");
    }
    let prompts: Vec<&str> = calls[6]["prompts"]
        .as_array()
        .expect("prompts")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(prompts, ["good"]);
    assert!(
        !serde_json::to_string(&report)
            .expect("json")
            .contains("outside the skills")
    );
    // Each skill left out is named, with the reason.
    for (skill, reason) in [
        ("escaping", "symlink"),
        ("linked", "symlink"),
        ("renamed", "not-the-folder-name"),
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains("skipping skill") && l.contains(skill) && l.contains(reason)),
            "{skill}: {stderr}"
        );
    }
    assert!(
        stderr.contains("serving 4 tools and 1 skill (as"),
        "{stderr}"
    );
}

#[test]
fn resources_and_prompts_over_streamable_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = HttpServer::start(dir.path(), &["--skills", &skills_dir()], &[]);
    let report = server.session(
        dir.path(),
        json!([
            {"op": "read_resource", "uri": "skill://csv-stats/scripts/stats.py"},
            {"op": "get_prompt", "name": "csv-stats", "args": {"task": "Summarise data.csv"}},
        ]),
        None,
    );
    let calls = report["calls"].as_array().expect("calls");
    assert_eq!(
        calls[0]["contents"][0]["text"],
        on_disk("csv-stats/scripts/stats.py"),
        "{report}"
    );
    let text = calls[1]["messages"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains(&on_disk("csv-stats/SKILL.md")), "{text}");
    assert!(text.ends_with("Task: Summarise data.csv"), "{text}");
}
