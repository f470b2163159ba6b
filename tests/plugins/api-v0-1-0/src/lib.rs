//! A plugin as a third party built it before the API grew: raw wit-bindgen
//! bindings of the frozen `host/wit/v0.1.0`, no SDK. The versioning test
//! loads it next to 0.2.0 plugins.
//!
//! Body `open KEY` finds or creates the open incident for KEY (with a url);
//! `resolve KEY` resolves it; anything else is rejected.

#[cfg(target_family = "wasm")]
mod component {
    wit_bindgen::generate!({ path: "../../../host/wit/v0.1.0", world: "plugin" });

    use exports::inbound::plugin::handler::Guest;
    use inbound::plugin::types::{Action, NewIncident, Outcome, Rejection, Request};
    use inbound::plugin::{incidents, log};

    struct OldPlugin;

    impl Guest for OldPlugin {
        fn handle(request: Request) -> Result<Vec<Outcome>, Rejection> {
            let body = String::from_utf8_lossy(&request.body).into_owned();
            let (command, key) = body.trim().split_once(' ').unwrap_or((body.trim(), ""));
            log::log(log::Level::Info, &format!("0.1.0 plugin: {command} {key}"));
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
                        details: "raised by a 0.1.0 plugin".into(),
                        priority: None,
                        url: Some(format!("https://status.example/{key}")),
                    })
                    .map_err(api)?;
                    Ok(vec![Outcome { action: Action::Created, incident: created.id }])
                }
                ("resolve", Some(open)) => {
                    let resolved = incidents::resolve(open.id, Some("back up")).map_err(api)?;
                    Ok(vec![Outcome { action: Action::Resolved, incident: resolved.id }])
                }
                ("resolve", None) => Ok(vec![]),
                _ => Err(Rejection {
                    code: "unknown-command".into(),
                    message: format!("unknown command {command:?}"),
                }),
            }
        }
    }

    export!(OldPlugin);
}
