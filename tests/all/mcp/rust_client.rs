//! The same server through rmcp's own client, from Rust: tools, a typed failure, the
//! resources, a prompt, and the Skills extension (SEP-2640) with every file checked against
//! the digest and size its manifest promises.

use base64::Engine;
use rmcp::ServiceExt;
use rmcp::model::{
    CallToolRequestParams, GetPromptRequestParams, GetSkillRequestParams,
    ReadResourceDirectoryRequestParams, ReadResourceRequestParams, ResourceContents,
    SkillResources,
};
use rmcp::transport::TokioChildProcess;
use serde_json::json;
use wasmhost_e2e::guests;

use super::skills_dir;
use crate::support::{test_environment, wasmhost_bin};

fn bytes_of(contents: &ResourceContents) -> Vec<u8> {
    match contents {
        ResourceContents::TextResourceContents { text, .. } => text.as_bytes().to_vec(),
        ResourceContents::BlobResourceContents { blob, .. } => {
            base64::engine::general_purpose::STANDARD
                .decode(blob)
                .expect("base64")
        }
        other => panic!("unexpected contents {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rmcp_client_runs_a_whole_session_and_verifies_every_skill_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = std::process::Command::new(wasmhost_bin());
    command.args(["mcp", "--skills", &skills_dir(), "--tool", guests::HOSTILE]);
    test_environment(&mut command, dir.path(), &[]);
    let (transport, _stderr) = TokioChildProcess::builder(tokio::process::Command::from(command))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("wasmhost runs");
    let client = ().serve(transport).await.expect("handshake");
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("wasmhost")
    );
    assert!(info.capabilities.supports_skills());
    assert!(info.capabilities.supports_directory_read());

    let tools = client.list_all_tools().await.expect("tools");
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    for expected in [
        "echo",
        "get_skill",
        "list_skills",
        "run_python_script",
        "spin",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let echo = client
        .call_tool(
            CallToolRequestParams::new("echo").with_arguments(
                json!({"text": "from rust"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            ),
        )
        .await
        .expect("call");
    assert_eq!(echo.is_error, Some(false));
    assert_eq!(
        echo.content[0].as_text().map(|t| t.text.as_str()),
        Some("from rust")
    );
    let missing = client
        .call_tool(
            CallToolRequestParams::new("get_skill").with_arguments(
                json!({"name": "nope"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            ),
        )
        .await
        .expect("call");
    assert_eq!(missing.is_error, Some(true));
    assert_eq!(
        missing
            .structured_content
            .as_ref()
            .map(|s| s["error_kind"].clone()),
        Some(json!("not_found"))
    );

    // The Skills extension: each skill's manifest, each file read back and verified.
    let skills = client.list_all_skills().await.expect("skills/list");
    let uris: Vec<&str> = skills.iter().map(|s| s.uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "skill://csv-stats/SKILL.md",
            "skill://text-stats/SKILL.md",
            "skill://unit-converter/SKILL.md"
        ]
    );
    let mut verified = 0;
    for skill in &skills {
        let got = client
            .get_skill(GetSkillRequestParams::new(skill.uri.clone()))
            .await
            .expect("skills/get");
        let SkillResources::Files(files) = &got.skill.resources else {
            panic!("a folder of files has a manifest: {got:?}");
        };
        for file in files {
            let read = client
                .read_resource(ReadResourceRequestParams::new(file.uri.clone()))
                .await
                .expect("resources/read");
            let bytes = bytes_of(&read.contents[0]);
            file.verify(&bytes).expect("the bytes match the manifest");
            let relative = file.uri.trim_start_matches("skill://");
            let disk =
                std::fs::read(std::path::Path::new(&skills_dir()).join(relative)).expect("on disk");
            assert_eq!(bytes, disk, "{}", file.uri);
            verified += 1;
        }
    }
    assert_eq!(verified, 7, "every file of the three skills");
    let listing = client
        .read_resource_directory(ReadResourceDirectoryRequestParams::new(
            "skill://unit-converter",
        ))
        .await
        .expect("resources/directory/read");
    let mut children: Vec<(&str, bool)> = listing
        .resources
        .iter()
        .map(|r| (r.uri.as_str(), r.is_directory()))
        .collect();
    children.sort_unstable();
    assert_eq!(
        children,
        [
            ("skill://unit-converter/SKILL.md", false),
            ("skill://unit-converter/references", true),
            ("skill://unit-converter/scripts", true),
        ]
    );

    let prompt = client
        .get_prompt(GetPromptRequestParams::new("unit-converter"))
        .await
        .expect("prompts/get");
    assert_eq!(prompt.messages.len(), 1);
    client.cancel().await.expect("close");
}
