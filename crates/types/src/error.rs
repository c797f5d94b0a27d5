//! The error and warning codes of `rtm.connect`.
//!
//! Every code of the method page and of the protocol notes is a variant; any other code is kept
//! in `Other` so nothing the server said is lost, and the wire string always round-trips.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! api_errors {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $desc:literal, $retry:ident; )*) => {
        /// An error code returned by `rtm.connect` as `{"ok":false,"error":"<code>"}`.
        ///
        /// `Display` prints the code and Slack's description of it.
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

            /// Slack's description of the code (a generic sentence for unknown codes).
            pub fn description(&self) -> &'static str {
                match self {
                    $( ApiError::$variant => $desc, )*
                    ApiError::Other(_) => "An error this client does not know; see Slack's documentation.",
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
        }
    };
    (@retry retry) => { true };
    (@retry fatal) => { false };
}

api_errors! {
    /// No authentication token provided.
    NotAuthed = "not_authed", "No authentication token provided.", fatal;
    /// The token is invalid or the request comes from a disallowed IP address.
    InvalidAuth = "invalid_auth", "Some aspect of authentication cannot be validated. Either the provided token is invalid or the request originates from an IP address disallowed from making the request.", fatal;
    /// The token belongs to a deleted user or workspace.
    AccountInactive = "account_inactive", "Authentication token is for a deleted user or workspace.", fatal;
    /// The workspace token lacks the permissions needed.
    NoPermission = "no_permission", "The workspace token used in this request does not have the permissions necessary to complete the request.", fatal;
    /// An argument name is too long or has characters other than alphanumerics and `_`.
    InvalidArgName = "invalid_arg_name", "The method was passed an argument whose name falls outside the bounds of accepted or expected values. This includes very long names and names with non-alphanumeric characters other than `_`. If you get this error, it is typically an indication that you have made a _very_ malformed API call.", fatal;
    /// A PHP-style array argument such as `foo[7]`.
    InvalidArrayArg = "invalid_array_arg", "The method was passed a PHP-style array argument (e.g. with a name like `foo[7]`). These are never valid with the Slack API.", fatal;
    /// The `charset` of a POST's `Content-Type` is not `utf-8` or `iso-8859-1`.
    InvalidCharset = "invalid_charset", "The method was called via a `POST` request, but the `charset` specified in the `Content-Type` header was invalid. Valid charset names are: `utf-8` `iso-8859-1`.", fatal;
    /// The POST's form data is missing or unparsable.
    InvalidFormData = "invalid_form_data", "The method was called via a `POST` request with `Content-Type` `application/x-www-form-urlencoded` or `multipart/form-data`, but the form data was either missing or syntactically invalid.", fatal;
    /// The POST's `Content-Type` is not accepted.
    InvalidPostType = "invalid_post_type", "The method was called via a `POST` request, but the specified `Content-Type` was invalid. Valid types are: `application/x-www-form-urlencoded` `multipart/form-data` `text/plain`.", fatal;
    /// A POST with a body but no `Content-Type`.
    MissingPostType = "missing_post_type", "The method was called via a `POST` request and included a data payload, but the request did not include a `Content-Type` header.", fatal;
    /// The workspace is migrating to an Enterprise organisation.
    TeamAddedToOrg = "team_added_to_org", "The workspace associated with your request is currently undergoing migration to an Enterprise Organization. Web API and other platform operations will be intermittently unavailable until the transition is complete.", retry;
    /// The POST data was missing or truncated.
    RequestTimeout = "request_timeout", "The method was called via a `POST` request, but the `POST` data was either missing or truncated.", retry;
    /// A catastrophic server-side error.
    FatalError = "fatal_error", "The server could not complete your operation(s) without encountering a catastrophic error. It's possible some aspect of the operation succeeded before the error was raised.", retry;
    /// A team migration is in progress.
    MigrationInProgress = "migration_in_progress", "Team is being migrated between servers. See the `team_migration_started` event documentation for details.", retry;
    /// Granular-permission apps cannot use RTM; use Socket Mode.
    NotAllowedTokenType = "not_allowed_token_type", "The token type used in this request is not allowed. Apps with granular permissions cannot use RTM; use Socket Mode instead.", fatal;
    /// The token lacks a required scope.
    MissingScope = "missing_scope", "The token used is not granted the specific scope permissions required to complete this request.", fatal;
    /// The token has expired.
    TokenExpired = "token_expired", "Authentication token has expired.", fatal;
    /// The token has been revoked.
    TokenRevoked = "token_revoked", "Authentication token is for a deleted user or workspace or the app has been removed when using a user token.", fatal;
    /// Too many calls: wait for `Retry-After`.
    Ratelimited = "ratelimited", "The request has been ratelimited. Refer to the Retry-After header for when to retry the request.", retry;
    /// The service is temporarily unavailable.
    ServiceUnavailable = "service_unavailable", "The service is temporarily unavailable.", retry;
    /// The workspace requires an organisation login.
    OrgLoginRequired = "org_login_required", "The workspace is undergoing an enterprise migration and will not be available until migration is complete.", fatal;
    /// Access was denied by Enterprise Key Management.
    EkmAccessDenied = "ekm_access_denied", "Administrators have suspended the ability to post a message.", fatal;
    /// The method cannot be called from an Enterprise.
    EnterpriseIsRestricted = "enterprise_is_restricted", "The method cannot be called from an Enterprise.", fatal;
    /// Access to a resource was denied.
    AccessDenied = "access_denied", "Access to a resource specified in the request is denied.", fatal;
    /// Access to this method is limited on the current network.
    Accesslimited = "accesslimited", "Access to this method is limited on the current network.", fatal;
    /// This method cannot be called by a bot user.
    IsBot = "is_bot", "This method cannot be called by a bot user.", fatal;
    /// The method has been deprecated.
    MethodDeprecated = "method_deprecated", "The method has been deprecated.", fatal;
    /// The endpoint has been deprecated.
    DeprecatedEndpoint = "deprecated_endpoint", "The endpoint has been deprecated.", fatal;
    /// Two-factor setup is required.
    TwoFactorSetupRequired = "two_factor_setup_required", "Two factor setup is required.", fatal;
    /// The method does not exist.
    UnknownMethod = "unknown_method", "The method does not exist.", fatal;
    /// The user was removed from the workspace.
    UserRemovedFromTeam = "user_removed_from_team", "The user has been removed from the workspace.", fatal;
    /// The workspace has been disabled.
    TeamDisabled = "team_disabled", "The workspace associated with the token has been disabled.", fatal;
}

impl ApiError {
    /// The opposite of [`ApiError::is_retryable`]: the session must stop.
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
        assert_eq!(ApiError::ALL.len(), SEED.len() + PROTOCOL.len());
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
