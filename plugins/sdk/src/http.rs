//! Helpers for components that serve HTTP routes: the host forwards each request as bus method
//! `http` carrying an [`HttpRequest`] and sends back the [`HttpResponse`].

pub use mimir_proto::plugin::{Header, HttpRequest, HttpResponse};
use serde::Serialize;

/// The first value of header `name` (case-insensitive).
pub fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// The first value of query parameter `name`, URL-decoded.
pub fn query_param(request: &HttpRequest, name: &str) -> Option<String> {
    form_urlencoded::parse(request.query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// A response with a body and its content type.
pub fn response(status: u16, content_type: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse {
        status: u32::from(status),
        headers: vec![Header {
            name: "content-type".to_string(),
            value: content_type.to_string(),
        }],
        body,
    }
}

/// A plain-text response.
pub fn text(status: u16, body: impl Into<String>) -> HttpResponse {
    response(
        status,
        "text/plain; charset=utf-8",
        body.into().into_bytes(),
    )
}

/// A JSON response.
pub fn json<T: Serialize>(status: u16, value: &T) -> HttpResponse {
    match serde_json::to_vec(value) {
        Ok(body) => response(status, "application/json", body),
        Err(error) => text(500, format!("cannot encode the response: {error}")),
    }
}

/// The response for an error: its HTTP status and its message as text.
pub fn error(error: &crate::Error) -> HttpResponse {
    text(error.code.http_status(), error.message.clone())
}
