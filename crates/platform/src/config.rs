//! Configuration from environment variables.
//!
//! Every service reads its settings through [`Env`], which records *every* missing or malformed
//! variable instead of stopping at the first, so an operator fixes a deployment in one pass.
//! Values are never echoed back in errors: a malformed `*_KEY` or URL with a password must not
//! end up in a log.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// One variable that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub var: String,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.var, self.problem)
    }
}

/// All variables that could not be used, in the order they were read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for error in &self.0 {
            writeln!(f, "  {error}")?;
        }
        Ok(())
    }
}

impl ConfigErrors {
    /// Names of the offending variables.
    pub fn vars(&self) -> Vec<&str> {
        self.0.iter().map(|e| e.var.as_str()).collect()
    }
}

/// A view of the environment that collects problems while a config struct is being built.
pub struct Env {
    vars: HashMap<String, String>,
    errors: Vec<ConfigError>,
}

impl Env {
    /// The process environment.
    pub fn from_process() -> Self {
        Self::from_pairs(std::env::vars())
    }

    /// An explicit set of variables (tests, tools).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let vars = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self {
            vars,
            errors: Vec::new(),
        }
    }

    /// A variable that must be set. On a problem the error is recorded and `T::default()` is
    /// returned so the rest of the configuration can still be checked.
    pub fn required<T>(&mut self, var: &str) -> T
    where
        T: FromStr + Default,
        T::Err: fmt::Display,
    {
        match self.raw(var) {
            None => {
                self.fail(var, "is required but not set".into());
                T::default()
            }
            Some(raw) => self.parse(var, &raw).unwrap_or_default(),
        }
    }

    /// A variable with a documented default.
    pub fn optional<T>(&mut self, var: &str, default: T) -> T
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.raw(var) {
            None => default,
            Some(raw) => self.parse(var, &raw).unwrap_or(default),
        }
    }

    /// A variable that may be absent altogether.
    pub fn maybe<T>(&mut self, var: &str) -> Option<T>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let raw = self.raw(var)?;
        self.parse(var, &raw)
    }

    /// Record a cross-field problem (e.g. two settings that contradict each other).
    pub fn fail(&mut self, var: &str, problem: String) {
        self.errors.push(ConfigError {
            var: var.to_owned(),
            problem,
        });
    }

    /// Ends the reading: `Ok` only when every variable was usable.
    pub fn finish<T>(self, config: T) -> Result<T, ConfigErrors> {
        if self.errors.is_empty() {
            Ok(config)
        } else {
            Err(ConfigErrors(self.errors))
        }
    }

    /// Empty strings count as unset: `FOO=` in an env file means "use the default".
    fn raw(&self, var: &str) -> Option<String> {
        self.vars
            .get(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn parse<T>(&mut self, var: &str, raw: &str) -> Option<T>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match raw.parse::<T>() {
            Ok(value) => Some(value),
            Err(e) => {
                self.fail(var, format!("is malformed ({e})"));
                None
            }
        }
    }
}

/// Build a configuration from the process environment or exit with status 2, printing every
/// offending variable. Services call this first thing in `main`: a bad deployment fails at once
/// instead of half-starting.
pub fn load_or_exit<T>(service: &str, read: impl FnOnce(&mut Env) -> T) -> T {
    let mut env = Env::from_process();
    let config = read(&mut env);
    match env.finish(config) {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("{service}: {errors}");
            std::process::exit(2);
        }
    }
}

/// A duration written the human way: `15m`, `30s`, `250ms`, `7days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HumanDuration(pub Duration);

/// A malformed duration. Its message never repeats the text (humantime's errors quote the
/// unit they did not understand, and a value may be a secret put in the wrong variable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationSyntax;

impl fmt::Display for DurationSyntax {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a duration such as 250ms, 30s, 15m, 7days")
    }
}

impl std::error::Error for DurationSyntax {}

impl FromStr for HumanDuration {
    type Err = DurationSyntax;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        humantime::parse_duration(s)
            .map(HumanDuration)
            .map_err(|_| DurationSyntax)
    }
}

impl From<HumanDuration> for Duration {
    fn from(d: HumanDuration) -> Self {
        d.0
    }
}

/// A secret value (key material, passwords in URLs). Its `Debug` never shows the value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// A comma-separated list, e.g. `KAFKA_TOPICS=loan.events,kyc.events`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommaList(pub Vec<String>);

impl FromStr for CommaList {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(
            s.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Sample {
        url: String,
        port: u16,
        timeout: Duration,
    }

    fn read(env: &mut Env) -> Sample {
        Sample {
            url: env.required("SAMPLE_URL"),
            port: env.optional("PORT", 4001),
            timeout: env
                .optional("TIMEOUT", HumanDuration(Duration::from_secs(5)))
                .into(),
        }
    }

    #[test]
    fn defaults_apply_when_optional_vars_are_unset() {
        let mut env = Env::from_pairs([("SAMPLE_URL", "postgres://x")]);
        let sample = read(&mut env);
        assert_eq!(
            env.finish(sample).unwrap(),
            Sample {
                url: "postgres://x".into(),
                port: 4001,
                timeout: Duration::from_secs(5)
            }
        );
    }

    #[test]
    fn every_bad_variable_is_named_and_values_are_not_echoed() {
        let mut env = Env::from_pairs([("PORT", "70000"), ("TIMEOUT", "soon-ish-secret")]);
        let sample = read(&mut env);
        let errors = env.finish(sample).unwrap_err();
        assert_eq!(errors.vars(), vec!["SAMPLE_URL", "PORT", "TIMEOUT"]);
        let text = errors.to_string();
        assert!(text.contains("SAMPLE_URL: is required"), "{text}");
        assert!(!text.contains("soon-ish-secret"), "value leaked: {text}");
    }

    #[test]
    fn malformed_durations_are_not_quoted() {
        let mut env = Env::from_pairs([("TIMEOUT", "15 hunter2"), ("SAMPLE_URL", "x")]);
        let sample = read(&mut env);
        let text = env.finish(sample).unwrap_err().to_string();
        assert!(text.contains("TIMEOUT: is malformed"), "{text}");
        assert!(!text.contains("hunter2"), "value leaked: {text}");
        assert_eq!(
            "0".parse::<HumanDuration>(),
            Ok(HumanDuration(Duration::ZERO))
        );
    }

    #[test]
    fn blank_values_count_as_unset() {
        let mut env = Env::from_pairs([("SAMPLE_URL", "  "), ("PORT", "")]);
        let sample = read(&mut env);
        assert_eq!(env.finish(sample).unwrap_err().vars(), vec!["SAMPLE_URL"]);
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let secret: Secret = "hunter2".parse().unwrap();
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(secret.expose(), "hunter2");
    }
}
