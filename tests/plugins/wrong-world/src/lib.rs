//! A component against the wrong world: the host must refuse to load it and
//! say what is extra and what is missing.

#[cfg(target_family = "wasm")]
mod component {
    wit_bindgen::generate!({ path: "wit", world: "plugin" });

    struct WrongWorld;

    impl exports::evil::plugin::handler::Guest for WrongWorld {
        fn handle(_body: Vec<u8>) -> String {
            evil::plugin::network::fetch("http://example.invalid/")
        }
    }

    export!(WrongWorld);
}
