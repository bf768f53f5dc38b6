//! The skills folder as a catalog: listing skills, opening one by name, listing its files.
//!
//! Every function takes the folder's root path: `/skills` in the component (the only
//! preopen the host gives this plugin), a temporary folder in the native unit tests.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use skill_manifest::{
    Frontmatter, SKILL_FILE, SKILL_FILES, Severity, parse_skill_md, validate_skill_name,
};

use crate::error::{Failure, Outcome};
use crate::files::{self, locate, read_text};

/// Where the host mounts the user's skills folder (read-only) inside the sandbox.
pub const SKILLS_ROOT: &str = "/skills";

/// The answer when the host granted no skills folder.
pub const NO_SKILLS_FOLDER: &str = "no skills folder is granted to this plugin: run with \
                                    --skills DIR or grant a folder in wasmhost.toml";

/// Skills one `list_skills` page shows by default; every skill is reachable with `offset`
/// (or found with `query`), and a page says how to get the next.
pub const DEFAULT_PAGE: usize = 500;

/// The largest page a caller may ask for: ~1 MiB of names and descriptions, what the host
/// hands a model in one tool result.
pub const MAX_PAGE: usize = 4_000;

/// Problems one listing reports in full; the rest are counted, and `wasmhost skills check`
/// shows them all.
pub const MAX_LISTED_PROBLEMS: usize = 100;

/// The most file paths `get_skill` lists for one skill.
pub const MAX_LISTED_FILES: usize = 200;

/// How deep `get_skill` looks for files under a skill folder.
const MAX_WALK_DEPTH: usize = 8;

/// The most directory entries `get_skill` examines, so a huge ignored folder (hidden, or
/// `__pycache__`) costs bounded time.
const MAX_WALK_ENTRIES: usize = 5_000;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Listing {
    /// This page of the usable skills (that match the query), sorted by name.
    pub skills: Vec<Summary>,
    /// How many usable skills (that match the query) there are in all.
    pub total: usize,
    /// Where this page starts in the sorted list.
    pub offset: usize,
    /// Where the next page starts, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
    /// What was left out and how to reach it, when anything was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub problems: Vec<ListedProblem>,
}

/// Which part of the catalog to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Only skills whose name or description contains this (case-insensitive).
    pub query: Option<String>,
    pub offset: usize,
    pub limit: usize,
}

impl Default for Page {
    fn default() -> Self {
        Self {
            query: None,
            offset: 0,
            limit: DEFAULT_PAGE,
        }
    }
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub name: String,
    /// Empty for a legacy skill (no frontmatter).
    pub description: String,
    /// The skill's folder as the sandbox sees it, e.g. `/skills/unit-converter`.
    pub path: String,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ListedProblem {
    /// The folder name.
    pub skill: String,
    pub message: String,
}

/// What `get_skill` returns.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct SkillDoc {
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatibility: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_tools: Option<String>,
    pub path: String,
    pub body: String,
    pub files: Vec<String>,
    pub files_truncated: bool,
}

/// Refuse politely when the host granted no skills folder.
fn check_root(root: &Path) -> Outcome<()> {
    match fs::metadata(root) {
        Ok(meta) if meta.is_dir() => Ok(()),
        _ => Err(Failure::Denied(NO_SKILLS_FOLDER.to_string())),
    }
}

/// A skill name from the model: a valid name, or any legacy folder name that is still a
/// single plain path component.
pub fn check_name(name: &str) -> Outcome<()> {
    if validate_skill_name(name).is_ok() {
        return Ok(());
    }
    let why = if name.is_empty() {
        "the name is empty"
    } else if name.contains(['/', '\\']) {
        "a skill name cannot contain `/` or `\\`"
    } else if name.contains("..") {
        "a skill name cannot contain `..`"
    } else if name.contains('\0') {
        "a skill name cannot contain a NUL character"
    } else if name.starts_with('.') {
        "a skill name cannot start with `.`"
    } else {
        return Ok(());
    };
    Err(Failure::InvalidArguments(format!(
        "invalid skill name `{name}`: {why}"
    )))
}

/// The folder of skill `name`; a symlinked folder is refused like any other symlink.
fn skill_dir(root: &Path, name: &str) -> Outcome<PathBuf> {
    let dir = root.join(name);
    match fs::symlink_metadata(&dir) {
        Ok(meta) if meta.file_type().is_symlink() => Err(Failure::Denied(format!(
            "symlinks are not followed: {name}"
        ))),
        Ok(meta) if meta.is_dir() => Ok(dir),
        Ok(_) => Err(Failure::NotFound(format!(
            "no skill named `{name}`: it is a file, not a folder"
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Failure::NotFound(format!(
            "no skill named `{name}` (list_skills shows the available skills)"
        ))),
        Err(e) => Err(Failure::Failed(format!(
            "cannot examine skill `{name}`: {e}"
        ))),
    }
}

/// Read `SKILL.md` (or, without one, `skill.md`) of the skill in `dir`, a folder known not
/// to be a symlink, with the same rules as any served file.
fn read_skill_md(dir: &Path, name: &str) -> Outcome<String> {
    for file in SKILL_FILES {
        if let Some(text) = files::read_in_folder(dir, name, file)? {
            return Ok(text);
        }
    }
    Err(Failure::NotFound(format!(
        "`{name}` is not a skill: it has no {SKILL_FILE}"
    )))
}

/// `list_skills`: the usable skills, sorted by name (one page of them), and what is wrong
/// with the others. Every folder is examined, whatever their number, so `total` and the
/// order are the whole catalog's.
pub fn list(root: &Path, page: &Page) -> Outcome<Listing> {
    check_root(root)?;
    let entries = fs::read_dir(root)
        .map_err(|e| Failure::Failed(format!("cannot list the skills folder: {e}")))?;
    let mut problems = Vec::new();
    let mut problem = |skill: &str, message: String| {
        problems.push(ListedProblem {
            skill: skill.to_string(),
            message,
        })
    };
    let mut folders = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| Failure::Failed(format!("cannot list the skills folder: {e}")))?;
        let Ok(folder) = entry.file_name().into_string() else {
            let lossy = entry.file_name().to_string_lossy().into_owned();
            problem(
                &lossy,
                "the folder name is not UTF-8; rename it".to_string(),
            );
            continue;
        };
        if folder.starts_with('.') {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_symlink() {
            problem(&folder, format!("symlinks are not followed: {folder}"));
            continue;
        }
        if kind.is_dir() {
            folders.push(folder);
        }
    }
    // Sorted before anything is read, so the catalog is the same whatever the directory
    // order.
    folders.sort();
    let query = page.query.as_deref().map(str::to_lowercase);
    let mut skills = Vec::new();
    for folder in folders {
        let text = match read_skill_md(&root.join(&folder), &folder) {
            Ok(text) => text,
            Err(failure) => {
                problem(&folder, failure.message().to_string());
                continue;
            }
        };
        let parsed = parse_skill_md(&folder, &text);
        for p in &parsed.problems {
            problem(&folder, p.as_loaded().render(SKILL_FILE));
        }
        if parsed.blocks_loading() {
            continue;
        }
        let description = parsed
            .frontmatter
            .map(|fm| fm.description)
            .unwrap_or_default();
        let matches = query.as_deref().is_none_or(|q| {
            folder.to_lowercase().contains(q) || description.to_lowercase().contains(q)
        });
        if matches {
            skills.push(Summary {
                path: root.join(&folder).display().to_string(),
                name: folder,
                description,
            });
        }
    }
    // Stable: one skill's problems keep their line order.
    problems.sort_by(|a, b| a.skill.cmp(&b.skill));
    Ok(paged(skills, problems, page))
}

/// One page of `skills`, with the totals and a note on what the page left out.
fn paged(skills: Vec<Summary>, mut problems: Vec<ListedProblem>, page: &Page) -> Listing {
    let total = skills.len();
    let offset = page.offset.min(total);
    let shown: Vec<Summary> = skills.into_iter().skip(offset).take(page.limit).collect();
    let end = offset + shown.len();
    let next_offset = (end < total).then_some(end);
    let mut notes = Vec::new();
    if let Some(next) = next_offset {
        notes.push(format!(
            "skills {} to {end} of {total} are shown; call list_skills with offset {next} for \
             the next page, or with a query to search names and descriptions",
            offset + 1
        ));
    }
    if problems.len() > MAX_LISTED_PROBLEMS {
        let more = problems.len() - MAX_LISTED_PROBLEMS;
        problems.truncate(MAX_LISTED_PROBLEMS);
        notes.push(format!(
            "{more} more problems are not listed; `wasmhost skills check` on the folder shows \
             them all"
        ));
    }
    Listing {
        skills: shown,
        total,
        offset,
        next_offset,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
        problems,
    }
}

/// A skill that passed every check: safe to describe and to serve files from.
struct OpenSkill {
    dir: PathBuf,
    /// `None` for a legacy skill.
    frontmatter: Option<Frontmatter>,
    body: String,
}

/// Open a usable skill by name. A skill `list_skills` would not list is refused here too,
/// with the errors that keep it out.
fn open(root: &Path, name: &str) -> Outcome<OpenSkill> {
    check_root(root)?;
    check_name(name)?;
    let dir = skill_dir(root, name)?;
    let text = read_skill_md(&dir, name)?;
    let parsed = parse_skill_md(name, &text);
    if parsed.blocks_loading() {
        let problems: Vec<String> = parsed
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error && !p.tolerable)
            .map(|p| p.render(&format!("{name}/{SKILL_FILE}")))
            .collect();
        return Err(Failure::Failed(format!(
            "skill `{name}` cannot be used until its SKILL.md is fixed: {}",
            problems.join("; ")
        )));
    }
    Ok(OpenSkill {
        dir,
        frontmatter: parsed.frontmatter,
        body: parsed.body.to_string(),
    })
}

/// `get_skill`: the instructions and file list of one skill.
pub fn get(root: &Path, name: &str) -> Outcome<SkillDoc> {
    let OpenSkill {
        dir,
        frontmatter,
        body,
    } = open(root, name)?;
    let (files, files_truncated) = list_files(&dir);
    let frontmatter = frontmatter.unwrap_or_default();
    Ok(SkillDoc {
        name: name.to_string(),
        description: frontmatter.description,
        license: frontmatter.license,
        compatibility: frontmatter.compatibility,
        allowed_tools: frontmatter.allowed_tools,
        path: dir.display().to_string(),
        body,
        files,
        files_truncated,
    })
}

/// `read_file_in_skill`: one text file of a usable skill.
pub fn read_file(root: &Path, name: &str, path: &str) -> Outcome<String> {
    let parts = crate::files::relative_components(path).map_err(|why| {
        Failure::InvalidArguments(format!("invalid path `{path}` in skill `{name}`: {why}"))
    })?;
    let skill = open(root, name)?;
    let located = locate(&skill.dir, name, &parts)?;
    read_text(&located)
}

/// `run_python_script`: check that `name` is a usable skill and that `script`, when given,
/// is a regular file in it reached without `..` or symlinks (the host checks again). Returns
/// the script's path normalized (`./scripts//run.py` gives `scripts/run.py`).
pub fn check_script(root: &Path, name: &str, script: Option<&str>) -> Outcome<Option<String>> {
    let parts = script
        .map(|path| {
            crate::files::relative_components(path).map_err(|why| {
                Failure::InvalidArguments(format!(
                    "invalid script path `{path}` in skill `{name}`: {why}"
                ))
            })
        })
        .transpose()?;
    let skill = open(root, name)?;
    let Some(parts) = parts else {
        return Ok(None);
    };
    let located = locate(&skill.dir, name, &parts)?;
    let shown = located.display();
    if located.metadata.is_dir() {
        return Err(Failure::InvalidArguments(format!(
            "`{shown}` is a folder; give the path of a Python file (get_skill lists them)"
        )));
    }
    if !located.metadata.is_file() {
        return Err(Failure::Denied(format!(
            "`{shown}` is not a regular file; only regular files are run"
        )));
    }
    Ok(Some(located.relative))
}

/// The regular files under `dir`, relative and `/`-separated, in sorted walk order, at most
/// [`MAX_LISTED_FILES`]; the flag says whether some were left out. Hidden entries,
/// `__pycache__` and symlinks are skipped: none of them can be read through this plugin
/// usefully, and listing them would only invite refused calls.
pub fn list_files(dir: &Path) -> (Vec<String>, bool) {
    let mut walk = Walk {
        files: Vec::new(),
        budget: MAX_WALK_ENTRIES,
        truncated: false,
    };
    walk.visit(dir, "", 0);
    (walk.files, walk.truncated)
}

struct Walk {
    files: Vec<String>,
    budget: usize,
    truncated: bool,
}

impl Walk {
    fn visit(&mut self, dir: &Path, prefix: &str, depth: usize) {
        let Ok(listing) = fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<(bool, String, fs::FileType)> = Vec::new();
        for entry in listing {
            if self.budget == 0 {
                self.truncated = true;
                break;
            }
            self.budget -= 1;
            let Ok(entry) = entry else { continue };
            let (Ok(name), Ok(kind)) = (entry.file_name().into_string(), entry.file_type()) else {
                continue;
            };
            if name.starts_with('.') || name == "__pycache__" || kind.is_symlink() {
                continue;
            }
            entries.push((kind.is_dir(), name, kind));
        }
        // Files of a folder before its subfolders, each sorted: SKILL.md comes first.
        entries.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        for (_, name, kind) in entries {
            let relative = format!("{prefix}{name}");
            if kind.is_file() {
                if self.files.len() == MAX_LISTED_FILES {
                    self.truncated = true;
                    return;
                }
                self.files.push(relative);
            } else if kind.is_dir() {
                if depth + 1 >= MAX_WALK_DEPTH {
                    self.truncated = true;
                    continue;
                }
                self.visit(&dir.join(&name), &format!("{relative}/"), depth + 1);
                if self.truncated && self.files.len() == MAX_LISTED_FILES {
                    return;
                }
            }
        }
    }
}
