//! What is recorded about a session: how it was opened, and why it ended (stored with the
//! session and carried by its `auth.session.revoked` event).

tenor_platform::text_enum! {
    /// How a session was opened (also how a login attempt was made).
    pub enum AuthMethod {
        Password = "PASSWORD",
        Biometric = "BIOMETRIC",
    }
}

tenor_platform::text_enum! {
    /// Why a session ended before it expired.
    pub enum RevokeReason {
        Logout = "LOGOUT",
        LogoutAll = "LOGOUT_ALL",
        PasswordChanged = "PASSWORD_CHANGED",
        /// A consumed refresh token was presented again: the token family was copied.
        RefreshTokenReuse = "REFRESH_TOKEN_REUSE",
        DeviceRevoked = "DEVICE_REVOKED",
        AccountInactive = "ACCOUNT_INACTIVE",
        AccountBlocked = "ACCOUNT_BLOCKED",
        AccountDeleted = "ACCOUNT_DELETED",
    }
}
