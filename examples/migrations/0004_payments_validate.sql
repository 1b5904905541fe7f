-- Validating in its own migration: SHARE UPDATE EXCLUSIVE, reads and writes go on.
SET lock_timeout = '2s';
ALTER TABLE payments VALIDATE CONSTRAINT payments_amount_positive;
