DROP TABLE login_attempts;
DROP TABLE biometric_challenges;
DROP TABLE biometric_devices;
DROP TABLE refresh_tokens;
DROP TABLE auth_sessions;
DROP TABLE users_auth;
