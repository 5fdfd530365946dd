-- Signed customer identity. A site's identity secret signs its customers' ids (HMAC-SHA256,
-- made by the shop's server); NULL: identity is off. Kept as is, since checking a signature
-- needs the secret itself (as webhook secrets are).
ALTER TABLE sites ADD COLUMN identity_secret TEXT;
ALTER TABLE sites ADD COLUMN identity_created_at TEXT;

-- The verified customer a conversation belongs to (set when it is created or first held by a
-- signed-in customer's browser), and what the page said about them.
ALTER TABLE conversations ADD COLUMN customer_id TEXT;
ALTER TABLE conversations ADD COLUMN customer_email TEXT;
ALTER TABLE conversations ADD COLUMN customer_name TEXT;
CREATE INDEX conversations_by_customer ON conversations (site_id, customer_id, created_at) WHERE customer_id IS NOT NULL;
