//! The error a component returns: a closed code, whether retrying may help, and a user-facing message.

use mimir_abi::{BusError, ErrorCode};

/// An error of a component, as its caller sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub code: ErrorCode,
    pub retryable: bool,
    pub message: String,
}

impl Error {
    /// An error with the code's default retryability (unavailable, rate limits and timeouts are
    /// retryable).
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error::from(BusError::new(code, message))
    }

    pub fn not_found(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::NotFound, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::BadRequest, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Unavailable, message)
    }

    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Internal, message)
    }

    pub fn timeout(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Timeout, message)
    }

    pub fn panicked(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Panicked, message)
    }
}

impl From<BusError> for Error {
    fn from(error: BusError) -> Error {
        Error {
            code: error.error_code(),
            retryable: error.retryable,
            message: error.message.into_string(),
        }
    }
}

impl From<Error> for BusError {
    fn from(error: Error) -> BusError {
        BusError {
            code: error.code.as_u32(),
            retryable: error.retryable,
            message: error.message.into(),
        }
    }
}

impl From<mimir_proto::prost::DecodeError> for Error {
    fn from(error: mimir_proto::prost::DecodeError) -> Error {
        Error::bad_request(format!("malformed protobuf payload: {error}"))
    }
}

/// Turns a caught panic payload into a message.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        return (*text).to_string();
    }
    if let Some(text) = payload.downcast_ref::<String>() {
        return text.clone();
    }
    "panic with a non-string payload".to_string()
}
