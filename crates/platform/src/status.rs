//! Text-backed status columns: one macro instead of a hand-written `as_db`/`from_db` pair and
//! diesel impls per enum.
//!
//! Statuses are stored as upper-case text (readable in `psql`, no PostgreSQL enum type to
//! migrate when a status is added). A row holding a value the code does not know fails to load
//! with a clear error instead of being guessed at.

/// Declares a fieldless enum stored as text: `as_db`, `from_db`, `ALL`, `Display`, and diesel
/// `ToSql`/`FromSql` for `Text`, so the enum goes straight into queries and `Queryable` rows.
///
/// ```ignore
/// tenor_platform::text_enum! {
///     /// Where a loan is in its life.
///     pub enum LoanStatus { Submitted = "SUBMITTED", Approved = "APPROVED" }
/// }
/// ```
///
/// The calling crate needs `diesel` as a dependency (the derives name it).
#[macro_export]
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis enum $name {
            $( $(#[$variant_meta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored text.
            pub fn as_db(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// The value stored as `text`, if there is one.
            pub fn from_db(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_db())
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_db(),
                    out,
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(value)?;
                Self::from_db(&text).ok_or_else(|| {
                    format!("unknown {} value {text:?} in the database", stringify!($name)).into()
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::text_enum! {
        /// A status for the test.
        pub enum Light {
            Red = "RED",
            /// Documented variants work too.
            Green = "GREEN",
        }
    }

    #[test]
    fn round_trips_through_text() {
        for light in Light::ALL {
            assert_eq!(Light::from_db(light.as_db()), Some(*light));
        }
        assert_eq!(Light::from_db("red"), None);
        assert_eq!(Light::Green.to_string(), "GREEN");
    }
}
