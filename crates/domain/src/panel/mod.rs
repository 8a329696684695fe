//! The directed panel (定向评议名单库): a registry of people who actually dealt with the
//! units, from which every round draws a sample that gets coded paper forms.

pub mod draw;
pub mod import;
pub mod member;

pub use draw::{Draw, Frame, FrameEntry};
pub use member::{MemberDraft, NewMember, RowError};
