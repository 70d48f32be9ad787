//! Box's `AccessToken` and the resources a downscoped token is restricted to, with Box's exact
//! wire names. Every field is optional, as in Box's spec, and an enum value Box adds later lands in
//! the `Other` variant instead of failing the parse.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::secret::Token;

/// Defines a string enum with exact wire values and an `Other` variant for values Box adds later.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A value this version of boxauth does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The exact string on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(value) => value,
                }
            }

            /// Every value boxauth knows, in Box's order.
            pub const KNOWN: &'static [&'static str] = &[$($wire),+];
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($wire => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from(value.as_ref()))
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum! {
    /// `AccessToken.token_type`.
    AccessTokenTokenType {
        /// `bearer`.
        Bearer = "bearer",
    }
}

wire_enum! {
    /// `AccessToken.issued_token_type`, returned only for a downscoped token.
    AccessTokenIssuedTokenType {
        /// `urn:ietf:params:oauth:token-type:access_token`.
        AccessToken = "urn:ietf:params:oauth:token-type:access_token",
    }
}

wire_enum! {
    /// A scope a downscoped token holds on one resource (`ResourceScope.scope`).
    ResourceScopeScope {
        /// `annotation_edit`.
        AnnotationEdit = "annotation_edit",
        /// `annotation_view_all`.
        AnnotationViewAll = "annotation_view_all",
        /// `annotation_view_self`.
        AnnotationViewSelf = "annotation_view_self",
        /// `base_explorer`.
        BaseExplorer = "base_explorer",
        /// `base_picker`.
        BasePicker = "base_picker",
        /// `base_preview`.
        BasePreview = "base_preview",
        /// `base_upload`.
        BaseUpload = "base_upload",
        /// `item_delete`.
        ItemDelete = "item_delete",
        /// `item_download`.
        ItemDownload = "item_download",
        /// `item_preview`.
        ItemPreview = "item_preview",
        /// `item_rename`.
        ItemRename = "item_rename",
        /// `item_share`.
        ItemShare = "item_share",
        /// `item_upload`.
        ItemUpload = "item_upload",
        /// `item_read`.
        ItemRead = "item_read",
    }
}

/// Box's `AccessToken`: what every grant of `/oauth2/token` returns.
///
/// Tokens are [`Token`]s: `Debug` never shows them; read them with `.secret()`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AccessToken {
    /// The access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<Token>,
    /// Seconds until the access token expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    /// Always `bearer` today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<AccessTokenTokenType>,
    /// For a downscoped token: the resources and scopes it is limited to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted_to: Option<Vec<ResourceScope>>,
    /// The refresh token (OAuth 2.0 only; JWT, CCG and downscoped tokens have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Token>,
    /// For a downscoped token: `urn:ietf:params:oauth:token-type:access_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<AccessTokenIssuedTokenType>,
}

/// One (scope, resource) pair of a downscoped token (Box's `ResourceScope`, formerly
/// `FileOrFolderScope`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResourceScope {
    /// The scope granted on `object`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ResourceScopeScope>,
    /// The file or folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Resource>,
}

/// A file or a folder, told apart by `type`. A type boxauth does not know is kept as raw JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// A `Folder--Mini`.
    Folder(FolderMini),
    /// A `File--Mini`.
    File(FileMini),
    /// Any other object, as Box sent it.
    Other(serde_json::Value),
}

impl Serialize for Resource {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Folder(folder) => folder.serialize(serializer),
            Self::File(file) => file.serialize(serializer),
            Self::Other(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Resource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = serde_json::Value::deserialize(deserializer)?;
        match value.get("type").and_then(serde_json::Value::as_str) {
            Some("folder") => FolderMini::deserialize(value)
                .map(Self::Folder)
                .map_err(D::Error::custom),
            Some("file") => FileMini::deserialize(value)
                .map(Self::File)
                .map_err(D::Error::custom),
            _ => Ok(Self::Other(value)),
        }
    }
}

/// Box's `Folder--Mini`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FolderMini {
    /// The folder ID.
    pub id: String,
    /// Always `folder`.
    #[serde(rename = "type", default = "folder_type")]
    pub kind: String,
    /// The folder's HTTP etag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The last event applied to the folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_id: Option<String>,
    /// The folder name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Box's `File--Mini`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FileMini {
    /// The file ID.
    pub id: String,
    /// Always `file`.
    #[serde(rename = "type", default = "file_type")]
    pub kind: String,
    /// The file's HTTP etag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The last event applied to the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_id: Option<String>,
    /// The file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The SHA-1 of the file's content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    /// The current version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_version: Option<FileVersionMini>,
}

/// Box's `FileVersion--Mini`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FileVersionMini {
    /// The version ID.
    pub id: String,
    /// Always `file_version`.
    #[serde(rename = "type", default = "file_version_type")]
    pub kind: String,
    /// The SHA-1 of this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
}

fn folder_type() -> String {
    "folder".into()
}

fn file_type() -> String {
    "file".into()
}

fn file_version_type() -> String {
    "file_version".into()
}
