//! The plugin-state quota at commit, written once for both engines.
//!
//! Concurrent calls each checked the quota against their own snapshot, so
//! their writes could add up past it; the writer checks again with what is
//! stored at commit, and refuses (as a conflict: the call runs again and its
//! plugin sees the real total) a change set that would leave a source over.

use super::changes::Write;
use std::collections::HashMap;

/// The (source, key) pairs whose stored value the check needs, and the
/// sources whose total it needs: what an engine reads before [`holds`].
pub fn keys_read(writes: &[Write]) -> impl Iterator<Item = (&str, &str)> {
    writes.iter().filter_map(|write| match write {
        Write::SetState { source, key, .. } | Write::DeleteState { source, key } => {
            Some((source.as_str(), key.as_str()))
        }
        _ => None,
    })
}

/// True when no source's plugin state would exceed its quota after `writes`.
/// `stored_len` is the length of the stored value of (source, key) (none:
/// absent) and `stored_total` a source's bytes (keys + values), both as the
/// transaction holds them before `writes`.
pub fn holds<E>(
    writes: &[Write],
    mut stored_len: impl FnMut(&str, &str) -> Result<Option<usize>, E>,
    mut stored_total: impl FnMut(&str) -> Result<u64, E>,
) -> Result<bool, E> {
    // Per source: (bytes after the writes so far, the quota), and the keys
    // this change set already wrote, with their new size (None: deleted).
    let mut totals: HashMap<&str, (i64, Option<u64>)> = HashMap::new();
    let mut written: HashMap<(&str, &str), Option<usize>> = HashMap::new();
    for write in writes {
        let (source, key, new_len, quota) = match write {
            Write::SetState { source, key, value, quota } => {
                (source.as_str(), key.as_str(), Some(value.len()), Some(*quota))
            }
            Write::DeleteState { source, key } => (source.as_str(), key.as_str(), None, None),
            _ => continue,
        };
        let old_len = match written.get(&(source, key)) {
            Some(len) => *len,
            None => stored_len(source, key)?,
        };
        if !totals.contains_key(source) {
            totals.insert(source, (stored_total(source)? as i64, None));
        }
        let entry = totals.get_mut(source).expect("inserted above");
        let size = |len: Option<usize>| len.map_or(0, |len| (key.len() + len) as i64);
        entry.0 += size(new_len) - size(old_len);
        if let Some(quota) = quota {
            entry.1 = Some(entry.1.map_or(quota, |known| known.min(quota)));
        }
        written.insert((source, key), new_len);
    }
    // A quota past i64::MAX (u64::MAX: "unlimited") must not wrap negative.
    Ok(!totals.values().any(|(total, quota)| {
        quota.is_some_and(|quota| *total > i64::try_from(quota).unwrap_or(i64::MAX))
    }))
}
