//! Each channel's notifier, loaded as `serve` loads it and asked to render
//! one sample notification with the channel's settings and secret. A
//! refusal that is the configuration's fault fails the check, instead of
//! every notification later: `missing-secret` (the webhook notifier signs
//! each request, so it needs `signing_secret`) and `invalid-settings`. Any
//! other outcome passes: the sample is no real incident, and a notifier may
//! refuse it for that. A throttle on a channel whose notifier has no digests
//! is a warning.

use crate::config::{Config, ConfigError};
use crate::notify::render::{self, NotifierHost, RenderError};
use crate::store::now_millis;
use std::path::Path;

pub fn check(config: &Config, cache: Option<&Path>) -> Result<Vec<String>, ConfigError> {
    if config.channels.is_empty() {
        return Ok(Vec::new());
    }
    let mut notifiers = NotifierHost::new().map_err(|error| {
        config.error_at(
            "channels",
            "channels",
            format!("cannot start the notifiers' WebAssembly engine: {error:#}"),
        )
    })?;
    for (index, channel) in config.channels.iter().enumerate() {
        let at = |field: &str| format!("channels[{index}].{field}");
        let named = |field: &str| format!("channels[{index}].{field} (channel {:?})", channel.name);
        notifiers.load(&channel.name, &config.resolve(&channel.plugin), cache).map_err(
            |error| config.error_at(&at("plugin"), &named("plugin"), format!("{error:#}")),
        )?;
        let wit_channel = render::Channel {
            name: channel.name.clone(),
            settings: serde_json::to_string(&channel.settings).unwrap_or_else(|_| "{}".into()),
            secret: channel.signing_secret.clone(),
        };
        let Err(RenderError::Refused { code, message }) =
            notifiers.render(&sample(config, &channel.name), &wit_channel)
        else {
            continue;
        };
        match code.as_str() {
            "missing-secret" => {
                return Err(config.error_at(
                    &at("name"),
                    &named("signing_secret"),
                    // A secret the provider issues (a bot token, an auth
                    // token) is copied from it, not made up: say which.
                    match channel.signing_secret {
                        Some(_) => format!("its notifier refuses this secret: {message}"),
                        None => format!(
                            "its notifier refuses to send without one ({message}); for a webhook generate one with `openssl rand -hex 32` and give the receiver the same, for a provider (Telegram's bot token, Twilio's auth token) copy the one it issued"
                        ),
                    },
                ));
            }
            "invalid-settings" => {
                let line = if channel.settings.is_empty() { at("name") } else { at("settings") };
                return Err(config.error_at(&line, &named("settings"), message));
            }
            _ => {}
        }
    }
    Ok(crate::notify::setup::unthrottled(config, &notifiers))
}

/// A new incident for the first person with a contact on `channel`, or for
/// the channel itself when nobody has one.
fn sample(config: &Config, channel: &str) -> render::Notification {
    let contact = config.people.iter().find_map(|person| {
        let contact = person.contacts.iter().find(|contact| contact.channel == channel)?;
        Some((person.name.clone(), contact.address.clone()))
    });
    let now = now_millis();
    render::Notification {
        id: "inbound-check".into(),
        kind: render::Kind::Triggered,
        incident: render::Incident {
            id: 1,
            source: "inbound check".into(),
            status: "pending".into(),
            summary: "A sample incident from inbound check".into(),
            details: String::new(),
            priority: Some("normal".into()),
            url: None,
            created_at: now,
        },
        level: 0,
        recipient: render::Recipient {
            person: contact.as_ref().map(|(person, _)| person.clone()),
            address: contact.map(|(_, address)| address),
        },
        accept_url: None,
        resolve_url: None,
        sent_at: now / 1000,
    }
}
