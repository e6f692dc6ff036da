//! The core's one error type, and the [`ErrorCode`] each of its kinds crosses JNI as.

use crate::contract::ErrorCode;

/// Everything that can go wrong: its [`ErrorCode`] for the app, its text for people.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("{0}")]
    Config(String),
    #[error("identifiers: {0}")]
    Identifiers(phonehome_detect::IdsError),
    #[error("{0}")]
    Argument(String),
    #[error("no session with handle {0}")]
    Handle(i64),
    #[error("{0}")]
    Tun(String),
    /// Files of the records directory (and threads a session needs).
    #[error("{0}")]
    Records(String),
    #[error("TLS interception: {0}")]
    Intercept(#[from] phonehome_intercept::InterceptError),
    #[error("the Java side failed: {0}")]
    Jni(#[from] jni::errors::Error),
}

impl CoreError {
    pub fn code(&self) -> ErrorCode {
        match self {
            CoreError::Config(_) => ErrorCode::BadConfig,
            CoreError::Identifiers(_) => ErrorCode::BadIdentifiers,
            CoreError::Argument(_) => ErrorCode::BadArgument,
            CoreError::Handle(_) => ErrorCode::BadHandle,
            CoreError::Tun(_) => ErrorCode::Tun,
            CoreError::Records(_) => ErrorCode::Io,
            CoreError::Intercept(_) => ErrorCode::Intercept,
            CoreError::Jni(_) => ErrorCode::Jni,
        }
    }
}
