//! One component per file, named after it.

pub mod app;
pub mod chat_layout;
pub mod chat_line_view;
pub mod connection_status;
pub mod conversation_header;
pub mod conversation_pane;
pub mod direct_nav;
pub mod join_room_form;
pub mod link;
pub mod login_form;
pub mod logout_button;
pub mod member_list;
pub mod message_input;
pub mod message_list;
pub mod presence_dot;
pub mod room_nav;
pub mod rooms_browser;
pub mod sidebar;
pub mod typing_indicator;
pub mod unread_badge;
