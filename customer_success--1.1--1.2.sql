-- customer_success 1.1 -> 1.2 (ALTER EXTENSION customer_success UPDATE TO '1.2')
\echo Use "ALTER EXTENSION customer_success UPDATE TO '1.2'" to load this file. \quit

-- Every object new in 1.2, or changed since 1.1, exactly as src/*.sql defines
-- it for a fresh install (test/t/reliability-upgrade.sh compares the two
-- catalogues entry by entry).  Sections by family, in the order of src/*.sql.

-- predictive
CREATE FUNCTION bgnbd_probability_of_purchases(model bgnbd_model, t double precision, n integer)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION bgnbd_probability_of_purchases(bgnbd_model, double precision, integer) IS 'Probability that a customer drawn at random at time 0 makes exactly n purchases in (0, t] (Fader, Hardie & Lee 2005, eq. 8)';

-- retention
CREATE FUNCTION ending_customers(retention_summary) RETURNS bigint
	AS 'MODULE_PATHNAME', 'retention_ending_customers' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ending_customers(retention_summary) IS 'Number of customers paying at the end of the period (mrr_end > 0): starting customers who did not churn plus new customers';
CREATE FUNCTION quick_ratio(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_quick_ratio' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE quick_ratio(mrr_start double precision, mrr_end double precision) (
	SFUNC = retention_accum, STYPE = retention_summary,
	FINALFUNC = quick_ratio, COMBINEFUNC = retention_combine, PARALLEL = SAFE
);
COMMENT ON FUNCTION quick_ratio(retention_summary) IS 'SaaS quick ratio: (new + expansion MRR) / (contraction + churned MRR); NULL when no MRR was lost';
COMMENT ON AGGREGATE quick_ratio(double precision, double precision) IS 'SaaS quick ratio: (new + expansion MRR) / (contraction + churned MRR) of one period, one row per customer with its MRR at the start and at the end; NULL when no MRR was lost';
CREATE FUNCTION mrr_growth_rate(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_mrr_growth_rate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE mrr_growth_rate(mrr_start double precision, mrr_end double precision) (
	SFUNC = retention_accum, STYPE = retention_summary,
	FINALFUNC = mrr_growth_rate, COMBINEFUNC = retention_combine, PARALLEL = SAFE
);
COMMENT ON FUNCTION mrr_growth_rate(retention_summary) IS 'MRR growth rate: ending MRR / starting MRR - 1; NULL without starting MRR';
COMMENT ON AGGREGATE mrr_growth_rate(double precision, double precision) IS 'MRR growth rate: ending MRR / starting MRR - 1 of one period, one row per customer with its MRR at the start and at the end; NULL without starting MRR';
CREATE FUNCTION arpa(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_arpa' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION arpa(retention_summary) IS 'Average revenue per account: ending MRR / ending customers; NULL without ending customers';
CREATE FUNCTION arr(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_arr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION arr(retention_summary) IS 'Annual run rate: 12 x ending MRR';
CREATE FUNCTION average_sale_price(retention_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'retention_average_sale_price' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION average_sale_price(retention_summary) IS 'Average sale price: new MRR / new customers; NULL without new customers';

-- survival
-- 1.2: late entry, weights, survfit's table (SPEC section 6)
CREATE FUNCTION survival_entry_accum(survival_summary, double precision, boolean, double precision)
	RETURNS survival_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION survival_weighted_accum(survival_summary, double precision, boolean, double precision,
                                        double precision) RETURNS survival_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE survival_agg(duration double precision, churned boolean, entry double precision) (
	SFUNC = survival_entry_accum, STYPE = survival_summary,
	FINALFUNC = survival_agg_final, COMBINEFUNC = survival_combine, PARALLEL = SAFE
);
CREATE AGGREGATE survival_agg(duration double precision, churned boolean, entry double precision,
                              weight double precision) (
	SFUNC = survival_weighted_accum, STYPE = survival_summary,
	FINALFUNC = survival_agg_final, COMBINEFUNC = survival_combine, PARALLEL = SAFE
);
CREATE FUNCTION survival_table(survival_summary, confidence double precision DEFAULT 0.95,
                               conf_type text DEFAULT 'log-log')
	RETURNS TABLE (duration double precision, at_risk double precision, entered double precision,
	               churned double precision, censored double precision, survival double precision,
	               std_error double precision, lower double precision, upper double precision,
	               cumulative_hazard double precision, cumulative_hazard_std_error double precision)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;
CREATE FUNCTION cumulative_hazard_at(survival_summary, t double precision) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION median_lifetime_lower(survival_summary, confidence double precision DEFAULT 0.95,
                                      conf_type text DEFAULT 'log-log') RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION median_lifetime_upper(survival_summary, confidence double precision DEFAULT 0.95,
                                      conf_type text DEFAULT 'log-log') RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mean_lifetime_std_error(survival_summary, horizon double precision) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION survival_entry_accum(survival_summary, double precision, boolean, double precision) IS 'Transition function of survival_agg(duration, churned, entry): counts one customer at risk from its entry time';
COMMENT ON FUNCTION survival_weighted_accum(survival_summary, double precision, boolean, double precision, double precision) IS 'Transition function of survival_agg(duration, churned, entry, weight): adds one customer''s weight at its entry time and duration';
COMMENT ON AGGREGATE survival_agg(double precision, boolean, double precision) IS 'Mergeable Kaplan-Meier summary with late entry: a customer is at risk when entry < t <= duration, as R''s Surv(entry, duration, churned); entry >= 0 and < duration';
COMMENT ON AGGREGATE survival_agg(double precision, boolean, double precision, double precision) IS 'Weighted Kaplan-Meier summary with late entry: case weights >= 0 (frequency or sampling weights, as R''s weights =); rows of weight 0 add nothing';
COMMENT ON FUNCTION survival_table(survival_summary, double precision, text) IS 'R''s summary(survfit(...), censored = TRUE): one row per distinct duration with at_risk, entered, churned, censored (weights), S, its standard error (Greenwood), the confidence interval (conf_type log-log, log or plain), Nelson-Aalen cumulative hazard and its standard error';
COMMENT ON FUNCTION cumulative_hazard_at(survival_summary, double precision) IS 'Nelson-Aalen cumulative hazard H(t) = sum of churned / at risk over durations <= t; NULL when empty';
COMMENT ON FUNCTION median_lifetime_lower(survival_summary, double precision, text) IS 'Lower confidence bound of the median lifetime as R''s print(survfit): the smallest duration where the lower confidence curve is <= 0.5; NULL if none';
COMMENT ON FUNCTION median_lifetime_upper(survival_summary, double precision, text) IS 'Upper confidence bound of the median lifetime as R''s print(survfit): the smallest duration where the upper confidence curve is <= 0.5; NULL if none';
COMMENT ON FUNCTION mean_lifetime_std_error(survival_summary, double precision) IS 'Standard error of the restricted mean lifetime up to horizon, as R''s print(survfit, rmean = horizon) se(rmean); NULL when empty';
COMMENT ON TYPE survival_summary IS 'Mergeable Kaplan-Meier summary: per distinct duration, the number of churn events and of censored (still active) customers; with late entry or weights, per distinct time the weight entering, churning and censored';
COMMENT ON FUNCTION survival_summary_out(survival_summary) IS 'Writes a survival_summary as text: v=1 durations={t,...} churned={n,...} censored={n,...}, with entered={w,...} (and weighted=true) for late entry and weights';

-- sbg
-- sbg: the shifted-beta-geometric model of contractual retention (Fader &
-- Hardie 2007), fitted by maximum likelihood to a survival_summary of whole
-- renewal periods
CREATE TYPE sbg_model;
CREATE FUNCTION sbg_model_in(cstring) RETURNS sbg_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_model_out(sbg_model) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_model_recv(internal) RETURNS sbg_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_model_send(sbg_model) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE sbg_model (
	INPUT = sbg_model_in, OUTPUT = sbg_model_out,
	RECEIVE = sbg_model_recv, SEND = sbg_model_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain
);
COMMENT ON TYPE sbg_model IS 'Fitted shifted-beta-geometric retention model: alpha, beta, log-likelihood and customer count';
COMMENT ON FUNCTION sbg_model_in(cstring) IS 'Reads an sbg_model from its text form';
COMMENT ON FUNCTION sbg_model_out(sbg_model) IS 'Writes an sbg_model as text: v=1 alpha=.. beta=.. log_likelihood=.. customers=..';
COMMENT ON FUNCTION sbg_model_recv(internal) IS 'Reads an sbg_model from its binary form';
COMMENT ON FUNCTION sbg_model_send(sbg_model) IS 'Writes an sbg_model in binary form';

CREATE FUNCTION sbg_fit(summary survival_summary) RETURNS sbg_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_params(model sbg_model, OUT alpha double precision, OUT beta double precision,
	OUT log_likelihood double precision, OUT customers bigint)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_survival_at(model sbg_model, t double precision) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_retention_rate(model sbg_model, t double precision) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sbg_derl(model sbg_model, discount_rate double precision, renewals integer DEFAULT 0)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION sbg_fit(survival_summary) IS 'Shifted-beta-geometric model fitted by maximum likelihood to a survival_summary of whole renewal periods (duration = periods paid, churned = cancelled); NULL for an empty summary';
COMMENT ON FUNCTION sbg_params(sbg_model) IS 'Parameters of an sBG model: alpha, beta, log_likelihood and the number of customers fitted';
COMMENT ON FUNCTION sbg_survival_at(sbg_model, double precision) IS 'Projected share of a cohort still subscribed after t whole periods: S(t) = B(alpha, beta + t) / B(alpha, beta)';
COMMENT ON FUNCTION sbg_retention_rate(sbg_model, double precision) IS 'Projected renewal rate at period t (t >= 1, whole): (beta + t - 1) / (alpha + beta + t - 1)';
COMMENT ON FUNCTION sbg_derl(sbg_model, double precision, integer) IS 'Discounted expected residual lifetime, in payments, of a customer who has renewed `renewals` times (Fader & Hardie 2010)';
