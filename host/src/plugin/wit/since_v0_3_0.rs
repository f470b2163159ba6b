//! Bindings of `inbound:plugin@0.3.0` (`host/wit/v0.3.0`), the newest version.
//! `host_api.rs` implements its host interfaces directly.

wasmtime::component::bindgen!({
    path: "wit/v0.3.0",
    world: "plugin",
    imports: { default: trappable },
});
