#!/usr/bin/python3
"""Cox regression (SPEC §10) checked against R's survival at test time: every
accessor of cox_fit's model against coxph / summary / cox.zph / predict /
survfit, run with coxph.control(eps = 1e-12, toler.chol = 1e-13,
iter.max = 100).

Data: R's own lung (one row per patient) and heart (jasa1, the classic
counting-process data: late entry, a time-varying transplant signal),
written out by R at full precision; and account-period data generated here
with whole-period times (heavy ties in time and in the signals, censoring at
event times, entries at event times), late entry, time-varying signals,
strata (one without events, a NULL stratum), clusters (spanning strata, a
NULL cluster), integer, fractional and zero weights, Efron and Breslow ties,
a collinear signal (NULL where R gives NA) and a separating one (22003).

Compared: coefficients, standard errors (model-based and robust), the
summary table (z, p, hazard ratio interval), log-likelihoods, the tests,
concordance and its standard error, cox.zph (transform "km"), n, nevent,
means, risk scores (predict type = "risk", reference = "sample"), survival
at t and the survival table (survfit(fit, newdata), per stratum).

Tolerances (SPEC §10): 1e-8 relative for coefficients, standard errors, test
statistics and predictions, 1e-10 for the log-likelihoods and the
concordance (and its standard error, a function of the ranks of the linear
predictor alone); a p-value gets 1e-8 times max(1, |log p|), the error a
statistic within 1e-8 gives it.  Rows of weight 0 are compared with R on
the other rows (R's coxph refuses weights of 0).  Runs inside
test/with-cluster; exit 0 = pass; prints how many values it compared and the
worst relative error of each kind.
"""
import csv
import math
import os
import random
import subprocess
import sys
import tempfile

DB = "cox_r"
TOL = 1e-8
TOL_LL = 1e-10
failures = []
checked = 0
worst = {}

R_FIT = r'''
suppressMessages(library(survival))
fit_case <- function(a) {
d <- read.csv(a[1], na.strings = "", colClasses = c(churned = "character", stratum = "character", cluster = "character"))
d$churned <- as.integer(d$churned %in% c("1", "TRUE", "true"))
opt <- strsplit(a[2], ",")[[1]]
nd <- read.csv(a[3], na.strings = "", colClasses = c(stratum = "character"))
tt <- as.numeric(strsplit(a[4], ",")[[1]])
has <- function(o) o %in% opt
xs <- grep("^x[0-9]+$", names(d), value = TRUE)
d$wt <- if (has("weight")) d$weight else 1
d$wt[is.na(d$wt)] <- 1
if (has("entry")) d$entry[is.na(d$entry)] <- 0
d <- d[d$wt > 0, ]
# NULL is a stratum of its own; a NULL cluster is a row of its own
d$stratum[is.na(d$stratum)] <- "<NULL>"
if (has("cluster")) d$cluster[is.na(d$cluster)] <- paste0("<row ", which(is.na(d$cluster)), ">")
lhs <- if (has("entry")) "Surv(entry, duration, churned)" else "Surv(duration, churned)"
rhs <- paste(xs, collapse = " + ")
if (has("strata")) rhs <- paste(rhs, "+ strata(stratum)")
if (has("cluster")) rhs <- paste(rhs, "+ cluster(cluster)")
f <- as.formula(paste(lhs, "~", rhs))
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
ties <- if (has("breslow")) "breslow" else "efron"
fit <- coxph(f, data = d, weights = wt, ties = ties, control = ctl)
# robust standard errors without a cluster column: each row its own cluster
# (R wants one named for counting-process data)
d$.row <- seq_len(nrow(d))
fr <- if (has("cluster")) f else update(f, . ~ . + cluster(.row))
fitr <- coxph(fr, data = d, weights = wt, ties = ties, control = ctl, robust = TRUE)
g <- function(x) ifelse(is.na(x) | is.nan(x), "NA", sprintf("%.17g", x))
out <- function(...) cat(paste(..., sep = "|"), "\n", sep = "")
b <- coef(fit)
nv <- if (is.null(fit$naive.var)) fit$var else fit$naive.var
# R keeps a row and column of zeros for a coefficient it gives NA
se <- sqrt(diag(nv)); se[is.na(b)] <- NA
rse <- sqrt(diag(fitr$var)); rse[is.na(b)] <- NA
s <- summary(fit)
robust <- !is.null(fit$naive.var)
for (j in seq_along(b)) {
  nm <- names(b)[j]
  out("coef", j, g(b[j])); out("se", j, g(se[j])); out("rse", j, g(rse[j]))
  out("mean", j, g(fit$means[j]))
  if (!is.na(b[j])) {
    cf <- s$coefficients[nm, ]; ci <- s$conf.int[nm, ]
    out("sum", j, g(cf[["coef"]]), g(cf[["exp(coef)"]]), g(cf[["se(coef)"]]),
        g(if (robust) cf[["robust se"]] else rse[j]), g(cf[["z"]]), g(cf[["Pr(>|z|)"]]),
        g(ci[[3]]), g(ci[[4]]))
  }
}
out("robust", as.integer(robust))
out("loglik", g(fit$loglik[1]), g(fit$loglik[2]))
out("test", "likelihood_ratio", g(s$logtest[["test"]]), s$logtest[["df"]], g(s$logtest[["pvalue"]]))
# summary() rounds the Wald statistic to 2 decimals; its p-value is not rounded
out("test", "wald", g(fit$wald.test), s$waldtest[["df"]], g(s$waldtest[["pvalue"]]))
out("test", "score", g(s$sctest[["test"]]), s$sctest[["df"]], g(s$sctest[["pvalue"]]))
if (!is.null(s$robscore))
  out("test", "robust_score", g(s$robscore[["test"]]), s$robscore[["df"]], g(s$robscore[["pvalue"]]))
out("conc", g(fit$concordance[["concordance"]]), g(fit$concordance[["std"]]))
z <- tryCatch(cox.zph(fit)$table, error = function(e) NULL)
if (!is.null(z)) for (r in rownames(z))
  out("zph", if (r == "GLOBAL") "" else match(r, names(b)), g(z[r, "chisq"]), z[r, "df"], g(z[r, "p"]))
out("n", fit$n, fit$nevent)
for (i in seq_len(nrow(nd))) {
  row <- nd[i, , drop = FALSE]
  if (!has("strata")) row$stratum <- NULL
  out("risk", i, g(predict(fit, newdata = row, type = "risk", reference = "sample")))
  sf <- survfit(fit, newdata = row)
  st <- summary(sf, times = tt, extend = TRUE)
  for (k in seq_along(tt)) out("surv", i, g(tt[k]), g(st$surv[k]))
  sa <- summary(sf)
  for (k in seq_along(sa$time)) out("tab", i, g(sa$time[k]), g(sa$surv[k]))
}
}
# one case per line of the manifest: data|options|newdata|times|output
for (line in readLines(commandArgs(TRUE)[1])) {
  a <- strsplit(line, "|", fixed = TRUE)[[1]]
  sink(a[5])
  r <- tryCatch({ fit_case(a); "" }, error = function(e) conditionMessage(e))
  sink()
  if (nzchar(r)) cat("error|", gsub("\n", " ", r), "\n", sep = "", file = a[5], append = TRUE)
}
'''

# data sets shipped with R, written out by R itself at full precision
R_SHIPPED = r'''
suppressMessages(library(survival))
out <- commandArgs(TRUE)
g <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))
l <- na.omit(lung[, c("time", "status", "age", "sex", "ph.ecog", "wt.loss", "inst")])
write.csv(data.frame(entry = "", duration = g(l$time), churned = l$status == 2, weight = "",
                     stratum = l$sex, cluster = l$inst,
                     x1 = g(l$age), x2 = g(l$sex), x3 = g(l$ph.ecog), x4 = g(l$wt.loss)),
          out[1], row.names = FALSE, quote = FALSE)
h <- heart
write.csv(data.frame(entry = g(h$start), duration = g(h$stop), churned = h$event == 1, weight = "",
                     stratum = h$surgery, cluster = h$id,
                     x1 = g(h$age), x2 = g(h$year), x3 = g(h$surgery), x4 = as.integer(h$transplant) - 1L),
          out[2], row.names = FALSE, quote = FALSE)
'''

COLUMNS = ["entry", "duration", "churned", "weight", "stratum", "cluster"]


def psql(sql, db=DB, check=True):
    r = subprocess.run(["psql", "-X", "-q", "-At", "-F", "|", "-v", "ON_ERROR_STOP=1", "-d", db],
                       input=sql, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(r.stderr)
    return [line.split("|") for line in r.stdout.splitlines() if line] if r.returncode == 0 else r.stderr


def num(x):
    return None if x in ("", "NA", None) else float(x)


def close(what, kind, ours, theirs, tol):
    global checked
    checked += 1
    if ours is None or theirs is None:
        ok = ours is None and theirs is None
        rel = 0.0 if ok else math.inf
    elif theirs == ours:
        ok, rel = True, 0.0
    else:
        rel = abs(ours - theirs) / abs(theirs) if theirs != 0 else abs(ours)
        ok = rel <= tol or abs(ours - theirs) <= 1e-14 and abs(theirs) < 1e-12
    worst[kind] = max(worst.get(kind, 0.0), rel if math.isfinite(rel) else 1.0)
    if not ok:
        failures.append(f"{what}: extension {ours!r}, R {theirs!r} (relative error {rel:.3g})")


def close_p(what, ours, theirs):
    tol = TOL
    if theirs is not None and theirs > 0:
        tol = TOL * max(1.0, abs(math.log(theirs)))
    close(what, "p-values", ours, theirs, tol)



def q(s):
    return "NULL" if s is None else "'" + str(s).replace("'", "''") + "'"


def run_r(script, *args):
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as f:
        f.write(script)
    try:
        r = subprocess.run(["Rscript", "--vanilla", f.name, *args], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("R failed: " + r.stderr)
        return r.stdout
    finally:
        os.unlink(f.name)


def fit_sql(opts, p):
    """The cox_fit form that the options need (the simplest one that does)."""
    if not ({"weight", "strata", "cluster", "breslow"} & opts):
        if "entry" in opts:
            return "cox_fit(coalesce(entry, 0), duration, churned, x)"
        return "cox_fit(duration, churned, VARIADIC x)"
    return ("cox_fit(coalesce(entry, 0), duration, churned, x, coalesce(weight, 1), "
            + ("stratum" if "strata" in opts else "NULL::text") + ", "
            + ("cluster" if "cluster" in opts else "NULL::text") + ", "
            + ("'breslow'" if "breslow" in opts else "'efron'") + ")")


def manifest_line(k, name, path, opts, newdata, times):
    """Write the case's newdata next to its data; its line for R_FIT."""
    rows = list(csv.DictReader(open(path, newline="")))
    xs = sorted((k for k in rows[0] if k.startswith("x")), key=lambda k: int(k[1:]))
    nd_path = f"{path}.{k}.new.csv"
    with open(nd_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["stratum"] + xs)
        for st, sig in newdata:
            w.writerow(["" if st is None else st] + [repr(v) for v in sig])
    return "|".join([path, ",".join(sorted(opts)) or "none", nd_path,
                     ",".join(repr(t) for t in times), f"{path}.{k}.R.out"])


def check(k, name, path, opts, newdata, times):
    """Compare the extension's fit of the CSV at path with R's (already run)."""
    global checked
    rows = list(csv.DictReader(open(path, newline="")))
    xs = sorted((k for k in rows[0] if k.startswith("x")), key=lambda k: int(k[1:]))
    p = len(xs)
    r = {}
    for line in open(f"{path}.{k}.R.out"):
        f = line.rstrip("\n").split("|")
        r.setdefault(f[0], []).append(f[1:])
    if "error" in r:
        raise RuntimeError("R failed: " + r["error"][0][0])

    # the extension: one psql session per data set, every answer tagged
    values = []
    for row in rows:
        entry, duration, churned, weight, stratum, cluster = (row[c] if row[c] != "" else None for c in COLUMNS)
        x = "ARRAY[" + ",".join(row[k] for k in xs) + "]::float8[]"
        values.append(f"({entry or 'NULL'}, {duration}, {churned in ('1', 'TRUE', 'true')}, "
                      f"{weight or 'NULL'}, {q(stratum)}, {q(cluster)}, {x})")
    strata = "strata" in opts
    sql = ["DROP TABLE IF EXISTS d, m",
           "CREATE TABLE d (entry float8, duration float8, churned boolean, weight float8, "
           "stratum text, cluster text, x float8[])",
           "INSERT INTO d VALUES " + ",\n".join(values),
           f"CREATE TABLE m AS SELECT {fit_sql(opts, p)} AS m FROM d"]
    for tag, fn in (("coef", "cox_coefficients"), ("se", "cox_std_errors"),
                    ("rse", "cox_robust_std_errors"), ("mean", "cox_means")):
        sql.append(f"SELECT '{tag}', array_to_string({fn}(m), ',', 'NULL') FROM m")
    sql += ["SELECT 'sum', s.* FROM m, cox_summary(m) s",
            "SELECT 'll', cox_null_log_likelihood(m), cox_log_likelihood(m) FROM m",
            "SELECT 'test', t.* FROM m, cox_tests(m) t",
            "SELECT 'conc', cox_concordance(m), cox_concordance_std_error(m) FROM m",
            "SELECT 'zph', z.* FROM m, cox_ph_test(m) z",
            "SELECT 'n', cox_observations(m), cox_events(m) FROM m"]
    for i, (st, sig) in enumerate(newdata, start=1):
        sigs = ", ".join(repr(v) for v in sig)
        stv = (q(st) + ", ") if strata else ""
        sql.append(f"SELECT 'risk', {i}, cox_risk_score(m, {sigs}) FROM m")
        for t in times:
            sql.append(f"SELECT 'surv', {i}, {t!r}::float8, cox_survival_at(m, {t!r}, {stv}{sigs}) FROM m")
        where = f" WHERE s.stratum IS NOT DISTINCT FROM {q(st)}" if strata else ""
        sql.append(f"SELECT 'tab', {i}, s.duration, s.survival FROM m, cox_survival_table(m, {sigs}) s"
                   f"{where} ORDER BY s.duration")
    ours = {}
    for f in psql(";\n".join(sql) + ";"):
        ours.setdefault(f[0], []).append(f[1:])

    def arr(tag):
        return [None if e == "NULL" else float(e) for e in ours[tag][0][0].split(",")]

    coef, se, rse, means = arr("coef"), arr("se"), arr("rse"), arr("mean")
    for j, c, s, rs, mn in zip(range(p), r["coef"], r["se"], r["rse"], r["mean"]):
        close(f"{name} coefficient {j + 1}", "coefficients", coef[j], num(c[1]), TOL)
        close(f"{name} std error {j + 1}", "standard errors", se[j], num(s[1]), TOL)
        close(f"{name} robust std error {j + 1}", "standard errors", rse[j], num(rs[1]), TOL)
        close(f"{name} mean {j + 1}", "means", means[j], num(mn[1]), TOL)

    summary = {int(s[0]): s for s in ours.get("sum", [])}
    labels = ["coefficient", "hazard ratio", "std error", "robust std error", "z", "p", "lower", "upper"]
    for s in r.get("sum", []):
        j = int(s[0])
        got = summary.get(j)
        if got is None:
            failures.append(f"{name}: cox_summary has no row for signal {j}")
            continue
        for k, label in enumerate(labels):
            if label == "p":
                close_p(f"{name} summary {label} {j}", num(got[k + 1]), num(s[k + 1]))
            else:
                close(f"{name} summary {label} {j}", "summary", num(got[k + 1]), num(s[k + 1]), TOL)
    for j, got in summary.items():
        if not any(int(s[0]) == j for s in r.get("sum", [])) and got[1] != "":
            failures.append(f"{name}: cox_summary gives signal {j} a coefficient where R gives NA")

    (ll0, ll1), = ours["ll"]
    close(f"{name} null log-likelihood", "log-likelihoods", num(ll0), num(r["loglik"][0][0]), TOL_LL)
    close(f"{name} log-likelihood", "log-likelihoods", num(ll1), num(r["loglik"][0][1]), TOL_LL)

    tests = {t[0]: t for t in ours.get("test", [])}
    for t in r["test"]:
        got = tests.pop(t[0], None)
        if got is None:
            failures.append(f"{name}: cox_tests has no {t[0]} test")
            continue
        close(f"{name} {t[0]} statistic", "test statistics", num(got[1]), num(t[1]), TOL)
        checked += 1
        if int(got[2]) != int(t[2]):
            failures.append(f"{name} {t[0]} df: extension {got[2]}, R {t[2]}")
        close_p(f"{name} {t[0]} p-value", num(got[3]), num(t[3]))
    for extra in tests:
        failures.append(f"{name}: cox_tests gives a {extra} test that R does not report")

    (conc, cstd), = ours["conc"]
    close(f"{name} concordance", "concordance", num(conc), num(r["conc"][0][0]), TOL_LL)
    close(f"{name} concordance std", "concordance", num(cstd), num(r["conc"][0][1]), TOL_LL)

    zph = {(z[0] or "GLOBAL"): z for z in ours.get("zph", [])}
    if "zph" not in r:
        failures.append(f"{name}: R's cox.zph failed")
    for z in r.get("zph", []):
        key = z[0] or "GLOBAL"
        got = zph.pop(key, None)
        if got is None:
            failures.append(f"{name}: cox_ph_test has no row for {key}")
            continue
        close(f"{name} cox.zph chisq {key}", "cox.zph", num(got[1]), num(z[1]), TOL)
        checked += 1
        if int(got[2]) != int(z[2]):
            failures.append(f"{name} cox.zph df {key}: extension {got[2]}, R {z[2]}")
        close_p(f"{name} cox.zph p {key}", num(got[3]), num(z[3]))
    for extra in zph:
        failures.append(f"{name}: cox_ph_test gives a row for {extra} that R does not")

    (n, nevent), = ours["n"]
    checked += 2
    if int(n) != int(r["n"][0][0]) or int(nevent) != int(r["n"][0][1]):
        failures.append(f"{name}: n, nevent: extension {n}, {nevent}; R {r['n'][0][0]}, {r['n'][0][1]}")

    for i in range(1, len(newdata) + 1):
        close(f"{name} risk score {i}", "predictions", num(ours["risk"][i - 1][1]), num(r["risk"][i - 1][1]), TOL)
        got = {float(t): v for k, t, v in ours["surv"] if k == str(i)}
        for _, t, sv in (x for x in r["surv"] if x[0] == str(i)):
            close(f"{name} survival at {t} for {i}", "predictions", num(got.get(float(t))), num(sv), TOL)
        want = [(float(t), float(sv)) for k, t, sv in r.get("tab", []) if k == str(i)]
        got = [(float(t), float(sv)) for k, t, sv in ours.get("tab", []) if k == str(i)]
        checked += 1
        if len(got) != len(want):
            failures.append(f"{name}: survival table {i} has {len(got)} rows, R {len(want)}")
        for (gt, gs), (wt, ws) in zip(got, want):
            close(f"{name} survival table {i} time", "predictions", gt, wt, TOL)
            close(f"{name} survival table {i} at {wt}", "predictions", gs, ws, TOL)


def account_weeks(seed, n_accounts, plans=("basic", "pro", "enterprise"), weights=None,
                  collinear=False, no_event_plan=None, null_stratum=False, null_cluster=False,
                  flags=False):
    """One row per account and week: entry = week index, duration = week + 1,
    churned only on the last week of a churned account; signals change from
    week to week (rounded: ties); some accounts observed from week 0, others
    from a later week (late entry at the event times of others)."""
    rnd = random.Random(seed)
    rows = []
    for a in range(n_accounts):
        first = 0 if rnd.random() < 0.5 else rnd.randint(1, 8)
        weeks = rnd.randint(1, 25)
        plan = rnd.choice(plans)
        base = rnd.gauss(0, 1)
        risk = 0.15 + 0.1 * (plan == "basic")
        seats = rnd.randint(1, 20)
        churn_at = None
        for wk in range(first, first + weeks):
            usage = round(max(0.0, base + rnd.gauss(0, 0.7)), 1)
            tickets = rnd.randint(0, 3)
            seats = max(1, seats + rnd.choice((-1, 0, 0, 1)))
            hazard = risk * math.exp(-0.6 * usage + 0.3 * tickets)
            if churn_at is None and plan != no_event_plan and rnd.random() < hazard / 4:
                churn_at = wk
            stratum = None if null_stratum and plan == "enterprise" else plan
            cluster = None if null_cluster and a % 17 == 0 else f"acct{a % 40}"
            x = [usage, float(tickets), float(seats)]
            if collinear:
                x.append(2.0 * tickets + 1.0)
            if flags:
                # signals taking only -1, 0 and 1: R's fit$means gives them 0
                x.append(float(wk >= first + 3))
                x.append(float(rnd.choice((-1, 0, 1))))
            weight = None if weights is None else weights(rnd)
            rows.append([repr(float(wk)) if wk > 0 else ("0" if rnd.random() < 0.5 else ""),
                         repr(float(wk + 1)), "true" if churn_at == wk else "false",
                         "" if weight is None else repr(weight),
                         "" if stratum is None else stratum, "" if cluster is None else cluster] +
                        [repr(v) for v in x])
            if churn_at is not None:
                break
    return rows


def one_per_account(seed, n, nstrata=2, zero_durations=False):
    """One row per account, times in whole months (ties), censoring at event
    times; with more than 10 strata R's concordance pools them (shifting the
    times of each stratum apart), which must give the same answer."""
    rnd = random.Random(seed)
    rows = []
    for a in range(n):
        usage = round(rnd.uniform(0, 1), 2)
        nps = rnd.randint(0, 10)
        t = max(1, min(24, int(rnd.expovariate(0.08 * math.exp(-1.2 * usage + 0.05 * (5 - nps)))) + 1))
        cens = rnd.randint(1, 24)
        churned = t <= cens
        if zero_durations and rnd.random() < 0.05:
            t = cens = 0    # churned (or not) in the signup period
        rows.append(["", repr(float(min(t, cens))), "true" if churned else "false", "",
                     "ab"[a % 2] if nstrata == 2 else f"s{rnd.randrange(nstrata)}", f"c{a % 30}",
                     repr(usage), repr(float(nps))])
    return rows


def continuous(seed, n):
    """Continuous entry and exit times, all distinct: more event times than
    the statistics look up one by one (they sort the rows instead)."""
    rnd = random.Random(seed)
    rows = []
    for a in range(n):
        x1, x2 = rnd.gauss(0, 1), round(rnd.gauss(0, 1), 1)
        entry = 0.0 if rnd.random() < 0.4 else rnd.uniform(0, 5)
        d = entry + rnd.expovariate(0.3 * math.exp(0.5 * x1 - 0.3 * x2))
        rows.append([repr(entry), repr(d), "true" if rnd.random() < 0.8 else "false", "",
                     "ab"[a % 2], f"c{a % 500}", repr(x1), repr(x2)])
    return rows


def near_ties(seed, n):
    """Durations k * 0.1 mixed with sum([0.1] * k) (0.3 and
    0.30000000000000004): one time each for R's coxph (timefix = TRUE, its
    default), two for a fit that compares doubles exactly."""
    rnd = random.Random(seed)
    rows = []
    for a in range(n):
        k = rnd.randint(1, 30)
        t = k * 0.1 if rnd.random() < 0.5 else sum([0.1] * k)
        rows.append(["", repr(t), "true" if rnd.random() < 0.7 else "false", "",
                     "ab"[a % 2], f"c{a % 20}", repr(rnd.gauss(0, 1))])
    return rows


def near_ties_counting(seed, n_accounts):
    """Counting-process rows whose period boundaries are written three ways
    (k * 0.1, sum([0.1] * k), k / 10): entries near-tie each other and the
    stop times of other rows, and a row's entry may be an ulp off the stop
    of the account's previous row; one signal changes every period."""
    rnd = random.Random(seed)
    rows = []

    def b(k):
        return rnd.choice((k * 0.1, sum([0.1] * k), k / 10))

    for a in range(n_accounts):
        first = rnd.randint(0, 8)
        last = first + rnd.randint(1, 12)
        churned = rnd.random() < 0.6
        x1 = rnd.gauss(0, 1)
        for k in range(first, last):
            entry = 0.0 if k == 0 else b(k)
            rows.append([repr(entry), repr(b(k + 1)), "true" if churned and k == last - 1 else "false", "",
                         "ab"[a % 2], f"c{a}", repr(x1), repr(round(rnd.gauss(0, 1), 2))])
    return rows


def write(path, rows, p):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS + [f"x{j + 1}" for j in range(p)])
        w.writerows(rows)


def main():
    subprocess.run(["dropdb", "--if-exists", DB], check=True, capture_output=True)
    subprocess.run(["createdb", DB], check=True)
    tmp = tempfile.mkdtemp()
    try:
        psql("CREATE EXTENSION customer_success")
        lung, heart = os.path.join(tmp, "lung.csv"), os.path.join(tmp, "heart.csv")
        run_r(R_SHIPPED, lung, heart)
        lung_new = [("1", [62.0, 1.0, 1.0, 5.0]), ("2", [70.0, 2.0, 2.0, 15.0])]
        heart_new = [("0", [-10.0, 2.0, 0.0, 0.0]), ("1", [5.0, 4.5, 1.0, 1.0])]
        week_new = [("basic", [2.0, 0.0, 10.0]), ("pro", [0.3, 2.0, 4.0])]
        week_new4 = [(s, x + [2.0 * x[1] + 1.0]) for s, x in week_new]
        cases = [
            ("lung", lung, set(), lung_new, [100, 365.5, 1000]),
            ("lung breslow", lung, {"breslow"}, lung_new, [200]),
            ("lung strata", lung, {"strata"}, lung_new, [150, 500]),
            ("lung cluster (institution)", lung, {"cluster"}, lung_new, [300]),
            ("heart (jasa1)", heart, {"entry"}, heart_new, [10, 100, 1000]),
            ("heart breslow", heart, {"entry", "breslow"}, heart_new, [50]),
            ("heart strata cluster", heart, {"entry", "strata", "cluster"}, heart_new, [30, 400]),
        ]
        generated = {
            "weeks": (account_weeks(1, 400), 3),
            "weeks integer weights": (account_weeks(2, 300, weights=lambda r: float(r.randint(1, 4))), 3),
            "weeks fractional weights": (account_weeks(3, 300, weights=lambda r: round(r.uniform(0.2, 3), 3)), 3),
            "weeks zero weights": (account_weeks(4, 300, weights=lambda r: float(r.choice((0, 1, 1, 2)))), 3),
            "weeks collinear": (account_weeks(5, 300, collinear=True), 4),
            "weeks stratum without events": (account_weeks(6, 400, no_event_plan="enterprise"), 3),
            "weeks NULL stratum and cluster": (account_weeks(7, 300, null_stratum=True, null_cluster=True), 3),
            "accounts": (one_per_account(8, 500), 2),
            "accounts 14 strata": (one_per_account(9, 600, nstrata=14), 2),
            "accounts duration 0": (one_per_account(10, 400, zero_durations=True), 2),
            "weeks flags": (account_weeks(11, 300, flags=True), 5),
            "continuous": (continuous(12, 6000), 2),
            "near ties": (near_ties(13, 200), 1),
            "near ties counting": (near_ties_counting(14, 150), 2),
        }
        for gname, (rows, p) in generated.items():
            path = os.path.join(tmp, gname.replace(" ", "_") + ".csv")
            write(path, rows, p)
            generated[gname] = path
        acc_new = [("a", [0.2, 3.0]), ("b", [0.9, 9.0])]
        cases += [
            ("weeks", generated["weeks"], {"entry"}, week_new, [3, 10.5, 30]),
            ("weeks breslow", generated["weeks"], {"entry", "breslow"}, week_new, [5]),
            ("weeks strata cluster", generated["weeks"], {"entry", "strata", "cluster"}, week_new, [2, 12]),
            ("weeks strata cluster breslow", generated["weeks"], {"entry", "strata", "cluster", "breslow"},
             week_new, [7]),
            ("weeks integer weights", generated["weeks integer weights"], {"entry", "weight", "strata"},
             week_new, [4, 20]),
            ("weeks fractional weights", generated["weeks fractional weights"], {"entry", "weight"},
             week_new, [6]),
            ("weeks fractional weights cluster", generated["weeks fractional weights"],
             {"entry", "weight", "cluster", "strata"}, week_new, [6]),
            ("weeks zero weights", generated["weeks zero weights"], {"entry", "weight", "cluster"},
             week_new, [8]),
            ("weeks collinear", generated["weeks collinear"], {"entry"}, week_new4, [9]),
            ("weeks stratum without events", generated["weeks stratum without events"],
             {"entry", "strata", "cluster"}, week_new, [10]),
            ("weeks NULL stratum and cluster", generated["weeks NULL stratum and cluster"],
             {"entry", "strata", "cluster"}, week_new, [11]),
            ("accounts", generated["accounts"], set(), acc_new, [1, 6, 12.5, 24]),
            ("accounts breslow strata", generated["accounts"], {"breslow", "strata"}, acc_new, [12]),
            ("accounts duration 0", generated["accounts duration 0"], set(), acc_new, [0, 0.5, 3]),
            ("accounts duration 0 entry 0", generated["accounts duration 0"], {"weight", "cluster"},
             acc_new, [0, 2]),
            ("weeks flags", generated["weeks flags"], {"entry"}, [(s, x + [1.0, -1.0]) for s, x in week_new], [4]),
            ("weeks flags strata cluster", generated["weeks flags"], {"entry", "strata", "cluster"},
             [(s, x + [0.0, 1.0]) for s, x in week_new], [4, 9]),
            ("continuous late entry", generated["continuous"], {"entry"}, acc_new, [1.5, 7]),
            ("continuous strata cluster", generated["continuous"], {"entry", "strata", "cluster"},
             acc_new, [3]),
            ("near ties", generated["near ties"], set(), [(None, [0.5]), (None, [-1.0])],
             [0.7999999999999999, 0.8, 0.8000000000000002, 1.2]),
            ("near ties strata cluster breslow", generated["near ties"], {"strata", "cluster", "breslow"},
             [("a", [0.5]), ("b", [-1.0])], [0.7]),
            ("near ties counting", generated["near ties counting"], {"entry"}, [(None, [0.5, 1.0])],
             [0.7999999999999999, 0.8, 2.0]),
            ("near ties counting strata cluster", generated["near ties counting"], {"entry", "strata", "cluster"},
             [("a", [0.5, 1.0]), ("b", [-0.5, 0.0])], [0.6]),
            ("accounts 14 strata cluster", generated["accounts 14 strata"], {"strata", "cluster"},
             [("s3", [0.2, 3.0]), ("s11", [0.9, 9.0])], [5, 20]),
        ]
        manifest = os.path.join(tmp, "manifest")
        with open(manifest, "w") as f:
            for k, case in enumerate(cases):
                f.write(manifest_line(k, *case) + "\n")
        run_r(R_FIT, manifest)
        for k, case in enumerate(cases):
            try:
                check(k, *case)
            except Exception as e:  # one broken case must not hide the others
                failures.append(f"{case[0]}: {e}")

        # a separating signal: the likelihood rises without bound (R: "coefficient may be infinite")
        psql("DROP TABLE IF EXISTS s; CREATE TABLE s AS SELECT g AS d, g <= 5 AS churned, "
             "(g <= 5)::int::float8 AS sep, (g % 3)::float8 AS other FROM generate_series(1, 20) g")
        err = psql("\\set VERBOSITY verbose\nSELECT cox_fit(d, churned, sep, other) FROM s", check=False)
        global checked
        checked += 1
        if not (isinstance(err, str) and "22003" in err):
            failures.append(f"separating signal: expected SQLSTATE 22003, got {err!r}")

        # an entry and a duration that timefix merges: no time at risk is
        # left (R's coxph: "aeqSurv exception, an interval has effective
        # length 0")
        err = psql("\\set VERBOSITY verbose\nSELECT cox_fit(e, d, true, ARRAY[x]) FROM (VALUES "
                   "(0.3::float8, 0.30000000000000004::float8, 1.0::float8), (0, 1, 2), (0, 2, 0.5)) v(e, d, x)",
                   check=False)
        checked += 1
        if not (isinstance(err, str) and "22023" in err):
            failures.append(f"entry and duration one time: expected SQLSTATE 22023, got {err!r}")
    finally:
        subprocess.run(["dropdb", "--if-exists", DB], check=False)

    for f in failures[:40]:
        print("FAIL", f)
    if len(failures) > 40:
        print(f"... and {len(failures) - 40} more")
    print("worst relative error: " + ", ".join(f"{k} {v:.2g}" for k, v in sorted(worst.items())))
    print(f"Cox regression against R survival (coxph, cox.zph, predict, survfit): {checked} values compared, "
          f"{'ok' if not failures else str(len(failures)) + ' failures'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
