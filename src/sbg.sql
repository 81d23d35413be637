
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
