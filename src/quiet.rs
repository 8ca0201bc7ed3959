//! Noise control by the clock and by importance: quiet hours, an event's urgency, and do not disturb.
//!
//! - [`QuietHours`]: a daily span such as `22:00-07:30`, which may wrap midnight.
//! - [`Urgency`] and [`PriorityScale`]: how a feed's priority (ntfy's 1–5, gotify's 0–10, or words such as
//!   `high`) becomes low, normal or critical, with per-feed thresholds.
//! - [`DoNotDisturb`]: whether a notification is held back; critical events always break through.
//!
//! Nothing here reads the clock: the caller passes the local minute of the day, so every rule is testable
//! at any hour. Silencing only concerns notifications; the caller still records every event.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Minutes in a day.
pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// A time of day to the minute, `00:00` to `23:59`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay {
    hours: u8,
    minutes: u8,
}

impl TimeOfDay {
    /// `None` unless `hours` is 0–23 and `minutes` 0–59.
    pub fn new(hours: u8, minutes: u8) -> Option<TimeOfDay> {
        (hours < 24 && minutes < 60).then_some(TimeOfDay { hours, minutes })
    }

    pub fn hours(self) -> u8 {
        self.hours
    }

    pub fn minutes(self) -> u8 {
        self.minutes
    }

    /// Minutes since midnight, 0–1439.
    pub fn minute_of_day(self) -> u16 {
        u16::from(self.hours) * 60 + u16::from(self.minutes)
    }

    /// The time `minute_of_day` minutes after midnight, wrapping past a day.
    pub fn from_minute_of_day(minute_of_day: u16) -> TimeOfDay {
        let minute = minute_of_day % MINUTES_PER_DAY;
        // Both fit in a u8: hours < 24, minutes < 60.
        TimeOfDay {
            hours: (minute / 60) as u8,
            minutes: (minute % 60) as u8,
        }
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hours, self.minutes)
    }
}

impl FromStr for TimeOfDay {
    type Err = ParseError;

    /// `H:MM` or `HH:MM`, 24-hour.
    fn from_str(text: &str) -> Result<TimeOfDay, ParseError> {
        let bad = || ParseError::new("time of day", text, "HH:MM on a 24-hour clock, e.g. 07:30 or 22:00");
        let (hours, minutes) = text.trim().split_once(':').ok_or_else(bad)?;
        let digits = |part: &str, len: std::ops::RangeInclusive<usize>| {
            if len.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse::<u8>().ok()
            } else {
                None
            }
        };
        let hours = digits(hours, 1..=2).ok_or_else(bad)?;
        let minutes = digits(minutes, 2..=2).ok_or_else(bad)?;
        TimeOfDay::new(hours, minutes).ok_or_else(bad)
    }
}

impl TryFrom<String> for TimeOfDay {
    type Error = ParseError;

    fn try_from(text: String) -> Result<TimeOfDay, ParseError> {
        text.parse()
    }
}

impl From<TimeOfDay> for String {
    fn from(time: TimeOfDay) -> String {
        time.to_string()
    }
}

/// A daily quiet span from `start` (included) to `end` (excluded), e.g. `22:00-07:30`.
///
/// When `start` is later than `end` the span wraps midnight: `22:00-07:30` holds 23:00 and 03:00. When
/// `start` equals `end` the span is empty and never holds: "all day" is [`DoNotDisturb::forced`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct QuietHours {
    pub start: TimeOfDay,
    pub end: TimeOfDay,
}

impl QuietHours {
    /// Whether the local time `minute_of_day` (minutes since midnight; values past a day wrap) is quiet.
    pub fn contains(&self, minute_of_day: u16) -> bool {
        let minute = minute_of_day % MINUTES_PER_DAY;
        let (start, end) = (self.start.minute_of_day(), self.end.minute_of_day());
        match start.cmp(&end) {
            std::cmp::Ordering::Less => start <= minute && minute < end,
            std::cmp::Ordering::Greater => minute >= start || minute < end,
            std::cmp::Ordering::Equal => false,
        }
    }
}

impl fmt::Display for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

impl FromStr for QuietHours {
    type Err = ParseError;

    /// `START-END`, each `HH:MM`, e.g. `22:00-07:30`; spaces around the parts are allowed.
    fn from_str(text: &str) -> Result<QuietHours, ParseError> {
        let bad = || ParseError::new("quiet hours", text, "START-END on a 24-hour clock, e.g. 22:00-07:30");
        let (start, end) = text.split_once('-').ok_or_else(bad)?;
        Ok(QuietHours {
            start: start.parse().map_err(|_| bad())?,
            end: end.parse().map_err(|_| bad())?,
        })
    }
}

impl TryFrom<String> for QuietHours {
    type Error = ParseError;

    fn try_from(text: String) -> Result<QuietHours, ParseError> {
        text.parse()
    }
}

impl From<QuietHours> for String {
    fn from(hours: QuietHours) -> String {
        hours.to_string()
    }
}

/// How urgent a notification is; maps onto the desktop's urgency levels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Urgency {
    Low,
    #[default]
    Normal,
    /// Breaks through do not disturb and quiet hours.
    Critical,
}

impl fmt::Display for Urgency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Urgency::Low => "low",
            Urgency::Normal => "normal",
            Urgency::Critical => "critical",
        })
    }
}

/// A feed's thresholds from numeric priority to [`Urgency`]: at or below `low_max` is low, at or above
/// `critical_min` critical, anything between normal. Written `LOW,CRITICAL`, e.g. `2,5`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PriorityScale {
    pub low_max: f64,
    pub critical_min: f64,
}

impl PriorityScale {
    /// ntfy's 1 (min) to 5 (max): 1–2 low, 3–4 normal, 5 critical.
    pub const NTFY: PriorityScale = PriorityScale {
        low_max: 2.0,
        critical_min: 5.0,
    };
    /// gotify's 0 to 10: 0–3 low, 4–7 normal, 8–10 critical.
    pub const GOTIFY: PriorityScale = PriorityScale {
        low_max: 3.0,
        critical_min: 8.0,
    };

    /// The urgency of a rendered priority: a number on this scale, or a word (`min`/`low` low;
    /// `default`/`normal`/`high` normal; `max`/`urgent`/`critical` critical, in any case). Empty or
    /// unknown text is normal. When the thresholds overlap, critical wins.
    pub fn urgency(&self, priority: &str) -> Urgency {
        let priority = priority.trim();
        if let Ok(number) = priority.parse::<f64>()
            && number.is_finite()
        {
            return if number >= self.critical_min {
                Urgency::Critical
            } else if number <= self.low_max {
                Urgency::Low
            } else {
                Urgency::Normal
            };
        }
        match priority.to_ascii_lowercase().as_str() {
            "min" | "low" => Urgency::Low,
            "max" | "urgent" | "critical" => Urgency::Critical,
            _ => Urgency::Normal,
        }
    }
}

impl fmt::Display for PriorityScale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{}", self.low_max, self.critical_min)
    }
}

impl FromStr for PriorityScale {
    type Err = ParseError;

    /// `LOW,CRITICAL`, two numbers with LOW below CRITICAL, e.g. `2,5`.
    fn from_str(text: &str) -> Result<PriorityScale, ParseError> {
        let bad = || {
            ParseError::new(
                "priority scale",
                text,
                "LOW,CRITICAL with LOW below CRITICAL, e.g. 2,5 \
                 (priorities up to LOW are low, from CRITICAL on critical)",
            )
        };
        let (low, critical) = text.split_once(',').ok_or_else(bad)?;
        let number = |part: &str| {
            part.trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(bad)
        };
        let (low_max, critical_min) = (number(low)?, number(critical)?);
        if low_max >= critical_min {
            return Err(bad());
        }
        Ok(PriorityScale { low_max, critical_min })
    }
}

impl TryFrom<String> for PriorityScale {
    type Error = ParseError;

    fn try_from(text: String) -> Result<PriorityScale, ParseError> {
        text.parse()
    }
}

impl From<PriorityScale> for String {
    fn from(scale: PriorityScale) -> String {
        scale.to_string()
    }
}

/// Global do not disturb: on by hand (`forced`) or by the clock (`quiet_hours`). Off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoNotDisturb {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHours>,
    #[serde(default)]
    pub forced: bool,
}

impl DoNotDisturb {
    /// Whether do not disturb is in effect at local time `minute_of_day`.
    pub fn is_active(&self, minute_of_day: u16) -> bool {
        self.forced || self.quiet_hours.is_some_and(|hours| hours.contains(minute_of_day))
    }

    /// Whether a notification of `urgency` is held back at local time `minute_of_day`: everything is
    /// while do not disturb is in effect, except critical events, which break through.
    pub fn silences(&self, minute_of_day: u16, urgency: Urgency) -> bool {
        urgency != Urgency::Critical && self.is_active(minute_of_day)
    }
}

/// Text that is not a time of day, quiet hours or priority scale; says the form expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{text}`: expected {expected}")]
pub struct ParseError {
    pub what: &'static str,
    pub text: String,
    pub expected: &'static str,
}

impl ParseError {
    fn new(what: &'static str, text: &str, expected: &'static str) -> ParseError {
        ParseError {
            what,
            text: text.to_string(),
            expected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> u16 {
        text.parse::<TimeOfDay>()
            .map(TimeOfDay::minute_of_day)
            .unwrap_or(u16::MAX)
    }

    fn hours(text: &str) -> QuietHours {
        match text.parse() {
            Ok(hours) => hours,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn quiet_hours_table() {
        let rows: &[(&str, &str, bool)] = &[
            // (quiet hours, local time, quiet?)
            ("22:00-07:30", "21:59", false),
            ("22:00-07:30", "22:00", true),
            ("22:00-07:30", "23:59", true),
            ("22:00-07:30", "00:00", true),
            ("22:00-07:30", "03:00", true),
            ("22:00-07:30", "07:29", true),
            ("22:00-07:30", "07:30", false),
            ("22:00-07:30", "12:00", false),
            ("13:00-14:00", "12:59", false),
            ("13:00-14:00", "13:00", true),
            ("13:00-14:00", "13:59", true),
            ("13:00-14:00", "14:00", false),
            ("00:00-06:00", "00:00", true),
            ("00:00-06:00", "23:59", false),
            ("18:00-00:00", "23:59", true),
            ("18:00-00:00", "00:00", false),
            ("23:59-00:00", "23:59", true),
            ("23:59-00:00", "00:00", false),
            ("09:00-09:00", "09:00", false),
            ("09:00-09:00", "21:00", false),
            ("00:00-23:59", "23:59", false),
            ("00:00-23:59", "23:58", true),
        ];
        for (span, time, quiet) in rows {
            assert_eq!(hours(span).contains(at(time)), *quiet, "{span} at {time}");
        }
    }

    #[test]
    fn minutes_past_a_day_wrap() {
        let span = hours("22:00-07:30");
        assert!(span.contains(MINUTES_PER_DAY + 60), "01:00 the next day");
        assert!(!span.contains(MINUTES_PER_DAY + 12 * 60));
        assert_eq!(TimeOfDay::from_minute_of_day(MINUTES_PER_DAY + 61).to_string(), "01:01");
        assert_eq!(TimeOfDay::from_minute_of_day(1439).to_string(), "23:59");
    }

    #[test]
    fn parsing_times_and_spans() {
        let good: &[(&str, &str)] = &[
            ("22:00-07:30", "22:00-07:30"),
            ("7:05-9:00", "07:05-09:00"),
            (" 22:00 - 07:30 ", "22:00-07:30"),
            ("00:00-23:59", "00:00-23:59"),
        ];
        for (text, shown) in good {
            assert_eq!(hours(text).to_string(), *shown, "{text}");
        }
        let bad = [
            "",
            "22:00",
            "22-07",
            "24:00-07:00",
            "22:60-07:00",
            "22:0-07:00",
            "22:00-07:30-08:00",
            "aa:bb-cc:dd",
            "+1:00-02:00",
            "123:00-01:00",
        ];
        for text in bad {
            let e = text.parse::<QuietHours>().err().map(|e| e.to_string());
            assert_eq!(
                e,
                Some(format!(
                    "invalid quiet hours `{text}`: expected START-END on a 24-hour clock, e.g. 22:00-07:30"
                )),
                "{text:?}"
            );
        }
        let e = "7".parse::<TimeOfDay>().err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("invalid time of day `7`: expected HH:MM on a 24-hour clock, e.g. 07:30 or 22:00")
        );
        assert_eq!(TimeOfDay::new(24, 0), None);
        assert_eq!(TimeOfDay::new(23, 59).map(TimeOfDay::minute_of_day), Some(1439));
    }

    #[test]
    fn quiet_hours_serialize_as_text() {
        let span = hours("22:00-07:30");
        let json = serde_json::to_string(&span).ok();
        assert_eq!(json.as_deref(), Some(r#""22:00-07:30""#));
        let back: Option<QuietHours> = json.and_then(|json| serde_json::from_str(&json).ok());
        assert_eq!(back, Some(span));
        assert!(serde_json::from_str::<QuietHours>(r#""late""#).is_err());
    }

    #[test]
    fn urgency_table() {
        let ntfy = PriorityScale::NTFY;
        let gotify = PriorityScale::GOTIFY;
        let rows: &[(PriorityScale, &str, Urgency)] = &[
            // (scale, rendered priority, urgency)
            (ntfy, "1", Urgency::Low),
            (ntfy, "2", Urgency::Low),
            (ntfy, "3", Urgency::Normal),
            (ntfy, "4", Urgency::Normal),
            (ntfy, "5", Urgency::Critical),
            (ntfy, " 5 ", Urgency::Critical),
            (ntfy, "4.5", Urgency::Normal),
            (ntfy, "2.0", Urgency::Low),
            (gotify, "0", Urgency::Low),
            (gotify, "3", Urgency::Low),
            (gotify, "4", Urgency::Normal),
            (gotify, "7", Urgency::Normal),
            (gotify, "8", Urgency::Critical),
            (gotify, "10", Urgency::Critical),
            (gotify, "-1", Urgency::Low),
            (ntfy, "min", Urgency::Low),
            (ntfy, "low", Urgency::Low),
            (ntfy, "default", Urgency::Normal),
            (ntfy, "normal", Urgency::Normal),
            (ntfy, "high", Urgency::Normal),
            (ntfy, "max", Urgency::Critical),
            (ntfy, "urgent", Urgency::Critical),
            (ntfy, "Critical", Urgency::Critical),
            (ntfy, "MAX", Urgency::Critical),
            (ntfy, "", Urgency::Normal),
            (ntfy, "   ", Urgency::Normal),
            (ntfy, "soon", Urgency::Normal),
            (ntfy, "NaN", Urgency::Normal),
            (ntfy, "inf", Urgency::Normal),
        ];
        for (scale, priority, urgency) in rows {
            assert_eq!(scale.urgency(priority), *urgency, "{priority:?} on {scale}");
        }
    }

    #[test]
    fn priority_scales_parse_and_print() {
        assert_eq!("2,5".parse::<PriorityScale>(), Ok(PriorityScale::NTFY));
        assert_eq!(" 3 , 8 ".parse::<PriorityScale>(), Ok(PriorityScale::GOTIFY));
        assert_eq!(
            "0.5,9.5".parse::<PriorityScale>().map(|s| s.to_string()).as_deref(),
            Ok("0.5,9.5")
        );
        assert_eq!(PriorityScale::NTFY.to_string(), "2,5");
        for bad in ["", "2", "5,2", "3,3", "a,b", "2,5,8", "inf,5"] {
            let e = bad.parse::<PriorityScale>().err().map(|e| e.to_string());
            assert!(
                e.as_deref()
                    .is_some_and(|e| e.starts_with(&format!("invalid priority scale `{bad}`: expected LOW,CRITICAL"))),
                "{bad:?}: {e:?}"
            );
        }
        let json = serde_json::to_string(&PriorityScale::GOTIFY).ok();
        assert_eq!(json.as_deref(), Some(r#""3,8""#));
        let back: Option<PriorityScale> = json.and_then(|json| serde_json::from_str(&json).ok());
        assert_eq!(back, Some(PriorityScale::GOTIFY));
    }

    #[test]
    fn urgency_serializes_lowercase() {
        let json = serde_json::to_string(&[Urgency::Low, Urgency::Normal, Urgency::Critical]).ok();
        assert_eq!(json.as_deref(), Some(r#"["low","normal","critical"]"#));
        assert_eq!(Urgency::default(), Urgency::Normal);
        assert_eq!(Urgency::Critical.to_string(), "critical");
    }

    #[test]
    fn do_not_disturb_table() {
        let night = Some(hours("22:00-07:30"));
        let off = DoNotDisturb::default();
        let scheduled = DoNotDisturb {
            quiet_hours: night,
            forced: false,
        };
        let forced = DoNotDisturb {
            quiet_hours: None,
            forced: true,
        };
        let rows: &[(DoNotDisturb, &str, Urgency, bool)] = &[
            // (do not disturb, local time, urgency, silenced?)
            (off, "03:00", Urgency::Low, false),
            (off, "03:00", Urgency::Normal, false),
            (scheduled, "21:59", Urgency::Normal, false),
            (scheduled, "22:00", Urgency::Normal, true),
            (scheduled, "23:30", Urgency::Low, true),
            (scheduled, "00:00", Urgency::Normal, true),
            (scheduled, "03:00", Urgency::Normal, true),
            (scheduled, "03:00", Urgency::Critical, false),
            (scheduled, "07:29", Urgency::Low, true),
            (scheduled, "07:30", Urgency::Low, false),
            (scheduled, "12:00", Urgency::Normal, false),
            (forced, "12:00", Urgency::Low, true),
            (forced, "12:00", Urgency::Normal, true),
            (forced, "12:00", Urgency::Critical, false),
        ];
        for (dnd, time, urgency, silenced) in rows {
            assert_eq!(
                dnd.silences(at(time), *urgency),
                *silenced,
                "{dnd:?} at {time}, {urgency}"
            );
        }
        assert!(scheduled.is_active(at("01:00")) && !scheduled.is_active(at("13:00")));
    }

    #[test]
    fn do_not_disturb_serializes_its_fields() {
        let dnd = DoNotDisturb {
            quiet_hours: Some(hours("22:00-07:30")),
            forced: false,
        };
        let json = serde_json::to_string(&dnd).ok();
        assert_eq!(json.as_deref(), Some(r#"{"quiet_hours":"22:00-07:30","forced":false}"#));
        let back: Option<DoNotDisturb> = serde_json::from_str("{}").ok();
        assert_eq!(back, Some(DoNotDisturb::default()));
    }
}
