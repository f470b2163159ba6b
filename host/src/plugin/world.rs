//! Checks that a component fits the world this host provides, before linking,
//! so an operator reads what is missing or extra instead of a linker error.

use super::wit::ApiVersion;
use wasmtime::Engine;
use wasmtime::component::Component;

const HOST_INTERFACES: &[&str] = &["types", "incidents", "state", "log"];
const HANDLER: &str = "handler";
/// Exported next to the handler from 0.3.0 on.
const ABOUT: &str = "about";
/// Exported beside them from 0.5.0 on (an SDK exports it for every plugin).
const OUTBOUND: &str = "outbound";
/// The usual reason a component built with an SDK exports no handler: the
/// SDK only exports what the plugin registers, and an unregistered plugin
/// still compiles.
const FORGOT_TO_REGISTER: &str = "did you call `register_plugin!`? A Rust plugin ends with `inbound_sdk::register_plugin!(YourPlugin);`, a Python plugin defines `class Handler` in its app module";

/// A component that does not fit, with what is wrong.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{}", describe(self))]
pub struct WorldMismatch {
    /// Imports the host does not provide (including `inbound:plugin`
    /// interfaces of another version than the handler's).
    pub extra_imports: Vec<String>,
    /// True when no supported `inbound:plugin/handler` is exported.
    pub missing_export: bool,
    /// The inbound:plugin version the component was built against, if any.
    pub found_version: Option<String>,
    /// True when a 0.3.0-or-later handler comes without `about`.
    pub missing_about: bool,
    /// True when a 0.5.0-or-later handler comes without `outbound`.
    pub missing_outbound: bool,
}

/// Checks the component's imports and exports; on success, the API version
/// it was built against.
pub fn check(engine: &Engine, component: &Component) -> Result<ApiVersion, WorldMismatch> {
    let ty = component.component_type();
    let imports: Vec<String> = ty.imports(engine).map(|(name, _)| name.to_string()).collect();
    let exports: Vec<String> = ty.exports(engine).map(|(name, _)| name.to_string()).collect();
    check_names(&imports, &exports)
}

fn check_names(imports: &[String], exports: &[String]) -> Result<ApiVersion, WorldMismatch> {
    let handler =
        exports.iter().find_map(|name| inbound_interface(name).filter(|(i, _)| *i == HANDLER));
    let version = handler.and_then(|(_, version)| ApiVersion::parse(version));
    // One component, one version: wit-bindgen never mixes them, and the
    // bindings of one version cannot serve imports of another.
    let extra_imports: Vec<String> =
        imports.iter().filter(|name| !is_provided(name, version)).cloned().collect();
    let found_version = handler.map(|(_, version)| version.to_string()).or_else(|| {
        imports.iter().chain(exports).find_map(|n| inbound_interface(n).map(|(_, v)| v.to_string()))
    });
    let missing = |export: &str, since: ApiVersion| {
        version.is_some_and(|version| {
            version >= since
                && !exports
                    .iter()
                    .any(|name| inbound_interface(name) == Some((export, version.as_str())))
        })
    };
    let missing_about = missing(ABOUT, ApiVersion::V0_3_0);
    let missing_outbound = missing(OUTBOUND, ApiVersion::V0_5_0);
    match version {
        Some(version) if extra_imports.is_empty() && !missing_about && !missing_outbound => {
            Ok(version)
        }
        _ => Err(WorldMismatch {
            extra_imports,
            missing_export: version.is_none(),
            found_version,
            missing_about,
            missing_outbound,
        }),
    }
}

/// "0.1.0, 0.2.0, 0.3.0, 0.4.0, 0.5.0": the versions this host implements, oldest first.
fn supported_versions() -> String {
    ApiVersion::ALL.iter().map(|version| version.as_str()).collect::<Vec<_>>().join(", ")
}

/// `inbound:plugin/NAME@VERSION` -> (NAME, VERSION).
fn inbound_interface(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix("inbound:plugin/")?;
    rest.split_once('@')
}

fn is_provided(name: &str, handler_version: Option<ApiVersion>) -> bool {
    if let Some((interface, version)) = inbound_interface(name) {
        let expected =
            handler_version.map_or(ApiVersion::parse(version).is_some(), |v| v.as_str() == version);
        return HOST_INTERFACES.contains(&interface) && expected;
    }
    // WASI 0.2 is linked with an empty context (see `plugin::PluginHost`):
    // std-built guests need the imports, and they grant nothing.
    name.starts_with("wasi:") && name.contains("@0.2.")
}

fn describe(mismatch: &WorldMismatch) -> String {
    let WorldMismatch {
        extra_imports: extra,
        missing_export,
        found_version: found,
        missing_about,
        missing_outbound,
    } = mismatch;
    let supported = supported_versions();
    let mut problems = Vec::new();
    if !extra.is_empty() {
        problems.push(format!(
            "it imports {}, which this host does not provide (it provides inbound:plugin/{{{}}} and WASI 0.2 with no capabilities)",
            extra.join(", "),
            HOST_INTERFACES.join(",")
        ));
    }
    if *missing_about {
        problems.push(format!(
            "it exports the handler of inbound:plugin@{} but not `about` (its name, version and settings), which every plugin exports from 0.3.0 on; the SDKs export it for you (Rust: `register_plugin!`, Python: `class About`, JavaScript: `export const about = sdk.about(...)`)",
            found.as_deref().unwrap_or("?")
        ));
    }
    if *missing_outbound {
        problems.push(format!(
            "it exports the handler of inbound:plugin@{} but not `outbound` (what to send back to the sender), which every plugin exports from 0.5.0 on, if only to send nothing; the SDKs export it for you",
            found.as_deref().unwrap_or("?")
        ));
    }
    if *missing_export {
        let found = match found {
            Some(version) if ApiVersion::parse(version).is_none() => {
                format!("; it was built against inbound:plugin@{version}")
            }
            // Nothing of ours, or only imports: the handler was never exported.
            _ => format!("; {FORGOT_TO_REGISTER}"),
        };
        problems.push(format!(
            "it does not export inbound:plugin/handler for a supported version (supported: {supported}){found}"
        ));
    }
    format!("the component does not fit the inbound:plugin world: {}", problems.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_plugin_of_the_supported_world_fits() {
        let imports = names(&[
            "inbound:plugin/incidents@0.1.0",
            "wasi:cli/environment@0.2.6",
            "inbound:plugin/log@0.1.0",
        ]);
        assert_eq!(
            check_names(&imports, &names(&["inbound:plugin/handler@0.1.0"])),
            Ok(ApiVersion::V0_1_0)
        );
    }

    #[test]
    fn every_supported_version_fits() {
        for &version in ApiVersion::ALL {
            let imports = names(&[&format!("inbound:plugin/incidents@{version}")]);
            let exports = names(&[
                &format!("inbound:plugin/handler@{version}"),
                &format!("inbound:plugin/about@{version}"),
                &format!("inbound:plugin/outbound@{version}"),
            ]);
            assert_eq!(check_names(&imports, &exports), Ok(version));
        }
    }

    #[test]
    fn from_0_3_0_a_handler_needs_its_about() {
        let error = check_names(&[], &names(&["inbound:plugin/handler@0.3.0"])).unwrap_err();
        assert!(error.missing_about && !error.missing_export);
        assert!(error.to_string().contains("but not `about`"), "{error}");
        // Before 0.3.0 there was no `about` to export.
        assert_eq!(
            check_names(&[], &names(&["inbound:plugin/handler@0.2.0"])),
            Ok(ApiVersion::V0_2_0)
        );
    }

    #[test]
    fn from_0_5_0_a_handler_needs_its_outbound() {
        let exports = names(&["inbound:plugin/handler@0.5.0", "inbound:plugin/about@0.5.0"]);
        let error = check_names(&[], &exports).unwrap_err();
        assert!(error.missing_outbound && !error.missing_about, "{error:?}");
        assert!(error.to_string().contains("but not `outbound`"), "{error}");
        let exports = names(&["inbound:plugin/handler@0.4.0", "inbound:plugin/about@0.4.0"]);
        assert_eq!(check_names(&[], &exports), Ok(ApiVersion::V0_4_0));
    }

    #[test]
    fn imports_of_another_version_than_the_handler_are_extra() {
        let imports = names(&["inbound:plugin/incidents@0.1.0", "inbound:plugin/log@0.2.0"]);
        let error = check_names(&imports, &names(&["inbound:plugin/handler@0.2.0"])).unwrap_err();
        assert_eq!(error.extra_imports, ["inbound:plugin/incidents@0.1.0"]);
        assert!(!error.missing_export);
    }

    #[test]
    fn extra_imports_are_named() {
        let error = check_names(
            &names(&["evil:net/fetch@1.0.0"]),
            &names(&["inbound:plugin/handler@0.1.0"]),
        )
        .unwrap_err();
        assert_eq!(error.extra_imports, ["evil:net/fetch@1.0.0"]);
        assert!(!error.missing_export);
        assert!(error.to_string().contains("imports evil:net/fetch@1.0.0"), "{error}");
    }

    #[test]
    fn missing_handler_is_named() {
        let error = check_names(&[], &names(&["evil:plugin/handler@0.1.0"])).unwrap_err();
        assert!(error.missing_export);
        assert!(error.to_string().contains("does not export inbound:plugin/handler"), "{error}");
        assert!(error.to_string().contains("did you call `register_plugin!`?"), "{error}");
    }

    #[test]
    fn unsupported_version_names_both_versions() {
        let error = check_names(
            &names(&["inbound:plugin/log@9.0.0"]),
            &names(&["inbound:plugin/handler@9.0.0"]),
        )
        .unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("supported: 0.1.0, 0.2.0, 0.3.0, 0.4.0, 0.5.0")
                && text.contains("built against inbound:plugin@9.0.0"),
            "{text}"
        );
    }

    #[test]
    fn wasi_preview1_or_future_wasi_is_not_provided() {
        let error = check_names(
            &names(&["wasi:http/outgoing-handler@0.3.0"]),
            &names(&["inbound:plugin/handler@0.1.0"]),
        )
        .unwrap_err();
        assert_eq!(error.extra_imports.len(), 1);
    }
}
