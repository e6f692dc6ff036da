//! The one place each enum's wire name is written: JSON (serde), SQLite columns and
//! `Display` all go through `as_str`, so they cannot drift apart.

/// Gives a fieldless enum `ALL`, `as_str`, `Display`, `FromStr` and `Serialize` from one
/// list of `Variant => "name"` pairs.
macro_rules! wire_names {
    ($t:ident { $($v:ident => $s:literal),+ $(,)? }) => {
        impl $t {
            /// Every value, in declaration order.
            pub const ALL: &'static [$t] = &[$($t::$v),+];

            /// The name written in JSON and SQLite.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($t::$v => $s),+
                }
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $t {
            type Err = ();

            fn from_str(s: &str) -> Result<Self, ()> {
                $t::ALL.iter().copied().find(|v| v.as_str() == s).ok_or(())
            }
        }

        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

pub(crate) use wire_names;
