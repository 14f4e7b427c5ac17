//! `text_enum!`: an enum stored as text in PostgreSQL and written as a `snake_case` string in
//! JSON, with its list of values and conversions in one place.

/// Declares `pub enum Name { Variant = "text", … }` with serde, utoipa, `ALL`, `as_str`, `parse`.
///
/// The text is captured as a `tt`, not a `literal`: a `literal` fragment reaches utoipa's derive
/// wrapped in an invisible group that it does not read, and the schema then listed the Rust
/// variant names (`Webinar`) while serde spoke `webinar`. A test in `tests/api/foundation.rs`
/// compares every enum's schema with what serde writes.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $( $(#[$variant_meta:meta])* $variant:ident = $text:tt ),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $( $(#[$variant_meta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(value: &str) -> Option<Self> {
                match value { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
