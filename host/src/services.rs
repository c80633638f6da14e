//! Component instances of this process and their lifecycle state:
//! New → Starting → Running → Stopping → Terminated | Failed, with a named reason.

use std::sync::Mutex;

use mimir_proto::plugin::HttpRoute;

use crate::ffi::ComponentHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    New,
    Starting,
    Running,
    Stopping,
    Terminated,
    Failed,
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            State::New => "New",
            State::Starting => "Starting",
            State::Running => "Running",
            State::Stopping => "Stopping",
            State::Terminated => "Terminated",
            State::Failed => "Failed",
        };
        f.write_str(name)
    }
}

/// One component instance run by this process.
pub struct Service {
    pub name: String,
    /// Components that must be running first (local ones start before; remote ones must answer).
    pub dependencies: Vec<String>,
    pub http_routes: Vec<HttpRoute>,
    pub handle: ComponentHandle,
    status: Mutex<(State, String)>,
}

impl Service {
    pub fn new(
        name: String,
        dependencies: Vec<String>,
        http_routes: Vec<HttpRoute>,
        handle: ComponentHandle,
    ) -> Service {
        Service {
            name,
            dependencies,
            http_routes,
            handle,
            status: Mutex::new((State::New, String::new())),
        }
    }

    pub fn state(&self) -> State {
        self.status.lock().map(|s| s.0).unwrap_or(State::Failed)
    }

    /// The state and, for `Failed`, why.
    pub fn status(&self) -> (State, String) {
        self.status
            .lock()
            .map(|s| s.clone())
            .unwrap_or((State::Failed, "status lock poisoned".to_string()))
    }

    pub fn set(&self, state: State, reason: impl Into<String>) {
        if let Ok(mut status) = self.status.lock() {
            *status = (state, reason.into());
        }
    }
}
