//! The error and warning codes of `rtm.connect` and of the common Web API methods.
//!
//! Every code of the method page and of the protocol notes is a variant; any other code is kept
//! in `Other` so nothing the server said is lost, and the wire string always round-trips.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! api_errors {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $desc:literal, $retry:ident; )*) => {
        /// An error code returned by `rtm.connect`, `apps.connections.open` or a Web API method as
        /// `{"ok":false,"error":"<code>"}`.
        ///
        /// `Display` prints the code and what it means in plain words (with what to do, when
        /// there is something to do).
        #[derive(Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ApiError {
            $( $(#[$doc])* $variant, )*
            /// A code this version does not know yet, kept verbatim.
            Other(String),
        }

        impl ApiError {
            /// Every known variant (not `Other`), in documentation order.
            pub const ALL: &'static [ApiError] = &[$(ApiError::$variant,)*];

            /// Maps a wire code to its variant; unknown codes become [`ApiError::Other`].
            pub fn from_code(code: &str) -> Self {
                match code {
                    $( $code => ApiError::$variant, )*
                    other => ApiError::Other(other.to_owned()),
                }
            }

            /// The code exactly as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( ApiError::$variant => $code, )*
                    ApiError::Other(code) => code,
                }
            }

            /// What the code means, in plain words, with what to do about it when there is
            /// something to do (a generic sentence for unknown codes).
            pub fn description(&self) -> &'static str {
                match self {
                    $( ApiError::$variant => $desc, )*
                    ApiError::Other(_) => "An error code this client has no description for; see the method's page in Slack's documentation.",
                }
            }

            /// Whether calling again (with backoff, after any `Retry-After`) may succeed.
            ///
            /// `false` means no retry can fix it (bad or revoked token, missing scope, wrong
            /// token type, malformed call): a session must stop instead of looping. Unknown
            /// codes are treated as retryable, since the server may be in trouble; a session
            /// still backs off exponentially between attempts.
            pub fn is_retryable(&self) -> bool {
                match self {
                    $( ApiError::$variant => api_errors!(@retry $retry), )*
                    ApiError::Other(_) => true,
                }
            }

            /// Whether the token itself is the problem (invalid, revoked, of the wrong type,
            /// lacking a scope or a permission): no call with this token can succeed until it
            /// is fixed. A malformed call (`unknown_method`, `channel_not_found`, …) is not
            /// retryable either, but is not an authentication failure.
            pub fn is_auth(&self) -> bool {
                match self {
                    $( ApiError::$variant => api_errors!(@auth $retry), )*
                    ApiError::Other(_) => false,
                }
            }
        }
    };
    (@retry retry) => { true };
    (@retry auth) => { false };
    (@retry call) => { false };
    (@auth auth) => { true };
    (@auth $other:ident) => { false };
}

api_errors! {
    /// No authentication token provided.
    NotAuthed = "not_authed", "No authentication token provided.", auth;
    /// The token is invalid or the request comes from a disallowed IP address.
    InvalidAuth = "invalid_auth", "The token is not valid: check that it was copied whole and belongs to this workspace (xoxb-… is a bot token, xoxp-… a user token, xapp-… an app-level token). Slack also says this when the call comes from an IP address the workspace does not allow.", auth;
    /// The token belongs to a deleted user or workspace.
    AccountInactive = "account_inactive", "Authentication token is for a deleted user or workspace.", auth;
    /// The workspace token lacks the permissions needed.
    NoPermission = "no_permission", "The workspace token used in this request does not have the permissions necessary to complete the request.", auth;
    /// An argument name is too long or has characters other than alphanumerics and `_`.
    InvalidArgName = "invalid_arg_name", "The method was passed an argument whose name falls outside the bounds of accepted or expected values. This includes very long names and names with non-alphanumeric characters other than `_`. If you get this error, it is typically an indication that you have made a _very_ malformed API call.", call;
    /// A PHP-style array argument such as `foo[7]`.
    InvalidArrayArg = "invalid_array_arg", "The method was passed a PHP-style array argument (e.g. with a name like `foo[7]`). These are never valid with the Slack API.", call;
    /// The `charset` of a POST's `Content-Type` is not `utf-8` or `iso-8859-1`.
    InvalidCharset = "invalid_charset", "The method was called via a `POST` request, but the `charset` specified in the `Content-Type` header was invalid. Valid charset names are: `utf-8` `iso-8859-1`.", call;
    /// The POST's form data is missing or unparsable.
    InvalidFormData = "invalid_form_data", "The method was called via a `POST` request with `Content-Type` `application/x-www-form-urlencoded` or `multipart/form-data`, but the form data was either missing or syntactically invalid.", call;
    /// The POST's `Content-Type` is not accepted.
    InvalidPostType = "invalid_post_type", "The method was called via a `POST` request, but the specified `Content-Type` was invalid. Valid types are: `application/x-www-form-urlencoded` `multipart/form-data` `text/plain`.", call;
    /// A POST with a body but no `Content-Type`.
    MissingPostType = "missing_post_type", "The method was called via a `POST` request and included a data payload, but the request did not include a `Content-Type` header.", call;
    /// The workspace is migrating to an Enterprise organisation.
    TeamAddedToOrg = "team_added_to_org", "The workspace associated with your request is currently undergoing migration to an Enterprise Organization. Web API and other platform operations will be intermittently unavailable until the transition is complete.", retry;
    /// The POST data was missing or truncated.
    RequestTimeout = "request_timeout", "The method was called via a `POST` request, but the `POST` data was either missing or truncated.", retry;
    /// A catastrophic server-side error.
    FatalError = "fatal_error", "The server could not complete your operation(s) without encountering a catastrophic error. It's possible some aspect of the operation succeeded before the error was raised.", retry;
    /// A team migration is in progress.
    MigrationInProgress = "migration_in_progress", "Team is being migrated between servers. See the `team_migration_started` event documentation for details.", retry;
    /// Granular-permission apps cannot use RTM; use Socket Mode.
    NotAllowedTokenType = "not_allowed_token_type", "This kind of token cannot be used here. Apps with granular permissions (every app created today) cannot use RTM (rtm.connect): they receive events through Socket Mode (with an app-level xapp- token) and post through the Web API (chat.postMessage) with their bot token.", auth;
    /// The token lacks a required scope.
    MissingScope = "missing_scope", "The token lacks a scope this method needs: add the scope under OAuth & Permissions in the app's settings, then reinstall the app to get a token that has it.", auth;
    /// The token has expired.
    TokenExpired = "token_expired", "The token has expired: with token rotation on, refresh it with oauth.v2.access.", auth;
    /// The token has been revoked.
    TokenRevoked = "token_revoked", "The token was revoked (the app was uninstalled, or the token was rotated or revoked): install the app again to get a new token.", auth;
    /// Too many calls: wait for `Retry-After`.
    Ratelimited = "ratelimited", "Too many calls: wait the time in the Retry-After header before calling again.", retry;
    /// The service is temporarily unavailable.
    ServiceUnavailable = "service_unavailable", "The service is temporarily unavailable.", retry;
    /// The workspace requires an organisation login.
    OrgLoginRequired = "org_login_required", "The workspace is undergoing an enterprise migration and will not be available until migration is complete.", auth;
    /// Access was denied by Enterprise Key Management.
    EkmAccessDenied = "ekm_access_denied", "Administrators have suspended the ability to post a message.", auth;
    /// The method cannot be called from an Enterprise.
    EnterpriseIsRestricted = "enterprise_is_restricted", "The method cannot be called from an Enterprise.", call;
    /// Access to a resource was denied.
    AccessDenied = "access_denied", "Access to a resource specified in the request is denied.", auth;
    /// Access to this method is limited on the current network.
    Accesslimited = "accesslimited", "Access to this method is limited on the current network.", auth;
    /// This method cannot be called by a bot user.
    IsBot = "is_bot", "A bot token cannot call this method: it needs a user token (xoxp-…).", auth;
    /// The method has been deprecated.
    MethodDeprecated = "method_deprecated", "The method has been deprecated.", call;
    /// The endpoint has been deprecated.
    DeprecatedEndpoint = "deprecated_endpoint", "The endpoint has been deprecated.", call;
    /// Two-factor setup is required.
    TwoFactorSetupRequired = "two_factor_setup_required", "Two factor setup is required.", auth;
    /// The method does not exist.
    UnknownMethod = "unknown_method", "There is no Web API method of this name: check its spelling (e.g. chat.postMessage). A local emulator may not serve every method.", call;
    /// The user was removed from the workspace.
    UserRemovedFromTeam = "user_removed_from_team", "The user has been removed from the workspace.", auth;
    /// The workspace has been disabled.
    TeamDisabled = "team_disabled", "The workspace associated with the token has been disabled.", auth;
    // Common errors of the Web API methods (chat.*, conversations.*, users.*, reactions.*,
    // views.*): the call itself is wrong, so no retry helps, but the token is fine.
    /// No channel with this id is visible to the token.
    ChannelNotFound = "channel_not_found", "No channel with this id is visible to this token: pass the channel's id (C…, G… or D…), not its name; a bot sees a private channel only once it is invited.", call;
    /// The bot is not a member of the channel.
    NotInChannel = "not_in_channel", "The bot is not a member of this channel: invite it (`/invite @yourbot` in the channel), or let it join with conversations.join (scope channels:join).", call;
    /// The channel is archived.
    IsArchived = "is_archived", "The channel is archived: nothing can be posted there. Unarchive it or use another channel.", call;
    /// The channel is archived (the name some methods use).
    ChannelIsArchived = "channel_is_archived", "The channel is archived: unarchive it or use another channel.", call;
    /// A message without text, blocks or attachments.
    NoText = "no_text", "The message is empty: give `text`, or `blocks` (with `text` as the notification fallback).", call;
    /// The message is too long.
    MsgTooLong = "msg_too_long", "The message text is too long (Slack refuses more than 40,000 characters): split it into several messages.", call;
    /// No user with this id.
    UserNotFound = "user_not_found", "No user with this id in this workspace: pass a user id (U… or W…), not a name or an email (users.lookupByEmail finds a user by email).", call;
    /// The blocks are not valid Block Kit.
    InvalidBlocks = "invalid_blocks", "The blocks are not valid Block Kit: the messages Slack sent with the error say which block is wrong; Block Kit Builder checks a layout.", call;
    /// The blocks are not a JSON array of objects.
    InvalidBlocksFormat = "invalid_blocks_format", "The blocks are not a JSON array of block objects.", call;
    /// A workspace setting forbids the action.
    RestrictedAction = "restricted_action", "A workspace setting forbids this for this user or bot (for example, only admins may post in this channel).", call;
    /// Only admins may post to the workspace's general channel.
    PostingToGeneralChannelDenied = "posting_to_general_channel_denied", "Only admins may post in this workspace's #general channel: use another channel.", call;
    /// An argument is missing or has the wrong type.
    InvalidArguments = "invalid_arguments", "An argument is missing or has the wrong type: the messages Slack sent with the error say which.", call;
    /// No message with this `ts` in the channel.
    MessageNotFound = "message_not_found", "No message with this ts in this channel.", call;
    /// No thread with this `ts` in the channel.
    ThreadNotFound = "thread_not_found", "No thread with this ts in this channel: thread_ts must be the ts of the thread's first message.", call;
    /// Only the author of a message may change it.
    CantUpdateMessage = "cant_update_message", "This token cannot edit this message: only its author can.", call;
    /// Only the author (or an admin) may delete a message.
    CantDeleteMessage = "cant_delete_message", "This token cannot delete this message: only its author (or an admin, with a user token) can.", call;
    /// The message is too old to be edited.
    EditWindowClosed = "edit_window_closed", "The message is too old to be edited (a workspace setting).", call;
    /// The reaction is already there.
    AlreadyReacted = "already_reacted", "This reaction is already on the message.", call;
    /// The reaction is not there.
    NoReaction = "no_reaction", "There is no such reaction on the message to remove.", call;
    /// `as_user` with a granular-permission app.
    AsUserNotSupported = "as_user_not_supported", "as_user is not supported for apps with granular permissions: leave it out (the bot posts as itself).", call;
    /// A pagination cursor that is not valid.
    InvalidCursor = "invalid_cursor", "The pagination cursor is not valid (expired, or from another call): start again without a cursor.", call;
    /// A `trigger_id` that expired.
    ExpiredTriggerId = "expired_trigger_id", "The trigger_id has expired (it lasts 3 seconds): open the view as soon as the interaction arrives.", call;
    /// A `trigger_id` that is not valid.
    InvalidTriggerId = "invalid_trigger_id", "The trigger_id is not valid: pass the one from the interaction, within 3 seconds.", call;
    /// The method does not work on this kind of conversation.
    MethodNotSupportedForChannelType = "method_not_supported_for_channel_type", "This method does not work on this kind of conversation (e.g. a DM).", call;
    /// Too many attachments.
    TooManyAttachments = "too_many_attachments", "Too many attachments in one message (at most 100).", call;
}

impl ApiError {
    /// The opposite of [`ApiError::is_retryable`]: the session must stop (or the call must
    /// change).
    pub fn is_fatal(&self) -> bool {
        !self.is_retryable()
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiError({:?})", self.as_str())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.as_str(), self.description())
    }
}

impl std::error::Error for ApiError {}

impl Serialize for ApiError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ApiError {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Self::from_code(&s))
    }
}

/// A warning returned with a successful (or failed) `rtm.connect` answer.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiWarning {
    /// A `text/plain` POST body without a `charset`.
    MissingCharset,
    /// A form-data POST body that declared a `charset`, which it should not.
    SuperfluousCharset,
    /// A warning this version does not know, kept verbatim.
    Other(String),
}

impl ApiWarning {
    /// Maps a wire code to its variant.
    pub fn from_code(code: &str) -> Self {
        match code {
            "missing_charset" => Self::MissingCharset,
            "superfluous_charset" => Self::SuperfluousCharset,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The code exactly as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::MissingCharset => "missing_charset",
            Self::SuperfluousCharset => "superfluous_charset",
            Self::Other(s) => s,
        }
    }

    /// Slack's description of the warning.
    pub fn description(&self) -> &'static str {
        match self {
            Self::MissingCharset => {
                "The method was called via a `POST` request, and recommended practice for the specified `Content-Type` is to include a `charset` parameter. However, no `charset` was present. Specifically, non-form-data content types (e.g. `text/plain`) are the ones for which `charset` is recommended."
            }
            Self::SuperfluousCharset => {
                "The method was called via a `POST` request, and the specified `Content-Type` is not defined to understand the `charset` parameter. However, `charset` was in fact present. Specifically, form-data content types (e.g. `multipart/form-data`) are the ones for which `charset` is superfluous."
            }
            Self::Other(_) => "A warning this client does not know; see Slack's documentation.",
        }
    }
}

impl fmt::Debug for ApiWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiWarning({:?})", self.as_str())
    }
}

impl fmt::Display for ApiWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.as_str(), self.description())
    }
}

impl Serialize for ApiWarning {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ApiWarning {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Self::from_code(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes from the method page and protocol.md §1, written out independently of the table.
    const SEED: &[&str] = &[
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "no_permission",
        "invalid_arg_name",
        "invalid_array_arg",
        "invalid_charset",
        "invalid_form_data",
        "invalid_post_type",
        "missing_post_type",
        "team_added_to_org",
        "request_timeout",
        "fatal_error",
    ];
    const PROTOCOL: &[&str] = &[
        "migration_in_progress",
        "not_allowed_token_type",
        "missing_scope",
        "token_expired",
        "token_revoked",
        "ratelimited",
        "service_unavailable",
        "org_login_required",
        "ekm_access_denied",
        "enterprise_is_restricted",
        "access_denied",
        "accesslimited",
        "is_bot",
        "method_deprecated",
        "deprecated_endpoint",
        "two_factor_setup_required",
        "unknown_method",
        "user_removed_from_team",
        "team_disabled",
    ];
    const NO_RETRY: &[&str] = &[
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "user_removed_from_team",
        "team_disabled",
        "invalid_arg_name",
        "invalid_array_arg",
    ];
    /// Common Web API errors: the call is wrong, the token is fine.
    const WEB: &[&str] = &[
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "channel_is_archived",
        "no_text",
        "msg_too_long",
        "user_not_found",
        "invalid_blocks",
        "invalid_blocks_format",
        "restricted_action",
        "posting_to_general_channel_denied",
        "invalid_arguments",
        "message_not_found",
        "thread_not_found",
        "cant_update_message",
        "cant_delete_message",
        "edit_window_closed",
        "already_reacted",
        "no_reaction",
        "as_user_not_supported",
        "invalid_cursor",
        "expired_trigger_id",
        "invalid_trigger_id",
        "method_not_supported_for_channel_type",
        "too_many_attachments",
    ];
    const AUTH: &[&str] = &[
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
    ];
    const RETRY: &[&str] = &[
        "ratelimited",
        "fatal_error",
        "request_timeout",
        "service_unavailable",
        "team_added_to_org",
        "migration_in_progress",
    ];

    #[test]
    fn every_documented_code_has_a_variant_and_round_trips() {
        for code in SEED.iter().chain(PROTOCOL) {
            let e = ApiError::from_code(code);
            assert!(!matches!(e, ApiError::Other(_)), "{code} has no variant");
            assert_eq!(e.as_str(), *code);
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(json, format!("\"{code}\""));
            let back: ApiError = serde_json::from_str(&json).unwrap();
            assert_eq!(back, e);
        }
        for code in WEB {
            assert!(!matches!(ApiError::from_code(code), ApiError::Other(_)), "{code} has no variant");
        }
        assert_eq!(ApiError::ALL.len(), SEED.len() + PROTOCOL.len() + WEB.len());
    }

    #[test]
    fn seed_descriptions_are_the_messages() {
        assert_eq!(ApiError::NotAuthed.description(), "No authentication token provided.");
        assert_eq!(
            ApiError::AccountInactive.to_string(),
            "account_inactive: Authentication token is for a deleted user or workspace."
        );
        for e in ApiError::ALL {
            assert!(e.to_string().starts_with(e.as_str()));
            assert!(!e.description().is_empty());
        }
    }

    #[test]
    fn unknown_codes_are_kept() {
        let e: ApiError = serde_json::from_str("\"brand_new_error\"").unwrap();
        assert_eq!(e, ApiError::Other("brand_new_error".into()));
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"brand_new_error\"");
        assert!(e.is_retryable());
    }

    #[test]
    fn retry_classification_follows_protocol_notes() {
        for code in NO_RETRY {
            assert!(ApiError::from_code(code).is_fatal(), "{code} must be fatal");
        }
        for code in RETRY {
            assert!(ApiError::from_code(code).is_retryable(), "{code} must be retryable");
        }
    }

    #[test]
    fn auth_failures_are_told_apart_from_wrong_calls() {
        for code in AUTH {
            let e = ApiError::from_code(code);
            assert!(e.is_auth() && e.is_fatal(), "{code} is an authentication failure");
        }
        for code in WEB.iter().chain(&["unknown_method", "invalid_arg_name", "method_deprecated"]) {
            let e = ApiError::from_code(code);
            assert!(!e.is_auth() && e.is_fatal(), "{code} is a wrong call, not an auth failure");
            assert!(!e.description().contains("does not know"), "{code} is described");
        }
        for code in RETRY.iter().chain(&["brand_new_error"]) {
            assert!(!ApiError::from_code(code).is_auth(), "{code}");
        }
        // The advice for a granular-permission token names both ways out.
        let d = ApiError::NotAllowedTokenType.description();
        assert!(d.contains("Socket Mode") && d.contains("chat.postMessage"), "{d}");
    }

    #[test]
    fn warnings_round_trip() {
        for (code, w) in [
            ("missing_charset", ApiWarning::MissingCharset),
            ("superfluous_charset", ApiWarning::SuperfluousCharset),
            ("something_new", ApiWarning::Other("something_new".into())),
        ] {
            assert_eq!(ApiWarning::from_code(code), w);
            let back: ApiWarning = serde_json::from_str(&serde_json::to_string(&w).unwrap()).unwrap();
            assert_eq!(back, w);
            assert_eq!(back.as_str(), code);
        }
    }
}
