//! Block Kit elements as a user meets them: finding one by `action_id` in a message's or a
//! view's blocks, and the typed value a user's choice gives it (in `actions` and in
//! `state.values`), shaped as Slack shapes them.

use super::ActError;
use serde_json::{Map, Value, json};

/// An interactive element found in blocks, with its block's id.
pub(crate) struct Found<'a> {
    pub block_id: String,
    pub element: &'a Value,
    /// It sits in an `input` block.
    pub input: bool,
}

/// A block's id: its own, or a stable one made from its position (Slack makes one up too).
fn block_id(block: &Value, index: usize) -> String {
    block.get("block_id").and_then(Value::as_str).map_or_else(|| format!("block_{index}"), str::to_owned)
}

/// Every interactive element of `blocks`, in order.
pub(crate) fn elements(blocks: &Value) -> Vec<Found<'_>> {
    let mut out = Vec::new();
    for (i, block) in blocks.as_array().into_iter().flatten().enumerate() {
        let id = block_id(block, i);
        let found: Vec<(&Value, bool)> = match block.get("type").and_then(Value::as_str) {
            Some("actions") => {
                block["elements"].as_array().into_iter().flatten().map(|e| (e, false)).collect()
            }
            Some("input") => vec![(&block["element"], true)],
            Some("section") if block.get("accessory").is_some() => vec![(&block["accessory"], false)],
            _ => Vec::new(),
        };
        for (element, input) in found {
            if element.get("action_id").is_some() || input {
                out.push(Found { block_id: id.clone(), element, input });
            }
        }
    }
    out
}

/// The element with `action_id` in `blocks`.
pub(crate) fn find<'a>(blocks: &'a Value, action_id: &str) -> Result<Found<'a>, ActError> {
    elements(blocks)
        .into_iter()
        .find(|f| f.element.get("action_id").and_then(Value::as_str) == Some(action_id))
        .ok_or_else(|| ActError::NoElement(action_id.to_owned()))
}

fn kind(element: &Value) -> &str {
    element.get("type").and_then(Value::as_str).unwrap_or("")
}

/// The option with `value` among an element's `options` or `option_groups`.
fn option(element: &Value, value: &str) -> Result<Value, ActError> {
    let groups = element["option_groups"].as_array().into_iter().flatten().map(|g| &g["options"]);
    std::iter::once(&element["options"])
        .chain(groups)
        .flat_map(|list| list.as_array().into_iter().flatten())
        .find(|o| o.get("value").and_then(Value::as_str) == Some(value))
        .cloned()
        .ok_or_else(|| ActError::NoOption {
            action_id: element.get("action_id").and_then(Value::as_str).unwrap_or("").to_owned(),
            value: value.to_owned(),
        })
}

/// An option a user picked from options the app loaded (external selects).
fn loaded_option(value: &str) -> Value {
    json!({"text": {"type": "plain_text", "text": value, "emoji": true}, "value": value})
}

/// The value fields of an element given a user's choice (`None`: left empty). Multi-value
/// elements take their values separated by commas.
pub(crate) fn value_fields(element: &Value, choice: Option<&str>) -> Result<Map<String, Value>, ActError> {
    let many = || choice.map(|c| c.split(',').map(str::trim).filter(|v| !v.is_empty()).collect::<Vec<_>>());
    let mut m = Map::new();
    let k = kind(element);
    match k {
        "button" => {
            m.insert("text".into(), element["text"].clone());
            if let Some(v) = element.get("value") {
                m.insert("value".into(), v.clone());
            }
        }
        "static_select" | "radio_buttons" | "overflow" => {
            let o = choice.map(|c| option(element, c)).transpose()?;
            m.insert("selected_option".into(), o.unwrap_or(Value::Null));
        }
        "external_select" => {
            m.insert("selected_option".into(), choice.map_or(Value::Null, loaded_option));
        }
        "multi_static_select" | "checkboxes" => {
            let picked: Result<Vec<Value>, ActError> =
                many().unwrap_or_default().into_iter().map(|c| option(element, c)).collect();
            m.insert("selected_options".into(), json!(picked?));
        }
        "multi_external_select" => {
            let picked: Vec<Value> = many().unwrap_or_default().into_iter().map(loaded_option).collect();
            m.insert("selected_options".into(), json!(picked));
        }
        "users_select" => drop(m.insert("selected_user".into(), json!(choice))),
        "conversations_select" => drop(m.insert("selected_conversation".into(), json!(choice))),
        "channels_select" => drop(m.insert("selected_channel".into(), json!(choice))),
        "multi_users_select" => drop(m.insert("selected_users".into(), json!(many().unwrap_or_default()))),
        "multi_conversations_select" => {
            m.insert("selected_conversations".into(), json!(many().unwrap_or_default()));
        }
        "multi_channels_select" => {
            drop(m.insert("selected_channels".into(), json!(many().unwrap_or_default())))
        }
        "datepicker" => drop(m.insert("selected_date".into(), json!(choice))),
        "timepicker" => drop(m.insert("selected_time".into(), json!(choice))),
        "datetimepicker" => {
            let n = choice.and_then(|c| c.parse::<i64>().ok());
            m.insert("selected_date_time".into(), json!(n));
        }
        _ => drop(m.insert("value".into(), json!(choice))),
    }
    Ok(m)
}

/// An element's entry in `state.values`: `{"type": …, <value fields>}`.
pub(crate) fn state_value(element: &Value, choice: Option<&str>) -> Result<Value, ActError> {
    let mut m = value_fields(element, choice)?;
    m.remove("text");
    m.insert("type".into(), json!(kind(element)));
    Ok(Value::Object(m))
}

/// One entry of a `block_actions` payload's `actions`.
pub(crate) fn action(found: &Found<'_>, choice: Option<&str>, action_ts: &str) -> Result<Value, ActError> {
    let mut m = value_fields(found.element, choice)?;
    m.insert("type".into(), json!(kind(found.element)));
    m.insert("action_id".into(), found.element["action_id"].clone());
    m.insert("block_id".into(), json!(found.block_id));
    m.insert("action_ts".into(), json!(action_ts));
    Ok(Value::Object(m))
}

/// `state.values` of `blocks` (block id → action id → typed value) with the user's inputs
/// (by action id; every input is filled in, the rest left empty). An input whose action id
/// is not in the blocks is an error.
pub(crate) fn state_values(blocks: &Value, inputs: &[(&str, &str)]) -> Result<Value, ActError> {
    let all = elements(blocks);
    if let Some((missing, _)) = inputs
        .iter()
        .find(|(a, _)| !all.iter().any(|f| f.element.get("action_id").and_then(Value::as_str) == Some(a)))
    {
        return Err(ActError::NoElement((*missing).to_owned()));
    }
    let mut values = Map::new();
    for f in &all {
        let action_id = f.element.get("action_id").and_then(Value::as_str).unwrap_or("");
        let choice = inputs.iter().find(|(a, _)| *a == action_id).map(|(_, v)| *v);
        if !f.input && choice.is_none() {
            continue;
        }
        if kind(f.element) == "button" {
            continue;
        }
        let entry = values.entry(f.block_id.clone()).or_insert_with(|| json!({}));
        entry[action_id] = state_value(f.element, choice)?;
    }
    Ok(Value::Object(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_values_type_each_element_and_leave_the_rest_empty() {
        let blocks = json!([
            {"type": "input", "block_id": "name", "element": {"type": "plain_text_input", "action_id": "value"}},
            {"type": "input", "block_id": "fruit", "element": {"type": "static_select", "action_id": "pick",
                "options": [{"text": {"type": "plain_text", "text": "Apple"}, "value": "apple"}]}},
            {"type": "input", "element": {"type": "datepicker", "action_id": "when"}},
        ]);
        let v = state_values(&blocks, &[("value", "Bob"), ("pick", "apple")]).unwrap();
        assert_eq!(v["name"]["value"], json!({"type": "plain_text_input", "value": "Bob"}));
        assert_eq!(v["fruit"]["pick"]["selected_option"]["value"], "apple");
        assert_eq!(v["block_2"]["when"], json!({"type": "datepicker", "selected_date": null}));
        assert_eq!(state_values(&blocks, &[("nope", "x")]), Err(ActError::NoElement("nope".into())));
        assert!(matches!(state_values(&blocks, &[("pick", "kiwi")]), Err(ActError::NoOption { .. })));
    }
}
