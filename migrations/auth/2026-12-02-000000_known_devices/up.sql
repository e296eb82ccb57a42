-- The devices each account has signed in from. Signing in from a device id that is not here
-- yet is a new device: auth announces it (auth.device.registered.v1) so the borrower hears
-- about it. The primary key makes "first time" exact even for two concurrent logins from the
-- same new device: only the insert that creates the row announces it.
CREATE TABLE known_devices (
    auth_id       UUID        NOT NULL REFERENCES users_auth (auth_id),
    device_id     TEXT        NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (auth_id, device_id)
);

-- Devices already used before this table existed are known: nobody is told about a phone
-- they have been using all along.
INSERT INTO known_devices (auth_id, device_id, first_seen_at)
SELECT auth_id, device_id, min(created_at)
FROM auth_sessions
WHERE device_id IS NOT NULL
GROUP BY auth_id, device_id;
