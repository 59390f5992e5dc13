//! `portalgen schema`: prints the environment spec's JSON Schema.

use super::{out, ExitStatus};
use crate::assets;

pub fn run() -> anyhow::Result<ExitStatus> {
    let text = assets::schema("environment.schema.json").unwrap_or_default();
    out(text)?;
    Ok(ExitStatus::Success)
}
