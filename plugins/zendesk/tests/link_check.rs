//! The plugin-side link check (`inbound_sdk::web_url`) must never accept a
//! URL the host refuses: the host would then refuse the whole ticket. Every
//! combination of a corpus of URL parts is tried against both.

#[test]
fn every_url_the_plugin_keeps_the_host_accepts() {
    let schemes = ["http", "https", "HTTPS", "hTtP", "ftp", "javascript", "file", ""];
    let separators = ["://", ":/", ":", "//"];
    let hosts = [
        "example.com",
        "a",
        "a.b.c",
        "-a",
        "a-",
        "a..b",
        "xn--bcher-kva.example",
        "127.0.0.1",
        "[::1]",
        "user@host",
        "ex ample",
        "",
        "a_b",
        "bücher.example",
    ];
    let ports = ["", ":", ":0", ":80", ":65535", ":65536", ":x"];
    let tails = ["", "/", "/a b", "/ø", "?q=1", "#f", "\\x", "/%zz", "/\r\nX", "/\u{202e}"];
    let (mut kept, mut tried) = (0, 0);
    for scheme in schemes {
        for separator in separators {
            for host in hosts {
                for port in ports {
                    for tail in tails {
                        let url = format!("{scheme}{separator}{host}{port}{tail}");
                        tried += 1;
                        if inbound_sdk::web_url::check(&url).is_ok() {
                            kept += 1;
                            assert_eq!(
                                inbound::plugin::web_url::check(&url),
                                Ok(()),
                                "the plugin keeps {url:?}, the host refuses it"
                            );
                        }
                    }
                }
            }
        }
    }
    assert!(kept > 100, "the corpus must exercise accepted URLs too: {kept} of {tried}");
}
