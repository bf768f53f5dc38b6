//! An MCP tool result as the model sees it: text content as text; structured content as
//! JSON when there is no text; other content (images, audio, resources) described in a
//! line, since a tool result here carries text only; `isError` as a tool error; the whole
//! cut to the policy's `result_kib`, saying so, after a remote server's token is
//! replaced.

use rmcp::model::{CallToolResult, ContentBlock, ResourceContents, ServerResult};

use crate::chat::{ToolErrorKind, ToolFailure, cap_tool_result};
use crate::policy::{McpServerPolicy, Redactor};

/// The model's view of a `tools/call` answer.
pub fn tool_output(
    response: ServerResult,
    policy: &McpServerPolicy,
    redactor: &Redactor,
) -> Result<String, ToolFailure> {
    let ServerResult::CallToolResult(result) = response else {
        return Err(ToolFailure::new(
            ToolErrorKind::HostFailure,
            format!(
                "MCP server `{}` answered `tools/call` with something else",
                policy.name
            ),
        ));
    };
    // Redacted before the cut, so a cut never leaves part of a token behind.
    let text = cap(redactor.redact(&render(&result)).into_owned(), policy);
    if result.is_error == Some(true) {
        Err(ToolFailure::new(ToolErrorKind::ToolError, text))
    } else {
        Ok(text)
    }
}

fn render(result: &CallToolResult) -> String {
    let mut parts: Vec<String> = Vec::new();
    for block in &result.content {
        parts.push(match block {
            ContentBlock::Text(text) => text.text.clone(),
            ContentBlock::Image(image) => format!(
                "[image: {}, {} bytes of base64, not shown to the model]",
                image.mime_type,
                image.data.len()
            ),
            ContentBlock::Audio(audio) => format!(
                "[audio: {}, {} bytes of base64, not shown to the model]",
                audio.mime_type,
                audio.data.len()
            ),
            ContentBlock::ResourceLink(link) => format!("[resource link: {}]", link.uri),
            ContentBlock::Resource(embedded) => match &embedded.resource {
                ResourceContents::TextResourceContents { text, .. } => text.clone(),
                ResourceContents::BlobResourceContents { uri, blob, .. } => {
                    format!(
                        "[resource {uri}: {} bytes of base64, not shown]",
                        blob.len()
                    )
                }
                other => format!(
                    "[resource: {}]",
                    serde_json::to_string(other).unwrap_or_default()
                ),
            },
            other => serde_json::to_string(other).unwrap_or_default(),
        });
    }
    if parts.is_empty()
        && let Some(structured) = &result.structured_content
    {
        return structured.to_string();
    }
    parts.join("\n")
}

fn cap(text: String, policy: &McpServerPolicy) -> String {
    cap_tool_result(text, policy.result_bytes, &format!("[mcp.{}]", policy.name))
}
