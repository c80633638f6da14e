//! The HTTP server every process runs: host endpoints (`/`, `/ready`, `/services`, `/config`,
//! `/metrics`, `/api/v1/status/buildinfo`) and the routes plugin manifests declare, forwarded to
//! their component as bus method `http`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::Router as AxumRouter;
use axum::body::{Body, to_bytes};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodFilter, any, get, on};
use mimir_proto::Message;
use mimir_proto::plugin::{Header, HttpRequest, HttpResponse};

use crate::bus::{CallMeta, READY_METHOD, Router};
use crate::metrics::HostMetrics;
use crate::services::{Service, State as ServiceState};

/// Largest request body forwarded to a component.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The effective config rendered three ways, for `/config`.
pub struct ConfigViews {
    pub effective: String,
    pub defaults: String,
    pub diff: String,
}

pub struct HttpState {
    pub router: Arc<Router>,
    pub services: Vec<Arc<Service>>,
    pub metrics: Arc<HostMetrics>,
    pub config: ConfigViews,
    pub version: String,
}

const HOST_PATHS: [&str; 6] = [
    "/",
    "/ready",
    "/services",
    "/config",
    "/metrics",
    "/api/v1/status/buildinfo",
];

/// Builds the router; two routes claiming one path is an error naming both owners.
pub fn app(state: Arc<HttpState>) -> Result<AxumRouter, String> {
    let mut owners: BTreeMap<String, String> = HOST_PATHS
        .iter()
        .map(|p| ((*p).to_string(), "mimir-host".to_string()))
        .collect();
    let mut app = AxumRouter::new()
        .route("/", get(index))
        .route("/ready", get(ready))
        .route("/services", get(services))
        .route("/config", get(config))
        .route("/metrics", get(metrics))
        .route("/api/v1/status/buildinfo", get(buildinfo));
    for service in &state.services {
        for route in &service.http_routes {
            let mut paths = vec![route.path.clone()];
            if route.prefix {
                paths.push(format!("{}/{{*rest}}", route.path.trim_end_matches('/')));
            }
            for path in paths {
                if let Some(owner) = owners.insert(path.clone(), service.name.clone()) {
                    return Err(format!(
                        "HTTP route {path} is claimed by both `{owner}` and `{}`",
                        service.name
                    ));
                }
                let component = service.name.clone();
                let handler = move |State(state): State<Arc<HttpState>>, request: Request| {
                    forward(state, component, request)
                };
                let method_router = if route.method.is_empty() {
                    any(handler)
                } else {
                    let method = Method::from_bytes(route.method.as_bytes()).map_err(|_| {
                        format!(
                            "component `{}` declares route {path} with invalid method `{}`",
                            service.name, route.method
                        )
                    })?;
                    let filter = MethodFilter::try_from(method).map_err(|error| {
                        format!(
                            "component `{}` declares route {path} with method `{}`: {error}",
                            service.name, route.method
                        )
                    })?;
                    on(filter, handler)
                };
                app = app.route(&path, method_router);
            }
        }
    }
    Ok(app.with_state(state))
}

async fn forward(state: Arc<HttpState>, component: String, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(error) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("cannot read request body: {error}"),
            )
                .into_response();
        }
    };
    let headers = parts
        .headers
        .iter()
        .filter_map(|(name, value)| {
            Some(Header {
                name: name.as_str().to_string(),
                value: value.to_str().ok()?.to_string(),
            })
        })
        .collect();
    let tenant = parts
        .headers
        .get("x-scope-orgid")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let http_request = HttpRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers,
        body: body.to_vec(),
    };
    let trace_parent = parts
        .headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let meta = CallMeta {
        tenant,
        trace_parent,
        caller: "http".to_string(),
        deadline: None,
    };
    let reply = state
        .router
        .call_local(&component, "http", meta, http_request.encode_to_vec())
        .await;
    let payload = match reply {
        Ok(payload) => payload,
        Err(error) => {
            let status = StatusCode::from_u16(error.error_code().http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, error.message.into_string()).into_response();
        }
    };
    match HttpResponse::decode(payload.as_slice()) {
        Ok(response) => into_response(response),
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("component `{component}` answered a malformed HTTP response: {error}"),
        )
            .into_response(),
    }
}

fn into_response(response: HttpResponse) -> Response {
    let status = u16::try_from(response.status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut built = Response::new(Body::from(response.body));
    *built.status_mut() = status;
    for header in response.headers {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(header.name.as_bytes()),
            HeaderValue::from_str(&header.value),
        ) else {
            continue;
        };
        built.headers_mut().append(name, value);
    }
    built
}

async fn index(State(state): State<Arc<HttpState>>) -> Html<String> {
    let mut page = String::from(
        "<!DOCTYPE html>\n<html><head><title>mimir-host</title></head><body>\n<h1>mimir-host</h1>\n<h2>Admin endpoints</h2>\n<ul>\n",
    );
    for (path, what) in [
        ("/ready", "Readiness"),
        ("/services", "Component status"),
        ("/config", "Effective config"),
        ("/config?mode=diff", "Config that differs from the defaults"),
        ("/config?mode=defaults", "Default config"),
        ("/metrics", "Metrics"),
        ("/api/v1/status/buildinfo", "Build information"),
    ] {
        let _ = writeln!(page, "<li><a href=\"{path}\">{what}</a></li>");
    }
    page.push_str("</ul>\n");
    for service in &state.services {
        if service.http_routes.is_empty() {
            continue;
        }
        let _ = writeln!(page, "<h2>{}</h2>\n<ul>", service.name);
        for route in &service.http_routes {
            let _ = writeln!(
                page,
                "<li><a href=\"{0}\">{0}</a> {1}</li>",
                route.path, route.description
            );
        }
        page.push_str("</ul>\n");
    }
    page.push_str("</body></html>\n");
    Html(page)
}

async fn ready(State(state): State<Arc<HttpState>>) -> Response {
    let mut problems = Vec::new();
    for service in &state.services {
        let state_now = service.state();
        if state_now != ServiceState::Running {
            problems.push(format!("{}: {state_now}", service.name));
        }
    }
    let mut remote_dependencies: Vec<&str> = state
        .services
        .iter()
        .flat_map(|s| s.dependencies.iter().map(String::as_str))
        // Dependencies reached through `-bus.peers` must answer; ones found another way (a ring
        // in the KV, like the distributor's ingesters) are the component's own business.
        .filter(|d| !state.router.is_local(d) && state.router.has_peer(d))
        .collect();
    remote_dependencies.sort_unstable();
    remote_dependencies.dedup();
    for dependency in remote_dependencies {
        let meta = CallMeta {
            deadline: Some(std::time::SystemTime::now() + Duration::from_secs(1)),
            caller: "ready".to_string(),
            ..CallMeta::default()
        };
        if let Err(error) = state
            .router
            .call(dependency, READY_METHOD, meta, Vec::new())
            .await
        {
            problems.push(format!("dependency {dependency}: {}", error.message));
        }
    }
    if problems.is_empty() {
        return (StatusCode::OK, "ready\n").into_response();
    }
    let text = format!("Some services are not Running:\n{}\n", problems.join("\n"));
    (StatusCode::SERVICE_UNAVAILABLE, text).into_response()
}

async fn services(State(state): State<Arc<HttpState>>) -> String {
    let mut text = String::new();
    for service in &state.services {
        let (state_now, reason) = service.status();
        if reason.is_empty() {
            let _ = writeln!(text, "{}: {state_now}", service.name);
        } else {
            let _ = writeln!(text, "{}: {state_now} ({reason})", service.name);
        }
    }
    text
}

#[derive(serde::Deserialize)]
struct ConfigQuery {
    mode: Option<String>,
}

async fn config(State(state): State<Arc<HttpState>>, Query(query): Query<ConfigQuery>) -> Response {
    let body = match query.mode.as_deref() {
        None | Some("") => state.config.effective.clone(),
        Some("diff") => state.config.diff.clone(),
        Some("defaults") => state.config.defaults.clone(),
        Some(other) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("unknown mode `{other}`: use diff or defaults"),
            )
                .into_response();
        }
    };
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

async fn metrics(State(state): State<Arc<HttpState>>) -> Response {
    let mut text = state.metrics.encode();
    for service in &state.services {
        text.push_str(&service.handle.metrics());
    }
    text.push_str("# EOF\n");
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn buildinfo(State(state): State<Arc<HttpState>>) -> Response {
    let body = serde_json::json!({
        "status": "success",
        "data": {
            "application": "mimir-host",
            "version": state.version,
            "revision": option_env!("MIMIR_HOST_REVISION").unwrap_or("unknown"),
            "branch": option_env!("MIMIR_HOST_BRANCH").unwrap_or("unknown"),
            "rustVersion": option_env!("CARGO_PKG_RUST_VERSION").unwrap_or("unknown"),
            "features": {},
        }
    });
    axum::Json(body).into_response()
}
