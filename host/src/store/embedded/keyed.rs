//! Keyed records in redb (`store/keyed.rs`): the reads; the writer puts and
//! deletes them in `writer.rs`.

use super::tables::KEYED;
use crate::store::error::Error;
use crate::store::keyed::RecordKind;
use redb::ReadTransaction;

/// Every keyed record of `kind`: they are few, so read whole.
pub fn records(txn: &ReadTransaction, kind: RecordKind) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let table = txn.open_table(KEYED)?;
    let mut found = Vec::new();
    for entry in table.range((kind.as_str(), "")..)? {
        let (key, value) = entry?;
        let (stored_kind, name) = key.value();
        if stored_kind != kind.as_str() {
            break;
        }
        found.push((name.to_string(), value.value().to_vec()));
    }
    Ok(found)
}

/// The keyed record `name` of `kind`, if there is one.
pub fn record(
    txn: &ReadTransaction,
    kind: RecordKind,
    name: &str,
) -> Result<Option<Vec<u8>>, Error> {
    let table = txn.open_table(KEYED)?;
    Ok(table.get((kind.as_str(), name))?.map(|value| value.value().to_vec()))
}
