//! Channel settings from the environment. A channel whose URL is unset is not configured (the
//! caller records its notifications as "not available"); a URL that is set but cannot work is a
//! configuration error reported at start, without echoing the value (URLs may hold passwords).

use std::time::Duration;

use lettre::message::Mailbox;
use tenor_platform::config::{Env, HumanDuration, Secret};

/// Sender when `NOTIFICATION_EMAIL_FROM` is unset.
pub const DEFAULT_EMAIL_FROM: &str = "Tenor <no-reply@tenor.local>";
const DEFAULT_SMTP_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Default)]
pub struct ChannelsConfig {
    pub email: Option<EmailConfig>,
    pub sms: Option<HttpProviderConfig>,
    pub whatsapp: Option<HttpProviderConfig>,
    pub push: Option<PushConfig>,
}

#[derive(Debug, Clone)]
pub struct EmailConfig {
    /// `smtp://host:port` (plain, local Mailpit), `smtps://user:pass@host:465` (TLS from the
    /// first byte), `smtp://user:pass@host:587?tls=required` (STARTTLS, refused without it).
    pub smtp_url: Secret,
    /// `Name <address>` or a bare address.
    pub from: String,
    /// Bounds one whole send: connect, every SMTP command, the data.
    pub timeout: Duration,
}

impl EmailConfig {
    /// Plain SMTP to `smtp_url` from the default sender (tests, tools).
    pub fn new(smtp_url: impl Into<String>) -> Self {
        Self {
            smtp_url: Secret::new(smtp_url.into()),
            from: DEFAULT_EMAIL_FROM.to_owned(),
            timeout: DEFAULT_SMTP_TIMEOUT,
        }
    }
}

/// An HTTP provider: SMS and WhatsApp gateways, and the push endpoint.
#[derive(Debug, Clone)]
pub struct HttpProviderConfig {
    /// Recorded with every attempt (`sms-http`, `whatsapp-http`, `fcm` unless configured).
    pub provider: String,
    /// Where messages are POSTed.
    pub url: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub api_key: Option<Secret>,
    /// Bounds one whole request, connect to last byte of the answer.
    pub timeout: Duration,
}

impl HttpProviderConfig {
    pub fn new(provider: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            url: url.into(),
            api_key: None,
            timeout: DEFAULT_PROVIDER_TIMEOUT,
        }
    }

    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(Secret::new(key.into()));
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// The push endpoint has the shape of an HTTP provider; its body is FCM v1's.
pub type PushConfig = HttpProviderConfig;

impl ChannelsConfig {
    /// Reads `NOTIFICATION_SMTP_URL`, `NOTIFICATION_EMAIL_FROM`, `NOTIFICATION_SMTP_TIMEOUT`,
    /// `NOTIFICATION_{SMS,WHATSAPP,PUSH}_{URL,API_KEY,PROVIDER}` and
    /// `NOTIFICATION_PROVIDER_TIMEOUT`; see the README's notification section.
    pub fn from_env(env: &mut Env) -> Self {
        let provider_timeout: Duration = env
            .optional(
                "NOTIFICATION_PROVIDER_TIMEOUT",
                HumanDuration(DEFAULT_PROVIDER_TIMEOUT),
            )
            .into();
        refuse_zero(env, "NOTIFICATION_PROVIDER_TIMEOUT", provider_timeout);
        Self {
            email: email_from_env(env),
            sms: provider_from_env(env, "SMS", "sms-http", provider_timeout),
            whatsapp: provider_from_env(env, "WHATSAPP", "whatsapp-http", provider_timeout),
            push: provider_from_env(env, "PUSH", "fcm", provider_timeout),
        }
    }
}

/// A zero timeout would fail every call at once: a setting mistake, refused at start.
fn refuse_zero(env: &mut Env, var: &str, timeout: Duration) {
    if timeout.is_zero() {
        env.fail(var, "must be above zero (every call would time out)".into());
    }
}

fn email_from_env(env: &mut Env) -> Option<EmailConfig> {
    let from: String = env.optional("NOTIFICATION_EMAIL_FROM", DEFAULT_EMAIL_FROM.to_owned());
    if from.parse::<Mailbox>().is_err() {
        env.fail(
            "NOTIFICATION_EMAIL_FROM",
            "is not an address such as `Tenor <no-reply@example.id>`".into(),
        );
    }
    let timeout: Duration = env
        .optional(
            "NOTIFICATION_SMTP_TIMEOUT",
            HumanDuration(DEFAULT_SMTP_TIMEOUT),
        )
        .into();
    refuse_zero(env, "NOTIFICATION_SMTP_TIMEOUT", timeout);
    let smtp_url: Secret = env.maybe("NOTIFICATION_SMTP_URL")?;
    if let Err(problem) = check_smtp_url(smtp_url.expose()) {
        env.fail("NOTIFICATION_SMTP_URL", problem.into());
    }
    Some(EmailConfig {
        smtp_url,
        from,
        timeout,
    })
}

fn provider_from_env(
    env: &mut Env,
    name: &str,
    default_provider: &str,
    timeout: Duration,
) -> Option<HttpProviderConfig> {
    let url_var = format!("NOTIFICATION_{name}_URL");
    let key_var = format!("NOTIFICATION_{name}_API_KEY");
    let api_key: Option<Secret> = env.maybe(&key_var);
    let provider: String = env.optional(
        &format!("NOTIFICATION_{name}_PROVIDER"),
        default_provider.to_owned(),
    );
    let Some(url) = env.maybe::<String>(&url_var) else {
        if api_key.is_some() {
            env.fail(&key_var, format!("is set but {url_var} is not"));
        }
        return None;
    };
    if !is_http_url(&url) {
        env.fail(&url_var, "is not an http:// or https:// URL".into());
    }
    Some(HttpProviderConfig {
        provider,
        url,
        api_key,
        timeout,
    })
}

fn is_http_url(url: &str) -> bool {
    reqwest::Url::parse(url)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .unwrap_or(false)
}

/// The forms lettre's URL parser accepts and this build can connect with. The problem text
/// never contains the URL.
fn check_smtp_url(url: &str) -> Result<(), &'static str> {
    let url = reqwest::Url::parse(url)
        .map_err(|_| "is not a URL such as smtp://127.0.0.1:21025 or smtps://host:465")?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host");
    }
    let tls = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    match (url.scheme(), tls.as_deref()) {
        ("smtp", None | Some("required" | "opportunistic")) | ("smtps", None) => Ok(()),
        ("smtp" | "smtps", Some(_)) => {
            Err("has a tls= parameter other than required or opportunistic")
        }
        _ => Err("must start with smtp:// or smtps://"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<ChannelsConfig, Vec<String>> {
        let mut env = Env::from_pairs(pairs.iter().copied());
        let config = ChannelsConfig::from_env(&mut env);
        env.finish(config)
            .map_err(|e| e.vars().into_iter().map(str::to_owned).collect())
    }

    #[test]
    fn nothing_set_means_no_channel_configured() {
        let config = read(&[]).unwrap();
        assert!(config.email.is_none() && config.sms.is_none());
        assert!(config.whatsapp.is_none() && config.push.is_none());
    }

    #[test]
    fn every_channel_reads_its_url_key_and_provider_name() {
        let config = read(&[
            ("NOTIFICATION_SMTP_URL", "smtp://127.0.0.1:21025"),
            ("NOTIFICATION_EMAIL_FROM", "Tenor <halo@tenor.example.id>"),
            ("NOTIFICATION_SMS_URL", "https://sms.example.id/send"),
            ("NOTIFICATION_SMS_API_KEY", "k-sms"),
            ("NOTIFICATION_WHATSAPP_URL", "http://127.0.0.1:9/wa"),
            ("NOTIFICATION_WHATSAPP_PROVIDER", "meta-cloud"),
            ("NOTIFICATION_PUSH_URL", "http://127.0.0.1:9/push"),
            ("NOTIFICATION_PROVIDER_TIMEOUT", "3s"),
        ])
        .unwrap();
        let email = config.email.unwrap();
        assert_eq!(email.from, "Tenor <halo@tenor.example.id>");
        let sms = config.sms.unwrap();
        assert_eq!(sms.provider, "sms-http");
        assert_eq!(sms.api_key.unwrap().expose(), "k-sms");
        assert_eq!(sms.timeout, Duration::from_secs(3));
        assert_eq!(config.whatsapp.unwrap().provider, "meta-cloud");
        assert_eq!(config.push.unwrap().provider, "fcm");
    }

    #[test]
    fn tls_forms_of_the_smtp_url_are_accepted() {
        for url in [
            "smtps://user:pass@mail.example.id:465",
            "smtp://user:pass@mail.example.id:587?tls=required",
            "smtp://mail.example.id:587?tls=opportunistic",
        ] {
            assert!(read(&[("NOTIFICATION_SMTP_URL", url)]).is_ok(), "{url}");
        }
    }

    #[test]
    fn unusable_settings_are_named_without_their_values() {
        let errors = read(&[
            (
                "NOTIFICATION_SMTP_URL",
                "http://user:hunter2@mail.example.id",
            ),
            ("NOTIFICATION_EMAIL_FROM", "not an address"),
            ("NOTIFICATION_SMS_URL", "ftp://sms.example.id"),
            ("NOTIFICATION_PUSH_API_KEY", "orphan"),
        ])
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "NOTIFICATION_EMAIL_FROM",
                "NOTIFICATION_SMTP_URL",
                "NOTIFICATION_SMS_URL",
                "NOTIFICATION_PUSH_API_KEY"
            ]
        );
        let mut env = Env::from_pairs([("NOTIFICATION_SMTP_URL", "smtp://host?tls=hunter2")]);
        let config = ChannelsConfig::from_env(&mut env);
        let text = env.finish(config).unwrap_err().to_string();
        assert!(!text.contains("hunter2"), "{text}");
    }
}
