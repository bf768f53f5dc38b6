//! Finding the frontmatter block: two `---` lines, the first being the file's first line.

/// How a `SKILL.md` divides into frontmatter and body.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Split<'a> {
    /// The first line is not `---`: the whole text is the body.
    NoFrontmatter { body: &'a str },
    /// The first line is `---` but no later line is: nothing can be trusted as YAML.
    Unclosed { body: &'a str },
    /// `yaml` is the text between the two `---` lines; it starts on line `yaml_line` (always
    /// 2) and the body on line `body_line`.
    Block {
        yaml: &'a str,
        yaml_line: usize,
        body: &'a str,
        body_line: usize,
    },
}

/// True for a `---` delimiter line. Trailing spaces, tabs and a `\r` (CRLF files) are
/// tolerated because editors add them invisibly.
fn is_delimiter(line: &str) -> bool {
    line.trim_end_matches(['\n', '\r', ' ', '\t']) == "---"
}

pub(crate) fn split(text: &str) -> Split<'_> {
    // A UTF-8 BOM is invisible in editors; a file starting with one still "starts with ---".
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let Some(first) = lines.next() else {
        return Split::NoFrontmatter { body: text };
    };
    if !is_delimiter(first) {
        return Split::NoFrontmatter { body: text };
    }
    let yaml_start = first.len();
    let mut offset = yaml_start;
    for (index, line) in lines.enumerate() {
        // `index` 0 is line 2 of the file.
        if is_delimiter(line) {
            return Split::Block {
                yaml: &text[yaml_start..offset],
                yaml_line: 2,
                body: &text[offset + line.len()..],
                body_line: index + 3,
            };
        }
        offset += line.len();
    }
    Split::Unclosed { body: text }
}
