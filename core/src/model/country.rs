//! Countries for the pick lists: ISO 3166 alpha-2 code, calling code, and the name in each of
//! Roster's languages (from the Unicode CLDR, written to `core/data/countries.tsv` by
//! `scripts/country-names.py`).

use std::sync::OnceLock;

use super::Lang;
use super::phone::REGIONS;

/// One line per region: ISO code, then its name in English, Dutch and Swedish.
const NAMES: &str = include_str!("../../data/countries.tsv");

/// A country known to the phone number metadata, named in one language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Country {
    pub iso: &'static str,
    pub calling_code: u16,
    pub name: &'static str,
}

/// Every country with a calling code, named in `lang` and in that language's alphabetical order.
pub fn countries(lang: Lang) -> &'static [Country] {
    static LISTS: OnceLock<[Vec<Country>; 3]> = OnceLock::new();
    let lists = LISTS.get_or_init(|| Lang::ALL.map(sorted));
    &lists[column(lang) - 1]
}

/// A country's name in `lang` ("SE" → "Sweden"); the code itself when it is unknown.
pub fn country_name(lang: Lang, iso: &str) -> &str {
    countries(lang)
        .iter()
        .find(|c| c.iso == iso)
        .map_or(iso, |c| c.name)
}

fn column(lang: Lang) -> usize {
    match lang {
        Lang::En => 1,
        Lang::Nl => 2,
        Lang::Sv => 3,
    }
}

fn sorted(lang: Lang) -> Vec<Country> {
    let mut all: Vec<Country> = NAMES
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&'static str> = line.split('\t').collect();
            let iso = *REGIONS.iter().find(|r| **r == fields[0])?;
            let calling_code = phonenumber::metadata::DATABASE.by_id(iso)?.country_code();
            Some(Country {
                iso,
                calling_code,
                name: fields.get(column(lang)).copied()?,
            })
        })
        .filter(|c| c.calling_code > 0)
        .collect();
    all.sort_by_cached_key(|c| sort_key(lang, c.name));
    all
}

/// The name as a dictionary of `lang` orders it: accents do not count, except that Swedish puts
/// å, ä and ö after z.
fn sort_key(lang: Lang, name: &str) -> String {
    name.to_lowercase()
        .chars()
        .map(|c| match (lang, c) {
            (Lang::Sv, 'å') => '{',
            (Lang::Sv, 'ä' | 'æ') => '|',
            (Lang::Sv, 'ö' | 'ø') => '}',
            (_, 'á' | 'à' | 'â' | 'ä' | 'ã' | 'å') => 'a',
            (_, 'ç') => 'c',
            (_, 'é' | 'è' | 'ê' | 'ë') => 'e',
            (_, 'í' | 'ì' | 'î' | 'ï') => 'i',
            (_, 'ñ') => 'n',
            (_, 'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø') => 'o',
            (_, 'ú' | 'ù' | 'û' | 'ü') => 'u',
            (_, 'ý' | 'ÿ') => 'y',
            (_, other) => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_is_named_in_every_language() {
        for lang in Lang::ALL {
            let all = countries(lang);
            assert!(all.len() > 200, "{lang:?}");
            assert!(all.iter().all(|c| !c.name.is_empty() && c.calling_code > 0));
        }
        let swedish = countries(Lang::Sv);
        let se = swedish.iter().find(|c| c.iso == "SE").unwrap();
        assert_eq!((se.name, se.calling_code), ("Sverige", 46));
        assert_eq!(country_name(Lang::Nl, "SE"), "Zweden");
        assert_eq!(country_name(Lang::En, "SE"), "Sweden");
        assert_eq!(country_name(Lang::En, "XX"), "XX");
    }

    #[test]
    fn lists_follow_the_languages_alphabet() {
        let position = |lang, iso| countries(lang).iter().position(|c| c.iso == iso).unwrap();
        // English: Åland Islands sorts with the a's, Afghanistan first.
        assert_eq!(countries(Lang::En)[0].iso, "AF");
        assert!(position(Lang::En, "AX") < position(Lang::En, "BE"));
        // Swedish: Åland and Österrike come after Zambia.
        assert!(position(Lang::Sv, "AX") > position(Lang::Sv, "ZM"));
        assert!(position(Lang::Sv, "AT") > position(Lang::Sv, "AX"));
        // Dutch: Ivoorkust (Côte d'Ivoire) sorts under I.
        assert!(position(Lang::Nl, "CI") > position(Lang::Nl, "IE"));
    }
}
