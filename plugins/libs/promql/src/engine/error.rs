//! Query errors, classified as the Prometheus API reports them (`errorType` and HTTP status).

use crate::ParseError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// The query text does not parse.
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// A parameter or value is invalid (`bad_data`, 400).
    #[error("{0}")]
    BadData(String),
    /// Evaluation failed (`execution`, 422), e.g. duplicate series or many-to-many matching.
    #[error("{0}")]
    Execution(String),
    /// The query would load more samples than allowed (`execution`, 422).
    #[error("query processing would load too many samples into memory in query execution")]
    TooManySamples,
    /// The query ran past its deadline (`timeout`, 503).
    #[error("query timed out in {0}")]
    Timeout(String),
    /// The query was canceled (`canceled`, 503... as Prometheus, 499 is not used).
    #[error("query was canceled in {0}")]
    Canceled(String),
    /// Storage could not be read (`internal` or `unavailable`).
    #[error("{0}")]
    Storage(String),
}

impl QueryError {
    /// The API's `errorType`.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Parse(_) | Self::BadData(_) => "bad_data",
            Self::Execution(_) | Self::TooManySamples => "execution",
            Self::Timeout(_) => "timeout",
            Self::Canceled(_) => "canceled",
            Self::Storage(_) => "internal",
        }
    }

    /// The HTTP status Prometheus answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Parse(_) | Self::BadData(_) => 400,
            Self::Execution(_) | Self::TooManySamples => 422,
            Self::Timeout(_) | Self::Canceled(_) => 503,
            Self::Storage(_) => 500,
        }
    }
}
