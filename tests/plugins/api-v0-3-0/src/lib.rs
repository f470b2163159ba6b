//! A plugin as a third party built it for the 0.3.0 host: raw wit-bindgen
//! bindings of the frozen `host/wit/v0.3.0`, no SDK, no `incidents.update`.
//! The versioning test loads it next to 0.1.0, 0.2.0 and 0.4.0 plugins.
//!
//! It says it takes no settings (`about`), so the host refuses any key.
//! Body `open KEY` finds or creates the open incident for KEY with a link;
//! anything else is rejected.

#[cfg(target_family = "wasm")]
mod component {
    wit_bindgen::generate!({ path: "../../../host/wit/v0.3.0", world: "plugin" });

    use exports::inbound::plugin::about::{self, PluginInfo, SettingsProblem};
    use exports::inbound::plugin::handler::Guest;
    use inbound::plugin::types::{Action, Link, NewIncident, Outcome, Rejection, Request};
    use inbound::plugin::{incidents, log};

    struct Plugin030;

    impl about::Guest for Plugin030 {
        fn describe() -> PluginInfo {
            PluginInfo {
                name: "api-v0-3-0".into(),
                version: "0.3.0".into(),
                description: "built against the frozen inbound:plugin@0.3.0".into(),
                settings: Some(vec![]),
            }
        }

        fn validate_settings(_settings: String) -> Result<(), Vec<SettingsProblem>> {
            Ok(())
        }
    }

    impl Guest for Plugin030 {
        fn handle(request: Request) -> Result<Vec<Outcome>, Rejection> {
            if let Some(key) = first_setting(&request.settings) {
                return Err(Rejection {
                    code: "invalid-settings".into(),
                    message: format!("unknown setting \"{key}\": this plugin takes none"),
                });
            }
            let body = String::from_utf8_lossy(&request.body).into_owned();
            let (command, key) = body.trim().split_once(' ').unwrap_or((body.trim(), ""));
            log::log(log::Level::Info, &format!("0.3.0 plugin: {command} {key}"));
            let api =
                |error| Rejection { code: "host-api-error".into(), message: format!("{error:?}") };
            match (command, incidents::find_open(key)) {
                ("open", Some(open)) => {
                    Ok(vec![Outcome { action: Action::Unchanged, incident: open.id }])
                }
                ("open", None) => {
                    let created = incidents::create(&NewIncident {
                        key: key.into(),
                        summary: format!("{key} is down"),
                        details: "raised by a 0.3.0 plugin".into(),
                        priority: None,
                        url: None,
                        links: vec![Link {
                            label: "Status page".into(),
                            url: format!("https://status.example/{key}"),
                        }],
                    })
                    .map_err(api)?;
                    Ok(vec![Outcome { action: Action::Created, incident: created.id }])
                }
                _ => Err(Rejection {
                    code: "unknown-command".into(),
                    message: format!("unknown command {command:?}"),
                }),
            }
        }
    }

    /// The first key of the settings object, found without a JSON parser:
    /// `{"key": ...`.
    fn first_setting(settings: &str) -> Option<&str> {
        let rest = settings.trim().strip_prefix('{')?.trim_start().strip_prefix('"')?;
        rest.split('"').next()
    }

    export!(Plugin030);
}
