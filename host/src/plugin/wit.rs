//! The plugin API versions this host implements: one bindings module per
//! frozen WIT folder (`host/wit/vX.Y.Z`), and the dispatch over them.
//!
//! The host API is implemented once, for the newest version (`host_api.rs`).
//! Each older module only converts its types to and from the newest ones, so
//! a fix or a limit lands in every version at once and an old plugin keeps
//! the exact behaviour it was written against.

mod forward;
pub mod since_v0_1_0;
pub mod since_v0_2_0;
pub mod since_v0_3_0;
pub mod since_v0_4_0;
pub mod since_v0_5_0;

/// The newest version: what `host_api.rs` implements and `inbound-sdk` targets.
pub use since_v0_5_0 as latest;

use super::CallState;
use super::about::{PluginInfo, SettingsProblem};
use latest::exports::inbound::plugin::outbound::{Change, OutboundRequest};
use latest::inbound::plugin::types::{Incident, Outcome, Rejection, Request};
use wasmtime::Store;
use wasmtime::component::{HasSelf, InstancePre, Linker};

/// The one list of supported `inbound:plugin` versions, oldest first: the
/// enum, [`ApiVersion::ALL`] and the version texts all come from it.
macro_rules! api_versions {
    ($($variant:ident => $text:literal),+ $(,)?) => {
        /// A supported `inbound:plugin` package version; ordered oldest first.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum ApiVersion {
            $($variant),+
        }

        impl ApiVersion {
            /// Oldest first.
            pub const ALL: &[ApiVersion] = &[$(ApiVersion::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ApiVersion::$variant => $text),+
                }
            }
        }
    };
}

api_versions! {
    V0_1_0 => "0.1.0",
    V0_2_0 => "0.2.0",
    V0_3_0 => "0.3.0",
    V0_4_0 => "0.4.0",
    V0_5_0 => "0.5.0",
}

impl ApiVersion {
    pub fn parse(text: &str) -> Option<ApiVersion> {
        Self::ALL.iter().copied().find(|version| version.as_str() == text)
    }
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Links the host API of every supported version; a component picks the one
/// it was built against by the names it imports.
pub fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    since_v0_1_0::Plugin::add_to_linker::<CallState, HasSelf<CallState>>(linker, |state| state)?;
    since_v0_2_0::Plugin::add_to_linker::<CallState, HasSelf<CallState>>(linker, |state| state)?;
    since_v0_3_0::Plugin::add_to_linker::<CallState, HasSelf<CallState>>(linker, |state| state)?;
    since_v0_4_0::Plugin::add_to_linker::<CallState, HasSelf<CallState>>(linker, |state| state)?;
    since_v0_5_0::Plugin::add_to_linker::<CallState, HasSelf<CallState>>(linker, |state| state)?;
    // Older versions share the newest's `types` (see `since_v0_2_0`), so
    // their bindings opened the newest's name; an older component imports
    // the types under its own. The interface has no functions: an empty
    // instance serves it.
    linker.instance("inbound:plugin/types@0.2.0")?;
    linker.instance("inbound:plugin/types@0.3.0")?;
    linker.instance("inbound:plugin/types@0.4.0")?;
    Ok(())
}

/// A linked component, ready to instantiate, in the version it was built for.
pub enum PluginPre {
    V0_1_0(since_v0_1_0::PluginPre<CallState>),
    V0_2_0(since_v0_2_0::PluginPre<CallState>),
    V0_3_0(since_v0_3_0::PluginPre<CallState>),
    V0_4_0(since_v0_4_0::PluginPre<CallState>),
    V0_5_0(since_v0_5_0::PluginPre<CallState>),
}

impl PluginPre {
    pub fn new(version: ApiVersion, pre: InstancePre<CallState>) -> wasmtime::Result<PluginPre> {
        Ok(match version {
            ApiVersion::V0_1_0 => PluginPre::V0_1_0(since_v0_1_0::PluginPre::new(pre)?),
            ApiVersion::V0_2_0 => PluginPre::V0_2_0(since_v0_2_0::PluginPre::new(pre)?),
            ApiVersion::V0_3_0 => PluginPre::V0_3_0(since_v0_3_0::PluginPre::new(pre)?),
            ApiVersion::V0_4_0 => PluginPre::V0_4_0(since_v0_4_0::PluginPre::new(pre)?),
            ApiVersion::V0_5_0 => PluginPre::V0_5_0(since_v0_5_0::PluginPre::new(pre)?),
        })
    }

    pub fn version(&self) -> ApiVersion {
        match self {
            PluginPre::V0_1_0(_) => ApiVersion::V0_1_0,
            PluginPre::V0_2_0(_) => ApiVersion::V0_2_0,
            PluginPre::V0_3_0(_) => ApiVersion::V0_3_0,
            PluginPre::V0_4_0(_) => ApiVersion::V0_4_0,
            PluginPre::V0_5_0(_) => ApiVersion::V0_5_0,
        }
    }

    /// Instantiates the component in `store` and calls its handler.
    pub fn handle(
        &self,
        store: &mut Store<CallState>,
        request: Request,
    ) -> wasmtime::Result<Result<Vec<Outcome>, Rejection>> {
        match self {
            PluginPre::V0_1_0(pre) => {
                let instance = pre.instantiate(&mut *store)?;
                let answer =
                    instance.inbound_plugin_handler().call_handle(store, &request.into())?;
                Ok(answer
                    .map(|outcomes| outcomes.into_iter().map(Into::into).collect())
                    .map_err(Into::into))
            }
            PluginPre::V0_2_0(pre) => {
                let instance = pre.instantiate(&mut *store)?;
                instance.inbound_plugin_handler().call_handle(store, &request)
            }
            PluginPre::V0_3_0(pre) => {
                let instance = pre.instantiate(&mut *store)?;
                instance.inbound_plugin_handler().call_handle(store, &request)
            }
            PluginPre::V0_4_0(pre) => {
                let instance = pre.instantiate(&mut *store)?;
                instance.inbound_plugin_handler().call_handle(store, &request)
            }
            PluginPre::V0_5_0(pre) => {
                let instance = pre.instantiate(&mut *store)?;
                instance.inbound_plugin_handler().call_handle(store, &request)
            }
        }
    }

    /// What the plugin says about itself; `None` for versions before 0.3.0,
    /// which cannot say.
    pub fn describe(&self, store: &mut Store<CallState>) -> wasmtime::Result<Option<PluginInfo>> {
        match self {
            PluginPre::V0_1_0(_) | PluginPre::V0_2_0(_) => Ok(None),
            PluginPre::V0_3_0(pre) => {
                let instance = pre.instantiate(&mut *store)?;
                let info = instance.inbound_plugin_about().call_describe(store)?;
                Ok(Some(info.into()))
            }
            PluginPre::V0_4_0(pre) => {
                let instance = pre.instantiate(&mut *store)?;
                let info = instance.inbound_plugin_about().call_describe(store)?;
                Ok(Some(info.into()))
            }
            PluginPre::V0_5_0(pre) => {
                let instance = pre.instantiate(&mut *store)?;
                let info = instance.inbound_plugin_about().call_describe(store)?;
                Ok(Some(info.into()))
            }
        }
    }

    /// The plugin's own judgement of one source's settings (a JSON object);
    /// `Ok(Ok(()))` for versions before 0.3.0.
    pub fn validate_settings(
        &self,
        store: &mut Store<CallState>,
        settings: &str,
    ) -> wasmtime::Result<Result<(), Vec<SettingsProblem>>> {
        match self {
            PluginPre::V0_1_0(_) | PluginPre::V0_2_0(_) => Ok(Ok(())),
            PluginPre::V0_3_0(pre) => {
                let instance = pre.instantiate(&mut *store)?;
                let answer =
                    instance.inbound_plugin_about().call_validate_settings(store, settings)?;
                Ok(answer.map_err(|problems| problems.into_iter().map(Into::into).collect()))
            }
            PluginPre::V0_4_0(pre) => {
                let instance = pre.instantiate(&mut *store)?;
                let answer =
                    instance.inbound_plugin_about().call_validate_settings(store, settings)?;
                Ok(answer.map_err(|problems| problems.into_iter().map(Into::into).collect()))
            }
            PluginPre::V0_5_0(pre) => {
                let instance = pre.instantiate(&mut *store)?;
                let answer =
                    instance.inbound_plugin_about().call_validate_settings(store, settings)?;
                Ok(answer.map_err(|problems| problems.into_iter().map(Into::into).collect()))
            }
        }
    }

    /// Whether the plugin can act back on its sender (`outbound`, 0.5.0 on).
    pub fn has_outbound(&self) -> bool {
        matches!(self, PluginPre::V0_5_0(_))
    }

    /// The requests the plugin wants sent for `change`; `None` for versions
    /// before 0.5.0, which send nothing back.
    pub fn on_change(
        &self,
        store: &mut Store<CallState>,
        change: &Change,
        incident: &Incident,
        settings: &str,
    ) -> wasmtime::Result<Option<Result<Vec<OutboundRequest>, String>>> {
        match self {
            PluginPre::V0_5_0(pre) => {
                let instance = pre.instantiate(&mut *store)?;
                let answer = instance
                    .inbound_plugin_outbound()
                    .call_on_change(store, change, incident, settings)?;
                Ok(Some(answer))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SDKs carry their WIT inside their crates so they build and
    /// publish on their own; `host/wit/` stays the one source of truth, and
    /// a copy that drifts from it fails here. When a new version is added,
    /// point these at it and copy it into the SDK.
    #[test]
    fn the_sdks_carry_the_newest_wit_unchanged() {
        assert!(
            include_str!("../../wit/v0.5.0/plugin.wit")
                == include_str!("../../../plugins/sdk/wit/plugin.wit"),
            "plugins/sdk/wit/plugin.wit differs from host/wit/v0.5.0/plugin.wit: copy it over"
        );
        assert!(
            include_str!("../../wit/notifier/v0.2.0/notifier.wit")
                == include_str!("../../../plugins/notifier-sdk/wit/notifier.wit"),
            "plugins/notifier-sdk/wit/notifier.wit differs from host/wit/notifier/v0.2.0: copy it over"
        );
    }

    #[test]
    fn versions_parse_back() {
        for &version in ApiVersion::ALL {
            assert_eq!(ApiVersion::parse(version.as_str()), Some(version));
        }
        assert_eq!(ApiVersion::parse("0.6.0"), None);
    }
}
