DROP TABLE user_profile;
-- pg_trgm is left installed: other objects in the database may use it.
