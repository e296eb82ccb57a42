//! Template versions in the real MongoDB-compatible server: seeding, versions, activation, and
//! refusals that write nothing.

use mongodb::Database;
use mongodb::bson::doc;
use serde_json::json;
use tenor_notification::domain::{ChannelKind, IndonesianZone, Language};
use tenor_notification::templates::store::{self, Seeded, TemplateFilter};
use tenor_notification::templates::{
    RenderContext, TemplateKey, TemplateSource, defaults, render, variables_with_name,
};
use tenor_platform::refusal::Failure;
use tenor_platform::testing::mongodb_url;

/// A fresh database on the stack's server, dropped by [`TestDb::drop_now`].
struct TestDb {
    db: Database,
}

impl TestDb {
    async fn new() -> Self {
        let name = format!("test_notification_tpl_{}", uuid::Uuid::new_v4().simple());
        let db = tenor_platform::mongo::database(&tenor_platform::mongo::MongoConfig {
            url: mongodb_url(),
            database: name,
        })
        .await
        .expect("MongoDB client (is the stack up?)");
        store::ensure_indexes(&db).await.unwrap();
        Self { db }
    }

    async fn drop_now(self) {
        self.db.drop().await.unwrap();
    }
}

fn approved_email_id() -> TemplateKey {
    TemplateKey::new("loan.approved.v1", ChannelKind::Email, Language::Id)
}

async fn count_versions(db: &Database, key: &TemplateKey) -> u64 {
    db.collection::<mongodb::bson::Document>(store::VERSIONS)
        .count_documents(doc! {
            "event_type": &key.event_type,
            "channel": key.channel.as_str(),
            "language": key.language.as_str(),
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn seeding_is_idempotent_even_when_two_replicas_race() {
    let test = TestDb::new().await;
    let db = &test.db;
    let expected = defaults().len();
    let (a, b) = tokio::join!(store::seed_defaults(db), store::seed_defaults(db));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.versions + b.versions, expected, "{a:?} {b:?}");
    assert_eq!(a.heads + b.heads, expected, "{a:?} {b:?}");
    assert_eq!(store::seed_defaults(db).await.unwrap(), Seeded::default());

    let all = store::list(db, &TemplateFilter::default()).await.unwrap();
    assert_eq!(all.len(), expected);
    assert!(
        all.iter()
            .all(|v| v.version == 1 && v.active && v.created_by == store::SYSTEM)
    );
    let active = store::active(db, &approved_email_id())
        .await
        .unwrap()
        .unwrap();
    let default = defaults()
        .into_iter()
        .find(|s| s.key == approved_email_id())
        .unwrap();
    assert_eq!(active.source, default);
    test.drop_now().await;
}

#[tokio::test]
async fn a_new_version_is_sent_only_once_activated_and_seeding_keeps_the_choice() {
    let test = TestDb::new().await;
    let db = &test.db;
    store::seed_defaults(db).await.unwrap();
    let key = approved_email_id();
    let source = TemplateSource {
        key: key.clone(),
        title: "Selamat, {{ name }}! {{ amount | rupiah }} disetujui".into(),
        body: "Pinjaman {{ amount | rupiah }} untuk {{ tenor_months }} bulan disetujui.".into(),
    };
    let staff = uuid::Uuid::new_v4().to_string();
    let created = store::create_version(db, &source, &staff).await.unwrap();
    assert_eq!((created.version, created.active), (2, false));
    // Still version 1 on the wire until someone activates version 2.
    assert_eq!(store::active(db, &key).await.unwrap().unwrap().version, 1);

    let head = store::activate(db, &key, 2, &staff).await.unwrap();
    assert_eq!(
        (head.active_version, head.activated_by.as_str()),
        (2, staff.as_str())
    );
    let active = store::active(db, &key).await.unwrap().unwrap();
    assert_eq!((active.version, &active.source), (2, &source));
    assert_eq!(store::head(db, &key).await.unwrap().unwrap(), head);

    // A restart seeds again: the staff's choice stays.
    assert_eq!(store::seed_defaults(db).await.unwrap(), Seeded::default());
    assert_eq!(store::active(db, &key).await.unwrap().unwrap().version, 2);

    let cx = RenderContext {
        language: Language::Id,
        zone: IndonesianZone::Wib,
    };
    let variables = variables_with_name(&json!({"amount": 1_250_000, "tenor_months": 3}), "Budi");
    let rendered = render(&active.source, &variables, &cx).unwrap();
    assert_eq!(rendered.title, "Selamat, Budi! Rp1.250.000 disetujui");

    let listed = store::list(
        db,
        &TemplateFilter {
            event_type: Some("loan.approved.v1".into()),
            channel: Some(ChannelKind::Email),
            language: Some(Language::Id),
            active_only: false,
        },
    )
    .await
    .unwrap();
    let versions: Vec<_> = listed.iter().map(|v| (v.version, v.active)).collect();
    assert_eq!(versions, [(2, true), (1, false)]);
    let only_active = store::list(
        db,
        &TemplateFilter {
            event_type: Some("loan.approved.v1".into()),
            active_only: true,
            ..TemplateFilter::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(only_active.len(), 6, "3 channels × 2 languages");
    assert!(
        only_active
            .iter()
            .any(|v| v.source.key == key && v.version == 2)
    );

    // Going back is activating the older version.
    store::activate(db, &key, 1, &staff).await.unwrap();
    assert_eq!(store::active(db, &key).await.unwrap().unwrap().version, 1);
    test.drop_now().await;
}

#[tokio::test]
async fn refused_templates_write_nothing() {
    let test = TestDb::new().await;
    let db = &test.db;
    store::seed_defaults(db).await.unwrap();
    let key = approved_email_id();
    let cases = [
        (
            "Halo {{ name }}",
            "Cicilan {{ monthly_installment }}",
            "UNKNOWN_VARIABLE",
        ),
        ("Halo {{ name }", "x", "TEMPLATE_SYNTAX"),
        (
            "Halo",
            "{% set s %}{{ name }}{{ name }}{% endset %}{{ s }}",
            "TEMPLATE_NOT_ALLOWED",
        ),
        ("Halo", "{{ loan_id | rupiah }}", "RENDER_FAILED"),
        (&"x".repeat(151), "x", "TOO_LONG"),
    ];
    for (title, body, code) in cases {
        let source = TemplateSource {
            key: key.clone(),
            title: title.to_owned(),
            body: body.to_owned(),
        };
        match store::create_version(db, &source, "staff").await {
            Err(Failure::Refused(refusals)) => {
                assert_eq!(refusals.len(), 1);
                assert_eq!(refusals[0].code(), code, "{}", refusals[0]);
            }
            other => panic!("{code}: expected a refusal, got {other:?}"),
        }
    }
    let unknown_event = TemplateSource {
        key: TemplateKey::new("loan.submitted.v1", ChannelKind::Email, Language::Id),
        title: "a".into(),
        body: "b".into(),
    };
    assert!(matches!(
        store::create_version(db, &unknown_event, "staff").await,
        Err(Failure::Refused(r)) if r[0].code() == "UNKNOWN_EVENT"
    ));
    assert_eq!(count_versions(db, &key).await, 1);
    assert_eq!(count_versions(db, &unknown_event.key).await, 0);

    match store::activate(db, &key, 7, "staff").await {
        Err(Failure::Refused(r)) => {
            assert_eq!(r[0].code(), "UNKNOWN_VERSION");
            assert_eq!(
                r[0].to_string(),
                "`loan.approved.v1/email/id` has no version 7"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(store::active(db, &key).await.unwrap().unwrap().version, 1);
    test.drop_now().await;
}

/// Two staff members saving a version of one key at the same moment get two numbers.
#[tokio::test]
async fn concurrent_versions_get_distinct_numbers() {
    let test = TestDb::new().await;
    let db = &test.db;
    store::seed_defaults(db).await.unwrap();
    let key = TemplateKey::new("loan.installment.due.v1", ChannelKind::Sms, Language::En);
    let source = |n: u32| TemplateSource {
        key: key.clone(),
        title: format!("Reminder {n}"),
        body: "{{ amount_due | rupiah }} due {{ due_date | date }}".into(),
    };
    let (one, two, three) = (source(1), source(2), source(3));
    let (a, b, c) = tokio::join!(
        store::create_version(db, &one, "a"),
        store::create_version(db, &two, "b"),
        store::create_version(db, &three, "c"),
    );
    let mut numbers = vec![a.unwrap().version, b.unwrap().version, c.unwrap().version];
    numbers.sort();
    assert_eq!(numbers, [2, 3, 4]);
    assert_eq!(count_versions(db, &key).await, 4);
    test.drop_now().await;
}

#[tokio::test]
async fn a_key_without_head_has_no_active_template() {
    let test = TestDb::new().await;
    let db = &test.db;
    let key = approved_email_id();
    assert!(store::active(db, &key).await.unwrap().is_none());
    assert!(store::head(db, &key).await.unwrap().is_none());
    // A first version on an empty database, activated by staff: the head is created.
    let source = defaults().into_iter().find(|s| s.key == key).unwrap();
    let created = store::create_version(db, &source, "staff").await.unwrap();
    assert_eq!(created.version, 1);
    store::activate(db, &key, 1, "staff").await.unwrap();
    assert_eq!(
        store::active(db, &key).await.unwrap().unwrap().source,
        source
    );
    // Seeding afterwards leaves both alone.
    let seeded = store::seed_defaults(db).await.unwrap();
    assert_eq!(seeded.versions, defaults().len() - 1);
    assert_eq!(
        store::head(db, &key).await.unwrap().unwrap().activated_by,
        "staff"
    );
    test.drop_now().await;
}
