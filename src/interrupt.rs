//! Signals that ask a run to stop (SIGINT, SIGTERM, SIGHUP). Export and import watch for them
//! and stop at the next record: the archive is not given its name, the import's transaction
//! rolls back, the run is logged `interrupted`, and `main` exits 128 + the signal's number, as
//! a shell reports a process that the signal ended.
//!
//! A second signal ends the process at once, with the signal's own default action: the way
//! out when the first one cannot be seen soon (a lock wait, a read from a silent pipe).

use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::Result;
use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::flag;

use crate::error::Failure;

/// A signal that asked the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal(i32);

impl Signal {
    /// The exit status of a run that this signal ended: 128 + its number.
    pub fn exit_code(self) -> u8 {
        u8::try_from(128 + self.0).unwrap_or(u8::MAX)
    }

    pub fn name(self) -> &'static str {
        match self.0 {
            SIGINT => "SIGINT",
            SIGTERM => "SIGTERM",
            SIGHUP => "SIGHUP",
            _ => "a signal",
        }
    }

    /// What the log records of a run that this signal ended.
    pub fn interruption(self) -> String {
        format!("interrupted by {}", self.name())
    }
}

const WATCHED: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// The number of the last watched signal that arrived; 0 while none has.
static RECEIVED: AtomicUsize = AtomicUsize::new(0);

/// Set by the first signal, so that a second one takes its default action.
static ARMED: AtomicBool = AtomicBool::new(false);

/// Starts watching for the signals (once per process; later calls do nothing). A signal that
/// was ignored when the process started (`nohup`, a background job of a script) stays ignored.
pub fn watch() -> Result<()> {
    static FAILED: OnceLock<Option<String>> = OnceLock::new();
    match FAILED.get_or_init(|| register().err().map(|err| err.to_string())) {
        None => Ok(()),
        Some(err) => anyhow::bail!("cannot watch for SIGINT, SIGTERM and SIGHUP: {err}"),
    }
}

fn register() -> io::Result<()> {
    for signal in WATCHED {
        if ignored_from_start(signal) {
            continue;
        }
        // In this order: RECEIVED first, so that a signal arriving before the rest are in
        // place is still seen; the default action looks at ARMED before the first signal
        // sets it (actions run in the order they were registered).
        flag::register_usize(signal, &RECEIVED, signal as usize)?;
        flag::register_conditional_default(signal, &ARMED)?;
        flag::register(signal, &ARMED)?;
    }
    Ok(())
}

/// True when `signal` was ignored when the process started, as Linux shows in
/// `/proc/self/status` (a bit mask, bit N-1 for signal N). Elsewhere every signal is watched.
fn ignored_from_start(signal: i32) -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    let bit = u32::try_from(signal - 1)
        .ok()
        .and_then(|shift| 1u64.checked_shl(shift));
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .zip(bit)
        .is_some_and(|(mask, bit)| mask & bit != 0)
}

/// The watched signal that has arrived, if any.
fn received() -> Option<Signal> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        n => i32::try_from(n).ok().map(Signal),
    }
}

/// Where a long run looks: an error once a signal has arrived, which ends the run.
pub fn check() -> Result<(), Failure> {
    match received() {
        Some(signal) => Err(Failure::Interrupted(signal)),
        None => Ok(()),
    }
}

/// The signal that ended a failed run: the interruption among its causes, or a signal that
/// arrived while it ran (a lock wait or a prompt cut short by one fails in its own words).
pub fn ended_by(err: &anyhow::Error) -> Option<Signal> {
    err.chain()
        .find_map(|cause| match cause.downcast_ref::<Failure>() {
            Some(Failure::Interrupted(signal)) => Some(*signal),
            _ => None,
        })
        .or_else(received)
}

/// A failed run's error, or, when a signal ended it, just the interruption: what the operator
/// asked for needs no further explanation.
pub fn explain(err: anyhow::Error) -> anyhow::Error {
    match ended_by(&err) {
        Some(signal) => Failure::Interrupted(signal).into(),
        None => err,
    }
}
