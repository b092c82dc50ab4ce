use app::protocol::ServerEvent;

/// Who receives an event. `C` identifies a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience<C> {
    /// Only this connection.
    Only(C),
    /// Every connected socket, logged in or not.
    Everyone,
    /// Every connected socket but this one.
    EveryoneExcept(C),
}

/// An event to deliver, in the order the rules produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing<C> {
    pub to: Audience<C>,
    pub event: ServerEvent,
}

impl<C> Outgoing<C> {
    pub fn only(conn: C, event: ServerEvent) -> Self {
        Self {
            to: Audience::Only(conn),
            event,
        }
    }

    pub fn everyone(event: ServerEvent) -> Self {
        Self {
            to: Audience::Everyone,
            event,
        }
    }

    pub fn everyone_except(conn: C, event: ServerEvent) -> Self {
        Self {
            to: Audience::EveryoneExcept(conn),
            event,
        }
    }
}
