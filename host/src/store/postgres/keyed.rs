//! Keyed records in PostgreSQL (`store/keyed.rs`), read as the embedded
//! engine reads them; the writer puts and deletes them in `writer.rs`.

use super::link::Connection;
use super::reads::{row, rows};
use crate::store::error::Error;
use crate::store::keyed::RecordKind;

pub(super) async fn records(
    db: &Connection,
    kind: RecordKind,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let sql = "SELECT name, value FROM keyed WHERE kind = $1 ORDER BY name";
    let found = rows(db, sql, &[&kind.as_str()]).await?;
    Ok(found.iter().map(|row| (row.get(0), row.get(1))).collect())
}

pub(super) async fn record(
    db: &Connection,
    kind: RecordKind,
    name: &str,
) -> Result<Option<Vec<u8>>, Error> {
    let sql = "SELECT value FROM keyed WHERE kind = $1 AND name = $2";
    Ok(row(db, sql, &[&kind.as_str(), &name]).await?.map(|row| row.get(0)))
}
