-- A typical risky change to a big, busy table that existed before this migration set.
ALTER TABLE invoices ADD COLUMN status text NOT NULL;
CREATE INDEX invoices_status_idx ON invoices (status);
ALTER TABLE invoices ALTER COLUMN customer_ref TYPE bigint;
ALTER TABLE invoices ADD CONSTRAINT invoices_customer_fk
    FOREIGN KEY (customer_ref) REFERENCES customers (id);
