#!/bin/bash
# The recipes of docs/cox.md ("Which signals drive churn"), extracted by
# test/recipes/from-readme cox-example and cox-drivers, run as the page
# writes them on the demo data: every result row the page prints is one the
# recipe returns.
# Then the recipe's fit (one row per account and week, late entry, strata by
# plan, clusters by account) is checked against R's coxph, cox.zph,
# concordance and survfit on the same rows, exported here (1e-8 relative at
# R's true optimum), a parallel plan gives the same model as a serial one
# (1e-10), the account-week rows have the shape the page describes, and
# every accessor the BI view reads returns plain scalars.
# Run by `make test` inside the cluster (R with survival: test/packages-test).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v Rscript >/dev/null || { echo "missing Rscript (Debian r-base-core, r-cran-survival)" >&2; exit 1; }
export PGDATABASE=cox_recipes
admin() { PGDATABASE=postgres PGOPTIONS="-c client_min_messages=warning" "$@"; }
admin dropdb --if-exists cox_recipes
admin createdb cox_recipes
q() { psql -X -At -v ON_ERROR_STOP=1 "$@"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; admin dropdb --if-exists cox_recipes' EXIT
test/recipes/from-readme cox-example >"$tmp/recipe.sql"
echo >>"$tmp/recipe.sql"
test/recipes/from-readme cox-drivers >>"$tmp/recipe.sql"
q -q -c 'CREATE EXTENSION customer_success' $(printf -- '-f %s ' test/demo/data*.sql) >/dev/null
psql -X -v ON_ERROR_STOP=1 -f "$tmp/recipe.sql" >"$tmp/recipe.out" 2>"$tmp/recipe.err" \
	|| { cat "$tmp/recipe.err"; echo "FAIL the recipe does not run as docs/cox.md writes it"; exit 1; }
failed=0
checked=0
mismatched=0
sed -E 's/[[:space:]]+/ /g; s/^ //; s/ $//' "$tmp/recipe.out" >"$tmp/recipe.rows"
while IFS= read -r line; do
	want=$(sed -E 's/^-- ?//; s/[[:space:]]+/ /g; s/^ //; s/ $//' <<<"$line")
	checked=$((checked + 1))
	if ! grep -qxF -- "$want" "$tmp/recipe.rows"; then
		echo "FAIL docs/cox.md prints '$want', the recipe does not return it"
		mismatched=$((mismatched + 1))
	fi
done < <(grep -E '^--  .*\|' "$tmp/recipe.sql")
if [ "$checked" -lt 30 ]; then echo "FAIL only $checked printed result rows found in the docs/cox.md recipes"; failed=1
elif [ "$mismatched" -gt 0 ]; then echo "FAIL $mismatched of the $checked result rows docs/cox.md prints differ"; failed=1
else echo "ok   the $checked result rows docs/cox.md prints match"; fi

check() {
	local what=$1 got
	got=$(q -c "$2" 2>&1) || true
	if [ "$got" = t ]; then echo "ok   $what"; else echo "FAIL $what: $got"; failed=1; fi
}

# the rows are what the page says: consecutive weeks of age per account, one
# churn on the last week of each churned account, late entry for accounts
# that predate the data
check "account_weeks: one row per account and week of age, consecutive, (entry, entry + 1]" \
	"SELECT bool_and(n = hi - lo + 1 AND d_ok) FROM (SELECT account_id, count(*) n, min(entry) lo, max(entry) hi,
	        bool_and(duration = entry + 1) d_ok FROM account_weeks GROUP BY account_id) x"
check "one churn per churned account with usage rows, on its last week" \
	"SELECT (SELECT count(*) FROM account_weeks WHERE churned)
	      = (SELECT count(DISTINCT account_id) FROM usage_weekly JOIN accounts USING (account_id) WHERE churned_on IS NOT NULL)
	    AND NOT EXISTS (SELECT FROM account_weeks w WHERE churned AND EXISTS
	                    (SELECT FROM account_weeks v WHERE v.account_id = w.account_id AND v.entry > w.entry))"
check "late entry: accounts signed up before 2026-05-04 enter at their age then, the others at 0" \
	"SELECT bool_and((min_entry > 0) = (signed_up <= date '2026-05-04' - 7)) FROM
	 (SELECT a.signed_up, min(w.entry) min_entry FROM account_weeks w JOIN accounts a USING (account_id) GROUP BY a.account_id) x"

# BI-friendly: the view and every accessor give scalars or rows of scalars
check "churn_drivers: every column a plain scalar (no array, no composite)" \
	"SELECT bool_and(t.typcategory NOT IN ('A', 'C', 'P') AND t.typtype = 'b')
	 FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
	 WHERE a.attrelid = 'churn_drivers'::regclass AND a.attnum > 0"
check "cox_survival_table steps equal cox_survival_at at each step (Growth, at-risk account)" \
	"SELECT count(*) > 10 AND bool_and(abs(c.survival - cox_survival_at(m, c.duration, 'Growth', 0.35, 4 / 12.0, 2, 3)) <= 1e-12)
	 FROM churn_drivers_model, cox_survival_table(m, 0.35, 4 / 12.0, 2, 3) c WHERE c.stratum = 'Growth'"

# a parallel plan gives the same model (1e-10 relative)
cat >"$tmp/parallel.sql" <<'SQL'
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT cox_fit(entry, duration, churned, ARRAY[adoption, features, logins_per_seat, open_tickets],
               1, plan, account_id::text, 'efron') FROM account_weeks;
CREATE TABLE parallel_model AS
SELECT cox_fit(entry, duration, churned, ARRAY[adoption, features, logins_per_seat, open_tickets],
               1, plan, account_id::text, 'efron') AS m
FROM account_weeks;
SQL
q -f "$tmp/parallel.sql" >"$tmp/parallel.out"
if grep -q 'Partial Aggregate' "$tmp/parallel.out" && grep -q 'Gather' "$tmp/parallel.out"; then
	echo "ok   the parallel plan splits cox_fit (Gather, Partial Aggregate)"
else
	echo "FAIL no parallel plan for cox_fit:"; cat "$tmp/parallel.out"; failed=1
fi
rel() { echo "abs(($1) - ($2)) <= 1e-10 * greatest(abs($2), 1e-300)"; }
check "parallel plan: coefficients, both standard errors, log-likelihoods, tests, concordance, PH test, survival equal to 1e-10" \
	"SELECT (SELECT bool_and($(rel '(cox_coefficients(p.m))[i]' '(cox_coefficients(s.m))[i]')
	             AND $(rel '(cox_std_errors(p.m))[i]' '(cox_std_errors(s.m))[i]')
	             AND $(rel '(cox_robust_std_errors(p.m))[i]' '(cox_robust_std_errors(s.m))[i]')
	             AND $(rel '(cox_means(p.m))[i]' '(cox_means(s.m))[i]')) FROM generate_series(1, 4) i)
	    AND ($(rel 'cox_log_likelihood(p.m)' 'cox_log_likelihood(s.m)')
	             AND $(rel 'cox_null_log_likelihood(p.m)' 'cox_null_log_likelihood(s.m)')
	             AND $(rel 'cox_concordance(p.m)' 'cox_concordance(s.m)')
	             AND $(rel 'cox_concordance_std_error(p.m)' 'cox_concordance_std_error(s.m)')
	             AND $(rel "cox_survival_at(p.m, 52, 'Growth', 0.35, 0.3, 2, 3)" "cox_survival_at(s.m, 52, 'Growth', 0.35, 0.3, 2, 3)")
	             AND cox_observations(p.m) = cox_observations(s.m) AND cox_events(p.m) = cox_events(s.m))
	    AND (SELECT bool_and($(rel 'a.statistic' 'b.statistic') AND $(rel 'a.p_value' 'b.p_value'))
	         FROM cox_tests(p.m) a JOIN cox_tests(s.m) b USING (test))
	    AND (SELECT bool_and($(rel 'a.chisq' 'b.chisq') AND $(rel 'a.p_value' 'b.p_value'))
	         FROM cox_ph_test(p.m) a JOIN cox_ph_test(s.m) b ON a.signal IS NOT DISTINCT FROM b.signal)
	 FROM parallel_model p, churn_drivers_model s"

# against R on the same rows, at R's true optimum
q -q -c "\\copy (SELECT account_id, plan, entry, duration, churned::int, adoption, features, logins_per_seat, open_tickets FROM account_weeks) TO '$tmp/weeks.csv' CSV HEADER"
Rscript - "$tmp/weeks.csv" >"$tmp/r.csv" 2>"$tmp/r.err" <<'R' || { cat "$tmp/r.err"; echo "FAIL R"; exit 1; }
suppressMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
fit <- coxph(Surv(entry, duration, churned) ~ adoption + features + logins_per_seat + open_tickets + strata(plan),
             data = d, cluster = account_id, ties = "efron", control = ctl)
s <- summary(fit)
out <- function(name, i, v) cat(sprintf("%s,%s,%.17g\n", name, i, v))
for (i in 1:4) {
	out("coefficient", i, coef(fit)[i])
	out("std_error", i, sqrt(diag(fit$naive.var))[i])
	out("robust_std_error", i, sqrt(diag(fit$var))[i])
	out("p_value", i, s$coefficients[i, "Pr(>|z|)"])
	out("lower", i, s$conf.int[i, "lower .95"])
	out("upper", i, s$conf.int[i, "upper .95"])
	out("mean", i, fit$means[i])
}
out("loglik", 1, fit$loglik[1]); out("loglik", 2, fit$loglik[2])
out("likelihood_ratio", 0, s$logtest["test"]); out("wald", 0, fit$wald.test)  # summary() rounds it to 2 decimals
out("score", 0, s$sctest["test"]); out("robust_score", 0, s$robscore["test"])
out("concordance", 0, fit$concordance["concordance"]); out("concordance_std", 0, fit$concordance["std"])
z <- cox.zph(fit)$table
for (i in 1:5) out("zph", i, z[i, "chisq"])
curve <- function(name, x) {
	nd <- data.frame(adoption = x[1], features = x[2], logins_per_seat = x[3], open_tickets = x[4], plan = "Growth")
	sf <- summary(survfit(fit, newdata = nd), times = c(13, 26, 52, 78))
	for (k in 1:4) out(name, sf$time[k], sf$surv[k])
}
curve("healthy", c(0.9, 10 / 12, 6, 0))
curve("at_risk", c(0.35, 4 / 12, 2, 3))
out("events", 0, fit$nevent); out("n", 0, fit$n)
R
q -q -c "CREATE TABLE r_ref (what text, i float8, value float8)" -c "\\copy r_ref FROM '$tmp/r.csv' CSV"
check "R's coxph: coefficients, model-based and robust standard errors, p-values, intervals, means (1e-8)" \
	"SELECT count(*) = 28 AND bool_and(abs(v - r.value) <= 1e-8 * abs(r.value)) FROM r_ref r
	 JOIN (SELECT 'coefficient' w, i, (cox_coefficients(m))[i] v FROM churn_drivers_model, generate_series(1, 4) i
	       UNION ALL SELECT 'std_error', i, (cox_std_errors(m))[i] FROM churn_drivers_model, generate_series(1, 4) i
	       UNION ALL SELECT 'robust_std_error', i, (cox_robust_std_errors(m))[i] FROM churn_drivers_model, generate_series(1, 4) i
	       UNION ALL SELECT 'mean', i, (cox_means(m))[i] FROM churn_drivers_model, generate_series(1, 4) i
	       UNION ALL SELECT 'p_value', signal, p_value FROM churn_drivers_model, cox_summary(m)
	       UNION ALL SELECT 'lower', signal, lower FROM churn_drivers_model, cox_summary(m)
	       UNION ALL SELECT 'upper', signal, upper FROM churn_drivers_model, cox_summary(m)) x
	 ON x.w = r.what AND x.i = r.i"
check "R's coxph: log-likelihoods (1e-10)" \
	"SELECT $(rel 'cox_null_log_likelihood(m)' "(SELECT value FROM r_ref WHERE what = 'loglik' AND i = 1)")
	    AND $(rel 'cox_log_likelihood(m)' "(SELECT value FROM r_ref WHERE what = 'loglik' AND i = 2)") FROM churn_drivers_model"
check "R's coxph: concordance (1e-10) and its standard error (1e-8)" \
	"SELECT $(rel 'cox_concordance(m)' "(SELECT value FROM r_ref WHERE what = 'concordance')")
	    AND abs(cox_concordance_std_error(m) - (SELECT value FROM r_ref WHERE what = 'concordance_std')) <= 1e-8 * cox_concordance_std_error(m)
	 FROM churn_drivers_model"
check "R's coxph: rows and events" \
	"SELECT cox_events(m) = (SELECT value FROM r_ref WHERE what = 'events')
	    AND cox_observations(m) = (SELECT value FROM r_ref WHERE what = 'n') FROM churn_drivers_model"
check "R's coxph: likelihood-ratio, Wald, score and robust score tests (1e-8)" \
	"SELECT count(*) = 4 AND bool_and(abs(t.statistic - r.value) <= 1e-8 * r.value)
	 FROM churn_drivers_model, cox_tests(m) t JOIN r_ref r ON r.what = t.test"
check "R's cox.zph: chi-square per signal and global (1e-8)" \
	"SELECT count(*) = 5 AND bool_and(abs(t.chisq - r.value) <= 1e-8 * r.value)
	 FROM churn_drivers_model, cox_ph_test(m) t JOIN r_ref r ON r.what = 'zph' AND r.i = coalesce(t.signal, 5)"
check "R's survfit: the healthy and at-risk Growth curves at 13, 26, 52, 78 weeks (1e-8)" \
	"SELECT count(*) = 8 AND bool_and(abs(v - r.value) <= 1e-8 * r.value) FROM churn_drivers_model, r_ref r,
	 LATERAL (SELECT CASE r.what WHEN 'healthy' THEN cox_survival_at(m, r.i, 'Growth', 0.9, 10 / 12.0, 6, 0)
	                             ELSE cox_survival_at(m, r.i, 'Growth', 0.35, 4 / 12.0, 2, 3) END AS v) x
	 WHERE r.what IN ('healthy', 'at_risk')"
exit $failed
