//! Slack's Block Kit limits, checked before a call; the error names the path.

use super::block::{Block, Card};
use super::element::{ContextElement, Element, ImageElement};
use super::text::{Confirm, OptionGroupObject, OptionObject, Text, TextKind};
use std::collections::HashSet;
use std::fmt;

/// Where blocks are shown: the number of blocks allowed depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Surface {
    /// A message: at most 50 blocks.
    Message,
    /// A modal: at most 100 blocks.
    Modal,
    /// An App Home tab: at most 100 blocks.
    Home,
}

impl Surface {
    /// The most blocks Slack accepts on this surface.
    pub const fn max_blocks(self) -> usize {
        match self {
            Surface::Message => 50,
            Surface::Modal | Surface::Home => 100,
        }
    }
}

/// What is wrong at a path.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// A text or id longer than Slack accepts (characters).
    TooLong {
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// More items than Slack accepts.
    TooMany {
        /// How many.
        count: usize,
        /// The maximum.
        max: usize,
    },
    /// Fewer items than Slack requires.
    TooFew {
        /// How many.
        count: usize,
        /// The minimum.
        min: usize,
    },
    /// A required text that is empty.
    Empty,
    /// A `mrkdwn` text where Slack takes `plain_text` only.
    PlainTextOnly,
    /// An `action_id` used twice in one block.
    DuplicateActionId(String),
    /// A `block_id` used twice in one set of blocks.
    DuplicateBlockId(String),
    /// A block or element of a type Slack does not show on this surface.
    NotOnSurface(Surface),
    /// A block of a known type whose fields do not fit it (a missing field, a wrong type),
    /// or blocks that are not a JSON array of objects.
    Malformed(String),
    /// A card with none of `hero_image`, `title`, `body`, `actions`.
    EmptyCard,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::TooLong { len, max } => write!(f, "{len} characters, at most {max} allowed"),
            Violation::TooMany { count, max } => write!(f, "{count} items, at most {max} allowed"),
            Violation::TooFew { count, min } => write!(f, "{count} items, at least {min} required"),
            Violation::Empty => f.write_str("must not be empty"),
            Violation::PlainTextOnly => f.write_str("must be plain_text, not mrkdwn"),
            Violation::DuplicateActionId(id) => write!(f, "action_id {id:?} is used twice in this block"),
            Violation::DuplicateBlockId(id) => write!(f, "block_id {id:?} is used twice"),
            Violation::NotOnSurface(s) => write!(f, "not shown on this surface ({s:?})"),
            Violation::Malformed(why) => write!(f, "malformed: {why}"),
            Violation::EmptyCard => f.write_str("a card needs a hero_image, title, body or actions"),
        }
    }
}

/// A Block Kit limit broken: where (`blocks[3].elements[1].text`) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockError {
    /// The path from the blocks array, e.g. `blocks[3].elements[1].text`.
    pub path: String,
    /// What is wrong there.
    pub violation: Violation,
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.violation)
    }
}

impl std::error::Error for BlockError {}

/// Slack's limits (characters unless said otherwise).
pub mod limits {
    /// `block_id`.
    pub const BLOCK_ID: usize = 255;
    /// `action_id`.
    pub const ACTION_ID: usize = 255;
    /// A section's text.
    pub const SECTION_TEXT: usize = 3000;
    /// One section field.
    pub const SECTION_FIELD: usize = 2000;
    /// Section fields (count).
    pub const SECTION_FIELDS: usize = 10;
    /// A header's text.
    pub const HEADER_TEXT: usize = 150;
    /// Context elements (count).
    pub const CONTEXT_ELEMENTS: usize = 10;
    /// Actions elements (count).
    pub const ACTIONS_ELEMENTS: usize = 25;
    /// An input's label and hint.
    pub const INPUT_LABEL: usize = 2000;
    /// An image's URL.
    pub const IMAGE_URL: usize = 3000;
    /// An image's alt text and title.
    pub const IMAGE_ALT: usize = 2000;
    /// All markdown blocks of a payload together.
    pub const MARKDOWN_TOTAL: usize = 12_000;
    /// A card's title and subtitle.
    pub const CARD_TITLE: usize = 150;
    /// A card's body; an alert's text.
    pub const CARD_BODY: usize = 200;
    /// A button's text and accessibility label.
    pub const BUTTON_TEXT: usize = 75;
    /// A button's value.
    pub const BUTTON_VALUE: usize = 2000;
    /// A URL in a button or an option.
    pub const URL: usize = 3000;
    /// A placeholder.
    pub const PLACEHOLDER: usize = 150;
    /// Options or option groups of a select (count).
    pub const OPTIONS: usize = 100;
    /// Options of checkboxes and radio buttons (count).
    pub const CHOICES: usize = 10;
    /// Options of an overflow menu (count, and at least 2).
    pub const OVERFLOW_OPTIONS: usize = 5;
    /// An option's text and description; an option group's label.
    pub const OPTION_TEXT: usize = 75;
    /// An option's value.
    pub const OPTION_VALUE: usize = 150;
    /// A confirmation dialog's title.
    pub const CONFIRM_TITLE: usize = 100;
    /// A confirmation dialog's text.
    pub const CONFIRM_TEXT: usize = 300;
    /// A confirmation dialog's button labels.
    pub const CONFIRM_BUTTON: usize = 30;
    /// A plain-text input's `min_length` / `max_length`.
    pub const INPUT_LENGTH: usize = 3000;
}

use limits as l;

/// Checks `blocks` against Slack's limits for `surface`; the first broken limit is returned.
pub fn validate(blocks: &[Block], surface: Surface) -> Result<(), BlockError> {
    let mut c = Checker { path: String::from("blocks"), markdown: 0 };
    c.count(blocks.len(), 0, surface.max_blocks())?;
    let mut ids = HashSet::new();
    for (i, block) in blocks.iter().enumerate() {
        c.at(&format!("[{i}]"), |c| {
            if let Some(id) = block.block_id() {
                c.field("block_id", |c| c.len(id, l::BLOCK_ID))?;
                if !ids.insert(id) {
                    return c.fail(Violation::DuplicateBlockId(id.to_owned()));
                }
            }
            c.block(block, surface)
        })?;
    }
    Ok(())
}

struct Checker {
    path: String,
    markdown: usize,
}

type Check = Result<(), BlockError>;

impl Checker {
    fn fail(&self, violation: Violation) -> Check {
        Err(BlockError { path: self.path.clone(), violation })
    }

    fn at(&mut self, step: &str, f: impl FnOnce(&mut Self) -> Check) -> Check {
        let len = self.path.len();
        self.path.push_str(step);
        let r = f(self);
        self.path.truncate(len);
        r
    }

    fn field(&mut self, name: &str, f: impl FnOnce(&mut Self) -> Check) -> Check {
        self.at(&format!(".{name}"), f)
    }

    fn len(&self, s: &str, max: usize) -> Check {
        let len = s.chars().count();
        if len > max { self.fail(Violation::TooLong { len, max }) } else { Ok(()) }
    }

    fn count(&self, count: usize, min: usize, max: usize) -> Check {
        if count > max {
            self.fail(Violation::TooMany { count, max })
        } else if count < min {
            self.fail(Violation::TooFew { count, min })
        } else {
            Ok(())
        }
    }

    /// A text object: not empty, at most `max`, plain text if `plain`.
    fn text(&mut self, name: &str, t: &Text, max: usize, plain: bool) -> Check {
        self.field(name, |c| {
            if plain && t.kind != TextKind::PlainText {
                return c.fail(Violation::PlainTextOnly);
            }
            c.field(
                "text",
                |c| if t.text.is_empty() { c.fail(Violation::Empty) } else { c.len(&t.text, max) },
            )
        })
    }

    fn opt_text(&mut self, name: &str, t: Option<&Text>, max: usize, plain: bool) -> Check {
        t.map_or(Ok(()), |t| self.text(name, t, max, plain))
    }

    fn opt_len(&mut self, name: &str, s: Option<&str>, max: usize) -> Check {
        s.map_or(Ok(()), |s| self.field(name, |c| c.len(s, max)))
    }

    fn list<T>(
        &mut self,
        name: &str,
        items: &[T],
        (min, max): (usize, usize),
        mut each: impl FnMut(&mut Self, &T) -> Check,
    ) -> Check {
        self.field(name, |c| {
            c.count(items.len(), min, max)?;
            for (i, item) in items.iter().enumerate() {
                c.at(&format!("[{i}]"), |c| each(c, item))?;
            }
            Ok(())
        })
    }

    fn block(&mut self, block: &Block, surface: Surface) -> Check {
        match block {
            Block::Section(s) => {
                self.opt_text("text", s.text.as_ref(), l::SECTION_TEXT, false)?;
                if let Some(fields) = &s.fields {
                    self.list("fields", fields, (0, l::SECTION_FIELDS), |c, t| {
                        c.field("text", |c| c.len(&t.text, l::SECTION_FIELD))
                    })?;
                }
                match &s.accessory {
                    Some(e) => self.field("accessory", |c| c.element(e)),
                    None => Ok(()),
                }
            }
            Block::Header(h) => self.text("text", &h.text, l::HEADER_TEXT, true),
            Block::Divider(_) | Block::RichText(_) => Ok(()),
            Block::Context(ctx) => {
                self.list("elements", &ctx.elements, (1, l::CONTEXT_ELEMENTS), |c, e| match e {
                    ContextElement::Image(i) => c.image(i),
                    ContextElement::Text(t) => c.field("text", |c| c.len(&t.text, l::SECTION_TEXT)),
                    ContextElement::Other(_) => Ok(()),
                })
            }
            Block::Actions(a) => {
                self.list("elements", &a.elements, (1, l::ACTIONS_ELEMENTS), |c, e| c.element(e))?;
                self.unique_action_ids("elements", &a.elements)
            }
            Block::Input(i) => {
                self.text("label", &i.label, l::INPUT_LABEL, true)?;
                self.opt_text("hint", i.hint.as_ref(), l::INPUT_LABEL, true)?;
                self.field("element", |c| c.element(&i.element))
            }
            Block::Image(i) => {
                self.opt_len("image_url", i.image_url.as_deref(), l::IMAGE_URL)?;
                self.field("alt_text", |c| c.len(&i.alt_text, l::IMAGE_ALT))?;
                self.opt_text("title", i.title.as_ref(), l::IMAGE_ALT, true)
            }
            Block::Markdown(m) => {
                self.markdown += m.text.chars().count();
                if self.markdown > l::MARKDOWN_TOTAL {
                    let len = self.markdown;
                    return self
                        .field("text", |c| c.fail(Violation::TooLong { len, max: l::MARKDOWN_TOTAL }));
                }
                Ok(())
            }
            Block::Card(card) => self.card(card),
            Block::Alert(a) => {
                if surface != Surface::Modal {
                    return self.fail(Violation::NotOnSurface(surface));
                }
                self.text("text", &a.text, l::CARD_BODY, false)
            }
            Block::Other(raw) => match Block::typed_error(raw) {
                Some(why) => self.fail(Violation::Malformed(why)),
                None => Ok(()),
            },
        }
    }

    fn card(&mut self, card: &Card) -> Check {
        if card.hero_image.is_none() && card.title.is_none() && card.body.is_none() && card.actions.is_none()
        {
            return self.fail(Violation::EmptyCard);
        }
        if let Some(i) = &card.hero_image {
            self.field("hero_image", |c| c.image(i))?;
        }
        if let Some(i) = &card.icon {
            self.field("icon", |c| c.image(i))?;
        }
        self.opt_text("title", card.title.as_ref(), l::CARD_TITLE, false)?;
        self.opt_text("subtitle", card.subtitle.as_ref(), l::CARD_TITLE, false)?;
        self.opt_text("body", card.body.as_ref(), l::CARD_BODY, false)?;
        if let Some(actions) = &card.actions {
            self.list("actions", actions, (0, l::ACTIONS_ELEMENTS), |c, e| c.element(e))?;
            self.unique_action_ids("actions", actions)?;
        }
        Ok(())
    }

    fn unique_action_ids(&mut self, name: &str, elements: &[Element]) -> Check {
        let mut seen = HashSet::new();
        for (i, e) in elements.iter().enumerate() {
            if let Some(id) = e.action_id()
                && !seen.insert(id)
            {
                return self.at(&format!(".{name}[{i}].action_id"), |c| {
                    c.fail(Violation::DuplicateActionId(id.to_owned()))
                });
            }
        }
        Ok(())
    }

    fn image(&mut self, i: &ImageElement) -> Check {
        self.opt_len("image_url", i.image_url.as_deref(), l::IMAGE_URL)?;
        self.field("alt_text", |c| c.len(&i.alt_text, l::IMAGE_ALT))
    }

    fn element(&mut self, e: &Element) -> Check {
        self.opt_len("action_id", e.action_id(), l::ACTION_ID)?;
        match e {
            Element::Button(b) => {
                self.text("text", &b.text, l::BUTTON_TEXT, true)?;
                self.opt_len("url", b.url.as_deref(), l::URL)?;
                self.opt_len("value", b.value.as_deref(), l::BUTTON_VALUE)?;
                self.opt_len("accessibility_label", b.accessibility_label.as_deref(), l::BUTTON_TEXT)?;
                self.confirm(b.confirm.as_ref())
            }
            Element::StaticSelect(s)
            | Element::ExternalSelect(s)
            | Element::UsersSelect(s)
            | Element::ConversationsSelect(s)
            | Element::ChannelsSelect(s)
            | Element::MultiStaticSelect(s)
            | Element::MultiExternalSelect(s)
            | Element::MultiUsersSelect(s)
            | Element::MultiConversationsSelect(s)
            | Element::MultiChannelsSelect(s) => {
                self.opt_text("placeholder", s.placeholder.as_ref(), l::PLACEHOLDER, true)?;
                if let Some(options) = &s.options {
                    self.options("options", options, (0, l::OPTIONS))?;
                }
                if let Some(groups) = &s.option_groups {
                    self.list("option_groups", groups, (0, l::OPTIONS), |c, g: &OptionGroupObject| {
                        c.text("label", &g.label, l::OPTION_TEXT, true)?;
                        c.options("options", &g.options, (0, l::OPTIONS))
                    })?;
                }
                if s.max_selected_items == Some(0) {
                    self.field("max_selected_items", |c| c.fail(Violation::TooFew { count: 0, min: 1 }))?;
                }
                self.confirm(s.confirm.as_ref())
            }
            Element::Overflow(o) => {
                self.options("options", &o.options, (2, l::OVERFLOW_OPTIONS))?;
                self.confirm(o.confirm.as_ref())
            }
            Element::DatePicker(d) => {
                self.opt_text("placeholder", d.placeholder.as_ref(), l::PLACEHOLDER, true)?;
                self.confirm(d.confirm.as_ref())
            }
            Element::TimePicker(t) => {
                self.opt_text("placeholder", t.placeholder.as_ref(), l::PLACEHOLDER, true)?;
                self.confirm(t.confirm.as_ref())
            }
            Element::Checkboxes(ch) | Element::RadioButtons(ch) => {
                self.options("options", &ch.options, (1, l::CHOICES))?;
                self.confirm(ch.confirm.as_ref())
            }
            Element::PlainTextInput(p) => {
                self.opt_text("placeholder", p.placeholder.as_ref(), l::PLACEHOLDER, true)?;
                for (name, v) in [("min_length", p.min_length), ("max_length", p.max_length)] {
                    if let Some(v) = v
                        && v as usize > l::INPUT_LENGTH
                    {
                        self.field(name, |c| {
                            c.fail(Violation::TooLong { len: v as usize, max: l::INPUT_LENGTH })
                        })?;
                    }
                }
                Ok(())
            }
            Element::Image(i) => self.image(i),
            Element::Other(raw) => match Element::typed_error(raw) {
                Some(why) => self.fail(Violation::Malformed(why)),
                None => Ok(()),
            },
        }
    }

    fn options(&mut self, name: &str, options: &[OptionObject], bounds: (usize, usize)) -> Check {
        self.list(name, options, bounds, |c, o| {
            c.text("text", &o.text, l::OPTION_TEXT, false)?;
            c.field("value", |c| c.len(&o.value, l::OPTION_VALUE))?;
            c.opt_text("description", o.description.as_ref(), l::OPTION_TEXT, false)?;
            c.opt_len("url", o.url.as_deref(), l::URL)
        })
    }

    fn confirm(&mut self, confirm: Option<&Confirm>) -> Check {
        let Some(d) = confirm else { return Ok(()) };
        self.field("confirm", |c| {
            c.text("title", &d.title, l::CONFIRM_TITLE, true)?;
            c.text("text", &d.text, l::CONFIRM_TEXT, false)?;
            c.text("confirm", &d.confirm, l::CONFIRM_BUTTON, true)?;
            c.text("deny", &d.deny, l::CONFIRM_BUTTON, true)
        })
    }
}
