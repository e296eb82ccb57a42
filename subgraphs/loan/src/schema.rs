//! The loan subgraph's GraphQL surface (federation v2). Thin: resolvers check who is asking,
//! translate input and hand over to [`crate::loans`].
//!
//! Authorization is enforced here from the verified token; staff-only fields also carry
//! `@requiresScopes` so the router refuses them before they reach us.

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{
    Context, Enum, ID, Object, Result, SDLExportOptions, Schema, SchemaBuilder, SimpleObject,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use tenor_platform::federation::authenticated;
use tenor_platform::graphql::{CallerExt, UserError, auth_error, internal_error};
use uuid::Uuid;

use crate::domain::{InstallmentState, Loan as LoanRecord, LoanStatus, Refusal};
use crate::live::Subscription;
use crate::loans::{Loans, Outcome, business_today};
use crate::store::{self, PagePosition};

/// Staff scope: read any loan, search, disburse.
pub const LOAN_OPERATE: &str = "loan:operate";
/// Customer scope: apply for a loan.
pub const LOAN_APPLY: &str = "loan:apply";
const DEFAULT_PAGE_SIZE: usize = 20;
const MAX_PAGE_SIZE: usize = 100;

pub type LoanSchema = Schema<Query, Mutation, Subscription>;

/// The schema without its runtime data: enough to print the SDL.
pub fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query, Mutation, Subscription)
        .enable_federation()
        .enable_subscription_in_federation()
}

/// The federation SDL, as `tenor-loan print-schema` prints it and the router composes it.
pub fn sdl() -> String {
    let sdl = builder()
        .finish()
        .sdl_with_options(SDLExportOptions::new().federation().compose_directive());
    tenor_platform::federation::federation_sdl(sdl)
}

// ---------------------------------------------------------------------------------------------
// Types

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "LoanStatus", remote = "crate::domain::LoanStatus")]
pub enum LoanStatusGql {
    /// Waiting for credit's decision.
    Submitted,
    /// Approved; waiting for disbursement.
    Approved,
    Rejected,
    /// Withdrawn by the borrower before a decision.
    Cancelled,
    /// Disbursed; installments running.
    Active,
    /// Every installment paid.
    Paid,
}

/// A loan application and, once approved, its schedule. Amounts are whole rupiah (IDR).
pub struct Loan(pub LoanRecord);

#[Object]
impl Loan {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The borrower.
    async fn user_id(&self) -> ID {
        ID(self.0.user_id.to_string())
    }

    /// The borrower as an entity: profile fields (name, contact) come from the user subgraph,
    /// KYC from the kyc subgraph, each under its own access rules.
    async fn user(&self) -> User {
        User { id: self.0.user_id }
    }

    async fn amount(&self) -> i64 {
        self.0.amount
    }

    async fn tenor_months(&self) -> u32 {
        self.0.tenor_months
    }

    async fn purpose(&self) -> &str {
        &self.0.purpose
    }

    async fn status(&self) -> LoanStatusGql {
        self.0.status.into()
    }

    async fn total_interest(&self) -> i64 {
        self.0.total_interest
    }

    async fn total_fee(&self) -> i64 {
        self.0.total_fee
    }

    /// Interest plus fees: everything beyond the principal.
    async fn total_cost(&self) -> i64 {
        self.0.total_cost()
    }

    async fn total_repayment(&self) -> i64 {
        self.0.amount + self.0.total_cost()
    }

    /// Every installment but the last (which absorbs rounding).
    async fn monthly_installment(&self) -> i64 {
        self.0.monthly_installment
    }

    /// Machine-readable reasons of the credit decision.
    async fn reason_codes(&self) -> &[String] {
        &self.0.reason_codes
    }

    async fn decision_reason(&self) -> Option<&str> {
        self.0.decision_reason.as_deref()
    }

    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }

    async fn disbursed_on(&self) -> Option<NaiveDate> {
        self.0.disbursed_on
    }

    /// The schedule (empty until approved). Due dates are provisional until disbursement.
    async fn installments(&self, ctx: &Context<'_>) -> Result<Vec<Installment>> {
        let loans = ctx.data::<Loans>()?;
        let mut conn = loans.pool().get().await.map_err(internal_error)?;
        let rows = store::installments(&mut conn, self.0.id)
            .await
            .map_err(internal_error)?;
        Ok(rows.into_iter().map(Installment).collect())
    }

    /// What is still owed.
    async fn outstanding(&self, ctx: &Context<'_>) -> Result<i64> {
        let loans = ctx.data::<Loans>()?;
        let mut conn = loans.pool().get().await.map_err(internal_error)?;
        let rows = store::installments(&mut conn, self.0.id)
            .await
            .map_err(internal_error)?;
        Ok(rows.iter().map(InstallmentState::outstanding).sum())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct Installment(InstallmentState);

#[Object]
impl Installment {
    async fn number(&self) -> u32 {
        self.0.number
    }
    async fn due_date(&self) -> NaiveDate {
        self.0.due_date
    }
    async fn principal_due(&self) -> i64 {
        self.0.principal_due
    }
    async fn interest_due(&self) -> i64 {
        self.0.interest_due
    }
    async fn fee_due(&self) -> i64 {
        self.0.fee_due
    }
    async fn amount_due(&self) -> i64 {
        self.0.amount_due()
    }
    async fn amount_paid(&self) -> i64 {
        self.0.amount_due() - self.0.outstanding()
    }
    async fn outstanding(&self) -> i64 {
        self.0.outstanding()
    }
    /// The date it became fully paid.
    async fn paid_date(&self) -> Option<NaiveDate> {
        self.0.paid_date
    }
    async fn overdue(&self) -> bool {
        self.0.overdue
    }
}

#[derive(SimpleObject)]
struct QuotedInstallment {
    number: u32,
    /// As if disbursed today.
    due_date: NaiveDate,
    principal: i64,
    interest: i64,
    fee: i64,
    amount: i64,
}

#[derive(SimpleObject)]
struct LoanQuote {
    amount: i64,
    tenor_months: u32,
    total_interest: i64,
    total_fee: i64,
    total_cost: i64,
    total_repayment: i64,
    monthly_installment: i64,
    installments: Vec<QuotedInstallment>,
}

#[derive(SimpleObject)]
struct QuoteLoanPayload {
    quote: Option<LoanQuote>,
    user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
struct ApplyLoanPayload {
    loan: Option<Loan>,
    user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
struct CancelLoanPayload {
    loan: Option<Loan>,
    user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
struct DisburseLoanPayload {
    loan: Option<Loan>,
    user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
struct PaymentAllocation {
    installment_number: u32,
    fee: i64,
    interest: i64,
    principal: i64,
}

#[derive(SimpleObject)]
struct PaymentReceipt {
    provider_reference: String,
    /// True when this repeated an earlier payment with the same key (nothing new happened).
    replayed: bool,
    allocations: Vec<PaymentAllocation>,
}

#[derive(SimpleObject)]
struct PayInstallmentPayload {
    loan: Option<Loan>,
    payment: Option<PaymentReceipt>,
    user_errors: Vec<UserError>,
}

/// A person with an account, owned by the user subgraph; loan adds their loans.
pub struct User {
    id: Uuid,
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// Newest first. The owner, or staff with `loan:operate`.
    #[graphql(directive = authenticated::apply())]
    async fn loans(&self, ctx: &Context<'_>) -> Result<Vec<Loan>> {
        let principal = ctx.principal()?;
        principal
            .require_owner_or(self.id, LOAN_OPERATE)
            .map_err(auth_error)?;
        let loans = ctx.data::<Loans>()?;
        let mut conn = loans.pool().get().await.map_err(internal_error)?;
        let rows = store::of_user(&mut conn, self.id)
            .await
            .map_err(internal_error)?;
        Ok(rows.into_iter().map(Loan).collect())
    }
}

fn user_errors(refusal: Refusal) -> Vec<UserError> {
    vec![UserError::new(refusal.code, refusal.field, refusal.message)]
}

fn parse_id(id: &ID) -> Option<Uuid> {
    id.parse().ok()
}

/// Opaque cursor of the back-office search.
struct LoanCursor(PagePosition);

impl CursorType for LoanCursor {
    type Error = &'static str;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| "invalid cursor")?;
        let text = String::from_utf8(bytes).map_err(|_| "invalid cursor")?;
        let (at, id) = text.split_once('|').ok_or("invalid cursor")?;
        Ok(Self(PagePosition {
            created_at: at.parse().map_err(|_| "invalid cursor")?,
            id: id.parse().map_err(|_| "invalid cursor")?,
        }))
    }

    fn encode_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.0.created_at.to_rfc3339(), self.0.id))
    }
}

/// Load a loan the caller may see: the owner, or staff with `loan:operate`. Someone else's loan
/// answers exactly like an id that does not exist (null, no error): the answer must not reveal
/// that the loan exists.
async fn visible_loan(ctx: &Context<'_>, id: &ID) -> Result<Option<Loan>> {
    let principal = ctx.principal()?;
    let Some(id) = parse_id(id) else {
        return Ok(None);
    };
    let loans = ctx.data::<Loans>()?;
    let mut conn = loans.pool().get().await.map_err(internal_error)?;
    let loan = store::find(&mut conn, id).await.map_err(internal_error)?;
    Ok(loan
        .filter(|loan| {
            principal
                .require_owner_or(loan.user_id, LOAN_OPERATE)
                .is_ok()
        })
        .map(Loan))
}

// ---------------------------------------------------------------------------------------------
// Operations

pub struct Query;

#[Object]
impl Query {
    /// Price a loan without applying: the schedule as if disbursed today.
    async fn quote_loan(
        &self,
        ctx: &Context<'_>,
        amount: i64,
        tenor_months: i32,
    ) -> Result<QuoteLoanPayload> {
        let loans = ctx.data::<Loans>()?;
        match loans.quote(amount, tenor_months, business_today(Utc::now())) {
            Err(refusal) => Ok(QuoteLoanPayload {
                quote: None,
                user_errors: user_errors(refusal),
            }),
            Ok(quote) => {
                let s = &quote.schedule;
                Ok(QuoteLoanPayload {
                    quote: Some(LoanQuote {
                        amount,
                        tenor_months: s.installments.len() as u32,
                        total_interest: s.total_interest(),
                        total_fee: s.total_fee(),
                        total_cost: s.total_cost(),
                        total_repayment: s.total_repayment(),
                        monthly_installment: s.installments[0].total(),
                        installments: s
                            .installments
                            .iter()
                            .zip(&quote.due_dates)
                            .map(|(i, due)| QuotedInstallment {
                                number: i.number,
                                due_date: *due,
                                principal: i.principal,
                                interest: i.interest,
                                fee: i.fee,
                                amount: i.total(),
                            })
                            .collect(),
                    }),
                    user_errors: vec![],
                })
            }
        }
    }

    /// One loan: its borrower, or staff with `loan:operate`.
    #[graphql(directive = authenticated::apply())]
    async fn loan(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Loan>> {
        visible_loan(ctx, &id).await
    }

    /// Back office: loans newest first, optionally by status and borrower.
    #[graphql(requires_scopes = "loan:operate")]
    async fn loans(
        &self,
        ctx: &Context<'_>,
        status: Option<LoanStatusGql>,
        user_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<Connection<LoanCursor, Loan>>> {
        // Nullable: a caller without the scope loses this field only, not the whole response.
        ctx.require_scope(LOAN_OPERATE)?;
        let first = first.map_or(DEFAULT_PAGE_SIZE, |f| {
            (f.max(1) as usize).min(MAX_PAGE_SIZE)
        });
        let after = match after {
            None => None,
            Some(cursor) => Some(
                LoanCursor::decode_cursor(&cursor)
                    .map_err(|e| tenor_platform::graphql::coded_error("BAD_USER_INPUT", e))?
                    .0,
            ),
        };
        let user_id = match user_id {
            None => None,
            Some(id) => match parse_id(&id) {
                Some(id) => Some(id),
                None => return Ok(Some(Connection::new(false, false))),
            },
        };
        let loans = ctx.data::<Loans>()?;
        let mut conn = loans.pool().get().await.map_err(internal_error)?;
        let mut rows = store::search(
            &mut conn,
            status.map(LoanStatus::from),
            user_id,
            after,
            first as i64 + 1,
        )
        .await
        .map_err(internal_error)?;
        let has_next = rows.len() > first;
        rows.truncate(first);
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(rows.into_iter().map(|loan| {
            let cursor = LoanCursor(PagePosition {
                created_at: loan.created_at,
                id: loan.id,
            });
            Edge::new(cursor, Loan(loan))
        }));
        Ok(Some(connection))
    }

    /// `_entities` for `Loan`: the borrower or staff; anyone else gets null, as for an unknown
    /// id (only a missing token is an error).
    #[graphql(entity)]
    async fn find_loan_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Loan>> {
        match visible_loan(ctx, &id).await {
            Ok(loan) => Ok(loan),
            Err(error) => {
                ctx.add_error(error.into_server_error(ctx.item.pos));
                Ok(None)
            }
        }
    }

    /// `_entities` for `User`: the fields are authorised one by one.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<User> {
        parse_id(&id).map(|id| User { id })
    }
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// Apply for a loan. Rules (amount, tenor, KYC verified, account active, no open loan)
    /// refuse with userErrors and change nothing. Replaying `idempotencyKey` returns the same
    /// loan.
    #[graphql(requires_scopes = "loan:apply")]
    async fn apply_loan(
        &self,
        ctx: &Context<'_>,
        amount: i64,
        tenor_months: i32,
        purpose: String,
        idempotency_key: String,
    ) -> Result<ApplyLoanPayload> {
        let principal = ctx.require_scope(LOAN_APPLY)?;
        let loans = ctx.data::<Loans>()?;
        let outcome = loans
            .apply(
                principal.user_id,
                amount,
                tenor_months,
                &purpose,
                &idempotency_key,
            )
            .await
            .map_err(internal_error)?;
        Ok(match outcome {
            Outcome::Done(loan) => ApplyLoanPayload {
                loan: Some(Loan(loan)),
                user_errors: vec![],
            },
            Outcome::Refused(refusal) => ApplyLoanPayload {
                loan: None,
                user_errors: user_errors(refusal),
            },
        })
    }

    /// Withdraw an application still waiting for a decision.
    #[graphql(directive = authenticated::apply())]
    async fn cancel_loan(&self, ctx: &Context<'_>, id: ID) -> Result<CancelLoanPayload> {
        let principal = ctx.principal()?;
        let loans = ctx.data::<Loans>()?;
        let Some(id) = parse_id(&id) else {
            return Ok(CancelLoanPayload {
                loan: None,
                user_errors: user_errors(Refusal::new("NOT_FOUND", Some("id"), "No such loan")),
            });
        };
        let outcome = loans
            .cancel(principal.user_id, id)
            .await
            .map_err(internal_error)?;
        Ok(match outcome {
            Outcome::Done(loan) => CancelLoanPayload {
                loan: Some(Loan(loan)),
                user_errors: vec![],
            },
            Outcome::Refused(refusal) => CancelLoanPayload {
                loan: None,
                user_errors: user_errors(refusal),
            },
        })
    }

    /// Back office: pay an APPROVED loan out (payout provider) and start its schedule today.
    #[graphql(requires_scopes = "loan:operate")]
    async fn disburse_loan(&self, ctx: &Context<'_>, id: ID) -> Result<DisburseLoanPayload> {
        let principal = ctx.require_scope(LOAN_OPERATE)?;
        let loans = ctx.data::<Loans>()?;
        let Some(id) = parse_id(&id) else {
            return Ok(DisburseLoanPayload {
                loan: None,
                user_errors: user_errors(Refusal::new("NOT_FOUND", Some("id"), "No such loan")),
            });
        };
        let outcome = loans
            .disburse(principal.user_id, id, business_today(Utc::now()))
            .await
            .map_err(internal_error)?;
        Ok(match outcome {
            Outcome::Done(loan) => DisburseLoanPayload {
                loan: Some(Loan(loan)),
                user_errors: vec![],
            },
            Outcome::Refused(refusal) => DisburseLoanPayload {
                loan: None,
                user_errors: user_errors(refusal),
            },
        })
    }

    /// Pay towards an ACTIVE loan; allocated to the oldest due installment first. Paying more
    /// than is outstanding is refused; replaying `idempotencyKey` has one effect.
    #[graphql(directive = authenticated::apply())]
    async fn pay_installment(
        &self,
        ctx: &Context<'_>,
        loan_id: ID,
        amount: i64,
        idempotency_key: String,
    ) -> Result<PayInstallmentPayload> {
        let principal = ctx.principal()?;
        let loans = ctx.data::<Loans>()?;
        let refused = |refusal| PayInstallmentPayload {
            loan: None,
            payment: None,
            user_errors: user_errors(refusal),
        };
        let Some(loan_id) = parse_id(&loan_id) else {
            return Ok(refused(Refusal::new(
                "NOT_FOUND",
                Some("loanId"),
                "No such loan",
            )));
        };
        let outcome = loans
            .pay(
                principal.user_id,
                loan_id,
                amount,
                &idempotency_key,
                business_today(Utc::now()),
            )
            .await
            .map_err(internal_error)?;
        Ok(match outcome {
            Outcome::Refused(refusal) => refused(refusal),
            Outcome::Done(payment) => PayInstallmentPayload {
                loan: Some(Loan(payment.loan)),
                payment: Some(PaymentReceipt {
                    provider_reference: payment.provider_reference,
                    replayed: payment.replayed,
                    allocations: payment
                        .allocations
                        .iter()
                        .map(|a| PaymentAllocation {
                            installment_number: a.number,
                            fee: a.fee,
                            interest: a.interest,
                            principal: a.principal,
                        })
                        .collect(),
                }),
                user_errors: vec![],
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_fields_declare_their_scope() {
        let sdl = sdl();
        for (field, scope) in [
            ("disburseLoan(", "loan:operate"),
            ("loans(", "loan:operate"),
            ("applyLoan(", "loan:apply"),
        ] {
            let line = sdl
                .lines()
                .find(|l| l.trim_start().starts_with(field))
                .unwrap_or_else(|| panic!("{field} missing from the SDL"));
            assert!(
                line.contains(&format!("@requiresScopes(scopes: [[\"{scope}\"]])")),
                "{line}"
            );
        }
        assert!(sdl.contains("type Loan @key(fields: \"id\")"), "{sdl}");
        assert!(sdl.contains("type User @key(fields: \"id\")"), "{sdl}");
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let position = PagePosition {
            created_at: Utc::now(),
            id: Uuid::new_v4(),
        };
        let encoded = LoanCursor(position).encode_cursor();
        assert_eq!(LoanCursor::decode_cursor(&encoded).unwrap().0, position);
        assert!(LoanCursor::decode_cursor("%%%").is_err());
    }
}
