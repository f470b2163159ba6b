//! A component of a plugin API version from the future: refused at load.

#[cfg(target_family = "wasm")]
mod component {
    wit_bindgen::generate!({ path: "wit", world: "plugin" });

    struct Future;

    impl exports::inbound::plugin::handler::Guest for Future {
        fn handle(body: Vec<u8>) -> u32 {
            inbound::plugin::log::log("from the future");
            body.len() as u32
        }
    }

    export!(Future);
}
