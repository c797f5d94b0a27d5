//! Block Kit, typed: blocks, elements and composition objects that serialize to Slack's JSON
//! and read it back, with Slack's limits checked before a call ([`validate`]).
//!
//! - Reading is lossless: every struct keeps the fields it does not model in `extra`
//!   (see [`Extra`](crate::event::Extra)), and a block or element of a type this version does
//!   not know — or a known type whose fields do not fit — is kept verbatim
//!   ([`Block::Other`], [`Element::Other`]) and written back unchanged.
//! - [`Blocks`] is what the Web API helpers take: typed blocks, or raw JSON as before.
//! - [`validate`] checks the number of blocks per [`Surface`], text lengths per field,
//!   element counts, `action_id`s unique within a block and `block_id`s unique in the set;
//!   the [`BlockError`] names the path, e.g. `blocks[3].elements[1].text`.
//!
//! ```
//! use slack_rtm_types::blocks::{validate, Actions, Block, Element, Header, Section, Surface};
//!
//! let blocks: Vec<Block> = vec![
//!     Header::new("Deploy finished").into(),
//!     Section::new("*api* is live on `prod`").into(),
//!     Actions::new(vec![Element::button("Roll back", "rollback")]).into(),
//! ];
//! validate(&blocks, Surface::Message).unwrap();
//! let json = serde_json::to_value(&blocks).unwrap();
//! assert_eq!(json[2]["elements"][0]["action_id"], "rollback");
//! let back: Vec<Block> = serde_json::from_value(json).unwrap();
//! assert_eq!(back, blocks);
//!
//! let too_long = vec![Block::from(Header::new("x".repeat(151)))];
//! let err = validate(&too_long, Surface::Message).unwrap_err();
//! assert_eq!(err.path, "blocks[0].text.text");
//! ```

mod block;
mod element;
pub(crate) mod tagged;
mod text;
mod validate;

#[cfg(test)]
mod tests;

pub use block::{
    Actions, Alert, Block, Card, ContextBlock, Divider, Header, ImageBlock, InputBlock, Markdown, RichText,
    Section,
};
pub use element::{
    Button, Choices, ContextElement, DatePicker, Element, ImageElement, Overflow, PlainTextInput, Select,
    TimePicker,
};
pub use text::{Confirm, OptionGroupObject, OptionObject, Text, TextKind};
pub use validate::{BlockError, Surface, Violation, limits, validate};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Blocks as the Web API helpers take them: typed, or raw JSON (an array of block objects).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Blocks {
    /// Typed blocks.
    Typed(Vec<Block>),
    /// Raw JSON, sent as given (validated by reading it as typed blocks).
    Raw(Value),
}

impl Blocks {
    /// Checks Slack's limits for `surface`. Raw JSON is read as blocks first (kept verbatim
    /// where not typed); JSON that is not an array is `Malformed` at `blocks`.
    pub fn validate(&self, surface: Surface) -> Result<(), BlockError> {
        match self {
            Blocks::Typed(blocks) => validate(blocks, surface),
            Blocks::Raw(value) => {
                let blocks = Vec::<Block>::deserialize(value).map_err(|e| BlockError {
                    path: "blocks".into(),
                    violation: Violation::Malformed(e.to_string()),
                })?;
                validate(&blocks, surface)
            }
        }
    }

    /// The JSON array sent to Slack.
    pub fn to_value(&self) -> Value {
        match self {
            Blocks::Typed(blocks) => serde_json::to_value(blocks).unwrap_or(Value::Null),
            Blocks::Raw(value) => value.clone(),
        }
    }
}

impl From<Vec<Block>> for Blocks {
    fn from(blocks: Vec<Block>) -> Self {
        Blocks::Typed(blocks)
    }
}

impl From<Value> for Blocks {
    fn from(value: Value) -> Self {
        Blocks::Raw(value)
    }
}
