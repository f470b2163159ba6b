//! Keyed records in redb (`store/keyed.rs`): the read; the writer puts and
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
