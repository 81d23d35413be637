# R's coxph timed on the rows of test/bench/cox.sql (called from it with \!,
# inside the bench's cluster: PGHOST etc. set).  Usage:
#   Rscript cox.R TABLE ROUNDS NAME FORM
# Reads TABLE through psql (COPY ... TO STDOUT, not timed) into R's memory,
# then times coxph itself, ROUNDS times, with R's default control
# (coxph.control(): eps = 1e-9, iter.max = 20), ties = "efron"; FORM
# "counting" is Surv(entry, duration, churned) ~ s1 + ... + s5, "full" adds
# weights, strata(stratum) and cluster(cluster).  Each round's wall time goes
# into cs_bench.timing as variant 'plain' under NAME (its CPU time, user +
# system, into cs_bench.cpu_timing), and R's coefficients
# into cs_bench.r_coefficients(name = FORM, i, value), so that cox.sql can check that
# both fitted the same model.
suppressMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
tab <- args[1]; rounds <- as.integer(args[2]); name <- args[3]; form <- args[4]
stopifnot(grepl("^[a-z_]+$", tab), rounds >= 1, form %in% c("counting", "full"))
psql <- function(sql) {
	st <- system2("psql", c("-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", shQuote(sql)))
	if (st != 0) stop("psql failed: ", sql)
}
cols <- "entry, duration, churned::int, s1, s2, s3, s4, s5, weight, stratum, cluster"
con <- pipe(sprintf("psql -X -At -v ON_ERROR_STOP=1 -c %s",
                    shQuote(sprintf("COPY (SELECT %s FROM %s) TO STDOUT (FORMAT csv)", cols, tab))))
d <- scan(con, sep = ",", quiet = TRUE,
          what = list(entry = 0, duration = 0, churned = 0L, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0,
                      weight = 0, stratum = "", cluster = ""))
d <- as.data.frame(d, stringsAsFactors = FALSE)
cat(sprintf("R %s, survival %s: %d rows of %s in R's memory\n", getRversion(), packageVersion("survival"), nrow(d), tab))
ms <- numeric(rounds)
cpu <- numeric(rounds)
for (r in seq_len(rounds)) {
	gc()
	p0 <- proc.time()
	t0 <- p0[["elapsed"]]
	if (form == "counting") {
		fit <- coxph(Surv(entry, duration, churned) ~ s1 + s2 + s3 + s4 + s5, data = d, ties = "efron")
	} else {
		fit <- coxph(Surv(entry, duration, churned) ~ s1 + s2 + s3 + s4 + s5 + strata(stratum),
		             data = d, weights = weight, cluster = cluster, ties = "efron")
	}
	p1 <- proc.time()
	ms[r] <- 1000 * (p1[["elapsed"]] - t0)
	cpu[r] <- 1000 * (p1[["user.self"]] + p1[["sys.self"]] - p0[["user.self"]] - p0[["sys.self"]])
}
cat(sprintf("R coxph (%s): %s ms (CPU %s ms)\n", form, paste(round(ms), collapse = ", "), paste(round(cpu), collapse = ", ")))
psql(sprintf("INSERT INTO cs_bench.timing VALUES %s",
             paste(sprintf("('%s', 'plain', %d, %.3f)", name, seq_len(rounds), ms), collapse = ", ")))
psql(sprintf("INSERT INTO cs_bench.cpu_timing VALUES %s",
             paste(sprintf("('%s', 'plain', %d, %.3f)", name, seq_len(rounds), cpu), collapse = ", ")))
psql(sprintf("INSERT INTO cs_bench.r_coefficients VALUES %s",
             paste(sprintf("('%s', %d, %.17g)", form, seq_along(coef(fit)), coef(fit)), collapse = ", ")))
