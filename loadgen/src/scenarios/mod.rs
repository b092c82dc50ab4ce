//! One module per scenario; each returns its one line of figures.

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
