use std::fmt;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered id.
            pub fn generate() -> $name {
                $name(Uuid::now_v7())
            }

            pub fn parse(s: &str) -> Option<$name> {
                Uuid::try_parse(s).ok().map($name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(NodeId);
id_type!(UserId);
id_type!(
    /// A second factor of a user.
    FactorId
);
id_type!(
    /// A sign-in session, by its public handle (never its cookie).
    SessionId
);
id_type!(
    /// An API token.
    TokenId
);
id_type!(
    /// A message in the outbox.
    MessageId
);
