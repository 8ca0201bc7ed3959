//! Each preset against a local stand-in that speaks its service's protocol as the real one does: ntfy's SSE
//! stream (control events, no `id:` lines, `since=` with ntfy's own validation), Gotify's `/stream` with its
//! client-token check at the handshake, Home Assistant's auth-then-subscribe handshake, and Mastodon's
//! streaming API with its payload as JSON inside a string.

mod support;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::follower::{Follower, ids};
use support::server::{Conn, Server};
use support::ws::Upgrade;
use tidings::FeedState;
use tidings::feed::FeedSpec;
use tidings::preset::Preset;
use tidings::quiet::Urgency;
use tidings::sse::connection::{Limits, http_client};
use tidings::store::events::{EventQuery, StoredEvent};
use tidings::supervisor::{Burst, Downstream, Follow, Outcome, follow};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_util::sync::CancellationToken;

/// Add a feed at `url` (the stand-in's address, as a user would type the service's) through `preset`.
async fn add(follower: &Follower, preset: Preset, url: String, token: &str) {
    let spec = FeedSpec {
        url,
        ..FeedSpec::default()
    };
    match preset.apply(spec, Some(token)) {
        Ok(spec) => follower.add_spec(spec).await,
        Err(e) => panic!("{preset}: {e}"),
    }
}

/// Every stored event, oldest first.
fn events(follower: &Follower) -> Vec<StoredEvent> {
    let query = EventQuery {
        limit: 1_000,
        ..EventQuery::default()
    };
    let mut events = follower.engine.store().events(&query).unwrap();
    events.reverse();
    events
}

fn titles(events: &[StoredEvent]) -> Vec<&str> {
    events.iter().map(|e| e.title.as_str()).collect()
}

fn bodies(events: &[StoredEvent]) -> Vec<&str> {
    events.iter().map(|e| e.body.as_str()).collect()
}

fn links(events: &[StoredEvent]) -> Vec<Option<&str>> {
    events.iter().map(|e| e.link.as_deref()).collect()
}

/// The query parameter `name` of a request target such as `/mytopic/sse?since=abc`.
fn query_param(target: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(&format!("http://stand-in{target}")).ok()?;
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

// ---------------------------------------------------------------------------------------------------------
// ntfy

/// ntfy message ids are 12 characters of `[-_A-Za-z0-9]`; `since=` takes nothing else that looks like one.
const OPEN_1: &str = "fK4nl7SfZCbg";
const OPEN_2: &str = "Qm2c0rTuy8Ha";
const KEEPALIVE: &str = "wlbI8YqxPyVh";
const M1: &str = "xE73Iyuabi3R";
const M2: &str = "wBF1zWzpeLXd";
const M3: &str = "Ko9o5J7cNvDq";

/// What ntfy's `parseSince` accepts: nothing, `all`, `latest`, `none`, a message id, a Unix time or a
/// duration. Anything else is `400 Bad Request`.
fn ntfy_since_is_valid(since: &str) -> bool {
    let id = since.len() == 12
        && since
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let number = !since.is_empty() && since.bytes().all(|b| b.is_ascii_digit());
    let duration = since
        .strip_suffix(['s', 'm', 'h'])
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    matches!(since, "" | "all" | "latest" | "none") || id || number || duration
}

/// One ntfy event as `handleSubscribeSSE` writes it: control events get an `event:` line, messages only
/// `data:`, and never an `id:` line.
fn ntfy_sse(message: &Value) -> String {
    match message["event"].as_str() {
        Some("message") => format!("data: {message}\n\n"),
        Some(event) => format!("event: {event}\ndata: {message}\n\n"),
        None => unreachable!("every ntfy message has an event"),
    }
}

fn ntfy_control(id: &str, event: &str) -> Value {
    json!({"id": id, "time": 1_762_077_600, "event": event, "topic": "mytopic"})
}

/// The protected topic `mytopic` of an ntfy server, read with the access token `tok`.
async fn ntfy_auth(conn: Conn) -> Option<Conn> {
    let refuse = match conn.request.header("authorization") {
        None => 403, // anonymous read of a protected topic
        Some("Bearer tok") => return Some(conn),
        Some(_) => 401,
    };
    let body = format!(r#"{{"code":{refuse}01,"http":{refuse},"error":"refused"}}"#);
    conn.respond(refuse, &[("Content-Type", "application/json")], &body)
        .await;
    None
}

/// Serves `/mytopic/sse` like ntfy, with a `since` check; `script` writes the events of each connection.
async fn ntfy_server(script: fn(usize) -> Vec<Value>) -> Server {
    Server::start(move |conn: Conn| async move {
        let Some(mut conn) = ntfy_auth(conn).await else { return };
        let target = conn.request.path.clone();
        if !target.starts_with("/mytopic/sse") {
            return conn
                .respond(404, &[], r#"{"code":40401,"http":404,"error":"page not found"}"#)
                .await;
        }
        let since = query_param(&target, "since").unwrap_or_default();
        if !ntfy_since_is_valid(&since) {
            let body = r#"{"code":40008,"http":400,"error":"invalid since parameter"}"#;
            return conn.respond(400, &[("Content-Type", "application/json")], body).await;
        }
        conn.head(
            200,
            &[
                ("Content-Type", "text/event-stream"),
                ("Access-Control-Allow-Origin", "*"),
            ],
        )
        .await;
        let index = conn.index;
        for message in script(index) {
            conn.send(ntfy_sse(&message)).await;
        }
        if index == 0 {
            // A network drop or a server restart: ntfy itself never ends a subscription.
            conn.close().await;
        } else {
            conn.hold().await;
        }
    })
    .await
}

#[tokio::test]
async fn ntfy_skips_control_events_maps_messages_and_resumes_with_since() {
    let server = ntfy_server(|index| match index {
        0 => vec![
            ntfy_control(OPEN_1, "open"),
            json!({"id": M1, "time": 1_762_077_601, "expires": 1_762_120_801, "event": "message",
                "topic": "mytopic", "title": "Backup", "message": "done", "priority": 4,
                "click": "https://backup.example/runs/1"}),
            ntfy_control(KEEPALIVE, "keepalive"),
            json!({"id": M2, "time": 1_762_077_650, "expires": 1_762_120_850, "event": "message",
                "topic": "mytopic", "message": "nightly sync finished", "priority": 2}),
        ],
        _ => vec![
            ntfy_control(OPEN_2, "open"),
            // Real ntfy sends only what came after `since`; a replay of M2 must still be stored once.
            json!({"id": M2, "time": 1_762_077_650, "expires": 1_762_120_850, "event": "message",
                "topic": "mytopic", "message": "nightly sync finished", "priority": 2}),
            json!({"id": M3, "time": 1_762_077_700, "expires": 1_762_120_900, "event": "message",
                "topic": "mytopic", "title": "Disk", "message": "full", "priority": 5,
                "click": "https://grafana.example/d/disk"}),
        ],
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    add(&follower, Preset::Ntfy, server.url("/mytopic"), "tok").await;

    let stored = follower.wait_stored(3).await;
    assert_eq!(
        ids(&stored),
        [M1, M2, M3],
        "open and keepalive events are skipped, the replay stored once"
    );
    let requests = server.requests();
    assert_eq!(requests[0].path, "/mytopic/sse?since=");
    assert_eq!(requests[1].path, format!("/mytopic/sse?since={M2}"));
    for request in &requests {
        assert_eq!(request.header("authorization"), Some("Bearer tok"), "{}", request.path);
    }
    let events = events(&follower);
    assert_eq!(titles(&events), ["Backup", "mytopic", "Disk"], "no title: the topic");
    assert_eq!(bodies(&events), ["done", "nightly sync finished", "full"]);
    assert_eq!(
        links(&events),
        [
            Some("https://backup.example/runs/1"),
            None,
            Some("https://grafana.example/d/disk")
        ]
    );
    let urgency: Vec<Urgency> = events.iter().map(|e| e.urgency).collect();
    assert_eq!(urgency, [Urgency::Normal, Urgency::Low, Urgency::Critical]);
    assert!(
        events
            .iter()
            .all(|e| e.feed == "ntfy/mytopic" && e.event_type == "message")
    );
    follower.stop().await;
}

#[tokio::test]
async fn ntfy_resumes_after_the_last_message_not_the_last_keepalive() {
    let server = ntfy_server(|index| match index {
        0 => vec![
            ntfy_control(OPEN_1, "open"),
            json!({"id": M1, "time": 1_762_077_601, "event": "message", "topic": "mytopic", "message": "one"}),
            ntfy_control(KEEPALIVE, "keepalive"),
        ],
        _ => vec![
            ntfy_control(OPEN_2, "open"),
            json!({"id": M2, "time": 1_762_077_650, "event": "message", "topic": "mytopic", "message": "two"}),
        ],
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    add(&follower, Preset::Ntfy, server.url("/mytopic"), "tok").await;
    assert_eq!(ids(&follower.wait_stored(2).await), [M1, M2]);
    assert_eq!(server.requests()[1].path, format!("/mytopic/sse?since={M1}"));
    follower.stop().await;
}

// ---------------------------------------------------------------------------------------------------------
// WebSocket services

/// A WebSocket service stand-in. Like the real services, and unlike `support::ws` (which refuses by
/// connection index), it decides from the upgrade request itself (path, headers) whether to take it.
struct Service {
    addr: SocketAddr,
    upgrades: Arc<Mutex<Vec<Upgrade>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Service {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One accepted WebSocket connection.
struct Channel {
    socket: WebSocketStream<TcpStream>,
}

impl Channel {
    async fn send(&mut self, text: impl Into<String>) {
        let _ = self.socket.send(Message::text(text.into())).await;
    }

    /// The next text frame from the client (pings are answered while waiting); None when it went away.
    async fn recv(&mut self) -> Option<String> {
        while let Some(Ok(message)) = self.socket.next().await {
            if let Message::Text(text) = message {
                return Some(text.as_str().to_string());
            }
        }
        None
    }

    async fn close(mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        let _ = self.socket.send(Message::Close(Some(frame))).await;
        while let Some(Ok(_)) = self.socket.next().await {}
    }

    /// Answer pings and read until the client goes away.
    async fn hold(mut self) {
        while let Some(Ok(_)) = self.socket.next().await {}
    }
}

/// A stand-in that redirects no handshake.
fn no_redirect(_: &Upgrade) -> Option<String> {
    None
}

impl Service {
    /// Serve every connection `gate` lets through (`Some(status)` refuses the handshake) with `handler`.
    async fn start<F, Fut>(gate: fn(&Upgrade) -> Option<u16>, handler: F) -> Service
    where
        F: Fn(Channel) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Service::start_redirecting(gate, no_redirect, handler).await
    }

    /// As [`Service::start`], but a handshake `redirect` gives a `Location` for is answered `301` to it.
    async fn start_redirecting<F, Fut>(
        gate: fn(&Upgrade) -> Option<u16>,
        redirect: fn(&Upgrade) -> Option<String>,
        handler: F,
    ) -> Service
    where
        F: Fn(Channel) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let upgrades = Arc::new(Mutex::new(Vec::new()));
        let recorded = upgrades.clone();
        let handler = Arc::new(handler);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let seen = Arc::new(Mutex::new(None));
                let seen_in_callback = seen.clone();
                #[allow(clippy::result_large_err)] // the signature tungstenite asks for
                let callback = move |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
                    let upgrade = Upgrade {
                        path: request.uri().to_string(),
                        headers: request
                            .headers()
                            .iter()
                            .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                            .collect(),
                    };
                    let refusal = gate(&upgrade);
                    let location = redirect(&upgrade);
                    *seen_in_callback.lock().unwrap() = Some(upgrade);
                    if let Some(location) = location {
                        let mut moved = ErrorResponse::new(None);
                        *moved.status_mut() = StatusCode::MOVED_PERMANENTLY;
                        moved
                            .headers_mut()
                            .insert("location", location.parse().expect("a header value"));
                        return Err(moved);
                    }
                    match refusal {
                        Some(status) => {
                            let body = format!(r#"{{"error":"refused","errorCode":{status}}}"#);
                            let mut refused = ErrorResponse::new(Some(body));
                            *refused.status_mut() = StatusCode::from_u16(status).unwrap();
                            Err(refused)
                        }
                        None => Ok(response),
                    }
                };
                let accepted = tokio_tungstenite::accept_hdr_async(stream, callback).await;
                let upgrade = seen.lock().unwrap().take();
                if let Some(upgrade) = &upgrade {
                    recorded.lock().unwrap().push(upgrade.clone());
                }
                if let (Ok(socket), Some(_)) = (accepted, upgrade) {
                    tokio::spawn(handler(Channel { socket }));
                }
            }
        });
        Service { addr, upgrades, task }
    }

    /// The address a user would give: the service's base URL.
    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn upgrades(&self) -> Vec<Upgrade> {
        self.upgrades.lock().unwrap().clone()
    }
}

// Gotify ---------------------------------------------------------------------------------------------------

/// Gotify's `/stream` sits behind `RequireClient`: no valid client token, no upgrade (401).
fn gotify_gate(upgrade: &Upgrade) -> Option<u16> {
    if upgrade.path.split('?').next() != Some("/stream") {
        return Some(404);
    }
    (upgrade.header("x-gotify-key") != Some("tok")).then_some(401)
}

async fn gotify() -> Service {
    Service::start(gotify_gate, |mut channel: Channel| async move {
        let messages = [
            json!({"id": 7, "appid": 1, "message": "backup done", "title": "Backup", "priority": 8,
                "extras": {"client::notification": {"click": {"url": "https://backup.example/runs/7"}}},
                "date": "2026-11-02T10:00:00.123456789+01:00"}),
            json!({"id": 8, "appid": 2, "message": "cert renews in 30 days", "title": "", "priority": 2,
                "date": "2026-11-02T10:05:00.5+01:00"}),
        ];
        for message in messages {
            channel.send(message.to_string()).await;
        }
        channel.hold().await;
    })
    .await
}

#[tokio::test]
async fn gotify_streams_messages_with_the_client_token() {
    let service = gotify().await;
    let follower = Follower::start(Limits::default()).await;
    add(&follower, Preset::Gotify, service.base_url(), "tok").await;

    let stored = follower.wait_stored(2).await;
    assert_eq!(ids(&stored), ["7", "8"]);
    let events = events(&follower);
    assert_eq!(titles(&events), ["Backup", "Gotify"], "an empty title falls back");
    assert_eq!(bodies(&events), ["backup done", "cert renews in 30 days"]);
    assert_eq!(links(&events), [Some("https://backup.example/runs/7"), None]);
    let urgency: Vec<Urgency> = events.iter().map(|e| e.urgency).collect();
    assert_eq!(urgency, [Urgency::Critical, Urgency::Low], "gotify's 0-10 scale");
    let upgrades = service.upgrades();
    assert_eq!(upgrades.len(), 1);
    assert_eq!(upgrades[0].path, "/stream");
    follower.stop().await;
}

// Home Assistant ---------------------------------------------------------------------------------------------

fn home_assistant_gate(upgrade: &Upgrade) -> Option<u16> {
    (upgrade.path != "/api/websocket").then_some(404)
}

/// A `state_changed` event as Home Assistant sends it to subscription `id`.
fn state_changed(id: u64, entity: &str, name: &str, state: &str, context: &str) -> String {
    json!({"id": id, "type": "event", "event": {
        "event_type": "state_changed",
        "data": {
            "entity_id": entity,
            "old_state": {"entity_id": entity, "state": "off", "attributes": {"friendly_name": name},
                "last_changed": "2026-11-02T09:00:00+00:00", "context": {"id": "01JB00000000000000000000AA"}},
            "new_state": {"entity_id": entity, "state": state, "attributes": {"friendly_name": name},
                "last_changed": "2026-11-02T10:00:00+00:00", "context": {"id": context}},
        },
        "origin": "LOCAL",
        "time_fired": "2026-11-02T10:00:00.000000+00:00",
        "context": {"id": context, "parent_id": null, "user_id": "4e4f5d1c"},
    }})
    .to_string()
}

async fn home_assistant(received: Arc<Mutex<Vec<String>>>) -> Service {
    Service::start(home_assistant_gate, move |mut channel: Channel| {
        let received = received.clone();
        async move {
            channel
                .send(r#"{"type":"auth_required","ha_version":"2026.11.0"}"#)
                .await;
            let auth = channel.recv().await.unwrap_or_default();
            received.lock().unwrap().push(auth.clone());
            let auth: Value = serde_json::from_str(&auth).unwrap_or_default();
            if auth["type"] != "auth" || auth["access_token"] != "tok" {
                channel
                    .send(r#"{"type":"auth_invalid","message":"Invalid access token or password"}"#)
                    .await;
                return channel.close(1000, "").await;
            }
            channel.send(r#"{"type":"auth_ok","ha_version":"2026.11.0"}"#).await;
            let command = channel.recv().await.unwrap_or_default();
            received.lock().unwrap().push(command.clone());
            let command: Value = serde_json::from_str(&command).unwrap_or_default();
            let id = command["id"].as_u64().unwrap_or(0);
            if command["type"] != "subscribe_events" || command["event_type"] != "state_changed" || id == 0 {
                let error = json!({"id": command["id"], "type": "result", "success": false,
                    "error": {"code": "invalid_format", "message": "Message incorrectly formatted."}});
                channel.send(error.to_string()).await;
                return channel.hold().await;
            }
            channel
                .send(format!(r#"{{"id":{id},"type":"result","success":true,"result":null}}"#))
                .await;
            // One `light.turn_on` call switching two lights: both changes share the call's context.
            let context = "01JB2M7Q9X3V4K8N6P5R0T1W2Y";
            channel
                .send(state_changed(id, "light.kitchen", "Kitchen light", "on", context))
                .await;
            channel
                .send(state_changed(id, "light.hall", "Hall light", "on", context))
                .await;
            channel.hold().await;
        }
    })
    .await
}

#[tokio::test]
async fn home_assistant_authenticates_subscribes_and_keeps_every_state_change() {
    let received = Arc::new(Mutex::new(Vec::new()));
    let service = home_assistant(received.clone()).await;
    let follower = Follower::start(Limits::default()).await;
    add(&follower, Preset::HomeAssistant, service.base_url(), "tok").await;

    follower.wait_stored(2).await;
    let events = events(&follower);
    assert_eq!(
        events.len(),
        2,
        "the handshake and the subscription's result are not events"
    );
    assert_eq!(titles(&events), ["Kitchen light", "Hall light"]);
    assert_eq!(bodies(&events), ["on", "on"]);
    assert!(events.iter().all(|e| e.feed.starts_with("home-assistant/127.0.0.1")));
    let received = received.lock().unwrap().clone();
    let sent: Vec<Value> = received
        .iter()
        .map(|t| serde_json::from_str(t).unwrap_or_default())
        .collect();
    assert_eq!(sent[0], json!({"type": "auth", "access_token": "tok"}));
    assert_eq!(
        sent[1],
        json!({"id": 1, "type": "subscribe_events", "event_type": "state_changed"})
    );
    assert_eq!(follower.wait_state("live").await.label(), "live");
    follower.stop().await;
}

// Mastodon -------------------------------------------------------------------------------------------------

/// The streaming server takes the token from `Authorization: Bearer` (or `access_token`); an unknown one is
/// refused at the upgrade with 401.
fn mastodon_gate(upgrade: &Upgrade) -> Option<u16> {
    if !upgrade.path.starts_with("/api/v1/streaming") {
        return Some(404);
    }
    if query_param(&upgrade.path, "stream").as_deref() != Some("user:notification") {
        return Some(400);
    }
    (upgrade.header("authorization") != Some("Bearer tok")).then_some(401)
}

fn mastodon_account(id: &str, acct: &str, name: &str) -> Value {
    json!({"id": id, "username": acct, "acct": acct, "display_name": name,
        "url": format!("https://example.social/@{acct}"), "note": format!("<p>{name} writes code.</p>")})
}

/// A streaming API frame: the notification travels as a JSON string in `payload`.
fn mastodon_notification(notification: &Value) -> String {
    json!({"stream": ["user:notification"], "event": "notification", "payload": notification.to_string()}).to_string()
}

async fn mastodon() -> Service {
    Service::start(mastodon_gate, |mut channel: Channel| async move {
        channel
            .send(json!({"stream": ["user:notification"], "event": "delete", "payload": "123"}).to_string())
            .await;
        let mention = json!({"id": "4242", "type": "mention", "created_at": "2026-11-02T10:00:00.000Z",
            "account": mastodon_account("1", "ann", "Ann"),
            "status": {"id": "113", "content": "<p>Hello <span class=\"h-card\">@me</span></p>",
                "url": "https://example.social/@ann/113", "account": mastodon_account("1", "ann", "Ann")}});
        channel.send(mastodon_notification(&mention)).await;
        let follow = json!({"id": "4243", "type": "follow", "created_at": "2026-11-02T10:01:00.000Z",
            "account": mastodon_account("2", "bob", "Bob")});
        channel.send(mastodon_notification(&follow)).await;
        channel.hold().await;
    })
    .await
}

#[tokio::test]
async fn mastodon_maps_notifications_from_the_payload_string() {
    let service = mastodon().await;
    let follower = Follower::start(Limits::default()).await;
    add(&follower, Preset::Mastodon, service.base_url(), "tok").await;

    let stored = follower.wait_stored(2).await;
    assert_eq!(
        ids(&stored),
        ["4242", "4243"],
        "the cursor is the notification's id; the delete is skipped"
    );
    let events = events(&follower);
    assert_eq!(titles(&events), ["Ann (mention)", "Bob (follow)"]);
    assert_eq!(
        bodies(&events),
        ["Hello @me", "Bob writes code."],
        "HTML is read as text"
    );
    assert_eq!(
        links(&events),
        [
            Some("https://example.social/@ann/113"),
            Some("https://example.social/@bob")
        ]
    );
    assert_eq!(service.upgrades()[0].path, "/api/v1/streaming?stream=user:notification");
    follower.stop().await;
}

#[tokio::test]
async fn a_wrong_token_fails_the_feed_with_401() {
    for preset in [Preset::Gotify, Preset::Mastodon] {
        let service = match preset {
            Preset::Gotify => gotify().await,
            _ => mastodon().await,
        };
        let follower = Follower::start(Limits::default()).await;
        add(&follower, preset, service.base_url(), "wrong").await;
        let FeedState::Failed { reason } = follower.wait_state("failed").await else {
            unreachable!()
        };
        assert!(reason.contains("401"), "{preset}: {reason}");
        assert!(follower.stored().is_empty());
        let upgrade = &service.upgrades()[0];
        let sent = match preset {
            Preset::Gotify => upgrade.header("x-gotify-key"),
            _ => upgrade.header("authorization"),
        };
        assert!(sent.is_some_and(|value| value.ends_with("wrong")), "{preset}: {sent:?}");
        follower.stop().await;
    }
}

/// Records the states a feed goes through; keeps every burst.
#[derive(Default)]
struct States(Vec<FeedState>);

impl Downstream for States {
    async fn deliver(&mut self, burst: Burst) -> Result<String, String> {
        Ok(burst.cursor)
    }

    async fn state(&mut self, state: FeedState) {
        self.0.push(state);
    }
}

#[tokio::test]
async fn home_assistant_refusing_the_token_fails_the_feed_until_it_gets_a_new_one() {
    let received = Arc::new(Mutex::new(Vec::new()));
    let service = home_assistant(received.clone()).await;
    let spec = Preset::HomeAssistant
        .apply(
            FeedSpec {
                url: service.base_url(),
                ..FeedSpec::default()
            },
            Some("wrong"),
        )
        .expect("preset");
    let config = spec.validate().expect("valid");

    // The supervisor itself: `auth_invalid` then a clean close ends the follow (no retry loop to wait out).
    let client = http_client().expect("client");
    let shutdown = CancellationToken::new();
    let params = Follow {
        client: &client,
        config: &config,
        cursor: String::new(),
        limits: &Limits::default(),
        reconnect: true,
        shutdown: &shutdown,
    };
    let mut states = States::default();
    let outcome = tokio::time::timeout(Duration::from_secs(15), follow(params, &mut states))
        .await
        .expect("the follow ends instead of retrying");
    let Outcome::Failed(reason) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(reason.contains("Invalid access token or password"), "{reason}");
    assert!(
        reason.contains(&format!("tidings feed edit {:?} --token NEW_TOKEN", config.name)),
        "{reason}"
    );
    assert!(!reason.contains("wrong"), "the token is not repeated: {reason}");
    assert_eq!(service.upgrades().len(), 1, "the follow ended after one connection");
    assert_eq!(
        states.0.iter().map(FeedState::label).collect::<Vec<_>>(),
        ["connecting", "failed"]
    );

    // The engine: the feed stays failed until the user gives a new token, which starts it again.
    let follower = Follower::start(Limits::default()).await;
    follower.add_spec(spec).await;
    let FeedState::Failed { reason } = follower.wait_state("failed").await else {
        unreachable!()
    };
    assert!(reason.contains("auth_invalid"), "{reason}");
    let name = config.name.as_str();
    let mut fixed = follower.engine.store().feed(name).expect("the feed").config.to_spec();
    tidings::preset::replace_token(&mut fixed, "tok").expect("a token to replace");
    fixed.plaintext_secrets = true; // this test has no keyring
    follower.engine.edit_feed(name, fixed).await.expect("edit");
    follower.wait_stored(2).await;
    let tokens: Vec<Value> = received
        .lock()
        .unwrap()
        .iter()
        .filter_map(|text| serde_json::from_str::<Value>(text).ok())
        .filter(|message| message["type"] == "auth")
        .map(|message| message["access_token"].clone())
        .collect();
    assert_eq!(tokens.first(), Some(&json!("wrong")));
    assert_eq!(tokens.last(), Some(&json!("tok")), "the new token is the one sent last");
    follower.stop().await;
}

// Mastodon's streaming host ---------------------------------------------------------------------------------

/// A Mastodon instance's web API, whose streaming server is `streaming` (a `ws://` address). `version`
/// 2 answers `/api/v2/instance`; 1 is a server older than 4.0 (v2 is 404, v1 names `streaming_api`).
async fn mastodon_instance(streaming: String, version: u8) -> Server {
    Server::start(move |conn: Conn| {
        let streaming = streaming.clone();
        async move {
            let json = [("Content-Type", "application/json; charset=utf-8")];
            let body = match (conn.request.path.as_str(), version) {
                ("/api/v2/instance", 2) => json!({"domain": "example.social", "version": "4.3.0",
                    "configuration": {"urls": {"streaming": streaming, "status": null}}}),
                ("/api/v1/instance", _) => json!({"uri": "example.social", "version": "3.5.3",
                    "urls": {"streaming_api": streaming}}),
                _ => return conn.respond(404, &json, r#"{"error":"Record not found"}"#).await,
            };
            conn.respond(200, &json, &body.to_string()).await;
        }
    })
    .await
}

/// The streaming server's address as an instance names it: `ws://127.0.0.1:PORT`.
fn streaming_address(service: &Service) -> String {
    format!("ws://{}", service.addr)
}

#[tokio::test]
async fn mastodon_asks_the_instance_for_its_streaming_server() {
    for version in [2, 1] {
        let streaming = mastodon().await;
        let instance = mastodon_instance(streaming_address(&streaming), version).await;
        let spec = FeedSpec {
            url: instance.url(""),
            ..FeedSpec::default()
        };
        let spec = match Preset::Mastodon.apply_asking(spec, Some("tok")).await {
            Ok(spec) => spec,
            Err(e) => panic!("v{version}: {e}"),
        };
        assert_eq!(
            spec.url,
            format!("ws://{}/api/v1/streaming?stream=user:notification", streaming.addr),
            "v{version}"
        );
        assert_eq!(spec.name.as_deref(), Some("mastodon/127.0.0.1"));
        let asked: Vec<String> = instance.requests().iter().map(|r| r.path.clone()).collect();
        let expected: &[&str] = match version {
            2 => &["/api/v2/instance"],
            _ => &["/api/v2/instance", "/api/v1/instance"],
        };
        assert_eq!(asked, expected);

        let follower = Follower::start(Limits::default()).await;
        follower.add_spec(spec).await;
        follower.wait_stored(2).await;
        let events = events(&follower);
        assert_eq!(
            bodies(&events),
            ["Hello @me", "Bob writes code."],
            "HTML is read as text"
        );
        let upgrades = streaming.upgrades();
        assert_eq!(upgrades[0].header("authorization"), Some("Bearer tok"));
        follower.stop().await;
    }
}

#[tokio::test]
async fn mastodon_without_a_streaming_address_keeps_the_instance_and_an_unreachable_one_is_an_error() {
    let silent = Server::start(|conn: Conn| async move {
        conn.respond(200, &[("Content-Type", "application/json")], r#"{"domain":"x"}"#)
            .await
    })
    .await;
    let spec = FeedSpec {
        url: silent.url("/"),
        ..FeedSpec::default()
    };
    let kept = Preset::Mastodon.apply_asking(spec, Some("tok")).await.expect("kept");
    assert_eq!(
        kept.url,
        format!("ws://{}/api/v1/streaming?stream=user:notification", silent.addr)
    );

    // An instance that breaks every connection (a port closed outright could be reused by another test).
    let broken = Server::start(|conn: Conn| async move { conn.reset() }).await;
    let address = broken.addr;
    let spec = FeedSpec {
        url: format!("http://{address}"),
        ..FeedSpec::default()
    };
    let error = Preset::Mastodon
        .apply_asking(spec, Some("secret-token"))
        .await
        .expect_err("nothing listens there")
        .to_string();
    assert!(
        error.contains(&format!("cannot reach the instance at http://{address}")) && error.contains("wss://"),
        "{error}"
    );
    assert!(!error.contains("secret-token"), "{error}");
}

/// The instance's own `/api/v1/streaming` moved to another path on the same server.
fn moved_within(upgrade: &Upgrade) -> Option<String> {
    let rest = upgrade.path.strip_prefix("/old")?;
    Some(rest.to_string())
}

#[tokio::test]
async fn a_redirect_within_the_origin_is_followed_with_the_token() {
    let service = Service::start_redirecting(
        |upgrade| match upgrade.path.starts_with("/old") {
            true => None,
            false => mastodon_gate(upgrade),
        },
        moved_within,
        |channel: Channel| async move {
            let mut channel = channel;
            let follow = json!({"id": "1", "type": "follow", "account": mastodon_account("2", "bob", "Bob")});
            channel.send(mastodon_notification(&follow)).await;
            channel.hold().await;
        },
    )
    .await;
    let follower = Follower::start(Limits::default()).await;
    add(
        &follower,
        Preset::Mastodon,
        format!("{}/old", service.base_url()),
        "tok",
    )
    .await;
    follower.wait_stored(1).await;
    let upgrades = service.upgrades();
    let paths: Vec<&str> = upgrades.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/old/api/v1/streaming?stream=user:notification",
            "/api/v1/streaming?stream=user:notification"
        ]
    );
    assert!(upgrades.iter().all(|u| u.header("authorization") == Some("Bearer tok")));
    follower.stop().await;
}

#[tokio::test]
async fn a_redirect_to_another_origin_drops_the_token_and_says_what_to_do() {
    let streaming = mastodon().await;
    let target = format!(
        "{}/api/v1/streaming?stream=user:notification",
        streaming_address(&streaming)
    );
    let instance = Server::start(move |conn: Conn| {
        let target = target.clone();
        async move { conn.respond(301, &[("Location", &target)], "").await }
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    add(&follower, Preset::Mastodon, instance.url(""), "tok").await;
    let FeedState::Failed { reason } = follower.wait_state("failed").await else {
        unreachable!()
    };
    assert!(reason.contains("401") && reason.contains("own origin"), "{reason}");
    assert!(
        reason.contains(&format!(
            "tidings feed edit \"mastodon/127.0.0.1\" --url ws://{}/api/v1/streaming?stream=user:notification",
            streaming.addr
        )),
        "{reason}"
    );
    assert!(!reason.contains("tok"), "{reason}");
    assert_eq!(instance.requests()[0].header("authorization"), Some("Bearer tok"));
    let upgrades = streaming.upgrades();
    assert!(!upgrades.is_empty());
    assert!(
        upgrades.iter().all(|u| u.header("authorization").is_none()),
        "the token stays with its origin"
    );
    follower.stop().await;
}

#[tokio::test]
async fn a_redirect_loop_fails_the_feed() {
    let looping = Server::start(|conn: Conn| async move {
        let next = if conn.request.path == "/a" { "/b" } else { "/a" };
        conn.respond(302, &[("Location", next)], "").await
    })
    .await;
    let follower = Follower::start(Limits::default()).await;
    follower
        .add_spec(FeedSpec {
            url: looping.url("/a").replace("http://", "ws://"),
            ..FeedSpec::default()
        })
        .await;
    let FeedState::Failed { reason } = follower.wait_state("failed").await else {
        unreachable!()
    };
    assert!(reason.contains("redirects in a loop"), "{reason}");
    let paths: Vec<String> = looping.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        ["/a", "/b"],
        "the loop is seen at its first turn and not retried"
    );
    follower.stop().await;
}
