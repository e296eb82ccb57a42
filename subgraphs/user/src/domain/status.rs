//! Where an account stands, and whose it is; both stored as text in `user_profile`.

tenor_platform::text_enum! {
    /// Where an account stands.
    pub enum AccountStatus {
        Active = "ACTIVE",
        /// Dormant (seed data); may be blocked or deleted like an active account.
        Inactive = "INACTIVE",
        Blocked = "BLOCKED",
        /// Soft-deleted by the owner: PII minimised, invisible through the API.
        Deleted = "DELETED",
    }
}

tenor_platform::text_enum! {
    /// Whose account it is: a customer's, or a staff member's (created by an operator command).
    pub enum AccountKind {
        Customer = "CUSTOMER",
        Staff = "STAFF",
    }
}
