//! The ingester's pages: `/ingester/ring` (the ring as the KV holds it), `/ingester/flush` and
//! `/ingester/shutdown`.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use mimir_plugin_sdk::http::{self, HttpRequest, HttpResponse};

use crate::Ingester;
use crate::lifecycler::now_ms;

pub async fn serve(ingester: &Ingester, request: HttpRequest) -> HttpResponse {
    match request.path.as_str() {
        "/ingester/ring" => ring_page(ingester).await,
        "/ingester/flush" => match ingester.flush().await {
            Ok(()) => http::text(204, ""),
            Err(error) => http::error(&error),
        },
        "/ingester/shutdown" => {
            ingester.accepting.store(false, Ordering::Release);
            if let Err(error) = ingester.flush().await {
                return http::error(&error);
            }
            match ingester.lifecycler.leave().await {
                Ok(()) => http::text(204, ""),
                Err(error) => http::error(&error),
            }
        }
        other => http::text(404, format!("no page {other}")),
    }
}

async fn ring_page(ingester: &Ingester) -> HttpResponse {
    let desc = match ingester.lifecycler.ring().await {
        Ok(desc) => desc,
        Err(error) => return http::error(&error),
    };
    let now = now_ms();
    let mut page = String::from(
        "<!DOCTYPE html>\n<html><head><title>Ingester ring</title></head><body>\n<h1>Ingester ring</h1>\n<table border=\"1\">\n<tr><th>Instance ID</th><th>Address</th><th>State</th><th>Zone</th><th>Tokens</th><th>Last heartbeat</th></tr>\n",
    );
    for (id, instance) in &desc.instances {
        let age_s = (now - instance.heartbeat_ms) / 1000;
        let _ = writeln!(
            page,
            "<tr><td>{id}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{age_s}s ago</td></tr>",
            instance.addr,
            instance.state,
            instance.zone,
            instance.tokens.len()
        );
    }
    page.push_str("</table>\n</body></html>\n");
    http::response(200, "text/html; charset=utf-8", page.into_bytes())
}
