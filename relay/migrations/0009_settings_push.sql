-- Issue 15: settings from the inbox, each teammate's notification profile, Web Push devices.

-- Notification delays per site. A shopper message nobody has seen is pushed after
-- push_delay_seconds, emailed after email_delay_seconds (NULL: the relay's
-- MERCHANT_NOTIFY_DELAY_SECONDS, 120 in production).
ALTER TABLE sites ADD COLUMN push_delay_seconds INTEGER NOT NULL DEFAULT 10 CHECK (push_delay_seconds BETWEEN 0 AND 3600);
ALTER TABLE sites ADD COLUMN email_delay_seconds INTEGER CHECK (email_delay_seconds BETWEEN 0 AND 86400);

-- A person's own choices, for every site they are on (a missing row: both, no text in push).
CREATE TABLE profiles (
  email TEXT PRIMARY KEY,
  notify TEXT NOT NULL DEFAULT 'both' CHECK (notify IN ('push', 'email', 'both')),
  push_preview INTEGER NOT NULL DEFAULT 0 CHECK (push_preview IN (0, 1)),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Devices where a teammate enabled push (PushSubscription from the browser). An endpoint is
-- one device's browser profile; signing in there as someone else moves it to them.
CREATE TABLE push_subscriptions (
  endpoint TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  p256dh TEXT NOT NULL,
  auth TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE INDEX push_subscriptions_by_email ON push_subscriptions (email);
