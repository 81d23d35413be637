#!/usr/bin/python3
"""Competing risks checked against R: the Aalen-Johansen cumulative incidence,
its standard errors, the overall survival and the number at risk of
cumulative_incidence_curve / cumulative_incidence_at / survival_at against R
survival's survfit(Surv(duration, factor(reason)) ~ 1) (pstate, std.err,
n.risk; with late entry survfit(Surv(entry, duration, factor(reason)) ~ 1,
id = ...), standard errors included), and the estimate again against
cmprsk::cuminc.  Data: generated
here (ties, censoring at event times, duration 0, a reason with one event,
everyone churning, late entry: at continuous ages, at exit times, after
everyone left, nobody observed from 0; reasons with quotes and commas) and
shipped with the packages (survival's mgus2, also on the age scale with late
entry from the age at diagnosis; the example of cmprsk's cuminc help page).
R prints with sprintf('%.17g'); tolerance 1e-10 relative (plus 1e-15
absolute for values that are 0 on one side and rounding noise on the other).
Also checks that the cumulative incidences of all reasons plus the overall
survival add up to 1 at every time.  Runs inside test/with-cluster; exit 0 =
pass.
"""
import csv
import os
import random
import subprocess
import sys
import tempfile

DB = "competing_risks_r"
TOL = 1e-10
failures = []
checked = 0

R_SCRIPT = r'''
suppressMessages({library(survival); library(cmprsk)})
args <- commandArgs(TRUE)
d <- read.csv(args[1], na.strings = "", colClasses = c("numeric", "numeric", "character"))
lev <- sort(unique(d$reason[!is.na(d$reason)]), method = "radix")
st <- factor(ifelse(is.na(d$reason), "censor", d$reason), levels = c("censor", lev))
late <- any(!is.na(d$entry))
if (late) {
  d$entry[is.na(d$entry)] <- 0
  # entry 0 means observed from the start, also for a duration of 0, which
  # R's Surv(0, 0, status) refuses (NA): written as -1 where such rows are
  if (any(d$entry == 0 & d$duration == 0)) d$entry[d$entry == 0] <- -1
  f <- survfit(Surv(d$entry, d$duration, st) ~ 1, id = seq_len(nrow(d)))
} else f <- survfit(Surv(d$duration, st) ~ 1)
g <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
cat("S|", paste(f$states, collapse = "|"), "\n", sep = "")
for (i in seq_along(f$time))
  cat("T|", g(f$time[i]), "|", g(f$n.risk[i, 1]), "|", paste(g(f$pstate[i, ]), collapse = "|"), "|",
      paste(g(f$std.err[i, ]), collapse = "|"), "\n", sep = "")
if (!late) {
  cu <- cuminc(d$duration, as.character(st), cencode = "censor")
  ut <- sort(unique(d$duration))
  tp <- timepoints(cu, ut)
  for (nm in rownames(tp$est)) for (j in seq_along(ut))
    cat("C|", sub("^1 ", "", nm), "|", g(ut[j]), "|", g(tp$est[nm, j]), "\n", sep = "")
}
'''

# data sets shipped with R packages, written out by R itself at full precision
R_SHIPPED = r'''
suppressMessages({library(survival)})
out <- commandArgs(TRUE)
g <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))
# survival's mgus2: progression to plasma cell malignancy (pcm) or death first
m <- survival::mgus2
etime <- ifelse(m$pstat == 0, m$futime, m$ptime)
ev <- ifelse(m$pstat == 0, ifelse(m$death == 1, "death", NA), "pcm")
write.csv(data.frame(entry = "", duration = g(etime), reason = ifelse(is.na(ev), "", ev)),
          out[1], row.names = FALSE, quote = FALSE)
# the same on the age scale in months (whole numbers: no near-ties for
# survfit's timefix to merge): observed from the age at diagnosis (late entry)
write.csv(data.frame(entry = g(m$age * 12), duration = g(m$age * 12 + etime), reason = ifelse(is.na(ev), "", ev)),
          out[3], row.names = FALSE, quote = FALSE)
# the example of help(cuminc) in cmprsk
set.seed(2)
ss <- rexp(100)
gg <- factor(sample(1:3, 100, replace = TRUE), 1:3, c("a", "b", "c"))
cc <- sample(0:2, 100, replace = TRUE)
write.csv(data.frame(entry = "", duration = g(ss), reason = ifelse(cc == 0, "", paste0("cause", cc))),
          out[2], row.names = FALSE, quote = FALSE)
'''


def psql(sql, db=DB):
    out = subprocess.run(["psql", "-X", "-q", "-At", "-F", "|", "-v", "ON_ERROR_STOP=1", "-d", db],
                         input=sql, check=True, capture_output=True, text=True).stdout
    return [line.split("|") for line in out.splitlines() if line]


def num(x):
    return None if x in ("", "NA") else float(x)


def close(what, ours, theirs, tol=TOL):
    global checked
    checked += 1
    if ours is None or theirs is None:
        ok = ours is None and theirs is None
    else:
        ok = abs(ours - theirs) <= tol * abs(theirs) + 1e-15
    if not ok:
        failures.append(f"{what}: extension {ours!r}, R {theirs!r}")


def q(s):
    return "'" + s.replace("'", "''") + "'"


def run_r(script, *args):
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as f:
        f.write(script)
    try:
        return subprocess.run(["Rscript", "--vanilla", f.name, *args], check=True,
                              capture_output=True, text=True).stdout
    finally:
        os.unlink(f.name)


def check(name, path):
    rows = list(csv.DictReader(open(path, newline="")))
    late = any(r["entry"] != "" for r in rows)
    out = run_r(R_SCRIPT, path)
    states = None
    times = []
    cuminc = []
    for line in out.splitlines():
        f = line.split("|")
        if f[0] == "S":
            states = f[1:]
        elif f[0] == "T":
            times.append(f[1:])
        elif f[0] == "C":
            cuminc.append(f[1:])
    reasons = states[1:]
    k = len(states)

    psql("DROP TABLE IF EXISTS d; CREATE TABLE d (entry float8, duration float8, reason text)")
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", DB, "-c",
                    "\\copy d FROM " + q(path) + " WITH (FORMAT csv, HEADER true)"], check=True)
    agg = ("competing_risks_agg(duration, reason, coalesce(entry, 0))" if late
           else "competing_risks_agg(duration, reason)")
    psql(f"DROP TABLE IF EXISTS s; CREATE TABLE s AS SELECT {agg} AS s FROM d")
    (got_reasons,), = psql("SELECT array_to_string(competing_risks_reasons(s), E'\\x1f') FROM s")
    if got_reasons.split("\x1f") != reasons and not (got_reasons == "" and reasons == []):
        failures.append(f"{name}: reasons {got_reasons!r}, R {reasons!r}")

    by_time = {float(r[0]): r for r in times}
    curves = {}
    for j, reason in enumerate(reasons):
        curve = psql(f"SELECT * FROM cumulative_incidence_curve((SELECT s FROM s), {q(reason)})")
        curves[reason] = curve
        for t, n, ev, ci, se in curve:
            r = by_time.get(float(t))
            if r is None:
                failures.append(f"{name}: time {t} not in R's curve")
                continue
            close(f"{name} n.risk({t})", num(n), num(r[1]))
            close(f"{name} F_{reason}({t})", num(ci), num(r[2 + 1 + j]))
            close(f"{name} se F_{reason}({t})", num(se), num(r[2 + k + 1 + j]))
        expected_ev = {}
        for row in rows:
            if row["reason"] == reason:
                expected_ev[float(row["duration"])] = expected_ev.get(float(row["duration"]), 0) + 1
        for t, n, ev, ci, se in curve:
            if float(ev) != expected_ev.get(float(t), 0):
                failures.append(f"{name}: events of {reason} at {t}: {ev}, data {expected_ev.get(float(t), 0)}")
    # every R time, through the point accessors (also the times between rows)
    tlist = ",".join(r[0] for r in times)
    got = psql("SELECT t, survival_at(s, t), " +
               ", ".join(f"cumulative_incidence_at(s, {q(x)}, t)" for x in reasons) +
               f" FROM s, unnest(ARRAY[{tlist}]::float8[]) t ORDER BY t")
    for g_row, r in zip(got, times):
        close(f"{name} S({g_row[0]})", num(g_row[1]), num(r[2]))
        total = num(g_row[1])
        for j, reason in enumerate(reasons):
            close(f"{name} F_{reason} at {g_row[0]}", num(g_row[2 + j]), num(r[3 + j]))
            total += num(g_row[2 + j])
        if abs(total - 1.0) > 1e-12:
            failures.append(f"{name}: S + sum of F = {total!r} at {g_row[0]}")
    # cmprsk::cuminc's estimate at every distinct duration
    for reason, t, est in cuminc:
        (v,), = psql(f"SELECT cumulative_incidence_at(s, {q(reason)}, {t}) FROM s")
        close(f"{name} cuminc {reason}({t})", num(v), num(est))
    # rollup of random parts equals the whole
    (same,), = psql(f"SELECT (SELECT rollup(p)::text FROM (SELECT {agg} p FROM d "
                    "GROUP BY hashtext(coalesce(reason, '')) % 3, duration::int % 2) x) = "
                    "(SELECT s::text FROM s)")
    if same != "t":
        failures.append(f"{name}: rollup of parts differs from the whole")


def generate(seed, n, tmax, reasons, p_censor, late=False, zero=False):
    rnd = random.Random(seed)
    rows = []
    for _ in range(n):
        d = rnd.randint(0 if zero else 1, tmax)
        if late and d > 0 and rnd.random() < 0.5:
            entry = rnd.choice([0, rnd.randint(0, d - 1), rnd.uniform(0, d)])
            entry = entry if entry < d else 0
        else:
            entry = 0 if late else None
        if d == 0 and late:
            d = 1
        reason = "" if rnd.random() < p_censor else rnd.choice(reasons)
        rows.append(("" if entry is None else repr(float(entry)), repr(float(d)), reason))
    return rows


def late_continuous(seed, n, tmax, reasons):
    """Most customers enter late at a continuous age: nearly every pair is
    distinct, and the sums over those at risk move at every time."""
    rnd = random.Random(seed)
    rows = []
    for _ in range(n):
        d = rnd.randint(1, tmax)
        entry = rnd.uniform(0, d) if rnd.random() < 0.8 else 0.0
        reason = "" if rnd.random() < 0.5 else rnd.choice(reasons)
        rows.append((repr(entry), repr(float(d)), reason))
    return rows


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["entry", "duration", "reason"])
        w.writerows(rows)


def main():
    subprocess.run(["dropdb", "--if-exists", DB], check=True, capture_output=True)
    subprocess.run(["createdb", DB], check=True)
    tmp = tempfile.mkdtemp()
    try:
        psql("CREATE EXTENSION customer_success")
        three = ["voluntary", "payment failure", "downgrade to free"]
        sets = {
            "ties": generate(1, 400, 30, three, 0.3),
            "few-times": generate(2, 60, 5, three, 0.4, zero=True),
            "one-reason": generate(3, 50, 12, ["voluntary"], 0.5),
            "no-censoring": generate(4, 40, 8, ["a", "b"], 0.0),
            "odd-names": generate(5, 80, 10, ['say "no"', "a,b", "x\\y", "{z}", "é"], 0.2),
            "late-entry": generate(6, 300, 25, three, 0.3, late=True),
            "late-small": generate(7, 30, 6, ["a", "b"], 0.3, late=True),
            "late-continuous": late_continuous(8, 2000, 150, three),
        }
        # everyone churns at 2 (S = 0), then customers enter later: their
        # derivatives are 0; entries at exit times; nobody observed from 0
        sets["late-after-zero"] = [("0.0", "1.0", "a"), ("0.5", "2.0", "a"), ("1.0", "2.0", "b"),
                                   ("1.0", "2.0", "a"), ("2.0", "3.0", "a"), ("2.5", "4.0", ""),
                                   ("2.0", "5.0", "b"), ("3.0", "5.0", "")]
        # entry 0 with duration 0 (1.3: observed from the start, counted as in
        # the two-argument form): churned and censored at age 0, beside late
        # entries and entry-0 rows of other durations
        rnd = random.Random(9)
        sets["late-zero-duration"] = [("0.0", "0.0", "a"), ("0.0", "0.0", ""), ("0.0", "0.0", "b")] + \
            [("0.0", repr(float(rnd.randint(0, 6))), rnd.choice(["", "a", "b"])) for _ in range(40)] + \
            [(repr(float(e)), repr(float(e + rnd.randint(1, 4))), rnd.choice(["", "a", "b"]))
             for e in (rnd.randint(1, 4) for _ in range(25))]
        sets["late-only"] = [(repr(float(e)), repr(float(d)), r) for e, d, r in
                             [(1, 3, "x"), (1, 4, ""), (2, 4, "y"), (2, 5, "x"), (3, 6, ""),
                              (3, 6, "y"), (4, 7, "x"), (1, 7, ""), (5, 8, "y"), (6, 9, "")]]
        # a reason with a single event, censorings at every event time
        sets["single-event"] = [("", "1.0", "")] * 3 + [("", "2.0", "rare"), ("", "2.0", "")] + \
            [("", repr(float(t)), r) for t in range(1, 9) for r in ("common", "")]
        for name, rows in sets.items():
            path = os.path.join(tmp, name + ".csv")
            write(path, rows)
            check(name, path)
        mgus, cmp_ex = os.path.join(tmp, "mgus2.csv"), os.path.join(tmp, "cuminc-example.csv")
        mgus_age = os.path.join(tmp, "mgus2-age.csv")
        run_r(R_SHIPPED, mgus, cmp_ex, mgus_age)
        check("survival::mgus2", mgus)
        check("survival::mgus2 by age (late entry)", mgus_age)
        check("cmprsk example", cmp_ex)
    finally:
        subprocess.run(["dropdb", "--if-exists", DB], check=False)

    for f in failures[:30]:
        print("FAIL", f)
    print(f"competing risks against R survfit and cmprsk::cuminc: {checked} values compared, "
          f"{'ok' if not failures else str(len(failures)) + ' failures'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
