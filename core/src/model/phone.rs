//! Mobile phone numbers (E.164) and countries (ISO 3166 alpha-2 with their calling codes).

use crate::error::{Error, Result};

/// Every region the phone number metadata knows, by ISO 3166 alpha-2 code.
pub(crate) const REGIONS: &[&str] = &[
    "AC", "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO",
    "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG",
    "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG",
    "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GT", "GU", "GW", "GY", "HK", "HN", "HR", "HT",
    "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE",
    "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR",
    "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN",
    "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF",
    "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL",
    "PM", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD",
    "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY",
    "SZ", "TA", "TC", "TD", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ", "UA", "UG", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "XK",
    "YE", "YT", "ZA", "ZM", "ZW",
];

/// Every country code [`parse_country`] accepts (in upper case).
pub fn country_codes() -> impl Iterator<Item = &'static str> {
    REGIONS
        .iter()
        .copied()
        .filter(|iso| phonenumber::metadata::DATABASE.by_id(*iso).is_some())
}

/// Checks an ISO 3166 alpha-2 country code (upper or lower case); "" stays "".
pub fn parse_country(field: &'static str, input: &str) -> Result<String> {
    let code = input.trim().to_ascii_uppercase();
    if code.is_empty() {
        return Ok(code);
    }
    if REGIONS.contains(&code.as_str())
        && phonenumber::metadata::DATABASE
            .by_id(code.as_str())
            .is_some()
    {
        Ok(code)
    } else {
        Err(Error::field(field, "field-country-invalid"))
    }
}

/// Parses a mobile number typed after a picked country: returns it in E.164 (`+46701234567`).
/// A number typed with its own `+` prefix keeps that country. An empty number is None.
pub fn parse_phone(field: &'static str, country: &str, number: &str) -> Result<Option<String>> {
    let number = number.trim();
    if number.is_empty() {
        return Ok(None);
    }
    if number.len() > 32
        || number
            .chars()
            .any(|c| !(c.is_ascii_digit() || " +-().".contains(c)))
    {
        return Err(Error::field(field, "field-phone-invalid"));
    }
    let region = country
        .trim()
        .to_ascii_uppercase()
        .parse::<phonenumber::country::Id>()
        .ok();
    let parsed = phonenumber::parse(region, number)
        .map_err(|_| Error::field(field, "field-phone-invalid"))?;
    if !phonenumber::is_valid(&parsed) {
        return Err(Error::field(field, "field-phone-invalid"));
    }
    Ok(Some(
        parsed.format().mode(phonenumber::Mode::E164).to_string(),
    ))
}

/// Splits a stored E.164 number into (country ISO, national part) for the form: the country
/// is the first one whose calling code the number starts with, preferring `hint`.
/// The calling code and national number a phone form starts from: those of the number, else the
/// user's country, else the account's.
pub fn phone_parts(e164: &str, country: &str, account_country: &str) -> (String, String) {
    let hint = if country.is_empty() {
        account_country
    } else {
        country
    };
    if e164.is_empty() {
        (hint.to_string(), String::new())
    } else {
        split_phone(e164, hint)
    }
}

pub fn split_phone(e164: &str, hint: &str) -> (String, String) {
    let Ok(parsed) = phonenumber::parse(None, e164) else {
        return (hint.to_string(), e164.to_string());
    };
    let code = parsed.code().value();
    let iso = match phonenumber::metadata::DATABASE.by_id(hint) {
        Some(m) if m.country_code() == code => hint.to_string(),
        _ => phonenumber::metadata::DATABASE
            .by_code(&code)
            .and_then(|m| m.first().map(|m| m.id().to_string()))
            .unwrap_or_default(),
    };
    (iso, parsed.national().value().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_e164() {
        assert_eq!(
            parse_phone("phone", "SE", "070-123 45 67")
                .unwrap()
                .as_deref(),
            Some("+46701234567")
        );
        assert_eq!(
            parse_phone("phone", "NL", "06 12345678")
                .unwrap()
                .as_deref(),
            Some("+31612345678")
        );
        assert_eq!(
            parse_phone("phone", "SE", "+31 6 12345678")
                .unwrap()
                .as_deref(),
            Some("+31612345678")
        );
        assert_eq!(parse_phone("phone", "SE", "  ").unwrap(), None);
        for bad in ["12", "070-123 45 67 89 01 23", "abc", "+46 70 123\n4567"] {
            assert!(parse_phone("phone", "SE", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn countries_are_checked_and_numbers_split() {
        assert_eq!(parse_country("country", "se").unwrap(), "SE");
        assert!(parse_country("country", "XX").is_err());
        assert_eq!(
            split_phone("+46701234567", "SE"),
            ("SE".to_string(), "701234567".to_string())
        );
    }
}
