//! How events that concern event types read.

use super::{counted, Shown};

/// A reload changed a topic's type: what the topic holds against it.
pub(super) fn type_changed(
    topic: &str,
    ty: &str,
    read: u64,
    invalid: u64,
    first: &[String],
    complete: bool,
) -> Shown {
    let read_text = format!(
        "{}{}",
        counted(read as usize, "retained event"),
        if complete {
            ""
        } else {
            " read (the check stops there)"
        }
    );
    if invalid == 0 {
        return Shown::Info(format!(
            "{topic}: its type is now {ty}; all {read_text} match it"
        ));
    }
    Shown::Warn(
        format!(
            "{topic}: its type is now {ty}, and {invalid} of {read_text} do not match it; first: {}",
            first.join("; ")
        ),
        Some(
            "subscriptions get them as they are; `ftl pubsub tail --from beginning` marks each one"
                .into(),
        ),
    )
}
