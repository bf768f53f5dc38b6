//! Several tool sources (the tool plugins, each MCP server) as one [`ToolBox`]. The first
//! source to offer a name keeps it; a later source's tool of the same name is offered as
//! `SOURCE__TOOL`, and [`ToolSet::renamed`] says so, for the frontend to tell the user.

use std::collections::HashMap;
use std::sync::Arc;

use super::{BoxFuture, ToolBox};
use crate::chat::{ToolFailure, ToolSpec};

/// What separates a source's name from its tool's in a prefixed name.
pub const SOURCE_SEPARATOR: &str = "__";
/// The longest tool name the model APIs accept.
const MAX_NAME: usize = 64;

/// Two sources offer a tool under one name, and the prefixed name cannot be used either.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{source_name}` offers a tool `{tool}` that another source already offers, and \
     `{offered_as}` {why}; leave one out (`deny_tools` in [mcp.{source_name}])"
)]
pub struct ToolSetError {
    pub source_name: String,
    pub tool: String,
    pub offered_as: String,
    pub why: &'static str,
}

/// A tool offered under a prefixed name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offered {
    pub source: String,
    pub tool: String,
    pub offered_as: String,
}

/// The sources' tools under unique names.
pub struct ToolSet {
    sources: Vec<Arc<dyn ToolBox>>,
    specs: Vec<ToolSpec>,
    /// Offered name → (source, the source's own name for it).
    routes: HashMap<String, (usize, String)>,
    renamed: Vec<Offered>,
}

impl ToolSet {
    /// `sources` in order of precedence, each with its name (for prefixes and messages).
    pub fn new(sources: Vec<(String, Arc<dyn ToolBox>)>) -> Result<Self, ToolSetError> {
        let mut specs = Vec::new();
        let mut routes: HashMap<String, (usize, String)> = HashMap::new();
        let mut renamed = Vec::new();
        let mut boxes = Vec::with_capacity(sources.len());
        for (index, (name, source)) in sources.into_iter().enumerate() {
            for spec in source.specs() {
                let offered = if routes.contains_key(&spec.name) {
                    let offered_as = format!("{name}{SOURCE_SEPARATOR}{}", spec.name);
                    let why = if offered_as.len() > MAX_NAME {
                        Some("is longer than the 64 characters the model APIs take")
                    } else if routes.contains_key(&offered_as) {
                        Some("is taken too")
                    } else {
                        None
                    };
                    if let Some(why) = why {
                        return Err(ToolSetError {
                            source_name: name,
                            tool: spec.name.clone(),
                            offered_as,
                            why,
                        });
                    }
                    renamed.push(Offered {
                        source: name.clone(),
                        tool: spec.name.clone(),
                        offered_as: offered_as.clone(),
                    });
                    offered_as
                } else {
                    spec.name.clone()
                };
                routes.insert(offered.clone(), (index, spec.name.clone()));
                specs.push(ToolSpec {
                    name: offered,
                    ..spec.clone()
                });
            }
            boxes.push(source);
        }
        Ok(Self {
            sources: boxes,
            specs,
            routes,
            renamed,
        })
    }

    /// Tools offered under a prefixed name.
    pub fn renamed(&self) -> &[Offered] {
        &self.renamed
    }
}

impl ToolBox for ToolSet {
    fn specs(&self) -> &[ToolSpec] {
        &self.specs
    }

    fn call<'a>(
        &'a self,
        name: &'a str,
        arguments: &'a str,
    ) -> BoxFuture<'a, Result<String, ToolFailure>> {
        Box::pin(async move {
            let Some((index, own)) = self.routes.get(name) else {
                return Err(ToolFailure::unknown_tool(name, &self.specs));
            };
            self.sources[*index].call(own, arguments).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::ToolErrorKind;

    struct Fixed(Vec<ToolSpec>, &'static str);

    impl ToolBox for Fixed {
        fn specs(&self) -> &[ToolSpec] {
            &self.0
        }

        fn call<'a>(
            &'a self,
            name: &'a str,
            _arguments: &'a str,
        ) -> BoxFuture<'a, Result<String, ToolFailure>> {
            let answer = format!("{} ran {name}", self.1);
            Box::pin(async move { Ok(answer) })
        }
    }

    fn source(label: &'static str, names: &[&str]) -> Arc<dyn ToolBox> {
        let specs = names
            .iter()
            .map(|n| ToolSpec {
                name: (*n).to_string(),
                description: String::new(),
                parameters_schema: "{}".into(),
            })
            .collect();
        Arc::new(Fixed(specs, label))
    }

    #[tokio::test]
    async fn a_later_source_gets_a_prefix_and_each_call_reaches_its_own_source() {
        let set = ToolSet::new(vec![
            ("plugins".into(), source("plugins", &["fetch", "echo"])),
            ("web".into(), source("web", &["fetch", "search"])),
        ])
        .expect("set");
        let names: Vec<&str> = set.specs().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["fetch", "echo", "web__fetch", "search"]);
        assert_eq!(
            set.renamed(),
            [Offered {
                source: "web".into(),
                tool: "fetch".into(),
                offered_as: "web__fetch".into()
            }]
        );
        assert_eq!(
            set.call("web__fetch", "{}").await,
            Ok("web ran fetch".into())
        );
        assert_eq!(
            set.call("fetch", "{}").await,
            Ok("plugins ran fetch".into())
        );
        let unknown = set.call("nope", "{}").await.expect_err("unknown");
        assert_eq!(unknown.kind, ToolErrorKind::UnknownTool);
    }

    #[test]
    fn a_prefix_that_is_taken_or_too_long_is_refused_with_the_fix() {
        let err = ToolSet::new(vec![
            ("a".into(), source("a", &["x", "b__x"])),
            ("b".into(), source("b", &["x"])),
        ])
        .err()
        .expect("refused");
        assert!(err.to_string().contains("is taken too"), "{err}");
        let long = "s".repeat(63);
        let err = ToolSet::new(vec![
            ("a".into(), source("a", &["x"])),
            (long.clone(), source("b", &["x"])),
        ])
        .err()
        .expect("refused");
        assert!(err.to_string().contains("longer than the 64"), "{err}");
    }
}
