//! The plugin's own tokio runtime, and the bridge that makes every future crossing the ABI carry it.
//!
//! Each plugin `.so` has its own copy of tokio. A future created here and polled by the host would
//! find no runtime ("there is no reactor running"), so [`OnRuntime`] enters this plugin's runtime on
//! every poll (~15 ns). Work that is CPU-heavy or must outlive the caller's poll goes through
//! [`spawn`], which runs it on this runtime's workers and hands back the result.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use tokio::runtime::{Handle, Runtime};

use crate::error::{Error, panic_message};

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// Worker threads of a plugin runtime: plugins share the machine with the host and each other.
const WORKER_THREADS: usize = 2;

/// This plugin's multi-thread runtime (a `current_thread` runtime would hang: nothing drives it).
pub fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("mimir-plugin")
            .enable_all()
            .build()
            .unwrap_or_else(|error| {
                // Without threads no component can run; there is nothing to fall back to.
                panic!("cannot start the plugin's tokio runtime: {error}")
            })
    })
}

/// A future that enters the plugin runtime on every poll and turns a panic into
/// [`Error::panicked`]. After it returned `Ready` it must not be polled again.
pub struct OnRuntime<F> {
    handle: Handle,
    future: Pin<Box<F>>,
    done: bool,
}

impl<F> OnRuntime<F> {
    pub fn new(future: F) -> OnRuntime<F> {
        OnRuntime {
            handle: runtime().handle().clone(),
            future: Box::pin(future),
            done: false,
        }
    }
}

impl<T, F: Future<Output = Result<T, Error>>> Future for OnRuntime<F> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.done {
            return Poll::Ready(Err(Error::internal("future polled after completion")));
        }
        let this = &mut *self;
        let _entered = this.handle.enter();
        let polled = catch_unwind(AssertUnwindSafe(|| this.future.as_mut().poll(cx)));
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => {
                this.done = true;
                Poll::Ready(output)
            }
            Err(payload) => {
                this.done = true;
                let message = panic_message(payload.as_ref());
                tracing::error!(panic = %message, "component panicked while handling a call");
                Poll::Ready(Err(Error::panicked(format!(
                    "component panicked: {message}"
                ))))
            }
        }
    }
}

/// Runs `future` on the plugin runtime's workers and waits for it. A panic in it becomes
/// [`Error::panicked`]. Use it for CPU-heavy work, so the caller's thread is not blocked.
pub async fn spawn<T, F>(future: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
{
    match runtime().spawn(future).await {
        Ok(output) => output,
        Err(join_error) if join_error.is_panic() => {
            let message = panic_message(join_error.into_panic().as_ref());
            tracing::error!(panic = %message, "spawned task panicked");
            Err(Error::panicked(format!(
                "component task panicked: {message}"
            )))
        }
        Err(join_error) => Err(Error::internal(format!(
            "task did not finish: {join_error}"
        ))),
    }
}

/// Runs a synchronous closure, turning a panic into [`Error::panicked`].
pub(crate) fn guard<T>(what: &str, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            tracing::error!(panic = %message, "component panicked in {what}");
            Err(Error::panicked(format!(
                "component panicked in {what}: {message}"
            )))
        }
    }
}
