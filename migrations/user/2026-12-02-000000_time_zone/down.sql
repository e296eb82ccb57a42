ALTER TABLE user_profile DROP COLUMN time_zone;
