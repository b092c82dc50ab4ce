/// One line of the message list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    /// Unique within the page, for keyed rendering.
    pub id: u64,
    pub kind: LineKind,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    /// A line from the app itself ("Welcome, Ann!").
    Server,
    /// A chat message; `own` when you sent it.
    Message { sender: String, own: bool },
    /// "Ann joined", "Ann left".
    Notice,
}
