//! One component per file, named after it.

pub mod app;
pub mod chat_line_view;
pub mod connection_status;
pub mod lobby;
pub mod login_form;
pub mod logout_button;
pub mod message_input;
pub mod message_list;
pub mod typing_indicator;
pub mod user_list;
