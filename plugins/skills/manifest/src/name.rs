//! The rules for a skill's `name`, as the Agent Skills reference validator (`skills-ref`)
//! applies them: the name, trimmed and NFKC-normalized, is 1 to [`MAX_NAME_CHARS`]
//! characters of lowercase letters, digits and hyphens in any script (`навык`, `技能`,
//! `café`), with no hyphen at either end and no `--`.
//!
//! Letters and digits are the Unicode categories L* and N*, as Python's `str.isalnum`
//! counts them; combining marks are not letters, so a name needing them (Devanagari) is
//! refused, as the reference refuses it. None of these characters means anything to a
//! filesystem or a shell.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

use crate::MAX_NAME_CHARS;

/// The name as it is compared with its folder's: trimmed, then NFKC-normalized.
pub fn normalize_name(name: &str) -> String {
    name.trim().nfkc().collect()
}

/// The folder name as it is compared with the skill's name: NFKC-normalized (not trimmed:
/// a folder name is what it is).
pub fn normalize_folder_name(folder: &str) -> String {
    folder.nfkc().collect()
}

fn letter_or_digit(c: char) -> bool {
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter | GeneralCategoryGroup::Number
    )
}

/// Every rule `name` breaks, each said in one sentence; empty when it is valid.
pub fn name_problems(name: &str) -> Vec<String> {
    let name = normalize_name(name);
    if name.is_empty() {
        return vec!["the name is empty".to_string()];
    }
    let mut problems = Vec::new();
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        problems.push(format!(
            "the name is {chars} characters long; the limit is {MAX_NAME_CHARS}"
        ));
    }
    if name.to_lowercase() != name {
        problems.push("the name must be lowercase".to_string());
    }
    if name.starts_with('-') || name.ends_with('-') {
        problems.push("the name must not start or end with a hyphen".to_string());
    }
    if name.contains("--") {
        problems.push("the name must not contain consecutive hyphens (`--`)".to_string());
    }
    if let Some(bad) = name.chars().find(|&c| !(letter_or_digit(c) || c == '-')) {
        problems.push(format!(
            "the name contains {bad:?}: only letters, digits and hyphens are allowed"
        ));
    }
    problems
}

/// Check a skill name (see the module's rules); the error says the first rule it breaks.
///
/// ```
/// use skill_manifest::validate_skill_name;
/// assert!(validate_skill_name("csv-stats").is_ok());
/// assert!(validate_skill_name("мой-навык").is_ok());
/// assert!(validate_skill_name("CSV stats").is_err());
/// ```
pub fn validate_skill_name(name: &str) -> Result<(), String> {
    match name_problems(name).into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}
