-- payments already exists in production (created before this migration set).
SET lock_timeout = '2s';

ALTER TABLE payments ADD COLUMN refunded_at timestamptz;
CREATE INDEX CONCURRENTLY payments_refunded_at_idx ON payments (refunded_at);
ALTER TABLE payments ADD CONSTRAINT payments_amount_positive CHECK (amount_cents > 0) NOT VALID;
