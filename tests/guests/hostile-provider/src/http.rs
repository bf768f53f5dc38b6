//! The one HTTP request the hostile provider makes (`echo-headers`), through `wasi:http`.

use crate::wasmhost::plugin::llm_types::ProviderError;

/// A plain GET through `wasi:http`, returning the body as (lossy) UTF-8, whatever the status.
pub fn get(url: &str) -> Result<String, ProviderError> {
    use wasip2::http::outgoing_handler;
    use wasip2::http::types::{ErrorCode, Fields, IncomingBody, Method, OutgoingRequest, Scheme};
    use wasip2::io::streams::StreamError;

    let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else {
        return Err(ProviderError::Other(format!(
            "base-url must start with http:// or https://: {url}"
        )));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };

    let request = OutgoingRequest::new(Fields::new());
    let refused = |what: &str| ProviderError::Other(format!("the host refused the {what}"));
    request
        .set_method(&Method::Get)
        .map_err(|()| refused("method"))?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| refused("scheme"))?;
    request
        .set_authority(Some(authority))
        .map_err(|()| refused("authority"))?;
    request
        .set_path_with_query(Some(path))
        .map_err(|()| refused("path"))?;

    let http_error = |code: ErrorCode| match code {
        ErrorCode::HttpRequestDenied => ProviderError::Other(format!("denied: {code}")),
        code => ProviderError::Network(code.to_string()),
    };
    let response = outgoing_handler::handle(request, None).map_err(http_error)?;
    response.subscribe().block();
    let response = match response.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(http_error(code)),
        Some(Err(())) => return Err(ProviderError::Other("response already taken".into())),
        None => {
            return Err(ProviderError::Other(
                "response not ready after waiting".into(),
            ));
        }
    };

    let body = response
        .consume()
        .map_err(|()| ProviderError::Other("body already taken".into()))?;
    let stream = body
        .stream()
        .map_err(|()| ProviderError::Other("body stream already taken".into()))?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(ProviderError::Network(e.to_debug_string()));
            }
        }
    }
    drop(stream);
    drop(IncomingBody::finish(body));
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
