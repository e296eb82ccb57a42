//! A rejection's reason, in the borrower's language.
//!
//! Credit explains a loan decision twice: stable codes (`reason_codes`) and one short English
//! sentence (`reason`, also what the app shows beside the codes). Rendered as it came, an
//! Indonesian SMS read "Alasan: Your application does not meet our credit score requirements at
//! this time.." — two languages and two full stops. KYC's automatic rejections say their reason
//! in both languages at once ("Dokumen tidak terbaca / The document could not be read"). So for
//! `loan.rejected.v1` and `kyc.rejected.v1` the `reason` a template sees is rebuilt from the
//! codes, in the borrower's language and without a closing full stop (the templates add their
//! own).
//! - A loan code this table does not know (a reason code staff gave when deciding by hand)
//!   reads as the general sentence, never as the code.
//! - A KYC code it does not know is a staff rejection: the reason staff wrote is kept (it is
//!   the only explanation there is), without its closing full stop.
//!
//! The codes are credit's automatic rejection codes (`subgraphs/credit/src/domain/decision.rs`)
//! and KYC's (`subgraphs/kyc/src/domain/decision.rs`); a new one there needs its sentences here,
//! or it reads as the general one (tests below read both files).

use serde_json::Value;

use crate::domain::Language;

const LOAN_REJECTED: &str = "loan.rejected.v1";
const KYC_REJECTED: &str = "kyc.rejected.v1";

/// A code with what it says to a borrower: `(code, Indonesian, English)`.
type Sentences = (&'static str, &'static str, &'static str);

/// KYC's automatic rejections.
const KYC_SENTENCES: [Sentences; 3] = [
    (
        "DOCUMENT_UNREADABLE",
        "dokumen tidak terbaca",
        "the document could not be read",
    ),
    (
        "DOCUMENT_NUMBER_MISMATCH",
        "nomor dokumen tidak sesuai dengan dokumen",
        "the number does not match the document",
    ),
    (
        "FACE_MISMATCH",
        "swafoto tidak cocok dengan foto dokumen",
        "the selfie does not match the document photo",
    ),
];

/// Credit's automatic loan rejections.
const LOAN_SENTENCES: [Sentences; 6] = [
    (
        "SCORE_BELOW_THRESHOLD",
        "skor kredit Anda belum memenuhi persyaratan kami saat ini",
        "your credit score does not meet our requirements at this time",
    ),
    (
        "BUREAU_DELINQUENT",
        "catatan biro kredit menunjukkan tunggakan utang",
        "credit bureau records show debts in arrears",
    ),
    (
        "TOO_MANY_PLATFORMS",
        "Anda memiliki pinjaman aktif di terlalu banyak pemberi pinjaman",
        "you have loans open with too many lenders",
    ),
    (
        "KYC_NOT_VERIFIED",
        "verifikasi identitas Anda belum selesai",
        "your identity verification is not complete",
    ),
    (
        "ACCOUNT_NOT_ACTIVE",
        "akun Anda tidak aktif",
        "your account is not active",
    ),
    (
        "TENOR_LOAN_OVERDUE",
        "Anda memiliki cicilan pinjaman Tenor yang terlambat",
        "you have an overdue installment on a Tenor loan",
    ),
];

/// For a code not in [`LOAN_SENTENCES`].
const GENERAL: (&str, &str) = (
    "pengajuan Anda belum memenuhi kebijakan kredit kami",
    "your application does not meet our credit policy",
);

/// Rewrites `variables.reason` of a loan or KYC rejection in `language`; other events, and a
/// rejection that gives no reason, are left as they are.
pub fn in_borrower_language(event_type: &str, variables: &mut Value, language: Language) {
    let Some(given) = variables["reason"].as_str() else {
        return;
    };
    let reason = match event_type {
        LOAN_REJECTED => {
            let codes: Vec<&str> = variables["reason_codes"]
                .as_array()
                .map(|codes| codes.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            reason(&codes, language)
        }
        KYC_REJECTED => match variables["reason_code"]
            .as_str()
            .and_then(|code| sentences_of(&KYC_SENTENCES, code))
        {
            Some(sentences) => capitalised(pick(sentences, language)),
            None => given.trim().trim_end_matches('.').to_owned(),
        },
        _ => return,
    };
    variables["reason"] = Value::String(reason);
}

/// What `code` says in each language, if `table` knows it.
fn sentences_of(table: &[Sentences], code: &str) -> Option<(&'static str, &'static str)> {
    table
        .iter()
        .find(|(known, ..)| *known == code)
        .map(|&(_, id, en)| (id, en))
}

/// The codes' sentences joined with "; ", each said once, the first capitalised.
fn reason(codes: &[&str], language: Language) -> String {
    let mut sentences: Vec<&str> = Vec::new();
    for code in codes {
        let sentence = pick(
            sentences_of(&LOAN_SENTENCES, code).unwrap_or(GENERAL),
            language,
        );
        if !sentences.contains(&sentence) {
            sentences.push(sentence);
        }
    }
    if sentences.is_empty() {
        sentences.push(pick(GENERAL, language));
    }
    capitalised(&sentences.join("; "))
}

fn pick<'a>((id, en): (&'a str, &'a str), language: Language) -> &'a str {
    match language {
        Language::Id => id,
        Language::En => en,
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rejected(codes: &[&str], reason: Value, language: Language) -> Value {
        let mut variables = json!({ "reason_codes": codes, "reason": reason, "name": "Siti" });
        in_borrower_language(LOAN_REJECTED, &mut variables, language);
        variables["reason"].clone()
    }

    #[test]
    fn an_indonesian_borrower_reads_the_reason_in_indonesian_without_a_full_stop() {
        let english =
            json!("Your application does not meet our credit score requirements at this time.");
        assert_eq!(
            rejected(&["SCORE_BELOW_THRESHOLD"], english.clone(), Language::Id),
            "Skor kredit Anda belum memenuhi persyaratan kami saat ini"
        );
        assert_eq!(
            rejected(&["SCORE_BELOW_THRESHOLD"], english, Language::En),
            "Your credit score does not meet our requirements at this time"
        );
    }

    #[test]
    fn several_codes_read_as_one_sentence_and_unknown_codes_as_the_general_one() {
        assert_eq!(
            rejected(
                &["BUREAU_DELINQUENT", "TOO_MANY_PLATFORMS"],
                json!(
                    "Credit bureau records show debts in arrears. You have loans open with too many lenders."
                ),
                Language::Id
            ),
            "Catatan biro kredit menunjukkan tunggakan utang; Anda memiliki pinjaman aktif di terlalu banyak pemberi pinjaman"
        );
        // A staff reason code, alone or twice: the general sentence, once.
        assert_eq!(
            rejected(
                &["INCOME_NOT_VERIFIED", "OTHER"],
                json!("Your application was declined after a review by our credit team."),
                Language::Id
            ),
            "Pengajuan Anda belum memenuhi kebijakan kredit kami"
        );
        assert_eq!(
            rejected(&[], json!("Declined."), Language::En),
            "Your application does not meet our credit policy"
        );
    }

    /// Every code credit's automatic rules reject with has its sentences here.
    #[test]
    fn every_automatic_rejection_code_of_credit_is_known() {
        let credit = include_str!("../../../credit/src/domain/decision.rs");
        let mut codes: Vec<&str> = credit
            .split("codes.push((")
            .skip(1)
            .filter_map(|rest| rest.split('"').nth(1))
            .collect();
        assert!(codes.len() >= 5, "{codes:?}");
        codes.push("SCORE_BELOW_THRESHOLD");
        for code in codes {
            assert!(
                sentences_of(&LOAN_SENTENCES, code).is_some(),
                "{code} has no sentences"
            );
        }
    }

    fn kyc_rejected(code: &str, reason: &str, language: Language) -> Value {
        let mut variables = json!({ "reason_code": code, "reason": reason });
        in_borrower_language(KYC_REJECTED, &mut variables, language);
        variables["reason"].clone()
    }

    #[test]
    fn an_automatic_kyc_rejection_speaks_one_language_and_a_staff_one_keeps_its_words() {
        let both = "Dokumen tidak terbaca / The document could not be read";
        assert_eq!(
            kyc_rejected("DOCUMENT_UNREADABLE", both, Language::Id),
            "Dokumen tidak terbaca"
        );
        assert_eq!(
            kyc_rejected("DOCUMENT_UNREADABLE", both, Language::En),
            "The document could not be read"
        );
        assert_eq!(
            kyc_rejected(
                "MANUAL_REVIEW_REJECTED",
                " Foto KTP terpotong, kirim ulang. ",
                Language::En
            ),
            "Foto KTP terpotong, kirim ulang"
        );
    }

    /// Every code KYC rejects with automatically has its sentences here.
    #[test]
    fn every_automatic_rejection_code_of_kyc_is_known() {
        let kyc = include_str!("../../../kyc/src/domain/decision.rs");
        let codes: Vec<&str> = kyc
            .split("code: \"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert!(codes.len() >= 3, "{codes:?}");
        for code in codes {
            assert!(
                sentences_of(&KYC_SENTENCES, code).is_some(),
                "{code} has no sentences"
            );
        }
    }

    #[test]
    fn no_reason_stays_no_reason_and_other_events_are_untouched() {
        assert_eq!(
            rejected(&["SCORE_BELOW_THRESHOLD"], Value::Null, Language::Id),
            Value::Null
        );
        let mut approved = json!({ "reason": "Approved.", "reason_codes": ["X"] });
        let before = approved.clone();
        in_borrower_language("loan.approved.v1", &mut approved, Language::Id);
        assert_eq!(approved, before);
    }
}
