
-- Predictive LTV: BG/NBD (purchase counts) and Gamma-Gamma (spend), fitted
-- by maximum likelihood inside the aggregates, and discounted CLV

CREATE TYPE bgnbd_model;
CREATE FUNCTION bgnbd_model_in(cstring) RETURNS bgnbd_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_model_out(bgnbd_model) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_model_recv(internal) RETURNS bgnbd_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_model_send(bgnbd_model) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE bgnbd_model (
	INPUT = bgnbd_model_in, OUTPUT = bgnbd_model_out,
	RECEIVE = bgnbd_model_recv, SEND = bgnbd_model_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain
);
COMMENT ON TYPE bgnbd_model IS 'Fitted BG/NBD model: parameters r, alpha, a, b, log-likelihood and customer count';

CREATE FUNCTION bgnbd_fit_accum(internal, double precision, double precision, double precision)
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'pred_fit_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'pred_fit_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_final(internal) RETURNS bgnbd_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE bgnbd_fit(frequency double precision, recency double precision, t double precision) (
	SFUNC = bgnbd_fit_accum, STYPE = internal, FINALFUNC = bgnbd_fit_final,
	COMBINEFUNC = bgnbd_fit_combine, SERIALFUNC = bgnbd_fit_serialize,
	DESERIALFUNC = bgnbd_fit_deserialize, PARALLEL = SAFE
);

CREATE FUNCTION bgnbd_params(model bgnbd_model, OUT r double precision, OUT alpha double precision,
	OUT a double precision, OUT b double precision, OUT log_likelihood double precision,
	OUT customers bigint)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_expected_purchases(model bgnbd_model, horizon double precision,
	frequency double precision, recency double precision, t double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_p_alive(model bgnbd_model, frequency double precision,
	recency double precision, t double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION bgnbd_probability_of_purchases(model bgnbd_model, t double precision, n integer)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION bgnbd_probability_of_purchases(bgnbd_model, double precision, integer) IS 'Probability that a customer drawn at random at time 0 makes exactly n purchases in (0, t] (Fader, Hardie & Lee 2005, eq. 8)';
CREATE FUNCTION hyp2f1(a double precision, b double precision, c double precision, z double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'pred_hyp2f1_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION bgnbd_model_in(cstring) IS 'Reads a bgnbd_model from its text form';
COMMENT ON FUNCTION bgnbd_model_out(bgnbd_model) IS 'Writes a bgnbd_model as text: v=1 r=.. alpha=.. a=.. b=.. log_likelihood=.. customers=..';
COMMENT ON FUNCTION bgnbd_model_recv(internal) IS 'Reads a bgnbd_model from its binary form';
COMMENT ON FUNCTION bgnbd_model_send(bgnbd_model) IS 'Writes a bgnbd_model in binary form';
COMMENT ON FUNCTION bgnbd_fit_accum(internal, double precision, double precision, double precision) IS 'Transition function of bgnbd_fit(): counts one customer summary';
COMMENT ON FUNCTION bgnbd_fit_combine(internal, internal) IS 'Combine function of bgnbd_fit(): merges the distinct customer summaries of two states';
COMMENT ON FUNCTION bgnbd_fit_serialize(internal) IS 'Serializes the state of bgnbd_fit() for parallel query';
COMMENT ON FUNCTION bgnbd_fit_deserialize(bytea, internal) IS 'Reads back (and validates) the serialized state of bgnbd_fit()';
COMMENT ON FUNCTION bgnbd_fit_final(internal) IS 'Final function of bgnbd_fit(): the maximum likelihood fit';
COMMENT ON AGGREGATE bgnbd_fit(double precision, double precision, double precision) IS 'BG/NBD model fitted by maximum likelihood to per-customer (frequency = repeat purchases, recency = time from first to last purchase, t = time from first purchase to end of observation)';
COMMENT ON FUNCTION bgnbd_params(bgnbd_model) IS 'Parameters of a BG/NBD model: r, alpha, a, b, log_likelihood and the number of customers fitted';
COMMENT ON FUNCTION bgnbd_expected_purchases(bgnbd_model, double precision, double precision, double precision, double precision) IS 'Expected purchases of a customer in the next horizon (same time unit as the fit), given frequency, recency and t';
COMMENT ON FUNCTION bgnbd_p_alive(bgnbd_model, double precision, double precision, double precision) IS 'Probability that a customer with this frequency, recency and t is still active';
COMMENT ON FUNCTION hyp2f1(double precision, double precision, double precision, double precision) IS 'Gauss hypergeometric function 2F1(a, b; c; z) for real z < 1';

CREATE TYPE gamma_gamma_model;
CREATE FUNCTION gamma_gamma_model_in(cstring) RETURNS gamma_gamma_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_model_out(gamma_gamma_model) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_model_recv(internal) RETURNS gamma_gamma_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_model_send(gamma_gamma_model) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE gamma_gamma_model (
	INPUT = gamma_gamma_model_in, OUTPUT = gamma_gamma_model_out,
	RECEIVE = gamma_gamma_model_recv, SEND = gamma_gamma_model_send,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain
);
COMMENT ON TYPE gamma_gamma_model IS 'Fitted Gamma-Gamma spend model: parameters p, q, v, log-likelihood and customer count';

CREATE FUNCTION gamma_gamma_fit_accum(internal, double precision, double precision)
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'pred_fit_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'pred_fit_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_final(internal) RETURNS gamma_gamma_model
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE gamma_gamma_fit(frequency double precision, monetary_value double precision) (
	SFUNC = gamma_gamma_fit_accum, STYPE = internal, FINALFUNC = gamma_gamma_fit_final,
	COMBINEFUNC = gamma_gamma_fit_combine, SERIALFUNC = gamma_gamma_fit_serialize,
	DESERIALFUNC = gamma_gamma_fit_deserialize, PARALLEL = SAFE
);

CREATE FUNCTION gamma_gamma_params(model gamma_gamma_model, OUT p double precision,
	OUT q double precision, OUT v double precision, OUT log_likelihood double precision,
	OUT customers bigint)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_expected_spend(model gamma_gamma_model, frequency double precision,
	monetary_value double precision)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION gamma_gamma_model_in(cstring) IS 'Reads a gamma_gamma_model from its text form';
COMMENT ON FUNCTION gamma_gamma_model_out(gamma_gamma_model) IS 'Writes a gamma_gamma_model as text: v=1 p=.. q=.. v=.. log_likelihood=.. customers=..';
COMMENT ON FUNCTION gamma_gamma_model_recv(internal) IS 'Reads a gamma_gamma_model from its binary form';
COMMENT ON FUNCTION gamma_gamma_model_send(gamma_gamma_model) IS 'Writes a gamma_gamma_model in binary form';
COMMENT ON FUNCTION gamma_gamma_fit_accum(internal, double precision, double precision) IS 'Transition function of gamma_gamma_fit(): counts one customer with repeat purchases';
COMMENT ON FUNCTION gamma_gamma_fit_combine(internal, internal) IS 'Combine function of gamma_gamma_fit(): merges the distinct customer summaries of two states';
COMMENT ON FUNCTION gamma_gamma_fit_serialize(internal) IS 'Serializes the state of gamma_gamma_fit() for parallel query';
COMMENT ON FUNCTION gamma_gamma_fit_deserialize(bytea, internal) IS 'Reads back (and validates) the serialized state of gamma_gamma_fit()';
COMMENT ON FUNCTION gamma_gamma_fit_final(internal) IS 'Final function of gamma_gamma_fit(): the maximum likelihood fit';
COMMENT ON AGGREGATE gamma_gamma_fit(double precision, double precision) IS 'Gamma-Gamma spend model fitted by maximum likelihood to (frequency, monetary_value = mean value of the repeat purchases) of the customers with frequency > 0';
COMMENT ON FUNCTION gamma_gamma_params(gamma_gamma_model) IS 'Parameters of a Gamma-Gamma model: p, q, v, log_likelihood and the number of customers fitted';
COMMENT ON FUNCTION gamma_gamma_expected_spend(gamma_gamma_model, double precision, double precision) IS 'Expected mean spend per purchase of a customer: p (v + frequency * monetary_value) / (p * frequency + q - 1)';

CREATE FUNCTION clv(bgnbd bgnbd_model, gamma_gamma gamma_gamma_model, frequency double precision,
	recency double precision, t double precision, monetary_value double precision,
	periods integer DEFAULT 12, period_length double precision DEFAULT 30,
	discount_rate double precision DEFAULT 0.01)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'pred_clv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clv(bgnbd_model, gamma_gamma_model, double precision, double precision, double precision, double precision, integer, double precision, double precision) IS 'Discounted customer lifetime value: sum over k = 1..periods of (E[purchases by k * period_length] - E[purchases by (k-1) * period_length]) * expected spend / (1 + discount_rate)^k';
