//! Where a database's bytes go: per table, the rows, the bytes of keys and
//! values stored, and the pages the table's tree occupies. Printed after
//! the inbound contestant (and by `bench footprint FILE`), so that the
//! bytes-per-event figure can be split into what is stored and what redb's
//! trees and free space add.

use redb::{ReadableDatabase, ReadableTableMetadata, TableHandle};
use std::path::Path;

pub fn print(path: &Path, events: u64) -> anyhow::Result<()> {
    let file_bytes = std::fs::metadata(path)?.len();
    // Not read-only: a file whose server was killed is repaired first.
    let db = redb::Database::open(path)?;
    let txn = db.begin_read()?;
    let per_event = |bytes: u64| bytes as f64 / events.max(1) as f64;
    println!(
        "{:<26} {:>10} {:>14} {:>14} {:>14}",
        "table", "rows", "stored B/ev", "pages B/ev", "fragment B/ev"
    );
    let (mut stored, mut paged) = (0, 0);
    let mut tables: Vec<_> = txn.list_tables()?.collect();
    tables.sort_by_key(|table| table.name().to_string());
    for handle in tables {
        let name = handle.name().to_string();
        let table = txn.open_untyped_table(handle)?;
        let stats = table.stats()?;
        // 4096: redb's page size (the table stats do not carry it).
        let pages = (stats.leaf_pages() + stats.branch_pages()) * 4096;
        stored += stats.stored_bytes();
        paged += pages;
        println!(
            "{:<26} {:>10} {:>14.0} {:>14.0} {:>14.0}",
            name,
            table.len()?,
            per_event(stats.stored_bytes()),
            per_event(pages),
            per_event(stats.fragmented_bytes())
        );
    }
    println!(
        "{:<26} {:>10} {:>14.0} {:>14.0}    file {:.0} B/ev ({} events)",
        "all tables",
        "",
        per_event(stored),
        per_event(paged),
        per_event(file_bytes),
        events
    );
    Ok(())
}
