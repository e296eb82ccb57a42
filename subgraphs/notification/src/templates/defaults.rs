//! The texts a fresh installation sends, one TOML file per language (`defaults/id.toml`,
//! `defaults/en.toml`) so a translator edits prose, not Rust. They are compiled in and seeded
//! as version 1 of each template; staff change them afterwards through versions, never here.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{TemplateKey, TemplateSource, catalog};
use crate::domain::{ChannelKind, Language};

const INDONESIAN: &str = include_str!("defaults/id.toml");
const ENGLISH: &str = include_str!("defaults/en.toml");

#[derive(Deserialize)]
struct Text {
    title: String,
    body: String,
}

/// event type → channel name → text.
type Texts = BTreeMap<String, BTreeMap<String, Text>>;

/// Every event × its channels × {Indonesian, English}, in catalog order. The files are compiled
/// in and a unit test checks every text, so a broken file never reaches a running service.
pub fn defaults() -> Vec<TemplateSource> {
    let languages = [
        (Language::Id, parse(INDONESIAN)),
        (Language::En, parse(ENGLISH)),
    ];
    let mut sources = Vec::new();
    for entry in catalog() {
        for &channel in entry.channels {
            for (language, texts) in &languages {
                if let Some(text) = lookup(texts, entry.event_type, channel) {
                    sources.push(TemplateSource {
                        key: TemplateKey::new(entry.event_type, channel, *language),
                        title: text.title.trim().to_owned(),
                        body: text.body.trim().to_owned(),
                    });
                }
            }
        }
    }
    sources
}

fn parse(file: &str) -> Texts {
    toml::from_str(file).expect("the compiled-in default templates are valid TOML")
}

fn lookup<'a>(texts: &'a Texts, event_type: &str, channel: ChannelKind) -> Option<&'a Text> {
    texts.get(event_type)?.get(channel.as_str())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::IndonesianZone;
    use crate::templates::{RenderContext, check, entry, render};

    /// Every event × channel has both languages, and the files hold nothing the catalog does
    /// not send (a misspelt event or channel would be silently unused).
    #[test]
    fn complete_and_nothing_extra() {
        let expected: BTreeSet<String> = catalog()
            .iter()
            .flat_map(|e| e.channels.iter().map(move |c| (e.event_type, c)))
            .flat_map(|(e, c)| {
                [Language::Id, Language::En].map(|l| TemplateKey::new(e, *c, l).to_string())
            })
            .collect();
        let produced: BTreeSet<String> = defaults().iter().map(|s| s.key.to_string()).collect();
        assert_eq!(produced, expected);
        for file in [INDONESIAN, ENGLISH] {
            let in_file: usize = parse(file).values().map(BTreeMap::len).sum();
            assert_eq!(in_file * 2, expected.len(), "entries in a file");
        }
    }

    #[test]
    fn every_default_passes_its_check() {
        let failures: Vec<String> = defaults()
            .iter()
            .filter_map(|source| check(source).err().map(|e| format!("{}: {e}", source.key)))
            .collect();
        assert!(failures.is_empty(), "{failures:#?}");
    }

    fn rendered(event: &str, channel: ChannelKind, language: Language) -> String {
        let source = defaults()
            .into_iter()
            .find(|s| {
                s.key.event_type == event && s.key.channel == channel && s.key.language == language
            })
            .unwrap();
        let cx = RenderContext {
            language,
            zone: IndonesianZone::Wib,
        };
        let out = render(&source, &entry(event).unwrap().sample, &cx).unwrap();
        format!("{}\n{}", out.title, out.body)
    }

    #[test]
    fn texts_say_what_matters() {
        let approved = rendered("loan.approved.v1", ChannelKind::Email, Language::Id);
        assert!(approved.contains("Rp5.000.000"), "{approved}");
        assert!(approved.contains("Siti Rahayu Wulandari"), "{approved}");
        assert!(approved.contains("15 Januari 2027 14.05 WIB"), "{approved}");
        let reminder = rendered("loan.installment.due.v1", ChannelKind::Sms, Language::En);
        assert!(reminder.contains("Rp1.041.667"), "{reminder}");
        assert!(reminder.contains("15 March 2027"), "{reminder}");
        let rejected = rendered("loan.rejected.v1", ChannelKind::Push, Language::Id);
        assert!(
            rejected.contains("Alasan: Skor kredit Anda belum memenuhi persyaratan kami saat ini."),
            "{rejected}"
        );
        let device = rendered("auth.device.registered.v1", ChannelKind::Push, Language::En);
        assert!(device.contains("Samsung Galaxy A54"), "{device}");
        assert!(device.contains("15 January 2027 20:42 WIB"), "{device}");
        assert!(device.contains("Not you?"), "{device}");
        let referred = rendered("credit.referred.v1", ChannelKind::Email, Language::Id);
        assert!(referred.contains("sedang ditinjau"), "{referred}");
        assert!(referred.contains("Rp5.000.000"), "{referred}");
        assert!(!referred.contains("SCORE_BORDERLINE"), "{referred}");
        let ended = rendered("auth.sessions.ended.v1", ChannelKind::Email, Language::Id);
        assert!(ended.contains("keluar dari semua perangkat"), "{ended}");
    }

    #[test]
    fn a_rejection_without_reason_reads_well() {
        let source = defaults()
            .into_iter()
            .find(|s| s.key.to_string() == "loan.rejected.v1/email/en")
            .unwrap();
        let sample = entry("loan.rejected.v1")
            .unwrap()
            .sample_without_optionals()
            .unwrap();
        let cx = RenderContext {
            language: Language::En,
            zone: IndonesianZone::Wib,
        };
        let body = render(&source, &sample, &cx).unwrap().body;
        assert!(!body.contains("Reason"), "{body}");
        assert!(!body.contains("\n\n\n"), "{body}");
        assert!(body.contains("15 January 2027"), "{body}");
    }
}
