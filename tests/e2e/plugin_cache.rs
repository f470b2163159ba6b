//! End to end: compiled plugins are cached on disk and reused across restarts.

use crate::support;

use support::{Host, ticket, zendesk_config};

fn cached_files(host: &Host) -> Vec<std::path::PathBuf> {
    let dir = host.dir.path().join("data/plugin-cache");
    std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn first_start_compiles_and_restart_loads_from_the_cache() {
    let host = Host::start(&zendesk_config(""));
    assert!(host.logs().contains("cache=Compiled"), "{}", host.logs());
    assert_eq!(cached_files(&host).len(), 1);
    let host = host.restart();
    assert!(host.logs().contains("cache=Hit"), "{}", host.logs());
    assert_eq!(host.zendesk(&ticket(1, "Open")).0, 202, "the cached plugin works");
}

#[test]
fn a_corrupt_cache_file_is_ignored_and_replaced() {
    let host = Host::start(&zendesk_config(""));
    let file = cached_files(&host).pop().expect("a cached plugin");
    std::fs::write(&file, b"not a compiled component").unwrap();
    let host = host.restart();
    assert!(host.logs().contains("ignoring unusable cached plugin"), "{}", host.logs());
    assert!(host.logs().contains("cache=Compiled"), "{}", host.logs());
    assert_eq!(host.zendesk(&ticket(2, "Open")).0, 202);
    assert!(std::fs::read(&file).unwrap().len() > 1000, "the corrupt file was replaced");
}
