//! The one error type of the HTTP layer, and how each case answers.
//!
//! | status | code | when |
//! | --- | --- | --- |
//! | 400 | `invalid_tile` | a tile path whose z, x or y is not a non-negative integer |
//! | 404 | `tile_out_of_range` | x or y not below 2^z, or z above the maximum zoom |
//! | 404 | `unsupported_format` | a tile file name other than `{y}.png` or `{y}@2x.png` |
//! | 400 | `unknown_layer` | `?layers=` names a layer that does not exist, or is empty |
//! | 400 | `invalid_parameter` | a bad `bbox`, `limit`, `offset` or `f`, or an unknown parameter on items |
//! | 404 | `not_found` | an unknown collection, feature or route |
//! | 405 | `method_not_allowed` | a method the route does not take |
//! | 500 | `internal` | a failure inside the server; the details go to the log only |

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An answer other than success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A tile path that does not parse.
    #[error("{0}")]
    InvalidTile(String),
    /// A tile that does not exist at this zoom, or a zoom above the maximum.
    #[error("{0}")]
    TileOutOfRange(String),
    /// A tile format that is not served.
    #[error("'{0}' is not a tile format served here: use {{y}}.png or {{y}}@2x.png")]
    UnsupportedFormat(String),
    /// `?layers=` is unusable.
    #[error("{0}")]
    UnknownLayer(String),
    /// A query parameter is unusable.
    #[error("parameter '{name}': {reason}")]
    InvalidParameter {
        /// The parameter.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Nothing here.
    #[error("{0}")]
    NotFound(String),
    /// The route does not take this method.
    #[error("this route does not take that method")]
    MethodNotAllowed,
    /// A server-side failure; the text is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A bad query parameter.
    pub fn param(name: &str, reason: impl Into<String>) -> Self {
        Self::InvalidParameter {
            name: name.chars().take(64).collect(),
            reason: reason.into(),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::InvalidTile(_) => (StatusCode::BAD_REQUEST, "invalid_tile"),
            Self::TileOutOfRange(_) => (StatusCode::NOT_FOUND, "tile_out_of_range"),
            Self::UnsupportedFormat(_) => (StatusCode::NOT_FOUND, "unsupported_format"),
            Self::UnknownLayer(_) => (StatusCode::BAD_REQUEST, "unknown_layer"),
            Self::InvalidParameter { .. } => (StatusCode::BAD_REQUEST, "invalid_parameter"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let description = match &self {
            Self::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                "the server failed to answer this request; the failure has been logged".to_owned()
            }
            other => other.to_string(),
        };
        (
            status,
            Json(json!({ "code": code, "description": description, "status": status.as_u16() })),
        )
            .into_response()
    }
}
