//! The example skills shipped in the repository's `skills/` folder must stay valid: the
//! tests and the offline demo rely on them.

use std::fs;
use std::path::Path;

use skill_manifest::{SKILL_FILE, parse_skill_md};

#[test]
fn shipped_skills_have_no_problems() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../skills");
    let mut checked = Vec::new();
    for entry in fs::read_dir(&root).expect("the repository has a skills/ folder") {
        let entry = entry.expect("entry");
        if !entry.file_type().expect("file type").is_dir() {
            continue;
        }
        let folder = entry.file_name().into_string().expect("UTF-8 folder name");
        let text = fs::read_to_string(entry.path().join(SKILL_FILE)).expect("SKILL.md");
        let skill = parse_skill_md(&folder, &text);
        let problems: Vec<String> = skill
            .problems
            .iter()
            .map(|p| p.render(&format!("skills/{folder}/{SKILL_FILE}")))
            .collect();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        let frontmatter = skill.frontmatter.expect("frontmatter");
        assert!(
            frontmatter.description.len() > 80,
            "{folder}: describe when to use it"
        );
        checked.push(folder);
    }
    checked.sort();
    assert!(checked.len() >= 3, "{checked:?}");
    assert!(checked.contains(&"unit-converter".to_string()));
}
