//! What the built-in `ignore_self` middleware reads of an event, borrowed from the payload:
//! a few strings, no `serde_json::Value` built. Every field is read as a `Value::as_str` (or
//! `as_bool`) would read it: a value of another kind is absent, not an error. When the payload
//! cannot be read this way (a key twice, not JSON), the caller reads the `Value`.

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use slack_rtm_types::RawJson;
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// A string, or absent when the value is anything else (as `Value::as_str`).
#[derive(Default, Debug)]
struct Str<'a>(Option<Cow<'a, str>>);

/// An object read as `T`, or absent when the value is anything else.
#[derive(Debug)]
struct Obj<T>(Option<T>);

impl<T> Default for Obj<T> {
    fn default() -> Self {
        Obj(None)
    }
}

/// An array of `T`, or empty when the value is anything else.
#[derive(Debug)]
struct Arr<T>(Vec<T>);

impl<T> Default for Arr<T> {
    fn default() -> Self {
        Arr(Vec::new())
    }
}

/// `true` only for JSON `true`.
#[derive(Default, Debug)]
struct True(bool);

/// Which kind of value a lenient reader takes; everything else is skipped as absent.
#[derive(Clone, Copy)]
enum Want {
    Str,
    Bool,
    Map,
    Seq,
}

/// What a lenient reader found.
enum Found<'de, T> {
    Str(Cow<'de, str>),
    Bool(bool),
    Taken(T),
    Other,
}

struct Lenient<'de, T>(Want, PhantomData<(&'de (), T)>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for Lenient<'de, T> {
    type Value = Found<'de, T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Found::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Found::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Found::Bool(v))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Found::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Found::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Found::Other)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Found::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if let Want::Map = self.0 {
            return T::deserialize(MapAccessDeserializer::new(map)).map(Found::Taken);
        }
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Found::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if let Want::Seq = self.0 {
            return T::deserialize(SeqAccessDeserializer::new(seq)).map(Found::Taken);
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Found::Other)
    }
}

fn lenient<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    want: Want,
) -> Result<Found<'de, T>, D::Error> {
    d.deserialize_any(Lenient(want, PhantomData))
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Str(match lenient::<D, IgnoredAny>(d, Want::Str)? {
            Found::Str(s) => Some(s),
            _ => None,
        }))
    }
}

impl<'de> Deserialize<'de> for True {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(True(matches!(lenient::<D, IgnoredAny>(d, Want::Bool)?, Found::Bool(true))))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Obj(match lenient::<D, T>(d, Want::Map)? {
            Found::Taken(t) => Some(t),
            _ => None,
        }))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Arr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Arr(match lenient::<D, Vec<T>>(d, Want::Seq)? {
            Found::Taken(t) => t,
            _ => Vec::new(),
        }))
    }
}

fn nonempty(s: Option<Cow<'_, str>>) -> Option<Cow<'_, str>> {
    s.filter(|s| !s.is_empty())
}

/// `event.user`: a user id, or a user object with its `id` (empty ones are absent).
#[derive(Default, Debug)]
struct User<'a>(Option<Cow<'a, str>>);

#[derive(Deserialize)]
struct WithId<'a> {
    #[serde(borrow, default)]
    id: Str<'a>,
}

impl<'de: 'a, 'a> Deserialize<'de> for User<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A string: the id (an empty one is absent, and then the object form cannot apply).
        Ok(User(match lenient::<D, WithId<'a>>(d, Want::Map)? {
            Found::Str(s) if !s.is_empty() => Some(s),
            Found::Taken(w) => nonempty(w.id.0),
            _ => None,
        }))
    }
}

#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(borrow, default)]
    api_app_id: Str<'a>,
    #[serde(borrow, default)]
    event: Obj<Event<'a>>,
    #[serde(borrow, default)]
    authorizations: Arr<Obj<Authorization<'a>>>,
    #[serde(borrow, default)]
    authed_users: Arr<Str<'a>>,
}

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow, default)]
    user: User<'a>,
    #[serde(borrow, default)]
    bot_id: Str<'a>,
    #[serde(borrow, default)]
    app_id: Str<'a>,
    #[serde(borrow, default)]
    bot_profile: Obj<WithAppId<'a>>,
    #[serde(borrow, default)]
    message: Obj<Inner<'a>>,
}

#[derive(Deserialize)]
struct WithAppId<'a> {
    #[serde(borrow, default)]
    app_id: Str<'a>,
}

#[derive(Deserialize)]
struct Inner<'a> {
    #[serde(borrow, default)]
    user: Str<'a>,
    #[serde(borrow, default)]
    bot_id: Str<'a>,
}

#[derive(Deserialize)]
struct Authorization<'a> {
    #[serde(default)]
    is_bot: True,
    #[serde(borrow, default)]
    user_id: Str<'a>,
}

/// What `ignore_self` compares with the bot: who caused the event, and whom it was for.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct SelfFields<'a> {
    /// `event.user` (or its `id`), else `event.message.user` (the first non-empty one).
    pub(crate) user: Option<Cow<'a, str>>,
    /// `event.bot_id`, else `event.message.bot_id`.
    pub(crate) bot_id: Option<Cow<'a, str>>,
    /// `event.app_id`, else `event.bot_profile.app_id`.
    pub(crate) app_id: Option<Cow<'a, str>>,
    /// The payload's `api_app_id`.
    pub(crate) api_app_id: Option<Cow<'a, str>>,
    /// The bot user the event was delivered to: the first bot authorization's `user_id`, else
    /// `authed_users[0]` (non-empty).
    pub(crate) authorized_bot: Option<Cow<'a, str>>,
}

impl<'a> SelfFields<'a> {
    /// Reads them borrowed; `None` if the payload cannot be read this way (then read the `Value`).
    pub(crate) fn read(payload: &'a RawJson) -> Option<SelfFields<'a>> {
        let p: Payload<'a> = payload.parse().ok()?;
        let event = p.event.0;
        let (mut user, mut bot_id, mut app_id) = (None, None, None);
        if let Some(e) = event {
            let message = e.message.0;
            user = e.user.0.or_else(|| nonempty(message.as_ref().and_then(|m| m.user.0.clone())));
            bot_id = e.bot_id.0.or_else(|| message.and_then(|m| m.bot_id.0));
            app_id = e.app_id.0.or_else(|| e.bot_profile.0.and_then(|b| b.app_id.0));
        }
        let authorized_bot = match p.authorizations.0.into_iter().flat_map(|a| a.0).find(|a| a.is_bot.0) {
            Some(a) => nonempty(a.user_id.0),
            None => None,
        }
        .or_else(|| nonempty(p.authed_users.0.into_iter().next().and_then(|s| s.0)));
        Some(SelfFields { user, bot_id, app_id, api_app_id: p.api_app_id.0, authorized_bot })
    }

    /// The same fields from the payload parsed as a `Value` (the reference reading).
    pub(crate) fn from_value(
        v: &'a serde_json::Value,
        user: Option<&'a str>,
        authorized_bot: Option<&'a str>,
    ) -> Self {
        let event = &v["event"];
        let s = |x: &'a serde_json::Value| x.as_str().map(Cow::Borrowed);
        SelfFields {
            user: user.map(Cow::Borrowed),
            bot_id: s(&event["bot_id"]).or_else(|| s(&event["message"]["bot_id"])),
            app_id: s(&event["app_id"]).or_else(|| s(&event["bot_profile"]["app_id"])),
            api_app_id: s(&v["api_app_id"]),
            authorized_bot: authorized_bot.map(Cow::Borrowed),
        }
    }
}

impl super::Context {
    /// Whether the app's own bot caused this event: its user, its `bot_id`, or (without
    /// `auth.test`) a message that names the app. Read borrowed from the payload.
    pub(crate) fn caused_by_own_bot(&self) -> bool {
        let req = &self.req;
        let fields = SelfFields::read(&req.payload).unwrap_or_else(|| {
            SelfFields::from_value(
                req.body(),
                req.meta().user_id.as_deref(),
                req.meta().authorized_bot.as_deref(),
            )
        });
        let bot = self.bot_or(|| fields.authorized_bot.as_deref().map(str::to_owned));
        let by_user = bot.user_id.as_ref().is_some_and(|u| Some(u.as_str()) == fields.user.as_deref());
        let by_bot = bot.bot_id.as_ref().is_some_and(|b| Some(b.as_str()) == fields.bot_id.as_deref());
        // Without `auth.test`, a message the app posted still names the app.
        let by_app = fields.app_id.as_deref().is_some_and(|a| Some(a) == fields.api_app_id.as_deref());
        by_user || by_bot || by_app
    }
}

#[cfg(test)]
mod tests {
    use super::SelfFields;
    use crate::app::context::Meta;
    use crate::app::receiver::RequestKind;
    use slack_rtm_types::RawJson;

    /// The borrowed read answers what the `Value` read answers, on the shapes Slack sends and
    /// on odd ones; a payload it cannot read (a key twice) is left to the `Value` read.
    #[test]
    fn the_borrowed_read_agrees_with_the_value_read() {
        let cases = [
            r#"{"api_app_id":"A1","event":{"type":"message","user":"U1","bot_id":"B1","app_id":"A1"},
                "authorizations":[{"is_bot":false,"user_id":"U7"},{"is_bot":true,"user_id":"U9"}]}"#,
            r#"{"event":{"type":"message","user":{"id":"U2"},"bot_profile":{"app_id":"A3"}},"api_app_id":"A3"}"#,
            r#"{"event":{"type":"message","user":"","message":{"user":"U3","bot_id":"B3"}},"authed_users":["U5"]}"#,
            r#"{"event":{"type":"message","user":{"name":"x"},"bot_id":"","message":{"bot_id":"B4"}}}"#,
            r#"{"event":"not an object","api_app_id":7,"authorizations":{"is_bot":true}}"#,
            r#"{"event":{"user":5,"bot_id":null,"app_id":["A1"],"bot_profile":"x","message":[1]},
                "authorizations":[1,"x",{"is_bot":"true","user_id":"U1"},{"is_bot":true,"user_id":""}],
                "authed_users":[""]}"#,
            r#"{"event":{"text":"caf\u00e9 \"q\"","user":"U\u0031","bot_id":"B\n"},"api_app_id":"A\u00e9"}"#,
            r#"{"event":{"app_id":"","user":"U1"},"api_app_id":""}"#,
            r#"{}"#,
        ];
        for case in cases {
            let raw = RawJson::from_json(case).unwrap();
            let value: serde_json::Value = serde_json::from_str(case).unwrap();
            let meta = Meta::read(&RequestKind::EventsApi, &value);
            let want =
                SelfFields::from_value(&value, meta.user_id.as_deref(), meta.authorized_bot.as_deref());
            let got = SelfFields::read(&raw).expect("read");
            assert_eq!(got, want, "{case}");
        }
        let twice = RawJson::from_json(r#"{"event":{"user":"U1","user":"U2"}}"#).unwrap();
        assert_eq!(SelfFields::read(&twice), None, "left to the Value read");
    }
}
