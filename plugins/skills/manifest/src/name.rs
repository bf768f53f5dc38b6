//! The rules for a skill's `name`.

use crate::MAX_NAME_CHARS;

/// Check a skill name: 1 to [`MAX_NAME_CHARS`] characters, only lowercase ASCII letters,
/// digits and hyphens, no hyphen at either end and no `--`. The error says which rule broke.
///
/// Names end up in paths and in tool arguments a model writes, so the alphabet is kept
/// small enough that no name can mean anything to a filesystem or a shell.
///
/// ```
/// use skill_manifest::validate_skill_name;
/// assert!(validate_skill_name("csv-stats").is_ok());
/// assert!(validate_skill_name("CSV stats").is_err());
/// ```
pub fn validate_skill_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the name is empty".to_string());
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(format!(
            "the name is {chars} characters long; the limit is {MAX_NAME_CHARS}"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "the name contains {bad:?}: only lowercase ASCII letters, digits and hyphens are \
             allowed"
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err("the name must not start or end with a hyphen".to_string());
    }
    if name.contains("--") {
        return Err("the name must not contain consecutive hyphens (`--`)".to_string());
    }
    Ok(())
}
