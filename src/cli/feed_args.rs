//! The flags that describe a feed, shared by `feed add`, `feed edit` and (in part) `tail`.
//!
//! `--send` and `--send-after` go out in the order they were given, so the raw argument matches are read
//! for their positions.

use std::time::Duration;

use clap::{ArgMatches, Args};
use tidings::Error;
use tidings::feed::{FeedSpec, SendStep};

/// How a feed connects.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// A request header, `Name: value` (repeatable), e.g. -H 'Authorization: Bearer …'
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,
    /// Reconnect when nothing arrives for this long, e.g. 90s, 5m [default: 90s]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub stall_timeout: Option<Duration>,
    /// WebSocket: a message to send after connecting (repeatable, in order); {{cursor}} becomes the cursor
    #[arg(long = "send", value_name = "TEXT")]
    pub send: Vec<String>,
    /// WebSocket: wait for a server message matching REGEX, then send TEXT (split at the first `=`)
    #[arg(long = "send-after", value_name = "REGEX=TEXT")]
    pub send_after: Vec<String>,
    /// Take each event's id (its resume cursor) from this JSON pointer in its data, e.g. /id
    #[arg(long, value_name = "POINTER")]
    pub cursor_pointer: Option<String>,
    /// WebSocket: ping this often, e.g. 30s [default: 30s]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub ping_interval: Option<Duration>,
    /// WebSocket: a server message matching REGEX fails the feed (no retry until you edit or resume it),
    /// e.g. 'auth_invalid'; '' removes it
    #[arg(long, value_name = "REGEX")]
    pub fail_when: Option<String>,
}

/// Where a feed's secrets are kept (`feed add` and `feed edit`).
#[derive(Debug, Args)]
pub struct SecretArgs {
    /// Treat this header's value as a secret too (repeatable), kept in the keyring like Authorization,
    /// Cookie or X-Gotify-Key
    #[arg(long = "secret-header", value_name = "NAME")]
    pub secret_headers: Vec<String>,
    /// With no keyring available, store secrets as plain text in the database (readable by anyone who can
    /// read the database file or its backups)
    #[arg(long)]
    pub plaintext_secrets: bool,
}

impl SecretArgs {
    /// Put what was given on the command line into `spec`.
    pub fn apply(&self, spec: &mut FeedSpec) {
        if !self.secret_headers.is_empty() {
            spec.secret_headers = self.secret_headers.clone();
        }
        spec.plaintext_secrets = self.plaintext_secrets;
    }
}

/// What a feed's notifications show and when.
#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// Notification title template, e.g. '{{/title ?? type}}'
    #[arg(long, value_name = "TEMPLATE")]
    pub title: Option<String>,
    /// Notification body template, e.g. '{{/message}}'
    #[arg(long, value_name = "TEMPLATE")]
    pub body: Option<String>,
    /// Link template (opened on click; http and https only), e.g. '{{/click}}'
    #[arg(long, value_name = "TEMPLATE")]
    pub link: Option<String>,
    /// Priority template, mapped to urgency, e.g. '{{/priority}}'
    #[arg(long, value_name = "TEMPLATE")]
    pub priority: Option<String>,
    /// Priority thresholds LOW_MAX,CRITICAL_MIN [default: 2,5 (ntfy)]; gotify uses 3,8
    #[arg(long, value_name = "LOW,CRITICAL")]
    pub priority_scale: Option<String>,
    /// Do not store events matching this rule (repeatable), e.g. 'type == "keepalive"'
    #[arg(long, value_name = "RULE")]
    pub skip_when: Vec<String>,
    /// Only notify events matching this rule (repeatable; all are stored), e.g. '/priority >= 4'
    #[arg(long, value_name = "RULE")]
    pub notify_when: Vec<String>,
    /// At most N notifications a minute; the rest fold into one summary
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Run PROGRAM ARG... for each new event that passes the rules (must be the last option); the event
    /// is in TIDINGS_FEED, TIDINGS_ID, TIDINGS_TYPE, TIDINGS_TITLE, TIDINGS_BODY, TIDINGS_LINK, TIDINGS_DATA
    #[arg(long, value_name = "PROGRAM ARG", num_args = 1.., allow_hyphen_values = true)]
    pub exec: Vec<String>,
}

impl ConnectArgs {
    /// Put what was given on the command line into `spec`, leaving the rest as it is.
    pub fn apply(&self, spec: &mut FeedSpec, matches: Option<&ArgMatches>) -> Result<(), Error> {
        if !self.headers.is_empty() {
            spec.headers = self.headers.clone();
        }
        spec.stall_timeout = self.stall_timeout.or(spec.stall_timeout);
        let steps = send_steps(matches)?;
        if !steps.is_empty() {
            spec.send = steps;
        }
        if self.cursor_pointer.is_some() {
            spec.cursor_pointer = self.cursor_pointer.clone();
        }
        spec.ping_interval = self.ping_interval.or(spec.ping_interval);
        if self.fail_when.is_some() {
            spec.fail_when = self.fail_when.clone();
        }
        Ok(())
    }
}

impl NotifyArgs {
    /// Put what was given on the command line into `spec`, leaving the rest as it is.
    pub fn apply(&self, spec: &mut FeedSpec) {
        let set = |field: &mut Option<String>, given: &Option<String>| {
            if given.is_some() {
                field.clone_from(given);
            }
        };
        set(&mut spec.title, &self.title);
        set(&mut spec.body, &self.body);
        set(&mut spec.link, &self.link);
        set(&mut spec.priority, &self.priority);
        set(&mut spec.priority_scale, &self.priority_scale);
        if !self.skip_when.is_empty() {
            spec.skip_when = self.skip_when.clone();
        }
        if !self.notify_when.is_empty() {
            spec.notify_when = self.notify_when.clone();
        }
        spec.rate_limit = self.rate_limit.or(spec.rate_limit);
        if !self.exec.is_empty() {
            spec.exec = self.exec.clone();
        }
    }
}

/// `--send` and `--send-after` in the order they were given.
fn send_steps(matches: Option<&ArgMatches>) -> Result<Vec<SendStep>, Error> {
    let Some(matches) = matches else { return Ok(Vec::new()) };
    let mut steps: Vec<(usize, SendStep)> = Vec::new();
    if let (Some(values), Some(positions)) = (matches.get_many::<String>("send"), matches.indices_of("send")) {
        for (text, at) in values.zip(positions) {
            steps.push((
                at,
                SendStep {
                    after: None,
                    text: text.clone(),
                },
            ));
        }
    }
    if let (Some(values), Some(positions)) = (
        matches.get_many::<String>("send_after"),
        matches.indices_of("send_after"),
    ) {
        for (value, at) in values.zip(positions) {
            let (after, text) = value.split_once('=').ok_or_else(|| Error::InvalidSetting {
                setting: format!("--send-after `{value}`"),
                reason: "expected REGEX=TEXT, e.g. --send-after 'auth_required={\"type\":\"auth\"}'".into(),
            })?;
            steps.push((
                at,
                SendStep {
                    after: Some(after.to_string()),
                    text: text.to_string(),
                },
            ));
        }
    }
    steps.sort_by_key(|(at, _)| *at);
    Ok(steps.into_iter().map(|(_, step)| step).collect())
}
