//! `wasmhost:plugin@0.1.0` (`wit/v0.1.0`), and its adapters to the newest version.

/// `wasmhost:plugin@0.1.0`, world `provider-plugin`.
pub mod provider {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1.0",
        world: "provider-plugin",
        exports: { default: async },
        require_store_data_send: true,
        with: {
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        },
    });
}

/// `wasmhost:plugin@0.1.0`, world `tool-plugin`.
pub mod tool {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1.0",
        world: "tool-plugin",
        imports: { "wasmhost:plugin/script-bridge.run-python": async },
        exports: { default: async },
        require_store_data_send: true,
        with: {
            "wasmhost:plugin/host": super::provider::wasmhost::plugin::host,
            "wasmhost:plugin/llm-types": super::provider::wasmhost::plugin::llm_types,
        },
    });
}

/// Contract 0.1 adapted to the newest version: a 0.1 plugin's answers go up to the newest
/// types, and what the host sends it goes down. What 0.1 cannot say is left out on the
/// way down (there is nothing to drop today: 0.2 only added) and empty on the way up (no
/// reasoning, no script files).
pub mod adapt {
    use std::marker::PhantomData;

    use wasmtime::component::{HasData, Linker};

    use super::provider::wasmhost::plugin::host::{self as old_host, LogLevel as OldLevel};
    use super::provider::wasmhost::plugin::llm_types as old;
    use super::tool::exports::wasmhost::plugin::tool::ToolError as OldToolError;
    use super::tool::wasmhost::plugin::script_bridge as old_scripts;
    use crate::bindings::v0_2_0::provider::wasmhost::plugin::host::{
        self as new_host, LogLevel as NewLevel,
    };
    use crate::bindings::v0_2_0::provider::wasmhost::plugin::llm_types as new;
    use crate::bindings::v0_2_0::tool::exports::wasmhost::plugin::tool::ToolError as NewToolError;
    use crate::bindings::v0_2_0::tool::wasmhost::plugin::script_bridge as new_scripts;
    use crate::bindings::{ServesHost, ServesScripts};

    /// `From` between two records of the same fields; each field is converted as it is
    /// (`into`), element by element (`vec`), or inside its option (`opt`).
    macro_rules! record {
        ($from:ty => $to:ident :: $name:ident { $($field:ident: $how:ident),* $(,)? }) => {
            impl From<$from> for $to::$name {
                fn from(value: $from) -> Self {
                    Self { $($field: record!(@$how value.$field)),* }
                }
            }
        };
        (@into $value:expr) => { $value.into() };
        (@vec $value:expr) => { $value.into_iter().map(Into::into).collect() };
        (@opt $value:expr) => { $value.map(Into::into) };
    }

    /// `From` between two enums (or variants) with the same cases.
    macro_rules! cases {
        ($from:ident :: $name:ident => $to:ident { $($case:ident $(($inner:ident))?),* $(,)? }) => {
            impl From<$from::$name> for $to::$name {
                fn from(value: $from::$name) -> Self {
                    match value {
                        $($from::$name::$case $(($inner))? => $to::$name::$case $(($inner.into()))?),*
                    }
                }
            }
        };
    }

    // Down: what the host sends a 0.1 provider.
    cases!(new::Role => old { System, User, Assistant, Tool });
    cases!(new::ImageSource => old { Bytes(b), Url(u) });
    record!(new::Image => old::Image { media_type: into, source: into });
    cases!(new::ContentPart => old { Text(t), Image(i) });
    record!(new::ToolSpec => old::ToolSpec { name: into, description: into, parameters_schema: into });
    record!(new::ToolCall => old::ToolCall { id: into, name: into, arguments: into });
    record!(new::ToolResult => old::ToolResult { call_id: into, name: into, content: into, is_error: into });
    record!(new::Message => old::Message { role: into, content: vec, tool_calls: vec, tool_result: opt });
    record!(new::RequestOptions => old::RequestOptions { model: into, temperature: into, max_tokens: into, stop: into });
    record!(new::ChatRequest => old::ChatRequest { messages: vec, tools: vec, options: into });

    // Up: what a 0.1 provider answers.
    cases!(old::Role => new { System, User, Assistant, Tool });
    cases!(old::ImageSource => new { Bytes(b), Url(u) });
    record!(old::Image => new::Image { media_type: into, source: into });
    cases!(old::ContentPart => new { Text(t), Image(i) });
    record!(old::ToolSpec => new::ToolSpec { name: into, description: into, parameters_schema: into });
    record!(old::ToolCall => new::ToolCall { id: into, name: into, arguments: into });
    record!(old::ToolResult => new::ToolResult { call_id: into, name: into, content: into, is_error: into });
    record!(old::Message => new::Message { role: into, content: vec, tool_calls: vec, tool_result: opt });
    record!(old::Usage => new::Usage { input_tokens: into, output_tokens: into, cached_input_tokens: into });
    cases!(old::FinishReason => new { Stop, Length, ToolCalls, ContentFilter, Other });
    record!(old::ToolCallStart => new::ToolCallStart { index: into, id: into, name: into });
    record!(old::ToolCallDelta => new::ToolCallDelta { index: into, arguments_fragment: into });
    cases!(old::StreamEvent => new {
        TextDelta(t), ToolCallStart(s), ToolCallDelta(d), Usage(u), Finish(f)
    });
    record!(old::RateLimit => new::RateLimit { retry_after_ms: into, message: into });
    record!(old::ServerError => new::ServerError { status: into, message: into, retryable: into });
    cases!(old::ProviderError => new {
        Auth(m), RateLimited(r), Timeout(m), ModelNotFound(m), ContextOverflow(m),
        BadRequest(m), Server(s), Network(m), Other(m)
    });
    record!(old::CredentialSpec => new::CredentialSpec { header: into, prefix: into, env_var: into, required: into });
    record!(old::ModelInfo => new::ModelInfo { id: into, context_window: into });

    impl From<old::ChatResponse> for new::ChatResponse {
        fn from(value: old::ChatResponse) -> Self {
            Self {
                message: value.message.into(),
                finish_reason: value.finish_reason.into(),
                usage: value.usage.map(Into::into),
                model: value.model,
                reasoning: None,
            }
        }
    }

    impl From<old::Capabilities> for new::Capabilities {
        fn from(value: old::Capabilities) -> Self {
            [
                (old::Capabilities::TOOLS, new::Capabilities::TOOLS),
                (old::Capabilities::IMAGES, new::Capabilities::IMAGES),
                (old::Capabilities::STREAMING, new::Capabilities::STREAMING),
                (
                    old::Capabilities::LIST_MODELS,
                    new::Capabilities::LIST_MODELS,
                ),
            ]
            .into_iter()
            .filter(|(flag, _)| value.contains(*flag))
            .fold(new::Capabilities::empty(), |all, (_, flag)| all | flag)
        }
    }

    record!(old::ProviderInfo => new::ProviderInfo {
        name: into, version: into, default_model: into, default_base_url: into,
        credential: opt, capabilities: into,
    });

    impl From<OldToolError> for NewToolError {
        fn from(value: OldToolError) -> Self {
            match value {
                OldToolError::UnknownTool(m) => NewToolError::UnknownTool(m),
                OldToolError::InvalidArguments(m) => NewToolError::InvalidArguments(m),
                OldToolError::NotFound(m) => NewToolError::NotFound(m),
                OldToolError::Denied(m) => NewToolError::Denied(m),
                OldToolError::Failed(m) => NewToolError::Failed(m),
            }
        }
    }

    // The host interface: a 0.1 plugin's log level, up.
    impl From<OldLevel> for NewLevel {
        fn from(value: OldLevel) -> Self {
            match value {
                OldLevel::Trace => NewLevel::Trace,
                OldLevel::Debug => NewLevel::Debug,
                OldLevel::Info => NewLevel::Info,
                OldLevel::Warn => NewLevel::Warn,
                OldLevel::Error => NewLevel::Error,
            }
        }
    }

    // The script bridge: a 0.1 plugin's request up (no module, no files), the answer down.
    impl From<old_scripts::ScriptRequest> for new_scripts::ScriptRequest {
        fn from(value: old_scripts::ScriptRequest) -> Self {
            Self {
                skill: value.skill,
                code: value.code,
                script: value.script,
                module: None,
                args: value.args,
                stdin: value.stdin,
                files: Vec::new(),
            }
        }
    }
    record!(new_scripts::ScriptOutput => old_scripts::ScriptOutput {
        stdout: into, stderr: into, exit_code: into, timed_out: into, truncated: into,
        duration_ms: into,
    });
    cases!(new_scripts::ScriptError => old_scripts {
        InvalidRequest(m), Denied(m), Unavailable(m)
    });

    /// The newest implementation of an interface, seen through its 0.1 version.
    pub struct Older<'a, H>(&'a mut H);

    /// [`HasData`] for [`Older`].
    pub struct OlderOf<H>(PhantomData<fn() -> H>);

    impl<H: 'static> HasData for OlderOf<H> {
        type Data<'a> = Older<'a, H>;
    }

    impl<H: new_host::Host> old_host::Host for Older<'_, H> {
        fn log(&mut self, level: OldLevel, message: String) {
            self.0.log(level.into(), message);
        }

        fn get_config(&mut self, key: String) -> Option<String> {
            self.0.get_config(key)
        }

        fn config_entries(&mut self) -> Vec<(String, String)> {
            self.0.config_entries()
        }
    }

    impl<H: new_scripts::Host + Send> old_scripts::Host for Older<'_, H> {
        async fn run_python(
            &mut self,
            request: old_scripts::ScriptRequest,
        ) -> Result<old_scripts::ScriptOutput, old_scripts::ScriptError> {
            self.0
                .run_python(request.into())
                .await
                .map(Into::into)
                .map_err(Into::into)
        }
    }

    /// Links `host@0.1.0` to the store data's newest `host`.
    pub fn add_host_to_linker<T: ServesHost>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        old_host::add_to_linker::<T, OlderOf<T::Api>>(linker, |data| Older(data.host_api()))
    }

    /// Links `script-bridge@0.1.0` to the store data's newest `script-bridge`.
    pub fn add_script_bridge_to_linker<T: ServesScripts>(
        linker: &mut Linker<T>,
    ) -> wasmtime::Result<()> {
        old_scripts::add_to_linker::<T, OlderOf<T::Bridge>>(linker, |data| {
            Older(data.script_bridge())
        })
    }
}
