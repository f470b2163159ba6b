//! A notifier as a third party built it before digests: raw wit-bindgen
//! bindings of the frozen `host/wit/notifier/v0.1.0`, no SDK. It POSTs
//! `{"type": "incident.triggered", "id": ..., "incident": {"id": ...}}` to
//! the channel's URL; the throttle tests check that its channel gets one
//! message per notification.

#[cfg(target_family = "wasm")]
mod component {
    wit_bindgen::generate!({ path: "../../../host/wit/notifier/v0.1.0", world: "notifier" });

    use exports::inbound::notifier::renderer::Guest;
    use inbound::notifier::types::{
        Channel, HttpRequest, Kind, Message, Notification, RenderError,
    };

    struct OldNotifier;

    impl Guest for OldNotifier {
        fn render(notification: Notification, _: Channel) -> Result<Vec<Message>, RenderError> {
            let kind = match notification.kind {
                Kind::Triggered => "triggered",
                Kind::Resolved => "resolved",
            };
            let body = format!(
                r#"{{"type":"incident.{kind}","id":"{}","incident":{{"id":{}}}}}"#,
                notification.id, notification.incident.id
            );
            Ok(vec![Message::Http(HttpRequest {
                method: "POST".into(),
                url: String::new(),
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    ("idempotency-key".into(), notification.id.clone()),
                ],
                body: body.into_bytes(),
            })])
        }
    }

    export!(OldNotifier);
}
