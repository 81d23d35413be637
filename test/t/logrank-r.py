#!/usr/bin/python3
"""Log-rank tests checked against R: logrank_chisq / logrank_p_value in all
three forms against R survival's survdiff() (chisq, pvalue) with rho = 0,
0.5, 1, 2 and -0.5 and with strata(), and, for late-entry summaries (when
survival_agg(duration, churned, entry) exists), against the score test of
coxph(Surv(entry, duration, churned) ~ factor(grp) [+ strata(s)],
ties = "exact").  Data: generated here (ties, censoring at event times, a
group without events, groups that never overlap in time, a group with no one
at risk at any event time, big cohorts whose p-value is around 1e-200 and
below the smallest double) and shipped with R's survival package (lung,
aml, veteran).  Where R gives no test (a single group: survdiff stops; no
events: chisq 0 and a NaN p-value) the extension must return NULL.
Tolerance: chisq 1e-10 relative; p-values 1e-8 relative, or 1e-300
absolute below that.  Rows of one (grp, stratum) are fed as several
summaries (merged by the aggregate).  R prints with sprintf('%.17g').  Runs
inside test/with-cluster; exit 0 = pass.
"""
import csv
import os
import random
import subprocess
import sys
import tempfile

DB = "logrank_r"
RHOS = [0, 0.5, 1, 2, -0.5]
failures = []
checked = 0

R_SCRIPT = r'''
suppressMessages(library(survival))
args <- commandArgs(TRUE)
d <- read.csv(args[1], colClasses = c("numeric", "numeric", "numeric", "character", "character", "integer", "integer"))
# whole-number weights are frequency weights: the rows repeated that many times
d <- d[rep(seq_len(nrow(d)), d$weight), ]
late <- any(d$entry > 0)
g <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) "NA" else sprintf("%.17g", x)
one <- function(tag, expr) {
  r <- tryCatch(expr, error = function(e) NULL)
  if (is.null(r)) cat(tag, "|NA|NA\n", sep = "") else cat(tag, "|", g(r[1]), "|", g(r[2]), "\n", sep = "")
}
if (!late) {
  for (rho in c(0, 0.5, 1, 2, -0.5)) {
    one(paste0("plain|", rho), { s <- survdiff(Surv(duration, event) ~ grp, data = d, rho = rho); c(s$chisq, s$pvalue) })
    one(paste0("strata|", rho), { s <- survdiff(Surv(duration, event) ~ grp + strata(stratum), data = d, rho = rho); c(s$chisq, s$pvalue) })
  }
} else {
  sc <- function(f) { k <- length(unique(d$grp)); c(f$score, pchisq(f$score, k - 1, lower.tail = FALSE)) }
  one("plain|0", sc(suppressWarnings(coxph(Surv(entry, duration, event) ~ factor(grp), data = d, ties = "exact",
                                          control = coxph.control(iter.max = 0)))))
  one("strata|0", sc(suppressWarnings(coxph(Surv(entry, duration, event) ~ factor(grp) + strata(stratum), data = d,
                                           ties = "exact", control = coxph.control(iter.max = 0)))))
  # no two events tie: Breslow's score test is the same test
  if (!any(duplicated(d$duration[d$event == 1])))
    one("breslow|0", sc(suppressWarnings(coxph(Surv(entry, duration, event) ~ factor(grp), data = d,
                                              ties = "breslow", control = coxph.control(iter.max = 0)))))
}
'''

R_SHIPPED = r'''
suppressMessages(library(survival))
out <- commandArgs(TRUE)
w <- function(df, f) write.csv(df, f, row.names = FALSE, quote = TRUE)
l <- survival::lung; l <- l[!is.na(l$ph.ecog), ]
w(data.frame(entry = 0, duration = l$time, event = as.integer(l$status == 2), grp = as.character(l$sex),
             stratum = as.character(l$ph.ecog), part = seq_len(nrow(l)) %% 2, weight = 1), out[1])
a <- survival::aml
w(data.frame(entry = 0, duration = a$time, event = a$status, grp = as.character(a$x), stratum = "all",
             part = seq_len(nrow(a)) %% 3, weight = 1), out[2])
v <- survival::veteran
w(data.frame(entry = 0, duration = v$time, event = v$status, grp = as.character(v$trt),
             stratum = as.character(v$celltype), part = seq_len(nrow(v)) %% 2, weight = 1), out[3])
'''


def psql(sql, db=DB):
    out = subprocess.run(["psql", "-X", "-q", "-At", "-F", "|", "-v", "ON_ERROR_STOP=1", "-d", db],
                         input=sql, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"psql failed: {sql[:300]}\n{out.stderr}")
    out = out.stdout
    return [line.split("|") for line in out.splitlines() if line]


def num(x):
    return None if x in ("", "NA", "NaN") else float(x)


def close(what, ours, theirs, pvalue=False):
    global checked
    checked += 1
    if ours is None or theirs is None:
        ok = ours is None and theirs is None
    elif pvalue:
        ok = abs(ours - theirs) <= 1e-8 * abs(theirs) or (abs(theirs) < 1e-300 and abs(ours) < 1e-300)
    else:
        ok = abs(ours - theirs) <= 1e-10 * abs(theirs) + 1e-13
    if not ok:
        failures.append(f"{what}: extension {ours!r}, R {theirs!r}")


def run_r(script, *args):
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as f:
        f.write(script)
    try:
        return subprocess.run(["Rscript", "--vanilla", f.name, *args], check=True,
                              capture_output=True, text=True).stdout
    finally:
        os.unlink(f.name)


def check(name, path, late_ok, weight_ok):
    rows = list(csv.DictReader(open(path, newline="")))
    late = any(float(r["entry"]) > 0 for r in rows)
    weighted = any(int(r["weight"]) != 1 for r in rows)
    if (late and not late_ok) or (weighted and not weight_ok):
        print(f"note: {name} needs survival_agg with entry (and weight), not in this build: not compared")
        return
    ref = {}
    for line in run_r(R_SCRIPT, path).splitlines():
        f = line.split("|")
        ref[(f[0], float(f[1]))] = (num(f[2]), num(f[3]))
    if not ref:
        failures.append(f"{name}: no answer from R")
        return
    psql("DROP TABLE IF EXISTS d; CREATE TABLE d (entry float8, duration float8, event int, grp text, stratum text, "
         "part int, weight int)")
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", DB, "-c",
                    "\\copy d FROM '" + path + "' WITH (FORMAT csv, HEADER true)"], check=True)
    agg = ("survival_agg(duration, event = 1, entry, weight)" if weighted else
           "survival_agg(duration, event = 1, entry)" if late else "survival_agg(duration, event = 1)")
    for (form, rho), (chisq, p) in sorted(ref.items()):
        if p is None:
            chisq = None  # R's "no test" (survdiff: chisq 0 with a NaN p-value): NULL here
        if form in ("plain", "breslow"):
            q = (f"SELECT logrank_chisq(s, {rho}), logrank_p_value(s, {rho}) "
                 f"FROM (SELECT grp, {agg} s FROM d GROUP BY grp) x")
            if rho == 0:
                (c1, p1), = psql(f"SELECT logrank_chisq(s), logrank_p_value(s) FROM (SELECT grp, {agg} s FROM d GROUP BY grp) x")
                close(f"{name} chisq 1-arg", num(c1), chisq)
                close(f"{name} p 1-arg", num(p1), p, True)
        else:
            q = (f"SELECT logrank_chisq(s, {rho}, grp, stratum), logrank_p_value(s, {rho}, grp, stratum) "
                 f"FROM (SELECT grp, stratum, part, {agg} s FROM d GROUP BY grp, stratum, part) x")
        (c, pv), = psql(q)
        if name.startswith("tail") and form == "plain" and rho == 0:
            print(f"{name}: chisq {c}, p-value {pv} (R: {chisq!r}, {p!r})")
        close(f"{name} {form} rho={rho} chisq", num(c), chisq)
        close(f"{name} {form} rho={rho} p", num(pv), p, True)


def gen(seed, groups, n, tmax, p_event, strata=("s",), shift=None, late=False, weights=False, real=False):
    rnd = random.Random(seed)
    rows = []
    for g in groups:
        for i in range(n):
            lo, hi = (shift or {}).get(g, (1, tmax))
            d = round(rnd.uniform(lo, hi), 6) if real else rnd.randint(lo, hi)
            e = 1 if rnd.random() < p_event.get(g, 0.6) else 0
            entry = 0.0
            if late and rnd.random() < 0.4 and d > 1:
                entry = rnd.choice([float(rnd.randint(0, int(d) - 1)), rnd.uniform(0, d - 1)])
            if entry >= d:
                entry = 0.0
            w = rnd.choice([0, 1, 1, 2, 3]) if weights else 1
            rows.append((entry, float(d), e, g, rnd.choice(strata), i % 2, w))
    return rows


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["entry", "duration", "event", "grp", "stratum", "part", "weight"])
        w.writerows(rows)


def main():
    subprocess.run(["dropdb", "--if-exists", DB], check=True, capture_output=True)
    subprocess.run(["createdb", DB], check=True)
    tmp = tempfile.mkdtemp()
    try:
        psql("CREATE EXTENSION customer_success")
        (late_ok, weight_ok), = psql("SELECT to_regprocedure('survival_agg(float8, boolean, float8)') IS NOT NULL, "
                                     "to_regprocedure('survival_agg(float8, boolean, float8, float8)') IS NOT NULL")
        late_ok, weight_ok = late_ok == "t", weight_ok == "t"
        sets = {
            "two-groups-ties": gen(1, ["a", "b"], 150, 20, {"a": 0.7, "b": 0.5}, strata=("x", "y")),
            "five-groups": gen(2, ["p1", "p2", "p3", "p4", "p5"], 60, 12, {"p3": 0.3}, strata=("x", "y", "z")),
            "no-events-group": gen(3, ["a", "b", "c"], 40, 10, {"c": 0.0}),
            "not-overlapping": gen(4, ["early", "late"], 50, 30, {}, shift={"early": (1, 10), "late": (20, 30)},
                                   strata=("x", "y")),
            "single-group": gen(5, ["only"], 50, 10, {}),
            "no-events": gen(6, ["a", "b"], 30, 10, {"a": 0.0, "b": 0.0}),
            # group c: everyone censored before the first event, so E_c = 0 and survdiff drops it
            "no-one-at-risk": gen(7, ["a", "b"], 40, 10, {}, shift={"a": (3, 10), "b": (3, 10)}) +
            [(0.0, 1.0, 0, "c", "s", 0, 1), (0.0, 2.0, 0, "c", "s", 1, 1)],
            # p-values far in the tail: around 1e-200, and below the smallest double
            "tail-1e-200": gen(8, ["fast", "slow"], 500, 40, {"fast": 0.9, "slow": 0.2},
                               shift={"fast": (1, 12), "slow": (5, 40)}),
            "tail-moderate": gen(11, ["fast", "slow"], 40, 40, {"fast": 0.9, "slow": 0.2},
                                 shift={"fast": (1, 12), "slow": (5, 40)}),
            "tail-underflow": gen(9, ["fast", "slow"], 4000, 60, {"fast": 0.95, "slow": 0.1},
                                  shift={"fast": (1, 10), "slow": (8, 60)}),
            # late entry (exact score test; R's exact partial likelihood is
            # exponential in the size of a tie, so ties stay small)
            "late-entry": gen(10, ["a", "b", "c"], 25, 60, {"b": 0.4}, strata=("x", "y"), late=True),
            "late-entry-no-ties": gen(12, ["a", "b"], 40, 50, {}, late=True, real=True),
            # whole-number weights (0 included) = rows repeated
            "weighted": gen(13, ["a", "b", "c"], 50, 12, {"c": 0.3}, strata=("x", "y"), weights=True),
            "weighted-late": gen(14, ["a", "b"], 30, 60, {}, late=True, weights=True),
        }
        for name, rows in sets.items():
            path = os.path.join(tmp, name + ".csv")
            write(path, rows)
            check(name, path, late_ok, weight_ok)
        shipped = [os.path.join(tmp, n + ".csv") for n in ("lung", "aml", "veteran")]
        run_r(R_SHIPPED, *shipped)
        for path in shipped:
            check("survival::" + os.path.basename(path)[:-4], path, late_ok, weight_ok)
    finally:
        subprocess.run(["dropdb", "--if-exists", DB], check=False)
    for f in failures[:30]:
        print("FAIL", f)
    print(f"log-rank against R survdiff / coxph score test: {checked} values compared, "
          f"{'ok' if not failures else str(len(failures)) + ' failures'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
