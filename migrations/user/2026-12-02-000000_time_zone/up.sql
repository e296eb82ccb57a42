-- The borrower's Indonesian time zone: reminders and collection messages may only go out in
-- the daytime of the borrower's own zone. WIB (UTC+7, Jakarta) is where most borrowers live,
-- so every existing profile starts there.
ALTER TABLE user_profile
    ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'WIB'
        CONSTRAINT user_profile_time_zone_known CHECK (time_zone IN ('WIB', 'WITA', 'WIT'));
