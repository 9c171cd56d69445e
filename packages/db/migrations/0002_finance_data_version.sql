-- A counter that moves whenever data a finance report reads changes, so report
-- results can be cached and re-used until the next change (see
-- packages/domain/src/reports/cache.ts).
--
-- One row, bumped by statement-level triggers in the writing transaction: the new
-- value becomes visible exactly when the data does, so a reader that sees version v
-- sees at least the data of v. A sequence would avoid the row lock but moves before
-- the data commits, which would let a stale result be cached under the new version.
-- Finance writes are few (people, imports, a sync round per store), so writers
-- queuing briefly on this row is the cheaper trade. The triggers run BEFORE each
-- statement, so in every writing transaction this row is the first lock taken:
-- one lock order for all, and no deadlock between two multi-statement writers.

CREATE TABLE finance_data_version (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version bigint NOT NULL DEFAULT 1,
  changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO finance_data_version DEFAULT VALUES;

CREATE FUNCTION bump_finance_data_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE finance_data_version SET version = version + 1, changed_at = now();
  RETURN NULL;
END
$$;

CREATE TRIGGER settings_finance_version BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON settings
  FOR EACH STATEMENT EXECUTE FUNCTION bump_finance_data_version();
CREATE TRIGGER stores_finance_version BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON stores
  FOR EACH STATEMENT EXECUTE FUNCTION bump_finance_data_version();
CREATE TRIGGER products_finance_version BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON products
  FOR EACH STATEMENT EXECUTE FUNCTION bump_finance_data_version();
CREATE TRIGGER product_costs_finance_version BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON product_costs
  FOR EACH STATEMENT EXECUTE FUNCTION bump_finance_data_version();
CREATE TRIGGER fixed_costs_finance_version BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON fixed_costs
  FOR EACH STATEMENT EXECUTE FUNCTION bump_finance_data_version();
CREATE TRIGGER daily_financials_finance_version BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON daily_financials
  FOR EACH STATEMENT EXECUTE FUNCTION bump_finance_data_version();
CREATE TRIGGER ad_spend_entries_finance_version BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ad_spend_entries
  FOR EACH STATEMENT EXECUTE FUNCTION bump_finance_data_version();
CREATE TRIGGER product_performance_finance_version BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON product_performance
  FOR EACH STATEMENT EXECUTE FUNCTION bump_finance_data_version();
CREATE TRIGGER fx_rates_finance_version BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON fx_rates
  FOR EACH STATEMENT EXECUTE FUNCTION bump_finance_data_version();
