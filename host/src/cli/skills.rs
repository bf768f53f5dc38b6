//! `wasmhost skills check DIR`: checks skill folders against the Agent Skills convention
//! with the rules the skills plugin applies (the `skill-manifest` crate for `SKILL.md`),
//! plus what only a look at the folder shows: scripts that are not regular files, symlinks,
//! files too big to read. Problems print like a compiler's, `PATH:LINE: error: message`
//! (no `LINE` for a problem with a whole file or folder), then a summary line. Exit code 0
//! when there is no error (warnings allowed), 1 when there is one, 2 for a usage error.

mod walk;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;
use skill_manifest::{SKILL_FILE, SKILL_FILES, Severity, parse_skill_md};

use super::UsageError;

#[derive(Debug, clap::Args)]
pub struct SkillsArgs {
    #[command(subcommand)]
    command: SkillsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SkillsCommand {
    /// Check every skill folder under DIR, or DIR itself when it holds a SKILL.md:
    /// frontmatter, names, scripts, symlinks and file sizes.
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// A skills folder (one skill per subfolder) or a single skill's folder.
    dir: PathBuf,
    /// Print one JSON object: {"skills", "errors", "warnings", "problems": [{"path",
    /// "line", "severity", "message"}]}.
    #[arg(long)]
    json: bool,
}

/// The largest file the skills plugin reads (`read_file_in_skill`, and `SKILL.md` itself).
pub const MAX_FILE_BYTES: u64 = 2 << 20;

/// One problem, at a path as the user spelled `DIR`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub path: String,
    /// 1-based; `None` for a problem with a whole file or folder.
    pub line: Option<usize>,
    #[serde(serialize_with = "serialize_severity")]
    pub severity: Severity,
    pub message: String,
}

impl Diagnostic {
    fn new(path: &Path, severity: Severity, message: impl Into<String>) -> Self {
        Self {
            path: path.display().to_string(),
            line: None,
            severity,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: ", self.path)?,
            None => write!(f, "{}: ", self.path)?,
        }
        write!(f, "{}: {}", self.severity, self.message)
    }
}

fn serialize_severity<S: serde::Serializer>(s: &Severity, ser: S) -> Result<S::Ok, S::Error> {
    ser.collect_str(s)
}

#[derive(Debug, Default, Serialize)]
struct Report {
    skills: usize,
    errors: usize,
    warnings: usize,
    problems: Vec<Diagnostic>,
}

pub async fn run(args: SkillsArgs) -> Result<ExitCode> {
    let SkillsCommand::Check(args) = args.command;
    if !args.dir.is_dir() {
        anyhow::bail!(UsageError(format!(
            "{}: not a folder (give a skills folder or one skill's folder)",
            args.dir.display()
        )));
    }
    let dir = args.dir.clone();
    let report = tokio::task::spawn_blocking(move || check(&dir)).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for problem in &report.problems {
            println!("{}", super::terminal::text(&problem.to_string()));
        }
        println!(
            "checked {} skill folder{}: {} error{}, {} warning{}",
            report.skills,
            plural(report.skills),
            report.errors,
            plural(report.errors),
            report.warnings,
            plural(report.warnings),
        );
    }
    Ok(if report.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `dir` as one skill when it holds a `SKILL.md`, else every non-hidden subfolder of it.
fn check(dir: &Path) -> Report {
    let mut problems = Vec::new();
    let mut skills = 0;
    if skill_file(dir).is_some() {
        let name = dir
            .canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default();
        skills = 1;
        check_skill(dir, &name, &mut problems);
    } else {
        match sorted_entries(dir) {
            Ok(entries) => {
                for (name, path) in entries {
                    skills += check_entry(&name, &path, &mut problems);
                }
            }
            Err(e) => problems.push(Diagnostic::new(
                dir,
                Severity::Error,
                format!("cannot list: {e}"),
            )),
        }
        if skills == 0 && problems.is_empty() {
            problems.push(Diagnostic::new(
                dir,
                Severity::Error,
                format!(
                    "no {SKILL_FILE} here, and no folder in it has one: give a skill's folder \
                     (a folder with a {SKILL_FILE}) or a folder of skills"
                ),
            ));
        }
    }
    problems.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    Report {
        skills,
        errors,
        warnings: problems.len() - errors,
        problems,
    }
}

/// The entries of `dir` by name (names kept lossy so a non-UTF-8 one can be reported).
fn sorted_entries(dir: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut entries = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect::<Vec<_>>();
    entries.sort();
    Ok(entries)
}

/// One entry of a skills folder; returns 1 when it was checked as a skill.
fn check_entry(name: &str, path: &Path, problems: &mut Vec<Diagnostic>) -> usize {
    if name.starts_with('.') {
        return 0;
    }
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    let error = |message: String| Diagnostic::new(path, Severity::Error, message);
    if meta.file_type().is_symlink() {
        problems.push(error(
            "the skill folder is a symlink; the skills plugin does not follow symlinks".into(),
        ));
        return 0;
    }
    if !meta.is_dir() {
        return 0;
    }
    if path.file_name().and_then(|n| n.to_str()).is_none() {
        problems.push(error("the folder name is not UTF-8; rename it".into()));
        return 0;
    }
    check_skill(path, name, problems);
    1
}

/// The skill's file in `dir`, under the first of [`SKILL_FILES`] present.
fn skill_file(dir: &Path) -> Option<PathBuf> {
    SKILL_FILES
        .iter()
        .map(|name| dir.join(name))
        .find(|file| std::fs::symlink_metadata(file).is_ok())
}

/// `SKILL.md` through the manifest rules, then the folder's files.
fn check_skill(dir: &Path, name: &str, problems: &mut Vec<Diagnostic>) {
    let file = skill_file(dir).unwrap_or_else(|| dir.join(SKILL_FILE));
    let error = |message: String| Diagnostic::new(&file, Severity::Error, message);
    match std::fs::symlink_metadata(&file) {
        Err(_) => problems.push(Diagnostic::new(
            dir,
            Severity::Error,
            format!("no {SKILL_FILE}: not a skill (a skill is a folder with a {SKILL_FILE})"),
        )),
        Ok(meta) if meta.file_type().is_symlink() => problems.push(error(
            "a symlink; the skills plugin does not follow symlinks".into(),
        )),
        Ok(meta) if !meta.is_file() => problems.push(error("not a regular file".into())),
        Ok(meta) if meta.len() > MAX_FILE_BYTES => problems.push(error(format!(
            "{} bytes; the skills plugin reads at most {MAX_FILE_BYTES} bytes (2 MiB)",
            meta.len()
        ))),
        Ok(_) => match std::fs::read(&file).map(String::from_utf8) {
            Err(e) => problems.push(error(format!("cannot read: {e}"))),
            Ok(Err(_)) => problems.push(error("not UTF-8 text".into())),
            Ok(Ok(text)) => {
                let parsed = parse_skill_md(name, &text);
                problems.extend(parsed.problems.into_iter().map(|p| Diagnostic {
                    line: Some(p.line),
                    ..Diagnostic::new(&file, p.severity, p.message)
                }));
            }
        },
    }
    walk::check_files(dir, problems);
}
