
-- LTV formulas (the survival-based ltv() and clv() are with their families)

CREATE FUNCTION ltv(arpa double precision, churn_rate double precision,
                    gross_margin double precision DEFAULT 1,
                    discount_rate double precision DEFAULT 0) RETURNS double precision
	AS 'MODULE_PATHNAME', 'ltv_formula' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ltv(double precision, double precision, double precision, double precision) IS 'Customer lifetime value: arpa * gross_margin * (1 + discount_rate) / (discount_rate + churn_rate), revenue per period paid at each period''s start while the customer stays; churn_rate in (0, 1], gross_margin in [0, 1]';

CREATE FUNCTION cac_payback_months(cac double precision, arpa double precision,
                                   gross_margin double precision DEFAULT 1) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cac_payback_months(double precision, double precision, double precision) IS 'CAC payback in months (periods of arpa): cac / (arpa * gross_margin); NULL when arpa * gross_margin is 0';
