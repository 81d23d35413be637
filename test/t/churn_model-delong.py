#!/usr/bin/python3
"""auc_lower and auc_upper against R's pROC::ci.auc(method = "delong")
(Debian r-cran-proc), to 1e-10 relative: on generated scores with many ties,
small and unbalanced samples, intervals clamped at 0 and 1, a perfect
separation, several confidence levels, and pROC's own aSAH data
(subarachnoid haemorrhage outcome against s100b, ndka and wfns).  Also: NULL
where pROC gives NA (fewer than two cases or two controls), the same answer
in a forced parallel plan, and auc() equal to pROC's auc.

Run by `make test` inside the test cluster (PGHOST etc. set); exit 0 = pass.
"""
import os
import random
import subprocess
import sys
import tempfile

DB = 'cs_churn_model_delong'
LEVELS = [0.95, 0.5, 0.9, 0.99, 0.999999, 1e-6]
failures = 0

R_SCRIPT = r'''
suppressMessages(library(pROC))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
levels <- as.numeric(strsplit(args[2], ",")[[1]])
data(aSAH)
for (p in c("s100b", "ndka", "wfns")) {
  write.csv(data.frame(score = as.numeric(aSAH[[p]]), outcome = aSAH$outcome == "Poor"),
            file.path(dir, paste0("asah_", p, ".csv")), row.names = FALSE)
}
for (f in sort(list.files(dir, pattern = "\\.csv$"))) {
  d <- read.csv(file.path(dir, f))
  if (sum(d$outcome) < 2 || sum(!d$outcome) < 2) {
    cat(f, "NA\n")
    next
  }
  r <- roc(d$outcome, d$score, levels = c(FALSE, TRUE), direction = "<", quiet = TRUE)
  out <- c(as.numeric(auc(r)))
  for (l in levels) out <- c(out, as.numeric(ci.auc(r, method = "delong", conf.level = l))[c(1, 3)])
  cat(f, sprintf("%.17g", out), "\n")
}
'''


def psql(sql, stdin=None):
    r = subprocess.run(['psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', DB, '-c', sql],
                       input=stdin, capture_output=True, text=True)
    if r.returncode:
        sys.exit("psql failed: %s\n%s" % (sql, r.stderr))
    return r.stdout.strip()


def check(what, ours, ref, rel=1e-10):
    global failures
    if ours is None or ref is None:
        ok = ours is None and ref is None
    else:
        ok = abs(ours - ref) <= rel * abs(ref) or (ref == 0.0 and ours == 0.0)
    if not ok or os.environ.get('VERBOSE'):
        print('%-52s ours %-24r pROC %-24r %s' % (what, ours, ref, 'ok' if ok else 'MISMATCH'))
    failures += not ok


def datasets(rng):
    """name -> list of (score, outcome)."""
    d = {}

    def draw(n, p_pos, sep, levels, noise=1.0):
        rows = []
        for _ in range(n):
            o = rng.random() < p_pos
            s = rng.gauss(sep if o else 0.0, noise)
            if levels:
                s = round(s * levels) / levels
            rows.append((s, o))
        return rows

    d['g01_ties_balanced'] = draw(500, 0.5, 0.8, 4)
    d['g02_ties_heavy'] = draw(3000, 0.3, 0.5, 1)            # a few distinct scores
    d['g03_no_ties'] = draw(1000, 0.2, 1.0, 0)
    d['g04_rare_positive'] = draw(20000, 0.01, 1.2, 10)
    d['g05_common_positive'] = draw(2000, 0.9, 0.4, 3)
    d['g06_below_half'] = draw(400, 0.4, -0.7, 5)            # AUC < 0.5
    d['g07_small'] = draw(12, 0.5, 1.0, 2)
    d['g08_two_positives'] = [(0.3, True), (0.9, True), (0.1, False), (0.5, False), (0.5, False), (0.7, False)]
    d['g09_two_negatives'] = [(0.2, False), (0.6, False), (0.6, True), (0.8, True), (0.1, True)]
    d['g10_perfect'] = [(float(i), i >= 5) for i in range(10)]
    d['g11_clamped_upper'] = [(0.9, True), (0.8, True), (0.85, True), (0.1, False), (0.95, False), (0.2, False)]
    d['g12_clamped_lower'] = [(0.1, True), (0.2, True), (0.15, True), (0.9, False), (0.05, False), (0.8, False)]
    d['g13_all_tied'] = [(1.0, i % 3 == 0) for i in range(30)]
    d['g14_large_ties'] = draw(200000, 0.25, 0.3, 2)
    d['g15_one_positive'] = [(0.5, True), (0.1, False), (0.7, False)]
    d['g16_one_negative'] = [(0.5, False), (0.1, True), (0.7, True)]
    d['g17_wide_range'] = [(rng.choice([-1e300, -1e-300, 0.0, 5e-324, 1e-300, 1.0, 1e300]), rng.random() < 0.5)
                           for _ in range(300)]
    return d


def main():
    subprocess.run(['dropdb', '--if-exists', DB], check=True, stderr=subprocess.DEVNULL)
    subprocess.run(['createdb', DB], check=True)
    rng = random.Random(20261130)
    data = datasets(rng)
    try:
        psql('CREATE EXTENSION customer_success')
        with tempfile.TemporaryDirectory() as tmp:
            for name, rows in data.items():
                with open(os.path.join(tmp, name + '.csv'), 'w') as f:
                    f.write('score,outcome\n')
                    for s, o in rows:
                        f.write('%r,%s\n' % (s, 'TRUE' if o else 'FALSE'))
            r = subprocess.run(['Rscript', '-e', R_SCRIPT, tmp, ','.join(repr(l) for l in LEVELS)],
                               capture_output=True, text=True)
            if r.returncode:
                sys.exit('Rscript failed:\n' + r.stderr)
            ref = {}
            for line in r.stdout.splitlines():
                f, *vals = line.split()
                ref[f[:-4]] = None if vals == ['NA'] else [float(v) for v in vals]
            # the data written by R (aSAH) is read by the database as R wrote it
            for f in sorted(os.listdir(tmp)):
                name = f[:-4]
                psql('CREATE TABLE %s (score float8, outcome boolean)' % name)
                with open(os.path.join(tmp, f)) as fh:
                    psql('COPY %s FROM STDIN (FORMAT csv, HEADER true)' % name, fh.read())
        if not any(k.startswith('asah_') for k in ref) or len(ref) != len(data) + 3:
            sys.exit('pROC did not answer for every data set: %s' % sorted(ref))

        cols = ['auc(score, outcome)']
        for l in LEVELS:
            cols += ['auc_lower(score, outcome, %r)' % l, 'auc_upper(score, outcome, %r)' % l]
        cols += ['auc_lower(score, outcome)', 'auc_upper(score, outcome)']
        parallel = ("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; "
                    "SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2; ")
        for name in sorted(ref):
            for mode, pre in (('', ''), (' parallel', parallel)):
                if mode and len(data.get(name, range(1000))) < 1000:
                    continue
                out = psql(pre + 'SELECT %s FROM %s' % (', '.join(cols), name)).split('|')
                ours = [None if v == '' else float(v) for v in out]
                want = ref[name]
                if want is None:
                    # pROC: NA with fewer than two cases or two controls; the AUC itself exists
                    for c, v in zip(cols[1:], ours[1:]):
                        check('%s%s %s' % (name, mode, c), v, None)
                    continue
                check('%s%s auc' % (name, mode), ours[0], want[0], 1e-12)
                for i, c in enumerate(cols[1:1 + 2 * len(LEVELS)]):
                    check('%s%s %s' % (name, mode, c), ours[1 + i], want[1 + i])
                check('%s%s auc_lower(score, outcome)' % (name, mode), ours[-2], want[1])
                check('%s%s auc_upper(score, outcome)' % (name, mode), ours[-1], want[2])
                print('%-24s%-9s auc %.10f  95%% [%.10f, %.10f]  pROC [%.10f, %.10f]'
                      % (name, mode, ours[0], ours[-2], ours[-1], want[1], want[2]))
        # the interval is clamped where pROC clamps it
        for name, which, bound in (('g10_perfect', -2, 1.0), ('g11_clamped_upper', -1, 1.0),
                                   ('g12_clamped_lower', -2, 0.0)):
            check('%s is clamped to %g' % (name, bound), ref[name][{-2: 1, -1: 2}[which]], bound, 0.0)
    finally:
        subprocess.run(['dropdb', '--if-exists', DB], check=True)
    print('%d mismatches' % failures)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
