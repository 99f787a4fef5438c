use crate::cli::PubsubCommand;
use crate::error::{Error, Result};

use super::Context;

pub async fn pubsub(_ctx: &Context<'_>, command: PubsubCommand) -> Result<()> {
    Err(Error::failed(format!("{command:?} is not built yet"), None))
}
