-- Competing risks: competing_risks_agg(), rollup(), cumulative_incidence_at(),
-- cumulative_incidence_curve(), survival_at(), competing_risks_reasons(),
-- summary I/O.  (R's survfit and cmprsk::cuminc are compared in
-- test/t/competing_risks-r.py.)
SET extra_float_digits = 0;

-- Eight customers: churned for a at 1, 2 and 5, for b at 2, 4 and 6,
-- censored at 3 and 5.  By hand (Aalen-Johansen):
--   t=1: n=8, d_a=1: S = 7/8, F_a = 1/8
--   t=2: n=7, d_a=1, d_b=1: F_a = 1/8 + 7/8*1/7 = 1/4, F_b = 1/8, S = 7/8*5/7 = 5/8
--   t=3: n=5, censored: unchanged
--   t=4: n=4, d_b=1: F_b = 1/8 + 5/8*1/4 = 9/32, S = 15/32
--   t=5: n=3, d_a=1 (and one censored): F_a = 1/4 + 15/32*1/3 = 13/32, S = 10/32
--   t=6: n=1, d_b=1: F_b = 9/32 + 10/32 = 19/32, S = 0
-- F_a + F_b + S = 1 at every t.  Standard error of F_a at t=1 (infinitesimal
-- jackknife): the churned customer's influence 7/64, the 7 others' -1/64:
-- sqrt(49 + 7)/64 = 0.116927 (as R's survfit reports).
CREATE TABLE cr (dur float8, reason text);
INSERT INTO cr VALUES (1, 'a'), (2, 'b'), (2, 'a'), (3, NULL), (4, 'b'), (5, 'a'), (5, NULL), (6, 'b');
SELECT competing_risks_agg(dur, reason) FROM cr;
SELECT duration, at_risk, events, cumulative_incidence, round(std_error::numeric, 6) AS std_error
FROM cumulative_incidence_curve((SELECT competing_risks_agg(dur, reason) FROM cr), 'a');
SELECT duration, at_risk, events, cumulative_incidence, round(std_error::numeric, 6) AS std_error
FROM cumulative_incidence_curve((SELECT competing_risks_agg(dur, reason) FROM cr), 'b');
SELECT t, survival_at(s, t) AS s, cumulative_incidence_at(s, 'a', t) AS f_a,
       cumulative_incidence_at(s, 'b', t) AS f_b,
       survival_at(s, t) + cumulative_incidence_at(s, 'a', t) + cumulative_incidence_at(s, 'b', t) AS total
FROM (SELECT competing_risks_agg(dur, reason) AS s FROM cr) x,
     unnest(ARRAY[0, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 100]::float8[]) t;
-- a reason never seen: incidence 0; reasons sorted bytewise
SELECT cumulative_incidence_at(s, 'never', 10) AS never, competing_risks_reasons(s)
FROM (SELECT competing_risks_agg(dur, reason) AS s FROM cr) x;
SELECT competing_risks_reasons(competing_risks_agg(d, r))
FROM (VALUES (1, 'b'), (2, 'B'), (3, 'a b'), (4, 'a'), (5, 'é'), (6, 'z')) v(d, r);
SELECT count(*) AS rows, sum(events) AS events, max(cumulative_incidence) AS ci, max(std_error) AS se
FROM cumulative_incidence_curve((SELECT competing_risks_agg(dur, reason) FROM cr), 'never');
-- order of rows does not matter
SELECT (SELECT competing_risks_agg(dur, reason ORDER BY dur DESC)::text FROM cr) =
       (SELECT competing_risks_agg(dur, reason ORDER BY reason, dur)::text FROM cr) AS order_independent;

-- Late entry (R's Surv(entry, duration, status)): at risk when entry < t <= duration.
-- Entries at 0 are ordinary customers; the customer entering at 2.5 is at
-- risk from t=3 on: n = 5 + 1 = 6 at t=3, 5 at t=4, S(4) = 5/8 * 4/5 = 1/2.
-- The summary keeps the (entry, exit) pair of who entered late ("pairs":
-- entry, exit, column 1 = reason a, count), which the standard errors need:
-- R's survfit(Surv(e, x, factor(r)) ~ 1, id = ...) gives 0.116926793336686,
-- 0.152069063257455 and 0.195156187449950 for F_b.
INSERT INTO cr VALUES (7, 'a');
SELECT competing_risks_agg(dur, reason, CASE WHEN dur = 7 THEN 2.5 ELSE 0 END) FROM cr;
SELECT duration, at_risk, events, cumulative_incidence, round(std_error::numeric, 12) AS std_error
FROM cumulative_incidence_curve((SELECT competing_risks_agg(dur, reason, CASE WHEN dur = 7 THEN 2.5 ELSE 0 END) FROM cr), 'b');
-- A late-entry summary stored by 1.2 has no pairs: same estimates, no
-- standard errors; merged with one that has pairs, the result has none
SELECT duration, at_risk, cumulative_incidence, std_error
FROM cumulative_incidence_curve('v=1 reasons={"a","b"} durations={1,2,2.5,3,4,5,6,7} entered={0,0,1,0,0,0,0,0} censored={0,0,0,1,0,1,0,0} events={{1,1,0,0,0,1,0,1},{0,1,0,0,1,0,1,0}}', 'b')
WHERE duration >= 6;
SELECT rollup(s) FROM (VALUES ('v=1 reasons={"a"} durations={1,2} entered={1,0} censored={0,1} events={{1,1}}'::competing_risks_summary),
                              ((SELECT competing_risks_agg(3, 'a', 1.5)))) v(s);
SELECT count(*) AS rows, count(std_error) AS std_errors
FROM cumulative_incidence_curve((SELECT rollup(s) FROM (VALUES ('v=1 reasons={"a"} durations={1,2} entered={1,0} censored={0,1} events={{1,1}}'::competing_risks_summary),
                              ((SELECT competing_risks_agg(3, 'a', 1.5)))) v(s)), 'a');
DELETE FROM cr WHERE dur = 7;

-- NULL handling: a NULL duration (or entry) skips the row, a NULL reason is
-- censored; no rows: NULL; only censored customers: no reasons, survival 1
SELECT competing_risks_agg(d, r) FROM (VALUES (NULL::float8, 'a'), (1, NULL)) v(d, r);
SELECT competing_risks_agg(d, r, e) FROM (VALUES (2::float8, 'a', NULL::float8), (1, 'a', 0.5)) v(d, r, e);
SELECT competing_risks_agg(dur, reason) IS NULL AS empty FROM cr WHERE false;
-- entry 0 means observed from the start for any duration >= 0 (1.3), 0
-- too: counted as in the two-argument form (churn at age 0 included); an
-- entry above 0 must still be below the duration
SELECT competing_risks_agg(d, r, e)::text = competing_risks_agg(d, r)::text AS entry0_as_two_argument,
       competing_risks_agg(d, r, e) AS with_entry0
FROM (VALUES (0::float8, 'a', 0::float8), (0, NULL, 0), (2, 'b', 0), (3, NULL, 0), (3, 'a', 0)) v(d, r, e);
SELECT competing_risks_agg(d, r, e) AS zero_length_beside_late_entry,
       survival_at(competing_risks_agg(d, r, e), 0) AS s0
FROM (VALUES (0::float8, 'a', 0::float8), (0, NULL, 0), (3, 'a', 1), (2, 'b', 0)) v(d, r, e);
SELECT cs_test.error_of($$SELECT competing_risks_agg(0, 'a', 0.5)$$);
SELECT survival_at(s, 5), competing_risks_reasons(s), cumulative_incidence_at(s, 'a', 5)
FROM (SELECT competing_risks_agg(dur, NULL) AS s FROM cr) x;
SELECT survival_at('v=1 reasons={} durations={} censored={} events={}'::competing_risks_summary, 1),
       cumulative_incidence_at('v=1 reasons={} durations={} censored={} events={}', 'a', 1),
       (SELECT count(*) FROM cumulative_incidence_curve('v=1 reasons={} durations={} censored={} events={}', 'a')) AS curve_rows;

-- counts beyond 2^53 (not exact as doubles): the risk set is counted in
-- integers, so the last customer, who entered late, is still at risk at 2
-- and S falls to exactly 0, F_a to 1
SELECT survival_at(s, 3) AS s, cumulative_incidence_at(s, 'a', 3) AS f_a,
       (SELECT at_risk FROM cumulative_incidence_curve(s, 'a') WHERE duration = 2) AS at_risk_2
FROM (SELECT 'v=1 reasons={"a"} durations={0.5,1,2} entered={1,0,0} censored={0,0,0} events={{0,9007199254740993,1}}'::competing_risks_summary AS s) x;

-- Errors: 22023 / 22003 naming the function and the value
SELECT cs_test.error_of($$SELECT competing_risks_agg(d, r) FROM (VALUES (1::float8, '')) v(d, r)$$);
SELECT cs_test.error_of($$SELECT competing_risks_agg(1, repeat('x', 64))$$);
SELECT competing_risks_reasons(competing_risks_agg(1, repeat('x', 63))) = ARRAY[repeat('x', 63)] AS limit_63_ok;
SELECT cs_test.error_of($$SELECT competing_risks_agg(1, repeat('é', 32))$$);
SELECT cs_test.error_of($$SELECT competing_risks_agg(-1, 'a')$$);
SELECT cs_test.error_of($$SELECT competing_risks_agg('NaN', 'a')$$);
SELECT cs_test.error_of($$SELECT competing_risks_agg('Infinity', 'a')$$);
SELECT cs_test.error_of($$SELECT competing_risks_agg(2, 'a', 2)$$);
SELECT cs_test.error_of($$SELECT competing_risks_agg(2, 'a', 3)$$);
SELECT cs_test.error_of($$SELECT competing_risks_agg(2, 'a', -1)$$);
SELECT cs_test.error_of($$SELECT competing_risks_agg(2, 'a', 'NaN')$$);
SELECT cs_test.error_of($$SELECT competing_risks_agg(i, 'r' || i) FROM generate_series(1, 65) i$$);
SELECT array_length(competing_risks_reasons(competing_risks_agg(i, 'r' || i)), 1) AS limit_64_ok
FROM generate_series(1, 64) i;
-- the names area of a running state grows from 64 bytes to 64 reasons of 63
-- bytes; merged in parts, the same summary
SELECT array_length(competing_risks_reasons(competing_risks_agg(i, lpad(i::text, 63, 'x'))), 1) AS longest_64,
       (SELECT rollup(s)::text FROM (SELECT competing_risks_agg(i, lpad(i::text, 63, 'x')) AS s
                                     FROM generate_series(1, 64) j(i) GROUP BY i % 3) p)
       = competing_risks_agg(i, lpad(i::text, 63, 'x'))::text AS parts_equal_whole
FROM generate_series(1, 64) i;
SELECT cs_test.error_of($$SELECT cumulative_incidence_at(competing_risks_agg(dur, reason), 'a', -1) FROM cr$$);
SELECT cs_test.error_of($$SELECT cumulative_incidence_at(competing_risks_agg(dur, reason), '', 1) FROM cr$$);
SELECT cs_test.error_of($$SELECT survival_at(competing_risks_agg(dur, reason), 'NaN') FROM cr$$);
SELECT cs_test.error_of($$SELECT * FROM cumulative_incidence_curve((SELECT competing_risks_agg(dur, reason) FROM cr), repeat('y', 64))$$);
SELECT cs_test.error_of($$SELECT competing_risks_accum(NULL, 1, 'a')$$);

-- Text form: exact round trip (shortest floats), quoting of reasons
SELECT s::text::competing_risks_summary::text = s::text AS text_round_trip
FROM (SELECT competing_risks_agg(dur * 0.1, reason) AS s FROM cr) x;
SELECT competing_risks_agg(d, r)
FROM (VALUES (0.1::float8, 'say "no"'), (1e-300, 'a,b'), (2, 'x\y'), (0, '{z}'), (-0.0, NULL)) v(d, r);
SELECT competing_risks_agg(d, r)::text::competing_risks_summary::text = competing_risks_agg(d, r)::text AS quoted_round_trip
FROM (VALUES (0.1::float8, 'say "no"'), (1e-300, 'a,b'), (2, 'x\y'), (0, '{z}')) v(d, r);
SELECT ' v=1  reasons={ "a" } durations={ 1 , 2 } entered={1,0} censored={0,1} events={{1,1}} '::competing_risks_summary;
-- malformed text: 22P02
SELECT cs_test.error_of($$SELECT 'v=2 reasons={} durations={} censored={} events={}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={""} durations={1} censored={0} events={{1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"b","a"} durations={1} censored={0} events={{1},{1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a","a"} durations={1} censored={0} events={{1},{1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1} censored={0} events={}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1,2} censored={0} events={{1,1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={2,1} censored={0,0} events={{1,1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1} censored={0} events={{0}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1} censored={-1} events={{2}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={NaN} censored={0} events={{1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={-1} censored={0} events={{1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1,2} entered={0,0} censored={0,0} events={{1,1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1,2} entered={1,0} censored={0,0} events={{1,0}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1,2} entered={0,1} censored={0,0} events={{1,1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1} censored={9223372036854775807} events={{1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a} durations={1} censored={0} events={{1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1} censored={0} events={{1}} x'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT ('v=1 reasons={"' || repeat('x', 64) || '"} durations={1} censored={0} events={{1}}')::competing_risks_summary$$);
-- pairs: a customer entering at 1 and censored at 2 reads back; pairs
-- without entries, at an unknown time, leaving before entering, at age 0,
-- of an unknown column, of count 0, repeated, more than a row's count, not
-- adding up to the entries, an empty list: 22P02
SELECT 'v=1 reasons={"a"} durations={1,2} entered={1,0} censored={0,1} events={{1,1}} pairs={{1,2,0,1}}'::competing_risks_summary;
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1,2} censored={0,0} events={{1,1}} pairs={{1,2,1,1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1,2} entered={1,0} censored={0,0} events={{1,1}} pairs={{1.5,2,1,1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1,2,3} entered={0,1,0} censored={0,0,0} events={{1,0,1}} pairs={{2,1,1,1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={0,2} entered={1,0} censored={0,0} events={{1,1}} pairs={{0,2,1,1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1,2} entered={1,0} censored={0,0} events={{1,1}} pairs={{1,2,2,1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1,2} entered={1,0} censored={0,0} events={{1,1}} pairs={{1,2,1,0}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1,2} entered={1,0} censored={0,0} events={{1,2}} pairs={{1,2,1,1},{1,2,1,1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1,2} entered={1,0} censored={0,0} events={{1,1}} pairs={{1,2,1,2}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1,2,3} entered={1,0,0} censored={0,0,0} events={{1,1,1}} pairs={{1,2,1,1},{1,3,1,1}}'::competing_risks_summary$$);
SELECT cs_test.error_of($$SELECT 'v=1 reasons={"a"} durations={1,2} entered={1,0} censored={0,0} events={{1,1}} pairs={}'::competing_risks_summary$$);

-- binary form
SELECT encode(competing_risks_summary_send('v=1 reasons={"a","b"} durations={1,2.5} censored={0,1} events={{1,0},{0,2}}'), 'hex');
SELECT cs_test.binary_input('competing_risks_summary', competing_risks_summary_send(competing_risks_agg(dur, reason)))
       = competing_risks_agg(dur, reason)::text AS binary_round_trip
FROM cr;
SELECT cs_test.binary_input('competing_risks_summary',
       competing_risks_summary_send('v=1 reasons={"a"} durations={1,2} entered={1,0} censored={0,1} events={{1,1}}'));
SELECT encode(competing_risks_summary_send('v=1 reasons={"a"} durations={1,2} entered={1,0} censored={0,1} events={{1,1}} pairs={{1,2,0,1}}'), 'hex');
SELECT cs_test.binary_input('competing_risks_summary',
       competing_risks_summary_send('v=1 reasons={"a"} durations={1,2} entered={1,0} censored={0,1} events={{1,1}} pairs={{1,2,0,1}}'));
-- wrong version, unknown flags, reason length 0 and 64, unsorted reasons,
-- truncated, trailing bytes, negative count, NaN, point count too large,
-- entered without the flag, pairs without late entry, a pair count too large
-- or a pair at an unknown time: 22P03 or 08P01
SELECT cs_test.error_of($$SELECT cs_test.binary_input('competing_risks_summary',
    overlay(competing_risks_summary_send('v=1 reasons={"a"} durations={1} censored={0} events={{1}}') placing '\x02' from 1 for 1))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('competing_risks_summary',
    overlay(competing_risks_summary_send('v=1 reasons={"a"} durations={1} censored={0} events={{1}}') placing '\x08' from 2 for 1))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('competing_risks_summary',
    overlay(competing_risks_summary_send('v=1 reasons={"a"} durations={1} censored={0} events={{1}}') placing '\x04' from 2 for 1) || '\x00000000'::bytea)$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('competing_risks_summary',
    overlay(competing_risks_summary_send('v=1 reasons={"a"} durations={1,2} entered={1,0} censored={0,1} events={{1,1}} pairs={{1,2,0,1}}') placing '\x7fffffff' from 80 for 4))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('competing_risks_summary',
    overlay(competing_risks_summary_send('v=1 reasons={"a"} durations={1,2} entered={1,0} censored={0,1} events={{1,1}} pairs={{1,2,0,1}}') placing '\x3ff8000000000000' from 84 for 8))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('competing_risks_summary',
    overlay(competing_risks_summary_send('v=1 reasons={"a"} durations={1} censored={0} events={{1}}') placing '\x00000000' from 7 for 4))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('competing_risks_summary',
    overlay(competing_risks_summary_send('v=1 reasons={"a"} durations={1} censored={0} events={{1}}') placing '\x00000040' from 7 for 4))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('competing_risks_summary',
    overlay(competing_risks_summary_send('v=1 reasons={"a","b"} durations={1} censored={0} events={{1},{1}}') placing '\x62' from 11 for 1))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('competing_risks_summary',
    overlay(competing_risks_summary_send('v=1 reasons={"a"} durations={1} censored={0} events={{1}}') placing '\x00' from 11 for 1))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('competing_risks_summary',
    substr(competing_risks_summary_send('v=1 reasons={"a"} durations={1} censored={0} events={{1}}'), 1, 20))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('competing_risks_summary',
    competing_risks_summary_send('v=1 reasons={"a"} durations={1} censored={0} events={{1}}') || '\x00'::bytea)$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('competing_risks_summary',
    overlay(competing_risks_summary_send('v=1 reasons={"a"} durations={1} censored={0} events={{1}}') placing '\xffffffffffffffff' from 24 for 8))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('competing_risks_summary',
    overlay(competing_risks_summary_send('v=1 reasons={"a"} durations={1} censored={0} events={{1}}') placing '\x7ff8000000000000' from 16 for 8))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('competing_risks_summary',
    overlay(competing_risks_summary_send('v=1 reasons={"a"} durations={1} censored={0} events={{1}}') placing '\x7fffffff' from 12 for 4))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('competing_risks_summary',
    overlay(competing_risks_summary_send('v=1 reasons={"a"} durations={1} censored={0} events={{1}}') placing '\x02' from 2 for 1))$$);
SELECT cs_test.error_of($$SELECT cs_test.binary_input('competing_risks_summary', '\x'::bytea)$$);

-- rollup of per-part summaries equals the whole; NULLs skipped; window use
CREATE TABLE crc AS
SELECT i AS id, i % 12 AS cohort, (i * 7919) % 97 + 1 AS dur,
       CASE (i * 31) % 7 WHEN 0 THEN 'voluntary' WHEN 1 THEN 'payment failure'
                         WHEN 2 THEN 'downgrade to free' END AS reason,
       CASE WHEN i % 5 = 0 THEN ((i * 7919) % 97) / 3 ELSE 0 END AS entry
FROM generate_series(1, 5000) i;
CREATE TABLE crc_by AS SELECT cohort, competing_risks_agg(dur, reason) AS s,
       competing_risks_agg(dur, reason, entry) AS sl FROM crc GROUP BY cohort;
SELECT (SELECT rollup(s)::text FROM crc_by) = (SELECT competing_risks_agg(dur, reason)::text FROM crc) AS rollup_equals_whole,
       (SELECT rollup(sl)::text FROM crc_by) = (SELECT competing_risks_agg(dur, reason, entry)::text FROM crc) AS late_rollup_equals_whole,
       (SELECT bool_and(sl::text::competing_risks_summary::text = sl::text) FROM crc_by) AS late_text_round_trip,
       (SELECT bool_and(cs_test.binary_input('competing_risks_summary', competing_risks_summary_send(sl)) = sl::text)
        FROM crc_by) AS late_binary_round_trip;
SELECT competing_risks_reasons(rollup(s)), rollup(s)::text = (SELECT rollup(s)::text FROM crc_by) AS nulls_skipped
FROM (SELECT s FROM crc_by UNION ALL SELECT NULL) x;
SELECT rollup(s) IS NULL AS empty_rollup FROM crc_by WHERE false;
SELECT count(*) AS cohorts_differing
FROM (SELECT cohort, rollup(s) OVER (ORDER BY cohort)::text AS running FROM crc_by) r
WHERE running <> (SELECT competing_risks_agg(dur, reason)::text FROM crc c WHERE c.cohort <= r.cohort);
-- S + the incidences add up to 1 at every duration, with and without late entry
SELECT count(*) AS points, count(*) FILTER (WHERE abs(total - 1) > 1e-12) AS off
FROM (SELECT survival_at(s, t) + cumulative_incidence_at(s, 'voluntary', t)
             + cumulative_incidence_at(s, 'payment failure', t)
             + cumulative_incidence_at(s, 'downgrade to free', t) AS total
      FROM (SELECT s FROM crc_by UNION ALL SELECT sl FROM crc_by) x, generate_series(0, 100, 3) t) y;

-- many distinct durations: the hash table grows; rollup equals the whole
CREATE TABLE crw AS
SELECT (i * 7919) % 20011 AS dur, CASE i % 4 WHEN 0 THEN NULL ELSE 'r' || (i % 3) END AS reason, i % 4 AS part
FROM generate_series(1, 60000) i;
SELECT (SELECT rollup(s)::text FROM (SELECT competing_risks_agg(dur, reason) AS s FROM crw GROUP BY part) x)
       = (SELECT competing_risks_agg(dur, reason)::text FROM crw) AS wide_rollup_equals_whole,
       (SELECT count(*) FROM cumulative_incidence_curve((SELECT competing_risks_agg(dur, reason) FROM crw), 'r1')) AS curve_rows;

-- forced parallel plan: Partial Aggregate, same summary
SELECT cs_test.force_parallel();
SELECT * FROM cs_test.plan_of('SELECT competing_risks_agg(dur, reason) FROM crw');
CREATE TEMP TABLE par AS SELECT competing_risks_agg(dur, reason)::text AS s FROM crw;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather; RESET parallel_leader_participation;
SET max_parallel_workers_per_gather = 0;
SELECT s = (SELECT competing_risks_agg(dur, reason)::text FROM crw) AS parallel_equals_serial FROM par;
RESET max_parallel_workers_per_gather;

DROP TABLE cr, crc, crc_by, crw, par;
