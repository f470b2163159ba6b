//! PostgreSQL's errors as the store reports them (see `store::error`).

use crate::store::error::Error;
use tokio_postgres::error::SqlState;

/// A PostgreSQL error as the store reports it: a connection that failed or
/// a server shutting down is "unavailable" (503, retry later); anything
/// else is the server refusing a query.
impl From<tokio_postgres::Error> for Error {
    fn from(error: tokio_postgres::Error) -> Error {
        if let Some(code) = error.code() {
            let class = &code.code()[..2];
            // 08: connection exception; 53: insufficient resources (disk full,
            // too many connections); 57P0x: the server is shutting down or
            // starting; 25006: a standby refuses writes (mid failover); 57014
            // and 55P03: a statement or lock wait ran past its timeout (another
            // host stuck holding a lock): all answered 503, retry later.
            let unavailable = matches!(class, "08" | "53")
                || code.code().starts_with("57P0")
                || *code == SqlState::READ_ONLY_SQL_TRANSACTION
                || *code == SqlState::QUERY_CANCELED
                || *code == SqlState::LOCK_NOT_AVAILABLE;
            return if unavailable {
                Error::Unavailable(format!("PostgreSQL: {error}"))
            } else {
                Error::Other(format!(
                    "PostgreSQL: {}",
                    error.as_db_error().map_or(error.to_string(), |db| db.to_string())
                ))
            };
        }
        let io = std::error::Error::source(&error)
            .is_some_and(|source| source.downcast_ref::<std::io::Error>().is_some());
        // The cause says which type or column ("cannot convert between ...").
        let cause = std::error::Error::source(&error).map(|source| format!(": {source}"));
        let message = format!("{error}{}", cause.unwrap_or_default());
        if error.is_closed() || io {
            Error::Unavailable(format!("PostgreSQL: {message}"))
        } else {
            Error::Other(format!("PostgreSQL: {message}"))
        }
    }
}
