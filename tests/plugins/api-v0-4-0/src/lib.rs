//! A plugin as a third party built it for the 0.4.0 host: raw wit-bindgen
//! bindings of the frozen `host/wit/v0.4.0`, no SDK, no `outbound` export.
//! The versioning test loads it next to 0.1.0 ... 0.3.0 and 0.5.0 plugins.
//!
//! Body `open KEY` finds or creates the open incident for KEY; `update KEY
//! TEXT` sets that incident's summary through `incidents.update` (which
//! the host forwards from 0.4.0 to the newest host API); anything else is
//! rejected.

#[cfg(target_family = "wasm")]
mod component {
    wit_bindgen::generate!({ path: "../../../host/wit/v0.4.0", world: "plugin" });

    use exports::inbound::plugin::about::{self, PluginInfo, SettingsProblem};
    use exports::inbound::plugin::handler::Guest;
    use inbound::plugin::incidents::{self, IncidentUpdate};
    use inbound::plugin::log;
    use inbound::plugin::types::{Action, NewIncident, Outcome, Rejection, Request};

    struct Plugin040;

    impl about::Guest for Plugin040 {
        fn describe() -> PluginInfo {
            PluginInfo {
                name: "api-v0-4-0".into(),
                version: "0.4.0".into(),
                description: "built against the frozen inbound:plugin@0.4.0".into(),
                settings: Some(vec![]),
            }
        }

        fn validate_settings(_settings: String) -> Result<(), Vec<SettingsProblem>> {
            Ok(())
        }
    }

    impl Guest for Plugin040 {
        fn handle(request: Request) -> Result<Vec<Outcome>, Rejection> {
            let body = String::from_utf8_lossy(&request.body).into_owned();
            let mut words = body.trim().splitn(3, ' ');
            let (command, key) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            log::log(log::Level::Info, &format!("0.4.0 plugin: {command} {key}"));
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
                        details: "raised by a 0.4.0 plugin".into(),
                        priority: None,
                        url: None,
                        links: Vec::new(),
                    })
                    .map_err(api)?;
                    Ok(vec![Outcome { action: Action::Created, incident: created.id }])
                }
                ("update", Some(open)) => {
                    let changes = IncidentUpdate {
                        summary: words.next().map(str::to_string),
                        details: None,
                        priority: None,
                    };
                    let updated = incidents::update(open.id, &changes).map_err(api)?;
                    Ok(vec![Outcome { action: Action::Commented, incident: updated.id }])
                }
                _ => Err(Rejection {
                    code: "unknown-command".into(),
                    message: format!("unknown command {command:?} for {key:?}"),
                }),
            }
        }
    }

    export!(Plugin040);
}
