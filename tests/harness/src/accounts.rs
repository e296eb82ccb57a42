//! Accounts on a stack's auth: customers and staff created straight in auth's database (as
//! registration and the operator command do), and logging them in for a token.

use serde_json::json;
use tenor_contracts::identity::AccountKind;
use uuid::Uuid;

use crate::{Subgraphs, post_graphql};

pub const PASSWORD: &str = "kopi susu di pagi hari";

pub const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { tokens { accessToken refreshToken userId } userErrors { code message } } }";

#[derive(Debug, Clone)]
pub struct Account {
    pub user_id: Uuid,
    pub identifier: String,
    pub password: String,
    /// The mobile number on the account (E.164), when it has one: SMS goes there.
    pub phone: Option<String>,
}

impl Subgraphs {
    /// A customer account (registered through auth; the user profile follows via Kafka).
    pub async fn customer(&self) -> Account {
        self.customer_with(None).await
    }

    /// A customer with a mobile number of its own on the account (SMS needs one).
    pub async fn customer_with_phone(&self) -> Account {
        let n = Uuid::new_v4().as_u128();
        self.customer_with(Some(format!("+62812{:08}", n % 100_000_000)))
            .await
    }

    async fn customer_with(&self, phone: Option<String>) -> Account {
        let n = Uuid::new_v4().as_u128();
        let email = format!("cust{}@example.id", n % 1_000_000_000_000);
        let user_id = Uuid::now_v7();
        let hash = tenor_auth::domain::password::hash_async(PASSWORD.into()).await;
        let mut conn = self.auth.conn().await.unwrap();
        self.auth
            .create_account(
                &mut conn,
                user_id,
                &email,
                phone.as_deref(),
                "Siti Rahayu",
                &hash,
                AccountKind::Customer,
                vec!["loan:apply".into(), "kyc:submit".into()],
            )
            .await
            .unwrap();
        Account {
            user_id,
            identifier: email,
            password: PASSWORD.to_owned(),
            phone,
        }
    }

    /// A staff account with `scopes`, created the way the operator command does.
    pub async fn staff(&self, scopes: &[&str]) -> Account {
        let n = Uuid::new_v4().as_u128();
        let email = format!("staff{}@tenor.id", n % 1_000_000_000_000);
        let user_id = Uuid::now_v7();
        let hash = tenor_auth::domain::password::hash_async(PASSWORD.into()).await;
        let mut conn = self.auth.conn().await.unwrap();
        self.auth
            .create_account(
                &mut conn,
                user_id,
                &email,
                None,
                "Back Office",
                &hash,
                AccountKind::Staff,
                scopes.iter().map(|s| s.to_string()).collect(),
            )
            .await
            .unwrap();
        Account {
            user_id,
            identifier: email,
            password: PASSWORD.to_owned(),
            phone: None,
        }
    }

    /// Logs in straight at auth (not through a router) and returns the access token.
    pub async fn token(&self, account: &Account) -> String {
        let response = post_graphql(
            &format!("{}/graphql", self.auth_url),
            LOGIN,
            json!({ "i": { "identifier": account.identifier, "password": account.password } }),
            None,
        )
        .await;
        response["data"]["login"]["tokens"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {response}"))
            .to_owned()
    }
}
