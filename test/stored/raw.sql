SET client_min_messages = warning;
-- cs_test.raw: any varlena as its bytes, for reading a value of an
-- extension type byte for byte (a cast WITHOUT FUNCTION to and from each
-- type, all double-aligned varlenas): byteain/byteaout under another name.
CREATE SCHEMA IF NOT EXISTS cs_test;
CREATE TYPE cs_test.raw;
CREATE FUNCTION cs_test.raw_in(cstring) RETURNS cs_test.raw AS 'byteain' LANGUAGE internal IMMUTABLE STRICT;
CREATE FUNCTION cs_test.raw_out(cs_test.raw) RETURNS cstring AS 'byteaout' LANGUAGE internal IMMUTABLE STRICT;
CREATE TYPE cs_test.raw (INPUT = cs_test.raw_in, OUTPUT = cs_test.raw_out,
                         INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended);
DO $$
DECLARE
	t regtype;
BEGIN
	FOR t IN SELECT oid::regtype FROM pg_type
	         WHERE typnamespace = (SELECT extnamespace FROM pg_extension WHERE extname = 'customer_success')
	           AND typtype = 'b' AND typlen = -1 AND typcategory <> 'A' AND typalign = 'd'
	LOOP
		EXECUTE format('CREATE CAST (cs_test.raw AS %s) WITHOUT FUNCTION', t);
		EXECUTE format('CREATE CAST (%s AS cs_test.raw) WITHOUT FUNCTION', t);
	END LOOP;
END $$;
