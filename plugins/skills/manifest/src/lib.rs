//! Parse and check `SKILL.md` files of the Agent Skills convention.
//!
//! A skill is a folder holding a `SKILL.md`: YAML frontmatter between two `---` lines at the
//! very top of the file, then Markdown instructions for the model. The frontmatter has
//! `name` (required; must equal the folder name, see [`validate_skill_name`]), `description`
//! (required), and optionally `license`, `compatibility`, `metadata` and `allowed-tools`.
//!
//! Parsing never fails: everything wrong with a file is a [`Problem`] with a 1-based line
//! number in `SKILL.md`, so a checker can print `file:line: message` and a host can list the
//! good skills next to the reasons the others were skipped. The rules are those of the
//! reference validator (`skills-ref`); the errors agents tolerate when they load skills (a
//! long description, an unknown key, no frontmatter at all) are marked
//! [`Problem::tolerable`], so a host can serve such a skill with a warning while a checker
//! fails it. A legacy `SKILL.md` with no frontmatter is known by its folder name.
//!
//! This crate is pure Rust with no I/O: it builds natively and for `wasm32-wasip2`.
//!
//! ```
//! use skill_manifest::parse_skill_md;
//!
//! let text = "---\nname: unit-converter\ndescription: Convert units.\n---\n# Usage\nRun it.\n";
//! let skill = parse_skill_md("unit-converter", text);
//! assert!(skill.problems.is_empty());
//! let frontmatter = skill.frontmatter.as_ref().expect("has frontmatter");
//! assert_eq!(frontmatter.description, "Convert units.");
//! assert_eq!(skill.body, "# Usage\nRun it.\n");
//! assert_eq!(skill.body_line, 5);
//!
//! let bad = parse_skill_md("my-skill", "---\nname: My Skill\ndescription: d\n---\nBody\n");
//! assert!(bad.has_errors());
//! let first = bad.problems[0].render("my-skill/SKILL.md");
//! assert!(first.starts_with("my-skill/SKILL.md:2: error: invalid name `My Skill`"));
//! ```

mod fields;
mod name;
mod split;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

pub use name::{name_problems, normalize_folder_name, normalize_name, validate_skill_name};

/// The file that makes a folder a skill.
pub const SKILL_FILE: &str = "SKILL.md";
/// The names a skill's file is looked for under, in order: the reference validator
/// accepts a lowercase `skill.md` when there is no `SKILL.md`.
pub const SKILL_FILES: [&str; 2] = [SKILL_FILE, "skill.md"];
/// The longest allowed `name`, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// The longest allowed `description`, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
/// The longest allowed `compatibility`, in characters.
pub const MAX_COMPATIBILITY_CHARS: usize = 500;
/// The largest frontmatter block we hand to the YAML parser, in bytes. Real frontmatter is a
/// few hundred bytes; the cap keeps a hostile or broken file from costing much.
pub const MAX_FRONTMATTER_BYTES: usize = 64 * 1024;

/// The keys the convention defines. Anything else is a (tolerable) error.
pub const KNOWN_KEYS: [&str; 6] = [
    "name",
    "description",
    "license",
    "compatibility",
    "metadata",
    "allowed-tools",
];

/// The fields of a `SKILL.md` frontmatter block.
///
/// Present whenever the block is a YAML mapping with both `name` and `description` as text,
/// even when a value breaks a rule: the rules broken are in [`ParsedSkill::problems`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontmatter {
    pub name: String,
    /// Trimmed of surrounding whitespace (a folded `>` block ends with a newline).
    pub description: String,
    pub license: Option<String>,
    pub compatibility: Option<String>,
    /// Free-form string pairs; numbers and booleans are kept as written (`version: 1.0`
    /// gives `"1.0"`).
    pub metadata: BTreeMap<String, String>,
    /// Space-separated tool names. A YAML list of names is accepted too and joined with
    /// spaces, since some tools write it that way.
    pub allowed_tools: Option<String>,
}

/// How bad a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Advice; the reference validator would pass the file (an empty body).
    Warning,
    /// The skill must not be offered until the file is fixed.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One thing wrong with a `SKILL.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in `SKILL.md` (counting from the first line after a BOM, if any).
    pub line: usize,
    pub severity: Severity,
    pub message: String,
    /// An error of the convention that agents loading skills tolerate (a field over its
    /// length limit): `skills check` reports it as an error, a loader serves the skill
    /// and warns.
    pub tolerable: bool,
}

impl Problem {
    pub(crate) fn error(line: usize, message: impl Into<String>) -> Self {
        Problem {
            line,
            severity: Severity::Error,
            message: message.into(),
            tolerable: false,
        }
    }

    pub(crate) fn warning(line: usize, message: impl Into<String>) -> Self {
        Problem {
            line,
            severity: Severity::Warning,
            message: message.into(),
            tolerable: false,
        }
    }

    /// An error a loader may tolerate (see [`Problem::tolerable`]).
    pub(crate) fn tolerable_error(line: usize, message: impl Into<String>) -> Self {
        Problem {
            tolerable: true,
            ..Problem::error(line, message)
        }
    }

    /// The problem as a loader reports it: a tolerable error becomes a warning that says
    /// the skill is served anyway.
    pub fn as_loaded(&self) -> Problem {
        if !self.tolerable || self.severity != Severity::Error {
            return self.clone();
        }
        Problem {
            severity: Severity::Warning,
            message: format!(
                "{} (served anyway; `wasmhost skills check` reports it as an error)",
                self.message
            ),
            ..self.clone()
        }
    }

    /// `file:line: severity: message`, the shape compilers use, so editors can jump to it.
    pub fn render(&self, file: &str) -> String {
        format!("{file}:{}: {self}", self.line)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity, self.message)
    }
}

/// What [`parse_skill_md`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSkill<'a> {
    /// `None` for a legacy file (no frontmatter) and for a block too broken to read `name`
    /// and `description` from; [`ParsedSkill::is_legacy`] tells the two apart.
    pub frontmatter: Option<Frontmatter>,
    /// The Markdown after the closing `---` line (the whole file, less a BOM, when there is
    /// no frontmatter). Line endings are kept as written.
    pub body: &'a str,
    /// The 1-based line of `SKILL.md` on which [`ParsedSkill::body`] starts.
    pub body_line: usize,
    /// Everything wrong, in line order.
    pub problems: Vec<Problem>,
}

impl ParsedSkill<'_> {
    /// True when at least one problem is an error (what `skills check` fails on).
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }

    /// True when an error keeps the skill from being served at all; tolerable errors (a
    /// description over its length limit) do not, as in the agents that load skills.
    pub fn blocks_loading(&self) -> bool {
        self.problems
            .iter()
            .any(|p| p.severity == Severity::Error && !p.tolerable)
    }

    /// True for a loadable file without frontmatter, known by its folder name alone.
    pub fn is_legacy(&self) -> bool {
        self.frontmatter.is_none() && !self.blocks_loading()
    }
}

/// Parse the text of `<folder_name>/SKILL.md`. Never fails; see [`ParsedSkill::problems`].
pub fn parse_skill_md<'a>(folder_name: &str, text: &'a str) -> ParsedSkill<'a> {
    let mut problems = Vec::new();
    let mut parsed = match split::split(text) {
        split::Split::NoFrontmatter { body } => {
            // The convention requires frontmatter; agents still load such legacy skills.
            problems.push(Problem::tolerable_error(
                1,
                "no YAML frontmatter (the first line must be `---`): a legacy skill, known \
                 by its folder name and with no description",
            ));
            ParsedSkill {
                frontmatter: None,
                body,
                body_line: 1,
                problems,
            }
        }
        split::Split::Unclosed { body } => {
            problems.push(Problem::error(
                1,
                "frontmatter opened with `---` on line 1 is never closed by another `---` line",
            ));
            ParsedSkill {
                frontmatter: None,
                body,
                body_line: 1,
                problems,
            }
        }
        split::Split::Block {
            yaml,
            yaml_line,
            body,
            body_line,
        } => {
            let frontmatter = fields::read(yaml, yaml_line, folder_name, &mut problems);
            if body.trim().is_empty() {
                problems.push(Problem::warning(
                    body_line - 1,
                    "no instructions after the frontmatter: the body of SKILL.md is empty",
                ));
            }
            ParsedSkill {
                frontmatter,
                body,
                body_line,
                problems,
            }
        }
    };
    if text.starts_with('\u{feff}') {
        // Invisible in editors, and the reference validator refuses the file for it.
        parsed.problems.push(Problem::tolerable_error(
            1,
            "the file starts with a byte-order mark (U+FEFF): save it as UTF-8 without one, \
             so that its first line is `---`",
        ));
    }
    // Stable sort: problems on one line keep the order they were found in.
    parsed.problems.sort_by_key(|p| p.line);
    parsed
}
