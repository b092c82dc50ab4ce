//! One module per scenario; each returns its one line of figures (`abuse`: one per
//! phase, and whether its checks passed).

use crate::measure::Figures;

pub mod abuse;
pub mod fanout;
pub mod idle;
pub mod logins;
pub mod rooms;
pub mod saturation;

/// The fanout population's names: receivers `r0000`, ..., senders `s000`, ...
pub fn receiver_name(i: usize) -> String {
    format!("r{i:04}")
}

pub fn sender_name(i: usize) -> String {
    format!("s{i:03}")
}

/// Lobby names of 3 to 10 characters: `u0000`, `u0001`, ... (`u10000` from 10,000 on).
pub fn user_name(i: usize) -> String {
    format!("u{i:04}")
}

/// What a scenario hands back: its lines of figures, and the checks that failed (the
/// run's exit status is then 1).
#[derive(Default)]
pub struct Outcome {
    pub lines: Vec<Figures>,
    pub failures: Vec<String>,
}

impl From<Figures> for Outcome {
    fn from(figures: Figures) -> Self {
        Self {
            lines: vec![figures],
            failures: Vec::new(),
        }
    }
}
