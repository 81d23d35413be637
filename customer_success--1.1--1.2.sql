-- customer_success 1.1 -> 1.2 (ALTER EXTENSION customer_success UPDATE TO '1.2')
\echo Use "ALTER EXTENSION customer_success UPDATE TO '1.2'" to load this file. \quit

-- Every object new in 1.2, or changed since 1.1, exactly as src/*.sql defines
-- it for a fresh install (test/t/reliability-upgrade.sh compares the two
-- catalogues entry by entry).  Sections by family, in the order of src/*.sql.

-- churn model

-- fit statistics (1.2), read from what every stored model holds
CREATE FUNCTION churn_model_log_likelihood(churn_model) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_model_null_log_likelihood(churn_model) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_model_lr_p_value(churn_model) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION churn_model_pseudo_r2(churn_model) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION churn_model_log_likelihood(churn_model) IS 'Log-likelihood of a churn model at its fitted coefficients (statsmodels Logit llf)';
COMMENT ON FUNCTION churn_model_null_log_likelihood(churn_model) IS 'Log-likelihood of the intercept-only model on the same rows, churned * ln(r) + retained * ln(1 - r) with r the churn rate (statsmodels llnull)';
COMMENT ON FUNCTION churn_model_lr_p_value(churn_model) IS 'p-value of the likelihood-ratio test of all signals against the intercept-only model: chi-square upper tail of 2 (llf - llnull) with one degree of freedom per signal (statsmodels llr_pvalue)';
COMMENT ON FUNCTION churn_model_pseudo_r2(churn_model) IS 'McFadden pseudo-R squared of a churn model, 1 - llf / llnull (statsmodels prsquared)';

-- DeLong confidence interval of the AUC (1.2).  The two-argument forms share
-- auc()'s state and support functions, so auc(), auc_lower() and auc_upper()
-- over the same columns in one query keep and sort the scores once.
CREATE FUNCTION auc_lower_final(internal) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_upper_final(internal) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_ci_accum(internal, double precision, boolean, double precision) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_ci_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_ci_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION auc_ci_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION auc_ci_lower_final(internal) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION auc_ci_upper_final(internal) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE auc_lower(score double precision, outcome boolean) (
	SFUNC = auc_accum, STYPE = internal,
	FINALFUNC = auc_lower_final, FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = auc_combine,
	SERIALFUNC = auc_serialize, DESERIALFUNC = auc_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE auc_upper(score double precision, outcome boolean) (
	SFUNC = auc_accum, STYPE = internal,
	FINALFUNC = auc_upper_final, FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = auc_combine,
	SERIALFUNC = auc_serialize, DESERIALFUNC = auc_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE auc_lower(score double precision, outcome boolean, confidence double precision) (
	SFUNC = auc_ci_accum, STYPE = internal,
	FINALFUNC = auc_ci_lower_final, FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = auc_ci_combine,
	SERIALFUNC = auc_ci_serialize, DESERIALFUNC = auc_ci_deserialize,
	PARALLEL = SAFE
);
CREATE AGGREGATE auc_upper(score double precision, outcome boolean, confidence double precision) (
	SFUNC = auc_ci_accum, STYPE = internal,
	FINALFUNC = auc_ci_upper_final, FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = auc_ci_combine,
	SERIALFUNC = auc_ci_serialize, DESERIALFUNC = auc_ci_deserialize,
	PARALLEL = SAFE
);

COMMENT ON FUNCTION auc_lower_final(internal) IS 'Final function of auc_lower(score, outcome): lower bound of the 95% DeLong interval of the AUC';
COMMENT ON FUNCTION auc_upper_final(internal) IS 'Final function of auc_upper(score, outcome): upper bound of the 95% DeLong interval of the AUC';
COMMENT ON FUNCTION auc_ci_accum(internal, double precision, boolean, double precision) IS 'Transition function of auc_lower/auc_upper(score, outcome, confidence): keeps one score under its outcome and checks the confidence';
COMMENT ON FUNCTION auc_ci_combine(internal, internal) IS 'Combine function of auc_lower/auc_upper(score, outcome, confidence): joins the scores of two partial states';
COMMENT ON FUNCTION auc_ci_serialize(internal) IS 'Serializes the state of auc_lower/auc_upper(score, outcome, confidence) for parallel query';
COMMENT ON FUNCTION auc_ci_deserialize(bytea, internal) IS 'Reads back and validates a serialized auc_lower/auc_upper(score, outcome, confidence) state';
COMMENT ON FUNCTION auc_ci_lower_final(internal) IS 'Final function of auc_lower(score, outcome, confidence): lower bound of the DeLong interval of the AUC';
COMMENT ON FUNCTION auc_ci_upper_final(internal) IS 'Final function of auc_upper(score, outcome, confidence): upper bound of the DeLong interval of the AUC';
COMMENT ON AGGREGATE auc_lower(double precision, boolean) IS 'Lower bound of the 95% DeLong confidence interval of the ROC AUC, as pROC::ci.auc(method = "delong"), clamped to [0, 1]; NULL with fewer than two rows of either outcome';
COMMENT ON AGGREGATE auc_upper(double precision, boolean) IS 'Upper bound of the 95% DeLong confidence interval of the ROC AUC, as pROC::ci.auc(method = "delong"), clamped to [0, 1]; NULL with fewer than two rows of either outcome';
COMMENT ON AGGREGATE auc_lower(double precision, boolean, double precision) IS 'Lower bound of the DeLong confidence interval of the ROC AUC at the given confidence level (strictly between 0 and 1, the same on every row), as pROC::ci.auc(method = "delong"), clamped to [0, 1]; NULL with fewer than two rows of either outcome';
COMMENT ON AGGREGATE auc_upper(double precision, boolean, double precision) IS 'Upper bound of the DeLong confidence interval of the ROC AUC at the given confidence level (strictly between 0 and 1, the same on every row), as pROC::ci.auc(method = "delong"), clamped to [0, 1]; NULL with fewer than two rows of either outcome';

-- competing risks

CREATE TYPE competing_risks_summary;
CREATE FUNCTION competing_risks_summary_in(cstring) RETURNS competing_risks_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION competing_risks_summary_out(competing_risks_summary) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION competing_risks_summary_recv(internal) RETURNS competing_risks_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION competing_risks_summary_send(competing_risks_summary) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE competing_risks_summary (
	INPUT = competing_risks_summary_in, OUTPUT = competing_risks_summary_out,
	RECEIVE = competing_risks_summary_recv, SEND = competing_risks_summary_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended
);
COMMENT ON TYPE competing_risks_summary IS 'Mergeable competing-risks summary: per distinct duration, the churn events of each reason, the censored (still active) customers and, with late entry, the customers who entered then';

CREATE FUNCTION competing_risks_accum(competing_risks_summary, double precision, text)
	RETURNS competing_risks_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION competing_risks_entry_accum(competing_risks_summary, double precision, text, double precision)
	RETURNS competing_risks_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION competing_risks_combine(competing_risks_summary, competing_risks_summary)
	RETURNS competing_risks_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION competing_risks_agg_final(competing_risks_summary) RETURNS competing_risks_summary
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE competing_risks_agg(duration double precision, reason text) (
	SFUNC = competing_risks_accum, STYPE = competing_risks_summary,
	FINALFUNC = competing_risks_agg_final, COMBINEFUNC = competing_risks_combine, PARALLEL = SAFE
);
CREATE AGGREGATE competing_risks_agg(duration double precision, reason text, entry double precision) (
	SFUNC = competing_risks_entry_accum, STYPE = competing_risks_summary,
	FINALFUNC = competing_risks_agg_final, COMBINEFUNC = competing_risks_combine, PARALLEL = SAFE
);
CREATE AGGREGATE rollup(competing_risks_summary) (
	SFUNC = competing_risks_combine, STYPE = competing_risks_summary,
	FINALFUNC = competing_risks_agg_final, COMBINEFUNC = competing_risks_combine, PARALLEL = SAFE
);

CREATE FUNCTION cumulative_incidence_at(competing_risks_summary, reason text, t double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cumulative_incidence_curve(competing_risks_summary, reason text)
	RETURNS TABLE (duration double precision, at_risk double precision, events double precision,
	               cumulative_incidence double precision, std_error double precision)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;
CREATE FUNCTION survival_at(competing_risks_summary, t double precision) RETURNS double precision
	AS 'MODULE_PATHNAME', 'competing_risks_survival_at' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION competing_risks_reasons(competing_risks_summary) RETURNS text[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION competing_risks_summary_in(cstring) IS 'Reads a competing_risks_summary from its text form';
COMMENT ON FUNCTION competing_risks_summary_out(competing_risks_summary) IS 'Writes a competing_risks_summary as text: v=1 reasons={"r",...} durations={t,...} [entered={n,...}] censored={n,...} events={{n,...},...}';
COMMENT ON FUNCTION competing_risks_summary_recv(internal) IS 'Reads a competing_risks_summary from its binary form';
COMMENT ON FUNCTION competing_risks_summary_send(competing_risks_summary) IS 'Writes a competing_risks_summary in binary form';
COMMENT ON FUNCTION competing_risks_accum(competing_risks_summary, double precision, text) IS 'Transition function of competing_risks_agg(duration, reason): counts one customer, churned for reason or censored when reason is NULL';
COMMENT ON FUNCTION competing_risks_entry_accum(competing_risks_summary, double precision, text, double precision) IS 'Transition function of competing_risks_agg(duration, reason, entry): counts one customer observed from age entry';
COMMENT ON FUNCTION competing_risks_combine(competing_risks_summary, competing_risks_summary) IS 'Merges two competing-risks summaries (combine function, and transition of rollup)';
COMMENT ON FUNCTION competing_risks_agg_final(competing_risks_summary) IS 'Final function of competing_risks_agg() and rollup(): the summary with one row of counts per distinct duration, sorted';
COMMENT ON AGGREGATE competing_risks_agg(double precision, text) IS 'Mergeable competing-risks summary of (duration, reason) per customer: reason is why the customer churned (at most 63 bytes, not empty), NULL for a customer still active (censored)';
COMMENT ON AGGREGATE competing_risks_agg(double precision, text, double precision) IS 'Mergeable competing-risks summary with late entry: the customer is at risk at ages t with entry < t <= duration, as R''s Surv(entry, duration, status)';
COMMENT ON AGGREGATE rollup(competing_risks_summary) IS 'Merges competing-risks summaries of disjoint sets of customers';
COMMENT ON FUNCTION cumulative_incidence_at(competing_risks_summary, text, double precision) IS 'Aalen-Johansen cumulative incidence: probability of having churned for reason by age t, from 0 to 1 (0 for a reason never seen); NULL when empty';
COMMENT ON FUNCTION cumulative_incidence_curve(competing_risks_summary, text) IS 'Cumulative incidence of one reason: a row per distinct duration at which a customer leaves, with the number at risk, that reason''s churn events, the Aalen-Johansen cumulative incidence and its infinitesimal-jackknife standard error (as R''s survfit; NULL with late entry)';
COMMENT ON FUNCTION survival_at(competing_risks_summary, double precision) IS 'Probability of no churn of any reason by age t (Kaplan-Meier on all reasons together); NULL when empty';
COMMENT ON FUNCTION competing_risks_reasons(competing_risks_summary) IS 'The churn reasons a competing-risks summary has seen, sorted bytewise';

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

-- log-rank

CREATE TYPE logrank_state;
CREATE FUNCTION logrank_state_in(cstring) RETURNS logrank_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION logrank_state_out(logrank_state) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION logrank_state_recv(internal) RETURNS logrank_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION logrank_state_send(logrank_state) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE logrank_state (
	INPUT = logrank_state_in, OUTPUT = logrank_state_out,
	RECEIVE = logrank_state_recv, SEND = logrank_state_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended
);
COMMENT ON TYPE logrank_state IS 'State of the log-rank aggregates: the groups'' survival points (and names, for the stratified test), mergeable so that parallel query and Citus can split the test';

CREATE FUNCTION logrank_accum(logrank_state, survival_summary) RETURNS logrank_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logrank_rho_accum(logrank_state, survival_summary, double precision) RETURNS logrank_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logrank_strata_accum(logrank_state, survival_summary, double precision, text, text)
	RETURNS logrank_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logrank_combine(logrank_state, logrank_state) RETURNS logrank_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION logrank_chisq_final(logrank_state) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION logrank_p_value_final(logrank_state) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE logrank_chisq(survival_summary) (
	SFUNC = logrank_accum, STYPE = logrank_state,
	FINALFUNC = logrank_chisq_final, COMBINEFUNC = logrank_combine, PARALLEL = SAFE
);
CREATE AGGREGATE logrank_p_value(survival_summary) (
	SFUNC = logrank_accum, STYPE = logrank_state,
	FINALFUNC = logrank_p_value_final, COMBINEFUNC = logrank_combine, PARALLEL = SAFE
);
CREATE AGGREGATE logrank_chisq(survival_summary, rho double precision) (
	SFUNC = logrank_rho_accum, STYPE = logrank_state,
	FINALFUNC = logrank_chisq_final, COMBINEFUNC = logrank_combine, PARALLEL = SAFE
);
CREATE AGGREGATE logrank_p_value(survival_summary, rho double precision) (
	SFUNC = logrank_rho_accum, STYPE = logrank_state,
	FINALFUNC = logrank_p_value_final, COMBINEFUNC = logrank_combine, PARALLEL = SAFE
);
CREATE AGGREGATE logrank_chisq(survival_summary, rho double precision, grp text, stratum text) (
	SFUNC = logrank_strata_accum, STYPE = logrank_state,
	FINALFUNC = logrank_chisq_final, COMBINEFUNC = logrank_combine, PARALLEL = SAFE
);
CREATE AGGREGATE logrank_p_value(survival_summary, rho double precision, grp text, stratum text) (
	SFUNC = logrank_strata_accum, STYPE = logrank_state,
	FINALFUNC = logrank_p_value_final, COMBINEFUNC = logrank_combine, PARALLEL = SAFE
);

COMMENT ON FUNCTION logrank_state_in(cstring) IS 'Reads a logrank_state from its text form';
COMMENT ON FUNCTION logrank_state_out(logrank_state) IS 'Writes a logrank_state as text: v=1 flags=F rho=R groups={{grp,stratum,initial,{t,entered,churned,censored,...}},...}';
COMMENT ON FUNCTION logrank_state_recv(internal) IS 'Reads a logrank_state from its binary form';
COMMENT ON FUNCTION logrank_state_send(logrank_state) IS 'Writes a logrank_state in binary form';
COMMENT ON FUNCTION logrank_accum(logrank_state, survival_summary) IS 'Transition function of logrank_chisq/logrank_p_value(summary): adds one group';
COMMENT ON FUNCTION logrank_rho_accum(logrank_state, survival_summary, double precision) IS 'Transition function of logrank_chisq/logrank_p_value(summary, rho): adds one group; rho must be the same in every row';
COMMENT ON FUNCTION logrank_strata_accum(logrank_state, survival_summary, double precision, text, text) IS 'Transition function of the stratified logrank_chisq/logrank_p_value: adds one (grp, stratum) summary';
COMMENT ON FUNCTION logrank_combine(logrank_state, logrank_state) IS 'Merges two log-rank states (combine function)';
COMMENT ON FUNCTION logrank_chisq_final(logrank_state) IS 'Final function of logrank_chisq(): the chi-square statistic';
COMMENT ON FUNCTION logrank_p_value_final(logrank_state) IS 'Final function of logrank_p_value(): the chi-square upper tail of the statistic';
COMMENT ON AGGREGATE logrank_chisq(survival_summary) IS 'Log-rank test over one survival summary per row (one row per group): chi-square statistic with k - 1 degrees of freedom, as R''s survdiff() chisq; NULL when fewer than two groups have churn events at risk';
COMMENT ON AGGREGATE logrank_p_value(survival_summary) IS 'Log-rank test over one survival summary per row (one row per group): p-value of the chi-square statistic with k - 1 degrees of freedom, as R''s survdiff(); NULL when there is no test';
COMMENT ON AGGREGATE logrank_chisq(survival_summary, double precision) IS 'Fleming-Harrington G-rho test (weights S(t-)^rho, rho = 1: Peto-Peto) over one summary per group: chi-square statistic, as R''s survdiff(rho = )';
COMMENT ON AGGREGATE logrank_p_value(survival_summary, double precision) IS 'Fleming-Harrington G-rho test over one summary per group: p-value, as R''s survdiff(rho = )';
COMMENT ON AGGREGATE logrank_chisq(survival_summary, double precision, text, text) IS 'Stratified G-rho test, one summary per (grp, stratum) row (rows of the same pair merged): chi-square statistic, as R''s survdiff(Surv(d, churned) ~ grp + strata(stratum), rho = ); a NULL stratum in every row means no strata';
COMMENT ON AGGREGATE logrank_p_value(survival_summary, double precision, text, text) IS 'Stratified G-rho test, one summary per (grp, stratum) row: p-value, as R''s survdiff(Surv(d, churned) ~ grp + strata(stratum), rho = )';
