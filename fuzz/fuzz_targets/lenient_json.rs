//! `inbound_sdk::json::parse_lenient`: never panics, and differs from strict
//! JSON only by accepting raw control characters inside strings.

#![no_main]

use inbound_sdk::json::parse_lenient;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let lenient = parse_lenient(body);
    let strict = serde_json::from_slice::<serde_json::Value>(body);
    match (&lenient, &strict) {
        // Strict JSON means the same thing to both readers.
        (Ok(lenient), Ok(strict)) => assert_eq!(lenient, strict),
        // An empty body is rejected by both, with its own code.
        (Err(rejection), Ok(_)) => panic!("strict JSON rejected: {} {}", rejection.code, rejection.message),
        // Without raw control characters there is nothing to be lenient about.
        (Ok(_), Err(error)) => {
            assert!(body.iter().any(|&b| b < 0x20), "accepted what strict JSON rejects ({error}) with no control character");
        }
        (Err(rejection), Err(_)) => {
            assert!(matches!(rejection.code.as_str(), "invalid-json" | "empty-body"), "{}", rejection.code);
        }
    }
});
