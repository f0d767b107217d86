//! Translations with Fluent: one bundle per language, compiled into the binary.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use crate::model::Lang;

const SOURCES: [(Lang, &str); 3] = [
    (Lang::En, include_str!("../../locales/en/main.ftl")),
    (Lang::Nl, include_str!("../../locales/nl/main.ftl")),
    (Lang::Sv, include_str!("../../locales/sv/main.ftl")),
];

struct Bundles(Vec<(Lang, FluentBundle<FluentResource>)>);

fn bundles() -> &'static Bundles {
    static BUNDLES: OnceLock<Bundles> = OnceLock::new();
    BUNDLES.get_or_init(|| {
        Bundles(
            SOURCES
                .iter()
                .map(|(lang, source)| {
                    let resource = FluentResource::try_new(source.to_string())
                        .unwrap_or_else(|(partial, _)| partial);
                    let locale = lang.code().parse().unwrap_or_default();
                    let mut bundle = FluentBundle::new_concurrent(vec![locale]);
                    // Exact text: no Unicode isolation marks around placeables.
                    bundle.set_use_isolating(false);
                    let _ = bundle.add_resource(resource);
                    (*lang, bundle)
                })
                .collect(),
        )
    })
}

fn format(lang: Lang, id: &str, args: Option<&FluentArgs>) -> Option<String> {
    let (_, bundle) = bundles().0.iter().find(|(l, _)| *l == lang)?;
    let pattern = bundle.get_message(id)?.value()?;
    let mut errors = vec![];
    Some(
        bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned(),
    )
}

/// The text `id` in `lang`, falling back to English, then to the id itself.
pub fn t(lang: Lang, id: &str) -> String {
    format(lang, id, None)
        .or_else(|| format(Lang::En, id, None))
        .unwrap_or_else(|| id.to_string())
}

/// The text `id` with arguments, e.g. `t_args(lang, "signed-in-as", &[("name", "Ann".into())])`.
pub fn t_args(lang: Lang, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let mut fargs = FluentArgs::new();
    for (k, v) in args {
        fargs.set(*k, v.clone());
    }
    format(lang, id, Some(&fargs))
        .or_else(|| format(Lang::En, id, Some(&fargs)))
        .unwrap_or_else(|| id.to_string())
}

/// Every message id of one language (for the completeness test).
pub fn message_ids(lang: Lang) -> Vec<String> {
    let Some((_, source)) = SOURCES.iter().find(|(l, _)| *l == lang) else {
        return vec![];
    };
    source
        .lines()
        .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim()))
        .filter(|k| !k.is_empty() && !k.starts_with('#') && !k.starts_with(' '))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_exists_in_every_language() {
        let english = message_ids(Lang::En);
        assert!(english.len() > 50);
        for lang in Lang::ALL {
            let ids = message_ids(lang);
            for id in &english {
                assert!(ids.contains(id), "{id} missing in {}", lang.code());
                assert!(
                    format(lang, id, None).is_some() || id.contains('$'),
                    "{id} broken in {}",
                    lang.code()
                );
            }
            for id in &ids {
                assert!(english.contains(id), "{id} only in {}", lang.code());
            }
        }
    }

    #[test]
    fn every_source_parses_cleanly() {
        for (lang, source) in SOURCES {
            assert!(
                FluentResource::try_new(source.to_string()).is_ok(),
                "{} has errors",
                lang.code()
            );
        }
    }

    #[test]
    fn formats_arguments_without_isolation_marks() {
        assert_eq!(
            t_args(Lang::Sv, "error-rate-limited", &[("seconds", 30.into())]),
            "För många försök. Försök igen om 30 sekunder."
        );
        assert_eq!(t(Lang::Nl, "nav-users"), "Gebruikers");
        assert_eq!(t(Lang::Nl, "no-such-message"), "no-such-message");
    }
}
