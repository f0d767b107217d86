use roster_core::Ctx;

/// Cookie names: with TLS the `__Host-` prefix pins them to this exact origin.
#[derive(Clone, Debug)]
pub struct CookieNames {
    pub session: &'static str,
    pub csrf: &'static str,
    pub device: &'static str,
    pub lang: &'static str,
}

/// Everything a handler may use, passed to every request (no global statics).
#[derive(Clone)]
pub struct AppState {
    pub ctx: Ctx,
    pub cookies: CookieNames,
    /// `scheme://host[:port]` of the public address, for the Origin check.
    pub public_origin: String,
    /// Whether an SMTP server is configured (the Deliveries page says so when not).
    pub mail_configured: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<crate::extract::Network>,
    /// The API's per-credential request windows (this node's memory).
    pub api_limits: std::sync::Arc<crate::rate_limit::RateLimiter>,
    /// The lookup tokens' windows (wider: the services ask for every message).
    pub lookup_limits: std::sync::Arc<crate::rate_limit::RateLimiter>,
    /// How long a client may take.
    pub timeouts: crate::Timeouts,
    /// Set when the server shuts down: open streams end.
    pub shutdown: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    pub fn new(ctx: Ctx) -> AppState {
        let tls = ctx.settings.is_tls();
        let rate = ctx.settings.api_rate_per_minute;
        let lookup_rate = ctx.settings.lookup_rate_per_minute;
        let cookies = if tls {
            CookieNames {
                session: "__Host-roster",
                csrf: "__Host-roster-csrf",
                device: "__Host-roster-device",
                lang: "__Host-roster-lang",
            }
        } else {
            CookieNames {
                session: "roster",
                csrf: "roster_csrf",
                device: "roster_device",
                lang: "roster_lang",
            }
        };
        let public_origin = origin_of(&ctx.settings.public_url);
        AppState {
            ctx,
            cookies,
            public_origin,
            mail_configured: false,
            trusted_proxies: vec![],
            api_limits: std::sync::Arc::new(crate::rate_limit::RateLimiter::new(rate)),
            lookup_limits: std::sync::Arc::new(crate::rate_limit::RateLimiter::new(lookup_rate)),
            timeouts: crate::Timeouts::default(),
            shutdown: std::sync::Arc::new(tokio::sync::watch::channel(false).0),
        }
    }

    /// Cuts slow clients off after these times.
    pub fn with_timeouts(mut self, timeouts: crate::Timeouts) -> AppState {
        self.timeouts = timeouts;
        self
    }

    /// Believes `X-Forwarded-For` from these proxies (addresses or networks).
    pub fn with_trusted_proxies(mut self, proxies: Vec<crate::extract::Network>) -> AppState {
        self.trusted_proxies = proxies;
        self
    }

    /// Says that an SMTP server delivers the outbox.
    pub fn with_mail(mut self, configured: bool) -> AppState {
        self.mail_configured = configured;
        self
    }

    pub fn is_tls(&self) -> bool {
        self.ctx.settings.is_tls()
    }
}

/// `https://example.com:8443/roster` → `https://example.com:8443`.
fn origin_of(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let host = rest.split('/').next().unwrap_or("");
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn origin_strips_the_path() {
        assert_eq!(
            super::origin_of("https://a.test:8443/x/y"),
            "https://a.test:8443"
        );
        assert_eq!(
            super::origin_of("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
    }
}
