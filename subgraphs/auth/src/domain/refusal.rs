//! Every way auth says no, in one place: the app branches on these codes, so each code, the
//! input field it blames and its bilingual message are spelled out here and nowhere else.

use tenor_platform::refusal::Refusal;

use super::password::PasswordRejection;
use super::registration::MAX_FULLNAME_CHARS;

/// A refusal of one of auth's use cases (becomes one `userErrors` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthRefusal {
    // Registration and passwords.
    FullnameInvalidCharacters,
    FullnameLength,
    EmailInvalid,
    PhoneInvalid,
    /// The password policy refused a new password given in `field`.
    Password {
        rejection: PasswordRejection,
        field: &'static str,
    },
    EmailTaken,
    PhoneTaken,
    AccountNotFound,
    CurrentPasswordWrong,

    // Password login.
    /// One answer for unknown account, wrong password and malformed identifier.
    InvalidCredentials,
    /// Too many failures from the caller's address.
    SourceThrottled,
    /// The account's growing delay after failures has not passed yet.
    LoginDelayed {
        seconds: u64,
    },
    AccountLocked {
        minutes: u64,
    },
    /// At password login, where the customer can still reach support.
    AccountBlockedContactSupport,
    AccountBlocked,
    LoginDeviceIdInvalid,
    LoginDeviceNameInvalid,

    // Sessions.
    InvalidRefreshToken,
    SessionRevoked,
    /// The session's account no longer exists.
    SessionEnded,
    SessionExpired,
    RefreshTokenReused,
    /// Someone else's session and one that does not exist answer the same.
    SessionNotFound,

    // Biometric devices.
    DeviceIdInvalid,
    DeviceNameInvalid,
    BiometricKeyInvalid,
    DeviceAlreadyRegistered,
    /// A challenge was asked for a device without biometric login.
    BiometricNotSetUp,
    DeviceNotRegistered,
    /// Someone else's device and one that does not exist answer the same.
    DeviceNotFound,
    ChallengeInvalid,
    BiometricSignatureInvalid,
}

impl Refusal for AuthRefusal {
    fn code(&self) -> &'static str {
        use AuthRefusal::*;
        match self {
            FullnameInvalidCharacters | FullnameLength => "FULLNAME_INVALID",
            EmailInvalid => "EMAIL_INVALID",
            PhoneInvalid => "PHONE_INVALID",
            Password { rejection, .. } => rejection.code(),
            EmailTaken => "EMAIL_TAKEN",
            PhoneTaken => "PHONE_TAKEN",
            AccountNotFound => "ACCOUNT_NOT_FOUND",
            CurrentPasswordWrong | InvalidCredentials => "INVALID_CREDENTIALS",
            SourceThrottled | LoginDelayed { .. } => "LOGIN_THROTTLED",
            AccountLocked { .. } => "ACCOUNT_LOCKED",
            AccountBlockedContactSupport | AccountBlocked => "ACCOUNT_BLOCKED",
            LoginDeviceIdInvalid | DeviceIdInvalid => "DEVICE_ID_INVALID",
            LoginDeviceNameInvalid | DeviceNameInvalid => "DEVICE_NAME_INVALID",
            InvalidRefreshToken => "INVALID_REFRESH_TOKEN",
            SessionRevoked | SessionEnded => "SESSION_REVOKED",
            SessionExpired => "SESSION_EXPIRED",
            RefreshTokenReused => "REFRESH_TOKEN_REUSED",
            SessionNotFound => "SESSION_NOT_FOUND",
            BiometricKeyInvalid => "BIOMETRIC_KEY_INVALID",
            DeviceAlreadyRegistered => "DEVICE_ALREADY_REGISTERED",
            BiometricNotSetUp | DeviceNotRegistered | DeviceNotFound => "DEVICE_NOT_REGISTERED",
            ChallengeInvalid => "CHALLENGE_INVALID",
            BiometricSignatureInvalid => "BIOMETRIC_SIGNATURE_INVALID",
        }
    }

    fn field(&self) -> Option<&str> {
        use AuthRefusal::*;
        match self {
            FullnameInvalidCharacters | FullnameLength => Some("fullname"),
            EmailInvalid | EmailTaken => Some("email"),
            PhoneInvalid | PhoneTaken => Some("phoneNumber"),
            Password { field, .. } => Some(field),
            CurrentPasswordWrong => Some("currentPassword"),
            LoginDeviceIdInvalid | LoginDeviceNameInvalid => Some("device"),
            InvalidRefreshToken | RefreshTokenReused => Some("refreshToken"),
            SessionNotFound => Some("id"),
            DeviceIdInvalid
            | DeviceAlreadyRegistered
            | BiometricNotSetUp
            | DeviceNotRegistered
            | DeviceNotFound => Some("deviceId"),
            DeviceNameInvalid => Some("name"),
            BiometricKeyInvalid => Some("publicKey"),
            ChallengeInvalid => Some("nonce"),
            BiometricSignatureInvalid => Some("signature"),
            AccountNotFound
            | InvalidCredentials
            | SourceThrottled
            | LoginDelayed { .. }
            | AccountLocked { .. }
            | AccountBlockedContactSupport
            | AccountBlocked
            | SessionRevoked
            | SessionEnded
            | SessionExpired => None,
        }
    }

    fn message(&self) -> String {
        use AuthRefusal::*;
        match self {
            FullnameInvalidCharacters => "Nama lengkap mengandung karakter yang tidak diizinkan. / Full name contains characters that are not allowed.".into(),
            FullnameLength => format!(
                "Nama lengkap 1–{MAX_FULLNAME_CHARS} karakter. / Full name must be 1–{MAX_FULLNAME_CHARS} characters."
            ),
            EmailInvalid => "Alamat email tidak valid. / The email address is not valid.".into(),
            PhoneInvalid => "Nomor HP Indonesia tidak valid (08…/+628…). / Not a valid Indonesian mobile number.".into(),
            Password { rejection, .. } => rejection.message(),
            EmailTaken => "Email sudah terdaftar. / This email is already registered.".into(),
            PhoneTaken => "Nomor HP sudah terdaftar. / This phone number is already registered.".into(),
            AccountNotFound => "Akun tidak ditemukan. / Account not found.".into(),
            CurrentPasswordWrong => "Kata sandi saat ini salah. / The current password is wrong.".into(),
            InvalidCredentials => "Email/nomor HP atau kata sandi salah. / Wrong email/phone or password.".into(),
            SourceThrottled => "Terlalu banyak percobaan. Coba lagi nanti. / Too many attempts, try again later.".into(),
            LoginDelayed { seconds } => format!(
                "Tunggu {seconds} detik sebelum mencoba lagi. / Wait {seconds} s before trying again."
            ),
            AccountLocked { minutes } => format!(
                "Akun dikunci sementara, coba lagi dalam {minutes} menit. / Account temporarily locked, try again in {minutes} min."
            ),
            AccountBlockedContactSupport => "Akun ini diblokir. Hubungi layanan pelanggan. / This account is blocked, please contact support.".into(),
            AccountBlocked => "Akun ini diblokir. / This account is blocked.".into(),
            LoginDeviceIdInvalid | LoginDeviceNameInvalid => "Perangkat tidak valid. / Invalid device.".into(),
            InvalidRefreshToken => "Sesi tidak valid. / Invalid session.".into(),
            SessionRevoked => "Sesi telah berakhir, silakan masuk lagi. / Session ended, please sign in again.".into(),
            SessionEnded => "Sesi telah berakhir. / Session ended.".into(),
            SessionExpired => "Sesi kedaluwarsa, silakan masuk lagi. / Session expired, please sign in again.".into(),
            RefreshTokenReused => "Sesi dihentikan demi keamanan, silakan masuk lagi. / For your security this session was ended, please sign in again.".into(),
            SessionNotFound => "Sesi tidak ditemukan. / Session not found.".into(),
            DeviceIdInvalid => "ID perangkat tidak valid. / Invalid device id.".into(),
            DeviceNameInvalid => "Nama perangkat tidak valid. / Invalid device name.".into(),
            BiometricKeyInvalid => "Kunci publik harus P-256 (SPKI, base64). / The public key must be a base64 P-256 SPKI.".into(),
            DeviceAlreadyRegistered => "Perangkat ini terdaftar pada akun lain. / This device is registered to another account.".into(),
            BiometricNotSetUp => "Login biometrik belum diaktifkan di perangkat ini. / Biometric login is not set up on this device.".into(),
            DeviceNotRegistered => "Perangkat tidak terdaftar. / Device not registered.".into(),
            DeviceNotFound => "Perangkat tidak ditemukan. / Device not found.".into(),
            ChallengeInvalid => "Tantangan tidak valid atau kedaluwarsa, minta yang baru. / Challenge invalid or expired, request a new one.".into(),
            BiometricSignatureInvalid => "Verifikasi biometrik gagal. / Biometric verification failed.".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_codes_keep_their_own_fields_and_messages() {
        assert_eq!(AuthRefusal::InvalidCredentials.field(), None);
        assert_eq!(
            AuthRefusal::CurrentPasswordWrong.field(),
            Some("currentPassword")
        );
        assert_eq!(
            AuthRefusal::LoginDelayed { seconds: 4 }.message(),
            "Tunggu 4 detik sebelum mencoba lagi. / Wait 4 s before trying again."
        );
        let new_password = AuthRefusal::Password {
            rejection: PasswordRejection::TooCommon,
            field: "newPassword",
        };
        assert_eq!(new_password.code(), "PASSWORD_TOO_COMMON");
        assert_eq!(new_password.field(), Some("newPassword"));
    }
}
