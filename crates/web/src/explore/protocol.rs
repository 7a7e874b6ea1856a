//! The messages between the page and the sweep worker. They travel as JSON strings (not
//! structured clones) so both sides parse them with the same serde types and a message can
//! be read in the devtools as text. The worker says `ready` once its wasm is running
//! (messages sent before then would find no handler and be lost, so the page holds them
//! until it hears `ready`). One `start` per sweep; the worker answers with
//! `progress` after every seed, at most one `hit` (the first failing check), then `done` —
//! or `error` if the spec is invalid or a run could not be built.

use sdlab_core::scenario::ScenarioSpec;
use serde::{Deserialize, Serialize};

/// Page → worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ToWorker {
    /// Sweep `count` seeds starting at `from`; with `swarm`, each seed also draws its own
    /// fault plan (see `sdlab_core::system::sweep_scenario`).
    Start { spec: ScenarioSpec, from: u64, count: u64, swarm: bool },
}

/// Worker → page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FromWorker {
    /// The worker's handler is installed; it takes `start` messages from now on.
    Ready,
    Progress {
        done: u64,
        total: u64,
    },
    /// The first failing check: the seed, the check's name and detail, and the scenario
    /// link that replays it.
    Hit {
        seed: u64,
        check: String,
        detail: String,
        link: String,
    },
    Done,
    Error {
        message: String,
    },
}

fn to_json<T: Serialize>(value: &T) -> String {
    // These types hold only strings, numbers and a ScenarioSpec, which always serialise.
    serde_json::to_string(value).unwrap_or_default()
}

impl ToWorker {
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    pub fn parse(text: &str) -> Result<ToWorker, String> {
        serde_json::from_str(text).map_err(|e| format!("the sweep worker got an unreadable request: {e}"))
    }
}

impl FromWorker {
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    pub fn parse(text: &str) -> Result<FromWorker, String> {
        serde_json::from_str(text).map_err(|e| format!("the sweep worker sent an unreadable message: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_as_tagged_json() {
        let start = ToWorker::Start { spec: ScenarioSpec::for_system("rate-limiter"), from: 5, count: 10, swarm: true };
        let text = start.to_json();
        assert!(text.starts_with(r#"{"type":"start","spec":{"#), "{text}");
        assert_eq!(ToWorker::parse(&text).unwrap(), start);
        for msg in [
            FromWorker::Ready,
            FromWorker::Progress { done: 1, total: 2 },
            FromWorker::Hit { seed: 3, check: "c".into(), detail: "d".into(), link: "v1.x".into() },
            FromWorker::Done,
            FromWorker::Error { message: "m".into() },
        ] {
            assert_eq!(FromWorker::parse(&msg.to_json()).unwrap(), msg);
        }
        assert_eq!(FromWorker::Done.to_json(), r#"{"type":"done"}"#);
        assert!(FromWorker::parse("{\"type\":\"nope\"}").is_err());
    }
}
