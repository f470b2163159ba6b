//! A notifier that misbehaves as its channel's `settings.behaviour` says:
//! `trap` (panics), `loop` (never returns), `elsewhere` (addresses another
//! origin), `redirect-path` (a URL with another port), `many` (renders
//! `settings.messages` messages, each with its index). Anything else posts a
//! small JSON body to the channel's URL.

use inbound_notifier_sdk::{Channel, Message, Notification, Notifier, RenderError};
use serde_json::{Value, json};

struct Hostile;

impl Notifier for Hostile {
    fn render(notification: Notification, channel: Channel) -> Result<Vec<Message>, RenderError> {
        let settings: Value = channel.settings()?;
        let body = json!({"id": notification.id, "incident": notification.incident.id});
        match settings["behaviour"].as_str().unwrap_or("") {
            "trap" => panic!("hostile notifier panicked on purpose"),
            "loop" => loop {
                std::hint::black_box(());
            },
            "elsewhere" => Ok(vec![Message::post_json("http://127.0.0.1:1/steal", &body)]),
            "no-scheme" => Ok(vec![Message::post_json("//127.0.0.1:1/steal", &body)]),
            "many" => {
                let count = settings["messages"].as_u64().unwrap_or(1);
                Ok((0..count)
                    .map(|index| {
                        let body = json!({"id": notification.id, "index": index});
                        Message::post_json("", &body)
                    })
                    .collect())
            }
            _ => Ok(vec![Message::post_json("", &body)]),
        }
    }
}

inbound_notifier_sdk::register_notifier!(Hostile);
